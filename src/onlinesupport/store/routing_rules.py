"""Routing rules as stored: ordered by position, conditions and actions as written."""

from __future__ import annotations

import sqlite3
from typing import Any, TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import as_dicts, new_id, only

FIELDS = ("name", "active", "trigger", "conditions", "actions")


class StoredRule(TypedDict):
    """A routing rule as written, not yet parsed."""

    id: int
    position: int
    name: str
    active: int
    trigger: str
    conditions: str
    actions: str
    created_at: str
    updated_at: str


async def list_all(db: Database) -> list[StoredRule]:
    rows = await db.fetch_all("SELECT * FROM routing_rules ORDER BY position, id")
    return as_dicts(StoredRule, rows)


def insert(conn: sqlite3.Connection, values: dict[str, Any], now: str) -> int:
    position: int = only(conn.execute("SELECT coalesce(max(position), 0) + 1 FROM routing_rules"))[
        0
    ]
    return new_id(
        conn.execute(
            "INSERT INTO routing_rules (position, name, active, trigger, conditions, actions,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (position, *[values[k] for k in FIELDS], now, now),
        )
    )


def update(conn: sqlite3.Connection, rule_id: int, values: dict[str, Any], now: str) -> None:
    changed = conn.execute(
        f"UPDATE routing_rules SET {', '.join(f'{k} = ?' for k in FIELDS)}, updated_at = ?"
        f" WHERE id = ?",
        (*[values[k] for k in FIELDS], now, rule_id),
    ).rowcount
    if not changed:
        raise NotFound(f"rule {rule_id} does not exist")


def delete(conn: sqlite3.Connection, rule_id: int) -> None:
    conn.execute("DELETE FROM routing_rules WHERE id = ?", (rule_id,))


def move(conn: sqlite3.Connection, rule_id: int, step: int) -> None:
    """Swap the rule with its neighbour above (step -1) or below (+1)."""
    ordered = [r[0] for r in conn.execute("SELECT id FROM routing_rules ORDER BY position, id")]
    if rule_id not in ordered:
        raise NotFound(f"rule {rule_id} does not exist")
    at = ordered.index(rule_id)
    other = at + step
    if 0 <= other < len(ordered):
        ordered[at], ordered[other] = ordered[other], ordered[at]
    conn.executemany(
        "UPDATE routing_rules SET position = ? WHERE id = ?",
        [(n, rid) for n, rid in enumerate(ordered, start=1)],
    )
