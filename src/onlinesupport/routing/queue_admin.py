"""Queues as admins set them up: a queue's targets, hours, members, escalation and chat offers.

The admin page hands over what was typed; this service checks it, refusing with an
`InvalidQueue` that names the field, and writes a queue's settings in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from typing import Any

from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import row_id, whole_number
from onlinesupport.routing.due import calendar
from onlinesupport.routing.hours import BusinessHours, InvalidHours
from onlinesupport.store import Database, NotFound, Transaction
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.queues import Queue

MAX_MINUTES = 60 * 24 * 60


class InvalidQueue(UserError):
    """What the admin typed for a queue cannot be kept; the message says why."""


class UnknownQueue(UserError):
    """The queue asked for does not exist."""

    status = 404


def typed_hours(form: Mapping[str, str]) -> dict[str, str]:
    """The time zone, hours and holidays as kept (and shown again with an error)."""
    return {
        "timezone": form.get("timezone", "UTC").strip()[:64] or "UTC",
        "hours": form.get("hours", "")[:2000],
        "holidays": form.get("holidays", "")[:5000],
    }


def _minutes(form: Mapping[str, str], name: str, label: str) -> int:
    minutes = whole_number(form.get(name, "").strip(), 1, MAX_MINUTES)
    if minutes is None:
        raise InvalidQueue(f"{label} must be a number of minutes from 1 to {MAX_MINUTES}", name)
    return minutes


def _hours(timezone: str, hours: str, holidays: str, field: str, prefix: str = "") -> None:
    try:
        BusinessHours.parse(timezone, hours, holidays)
    except InvalidHours as exc:
        raise InvalidQueue(f"{prefix}{exc}", field) from None


def _ids(values: Iterable[object]) -> list[int]:
    return sorted({i for i in map(row_id, values) if i is not None})


class Queues:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def list_all(self) -> list[Queue]:
        """Every queue as stored, by name."""
        return await queues_repo.list_all(self._db)

    async def get(self, queue_id: int) -> Queue | None:
        return await queues_repo.get(self._db, queue_id)

    async def overview(self, edited: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every queue with its members, managers and whether it is open now; `edited` (with an
        "id") is what the admin typed for one queue, shown in place of what is stored."""
        members = await queues_repo.members(self._db)
        managers = await queues_repo.managers(self._db)
        now = self._clock.now()
        shown = []
        for queue in await queues_repo.list_all(self._db):
            if edited is not None and queue.id == edited["id"]:
                queue = replace(queue, **edited)
            shown.append(
                {
                    **asdict(queue),
                    "open_now": calendar(queue).is_open(now),
                    "members": members.get(queue.id, set()),
                    "managers": managers.get(queue.id, set()),
                }
            )
        return shown

    async def add(self, typed_name: str) -> int:
        """A new queue by that name; refused when the name is empty or taken."""
        name = " ".join(typed_name.split())[:100]
        if not name:
            raise InvalidQueue("give the new queue a name", "name")
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> int:
            if queues_repo.id_named(conn, name) is not None:
                raise InvalidQueue(f"a queue named {name!r} exists already", "name")
            return queues_repo.insert(conn, name, now)

        return await self._db.write(write)

    async def check_hours(self, queue_id: int, timezone: str, hours: str) -> None:
        """Raise InvalidQueue unless the opening hours parse (with the queue's holidays)."""
        queue = await queues_repo.get(self._db, queue_id)
        if queue is None:
            raise UnknownQueue(f"queue {queue_id} does not exist")
        _hours(timezone, hours, queue.holidays, "hours")

    async def set_hours(self, queue_id: int, timezone: str, hours: str) -> None:
        """The queue's time zone and opening hours; its targets and holidays stay."""

        def write(conn: Transaction) -> None:
            queue = queues_repo.lock(conn, queue_id)
            _hours(timezone, hours, queue.holidays, "hours")
            queues_repo.update(
                conn,
                queue_id,
                first_response_minutes=queue.first_response_minutes,
                next_response_minutes=queue.next_response_minutes,
                timezone=timezone,
                hours=hours,
                holidays=queue.holidays,
            )

        await self._db.write(write)

    async def save(
        self,
        queue_id: int,
        form: Mapping[str, str],
        member_ids: Iterable[object],
        manager_ids: Iterable[object],
    ) -> None:
        """Keep one queue's settings as typed on the admin page (checkboxes "on" when ticked)."""
        if await queues_repo.get(self._db, queue_id) is None:
            raise UnknownQueue(f"queue {queue_id} does not exist")
        values = typed_hours(form)
        _hours(values["timezone"], values["hours"], values["holidays"], "hours")
        first = _minutes(form, "first_response_minutes", "The first answer target")
        following = _minutes(form, "next_response_minutes", "The next answer target")
        agents, managers = _ids(member_ids), _ids(manager_ids)
        chat_hours = form.get("chat_hours", "")[:2000]
        _hours(values["timezone"], chat_hours, values["holidays"], "chat_hours", "Chat hours: ")
        seconds = whole_number(form.get("offer_seconds", "30").strip(), 5, 600)
        if seconds is None:
            raise InvalidQueue("an offer lasts 5 to 600 seconds", "offer_seconds")
        target = row_id(form.get("breach_queue_id", ""))
        breach_queue = target if target != queue_id else None
        assignment = "round-robin" if form.get("assignment") == "round-robin" else "least-loaded"

        def write(conn: Transaction) -> None:
            for agent_id in sorted({*agents, *managers}):
                try:
                    agents_repo.lock(conn, agent_id)
                except NotFound:
                    raise InvalidQueue("a member chosen is not an agent", "member") from None
            if breach_queue is not None:
                try:
                    queues_repo.lock(conn, breach_queue)
                except NotFound:
                    raise InvalidQueue(
                        "the queue to escalate to does not exist", "breach_queue_id"
                    ) from None
            queues_repo.update(
                conn,
                queue_id,
                first_response_minutes=first,
                next_response_minutes=following,
                **values,
            )
            queues_repo.set_members(conn, queue_id, agents, managers)
            queues_repo.set_internal(conn, queue_id, form.get("internal") == "on")
            queues_repo.set_escalation(conn, queue_id, breach_queue, chat_hours)
            queues_repo.set_offers(
                conn,
                queue_id,
                form.get("chat_offers") == "on",
                seconds,
                form.get("release_offline") == "on",
                assignment,
            )

        await self._db.write(write)
