"""Customers (contacts) and the identities that attach every channel to one of them."""

from __future__ import annotations

import sqlite3
from typing import Any

from onlinesupport.store.database import Database


def create(conn: sqlite3.Connection, name: str, now: str) -> int:
    return conn.execute("INSERT INTO customers (name, created_at) VALUES (?, ?)",
                        (name, now)).lastrowid


def find_or_create(conn: sqlite3.Connection, kind: str, value: str, name: str, now: str) -> int:
    """The customer holding identity (kind, value), created with `name` if there is none."""
    row = conn.execute("SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?",
                       (kind, value)).fetchone()
    if row:
        return row[0]
    customer_id = create(conn, name, now)
    conn.execute("INSERT INTO customer_identities (customer_id, kind, value) VALUES (?, ?, ?)",
                 (customer_id, kind, value))
    return customer_id


async def get(db: Database, customer_id: int) -> dict[str, Any] | None:
    row = await db.fetch_one("SELECT * FROM customers WHERE id = ?", (customer_id,))
    if row is None:
        return None
    customer = dict(row)
    customer["identities"] = [dict(r) for r in await db.fetch_all(
        "SELECT kind, value FROM customer_identities WHERE customer_id = ? ORDER BY id",
        (customer_id,))]
    return customer


async def by_identity(db: Database, kind: str, value: str) -> int | None:
    row = await db.fetch_one("SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?",
                             (kind, value))
    return row[0] if row else None
