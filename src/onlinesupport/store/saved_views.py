"""Saved inbox views: filters kept under a name, an agent's own or shared (no owner)."""

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
    name: str,
    filters: str,
    created_by: int,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO saved_views (owner_id, name, filters, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (owner_id, name, filters, created_by, now),
        )
    )


def owner(conn: sqlite3.Connection, view_id: int) -> int | None:
    row = one(conn.execute("SELECT owner_id FROM saved_views WHERE id = ?", (view_id,)))
    if row is None:
        raise NotFound(f"saved view {view_id} does not exist")
    owner_id: int | None = row[0]
    return owner_id


def delete(conn: sqlite3.Connection, view_id: int) -> None:
    conn.execute("DELETE FROM saved_views WHERE id = ?", (view_id,))


class SavedView(TypedDict):
    """An inbox view: shared (no owner) or an agent's own; `filters` as a JSON object."""

    id: int
    owner_id: int | None
    name: str
    filters: str


async def for_agent(db: Database, agent_id: int) -> list[SavedView]:
    """The shared views and the agent's own, shared first, by name."""
    rows = await db.fetch_all(
        "SELECT id, owner_id, name, filters FROM saved_views"
        " WHERE owner_id IS NULL OR owner_id = ? ORDER BY owner_id IS NOT NULL, name, id",
        (agent_id,),
    )
    return as_dicts(SavedView, rows)
