"""Proactive messages: which ones a visitor's widget may show, and checking an admin's edit.

The server picks by what it knows (active, the visitor's tier, business hours); the widget
then checks what only the page knows (address pattern, time on the page, first or returning
visit), shows at most one per page view and never one the visitor dismissed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import whole_number
from onlinesupport.lib.throttle import Throttle
from onlinesupport.store import Database, Transaction
from onlinesupport.store import proactive as proactive_repo

AUDIENCES = ("all", "new", "returning")
MAX_TEXT = 300


class InvalidProactive(UserError):
    """An admin's proactive message cannot be saved; the message says why."""


def clean(form: dict[str, str]) -> dict[str, Any]:
    text = " ".join(form.get("text", "").split())
    if not text or len(text) > MAX_TEXT:
        raise InvalidProactive(f"write a message of at most {MAX_TEXT} characters")
    seconds = whole_number(form.get("seconds_on_page", "0").strip() or "0", 0, 3600)
    if seconds is None:
        raise InvalidProactive("time on the page must be 0 to 3600 seconds")
    audience = form.get("audience", "all")
    if audience not in AUDIENCES:
        raise InvalidProactive("show it to all, new or returning visitors")
    pattern = form.get("url_pattern", "").strip() or "*"
    if len(pattern) > 500:
        raise InvalidProactive("the page address pattern is longer than 500 characters")
    return {
        "active": int(form.get("active") == "on"),
        "url_pattern": pattern,
        "seconds_on_page": seconds,
        "audience": audience,
        "tier": form.get("tier", "").strip()[:40],
        "business_hours_only": int(form.get("business_hours_only") == "on"),
        "text": text,
        "button": " ".join(form.get("button", "").split())[:40],
    }


class Proactive:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._once = Throttle(clock, 1, timedelta(days=1))

    async def list_all(self) -> list[proactive_repo.ProactiveCounts]:
        """Every proactive message with how often it was shown, clicked and dismissed."""
        return await proactive_repo.list_all(self._db)

    async def save(self, message_id: int | None, form: dict[str, str]) -> int:
        values = clean(form)
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> int:
            if message_id is None:
                return proactive_repo.insert(conn, values, now)
            proactive_repo.update(conn, message_id, values, now)
            return message_id

        return await self._db.write(write)

    async def delete(self, message_id: int) -> None:
        await self._db.write(lambda conn: proactive_repo.delete(conn, message_id))

    async def for_visitor(self, tier: str | None, open_now: bool) -> list[dict[str, Any]]:
        """What the widget needs to decide on the page itself."""
        return [
            {
                "id": m["id"],
                "url": m["url_pattern"],
                "seconds": m["seconds_on_page"],
                "audience": m["audience"],
                "text": m["text"],
                "button": m["button"],
            }
            for m in await proactive_repo.active(self._db)
            if (not m["tier"] or m["tier"] == tier) and (open_now or not m["business_hours_only"])
        ]

    async def record(self, message_id: int, kind: str, viewer: str, page: str = "") -> bool:
        """A message was shown, clicked, dismissed or led to a chat, on `page`: counted once a
        day per viewer, message and kind; False when this one was not counted."""
        if kind not in proactive_repo.EVENT_KINDS:
            raise InvalidProactive(f"unknown event {kind!r}")
        if not self._once.allow(f"{viewer}:{message_id}:{kind}"):
            return False
        now = to_db(self._clock.now())
        await self._db.write(
            lambda conn: proactive_repo.record(conn, message_id, kind, now, page[:500])
        )
        return True
