"""Append-only events: every change to a conversation, with a global increasing id."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from onlinesupport.store.database import Database
from onlinesupport.store.rows import new_id


@dataclass(frozen=True)
class Event:
    id: int
    conversation_id: int | None
    type: str
    actor_type: str
    actor_id: int | None
    created_at: str
    data: dict[str, Any] = field(default_factory=dict)
    # In-process only, never stored: the message a `message.posted` event is about, so live
    # subscribers need not read it back from the store.
    message: Any = field(default=None, compare=False, repr=False)

    @property
    def weight(self) -> int:
        """Roughly the bytes this event holds while it waits for a subscriber (the hub's
        budget per socket): a message's body dominates."""
        return 256 + (len(self.message.body) if self.message is not None else 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "type": self.type,
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "created_at": self.created_at,
            "data": self.data,
        }


def append(
    conn: sqlite3.Connection,
    conversation_id: int | None,
    type: str,
    actor_type: str,
    actor_id: int | None,
    now: str,
    data: dict[str, Any] | None = None,
    message: Any = None,
) -> Event:
    data = data or {}
    cursor = conn.execute(
        "INSERT INTO events (conversation_id, type, actor_type, actor_id, data, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (conversation_id, type, actor_type, actor_id, json.dumps(data, separators=(",", ":")), now),
    )
    return Event(new_id(cursor), conversation_id, type, actor_type, actor_id, now, data, message)


def has(conn: sqlite3.Connection, conversation_id: int, type: str) -> bool:
    """Whether the conversation has an event of this type."""
    return (
        conn.execute(
            "SELECT 1 FROM events WHERE conversation_id = ? AND type = ? LIMIT 1",
            (conversation_id, type),
        ).fetchone()
        is not None
    )


# Free-form: an event's data is the JSON object its type gives it.
def first_data(conn: sqlite3.Connection, conversation_id: int, type: str) -> dict[str, Any]:
    """The data of the conversation's first event of this type ({} if it has none)."""
    row = conn.execute(
        "SELECT data FROM events WHERE conversation_id = ? AND type = ? ORDER BY id LIMIT 1",
        (conversation_id, type),
    ).fetchone()
    return json.loads(row[0]) if row else {}


def from_row(row: sqlite3.Row) -> Event:
    return Event(
        row["id"],
        row["conversation_id"],
        row["type"],
        row["actor_type"],
        row["actor_id"],
        row["created_at"],
        json.loads(row["data"]),
    )


async def after(db: Database, after_id: int, limit: int) -> list[Event]:
    rows = await db.fetch_all(
        "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [from_row(r) for r in rows]


async def for_conversation(db: Database, conversation_id: int) -> list[Event]:
    rows = await db.fetch_all(
        "SELECT * FROM events WHERE conversation_id = ? ORDER BY id", (conversation_id,)
    )
    return [from_row(r) for r in rows]


async def latest_id(db: Database) -> int:
    row = await db.fetch_one("SELECT coalesce(max(id), 0) FROM events")
    return row[0] if row else 0


def of_type(conn: sqlite3.Connection, conversation_id: int, type: str) -> list[Event]:
    """Inside a write: the conversation's events of one type, oldest first."""
    rows = conn.execute(
        "SELECT * FROM events WHERE conversation_id = ? AND type = ? ORDER BY id",
        (conversation_id, type),
    ).fetchall()
    return [from_row(r) for r in rows]
