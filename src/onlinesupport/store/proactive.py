"""Proactive messages and what visitors did with them."""

from __future__ import annotations

import sqlite3
from typing import Any, TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import as_dicts, new_id

FIELDS = (
    "active",
    "url_pattern",
    "seconds_on_page",
    "audience",
    "tier",
    "business_hours_only",
    "text",
    "button",
)
EVENT_KINDS = ("shown", "clicked", "dismissed", "chat_started")


def insert(conn: sqlite3.Connection, values: dict[str, Any], now: str) -> int:
    return new_id(
        conn.execute(
            f"INSERT INTO proactive_messages ({', '.join(FIELDS)}, created_at, updated_at)"
            f" VALUES ({', '.join('?' * len(FIELDS))}, ?, ?)",
            (*[values[k] for k in FIELDS], now, now),
        )
    )


def update(conn: sqlite3.Connection, message_id: int, values: dict[str, Any], now: str) -> None:
    changed = conn.execute(
        f"UPDATE proactive_messages SET {', '.join(f'{k} = ?' for k in FIELDS)}, updated_at = ?"
        f" WHERE id = ?",
        (*[values[k] for k in FIELDS], now, message_id),
    ).rowcount
    if not changed:
        raise NotFound(f"proactive message {message_id} does not exist")


def delete(conn: sqlite3.Connection, message_id: int) -> None:
    conn.execute("DELETE FROM proactive_messages WHERE id = ?", (message_id,))


class ProactiveMessage(TypedDict):
    """A proactive chat invitation: where and when the widget shows it, and what it says."""

    id: int
    active: int
    url_pattern: str
    seconds_on_page: int
    audience: str
    tier: str
    business_hours_only: int
    text: str
    button: str
    created_at: str
    updated_at: str


class ProactiveCounts(ProactiveMessage):
    """A proactive message with how often each of `EVENT_KINDS` happened."""

    shown: int
    clicked: int
    dismissed: int
    chat_started: int


async def list_all(db: Database) -> list[ProactiveCounts]:
    rows = await db.fetch_all(
        "SELECT m.*, "
        + ", ".join(
            f"(SELECT count(*) FROM proactive_events e WHERE e.message_id = m.id"
            f" AND e.kind = '{kind}') AS {kind}"
            for kind in EVENT_KINDS
        )
        + " FROM proactive_messages m ORDER BY m.id"
    )
    return as_dicts(ProactiveCounts, rows)


async def active(db: Database) -> list[ProactiveMessage]:
    rows = await db.fetch_all("SELECT * FROM proactive_messages WHERE active ORDER BY id")
    return as_dicts(ProactiveMessage, rows)


def record(conn: sqlite3.Connection, message_id: int, kind: str, now: str, page: str = "") -> None:
    conn.execute(
        "INSERT INTO proactive_events (message_id, kind, created_at, page)"
        " SELECT id, ?, ?, ? FROM proactive_messages WHERE id = ?",
        (kind, now, page, message_id),
    )
