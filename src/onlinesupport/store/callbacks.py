"""Callback requests: the number to call, the customer's window, and how the calls went."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dict, as_dicts, only

OPEN = ("waiting", "retry")
"""Statuses of a callback still to be made."""


def insert(
    conn: sqlite3.Connection,
    *,
    conversation_id: int,
    phone: str,
    country: str,
    window_start: str,
    window_end: str,
    source: str,
    now: str,
) -> None:
    conn.execute(
        "INSERT INTO callbacks (conversation_id, phone, country, window_start, window_end, source,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (conversation_id, phone, country, window_start, window_end, source, now, now),
    )


def record_call(
    conn: sqlite3.Connection, conversation_id: int, status: str, retry_at: str | None, now: str
) -> int:
    """Count a call and its outcome; returns which call this was (1, 2, …)."""
    attempts: int = only(
        conn.execute(
            "UPDATE callbacks SET status = ?, retry_at = ?, attempts = attempts + 1, updated_at = ?"
            " WHERE conversation_id = ? RETURNING attempts",
            (status, retry_at, now, conversation_id),
        )
    )[0]
    return attempts


def window_end(conn: sqlite3.Connection, conversation_id: int) -> str | None:
    """The end of the window the customer chose, if the conversation is a callback request."""
    row = conn.execute(
        "SELECT window_end FROM callbacks WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()
    return row[0] if row else None


class Callback(TypedDict):
    """A callback request with its queue's calendar (the window is in its time zone)."""

    conversation_id: int
    phone: str
    country: str
    window_start: str
    window_end: str
    source: str
    status: str
    attempts: int
    retry_at: str | None
    created_at: str
    updated_at: str
    timezone: str
    hours: str
    holidays: str


async def get(db: Database, conversation_id: int) -> Callback | None:
    row = await db.fetch_one(
        "SELECT b.*, q.timezone, q.hours, q.holidays FROM callbacks b"
        " JOIN conversations c ON c.id = b.conversation_id JOIN queues q ON q.id = c.queue_id"
        " WHERE b.conversation_id = ?",
        (conversation_id,),
    )
    return as_dict(Callback, row) if row else None


class ToCall(TypedDict):
    """A callback still to be made, with its queue's calendar."""

    conversation_id: int
    status: str
    window_end: str
    retry_at: str | None
    timezone: str
    hours: str
    holidays: str


async def still_to_call(db: Database, conversation_ids: Sequence[int]) -> list[ToCall]:
    """Of these conversations, the callbacks still to be made, with their queue's calendar."""
    if not conversation_ids:
        return []
    marks = ", ".join("?" * len(conversation_ids))
    rows = await db.fetch_all(
        "SELECT b.conversation_id, b.status, b.window_end, b.retry_at, q.timezone, q.hours,"
        " q.holidays FROM callbacks b JOIN conversations c ON c.id = b.conversation_id"
        " JOIN queues q ON q.id = c.queue_id"
        f" WHERE b.status IN ('waiting', 'retry') AND b.conversation_id IN ({marks})",
        tuple(conversation_ids),
    )
    return as_dicts(ToCall, rows)
