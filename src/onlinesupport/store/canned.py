"""Canned replies: shared with everyone (no owner) or an agent's own."""

from __future__ import annotations

import sqlite3
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, conflicts
from onlinesupport.store.rows import as_dicts, new_id, one


@conflicts()
def create(
    conn: sqlite3.Connection,
    *,
    owner_id: int | None,
    shortcut: str,
    title: str,
    body: str,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO canned_replies (owner_id, shortcut, title, body, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (owner_id, shortcut, title, body, now, now),
        )
    )


def owner(conn: sqlite3.Connection, reply_id: int) -> int | None:
    row = one(conn.execute("SELECT owner_id FROM canned_replies WHERE id = ?", (reply_id,)))
    if row is None:
        raise NotFound(f"canned reply {reply_id} does not exist")
    owner_id: int | None = row[0]
    return owner_id


def delete(conn: sqlite3.Connection, reply_id: int) -> None:
    conn.execute("DELETE FROM canned_replies WHERE id = ?", (reply_id,))


class CannedReply(TypedDict):
    """A canned reply: shared (no owner) or an agent's own."""

    id: int
    owner_id: int | None
    shortcut: str
    title: str
    body: str


async def for_agent(db: Database, agent_id: int) -> list[CannedReply]:
    """The shared replies and the agent's own, by shortcut."""
    rows = await db.fetch_all(
        "SELECT id, owner_id, shortcut, title, body FROM canned_replies"
        " WHERE owner_id IS NULL OR owner_id = ? ORDER BY shortcut, owner_id IS NOT NULL",
        (agent_id,),
    )
    return as_dicts(CannedReply, rows)
