"""What the website widget looks like and which websites may embed it (admin-editable)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.store import Database
from onlinesupport.store import settings as settings_repo

KEY = "widget"
FIELD_MODES = ("required", "optional", "hidden")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class InvalidSettings(UserError):
    """A widget setting is not acceptable; the message names it."""


def normalise_origin(text: str) -> str:
    """`https://Shop.Example.com:443/` → `https://shop.example.com`; raises for anything else."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:  # "https://shop:x", "http://[::1" (any Origin header may say so)
        parts, port = urlsplit(""), -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise InvalidSettings(
            f"{text.strip()!r} is not a website address such as https://www.example.com"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidSettings(
            f"{text.strip()!r}: give only the address of the site, without a page"
        )
    default = {"http": 80, "https": 443}[parts.scheme]
    shown = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{shown}"


@dataclass(frozen=True)
class WidgetSettings:
    allowed_origins: tuple[str, ...] = ()
    title: str = "Chat with us"
    greeting: str = "Hi! How can we help you today?"
    color: str = "#1f5fbf"
    ask_name: str = "optional"
    ask_email: str = "optional"
    offline_text: str = "We are not online right now. Leave a message and we will answer by email."

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        try:
            return normalise_origin(origin) in self.allowed_origins
        except InvalidSettings:
            return False

    def for_visitor(self) -> dict[str, Any]:
        """What the widget needs to draw itself."""
        return {
            "title": self.title,
            "greeting": self.greeting,
            "color": self.color,
            "ask_name": self.ask_name,
            "ask_email": self.ask_email,
            "offline_text": self.offline_text,
        }


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = str(data.get(name, "")).strip()
    if not value:
        raise InvalidSettings(f"{name.replace('_', ' ')} is empty")
    if len(value) > limit:
        raise InvalidSettings(f"{name.replace('_', ' ')} is longer than {limit} characters")
    return value


def parse(data: Mapping[str, Any]) -> WidgetSettings:
    """Settings from the admin form; every problem is reported with the field's name."""
    origins_text = str(data.get("allowed_origins", ""))
    origins = tuple(
        dict.fromkeys(normalise_origin(line) for line in origins_text.splitlines() if line.strip())
    )
    if len(origins) > 50:
        raise InvalidSettings("at most 50 websites")
    color = str(data.get("color", "")).strip()
    if not _COLOR.match(color):
        raise InvalidSettings("colour must look like #1f5fbf")
    modes = {}
    for name in ("ask_name", "ask_email"):
        modes[name] = str(data.get(name, ""))
        if modes[name] not in FIELD_MODES:
            raise InvalidSettings(
                f"{name.replace('_', ' ')} must be one of {', '.join(FIELD_MODES)}"
            )
    return WidgetSettings(
        allowed_origins=origins,
        title=_text(data, "title", 60),
        greeting=_text(data, "greeting", 300),
        color=color.lower(),
        offline_text=_text(data, "offline_text", 300),
        **modes,
    )


async def load(db: Database) -> WidgetSettings:
    stored = await settings_repo.get(db, KEY) or {}
    known = {f.name for f in dataclasses.fields(WidgetSettings)}
    values = {k: v for k, v in stored.items() if k in known}
    if "allowed_origins" in values:
        values["allowed_origins"] = tuple(values["allowed_origins"])
    return WidgetSettings(**values)


async def save(db: Database, clock: Clock, widget: WidgetSettings) -> None:
    value = dataclasses.asdict(widget)
    value["allowed_origins"] = list(widget.allowed_origins)
    now = to_db(clock.now())
    await db.write(lambda conn: settings_repo.put(conn, KEY, value, now))
