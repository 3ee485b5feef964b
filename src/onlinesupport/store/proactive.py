"""Proactive messages and what visitors did with them."""

from __future__ import annotations

import sqlite3
from typing import Any

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import new_id

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


async def list_all(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT m.*, "
        + ", ".join(
            f"(SELECT count(*) FROM proactive_events e WHERE e.message_id = m.id"
            f" AND e.kind = '{kind}') AS {kind}"
            for kind in EVENT_KINDS
        )
        + " FROM proactive_messages m ORDER BY m.id"
    )
    return [dict(r) for r in rows]


async def active(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetch_all("SELECT * FROM proactive_messages WHERE active ORDER BY id")
    return [dict(r) for r in rows]


def record(conn: sqlite3.Connection, message_id: int, kind: str, now: str, page: str = "") -> None:
    conn.execute(
        "INSERT INTO proactive_events (message_id, kind, created_at, page)"
        " SELECT id, ?, ?, ? FROM proactive_messages WHERE id = ?",
        (kind, now, page, message_id),
    )
