"""Sign-in links and sessions of customers (hashes only; the secrets travel by mail and cookie)."""

from __future__ import annotations

import sqlite3

from onlinesupport.store.database import Database


def add_link(
    conn: sqlite3.Connection, token_hash: str, customer_id: int, now: str, expires_at: str
) -> None:
    conn.execute(
        "INSERT INTO customer_links (token_hash, customer_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (token_hash, customer_id, now, expires_at),
    )


def use_link(conn: sqlite3.Connection, token_hash: str, now: str) -> int | None:
    """Spend a link: its customer, or None if unknown, used or expired."""
    row = conn.execute(
        "UPDATE customer_links SET used_at = ? WHERE token_hash = ?"
        " AND used_at IS NULL AND expires_at > ? RETURNING customer_id",
        (now, token_hash, now),
    ).fetchone()
    return row[0] if row else None


def add_session(
    conn: sqlite3.Connection, token_hash: str, customer_id: int, now: str, expires_at: str
) -> None:
    conn.execute(
        "INSERT INTO customer_sessions (token_hash, customer_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (token_hash, customer_id, now, expires_at),
    )


def end_session(conn: sqlite3.Connection, token_hash: str) -> None:
    conn.execute("DELETE FROM customer_sessions WHERE token_hash = ?", (token_hash,))


async def session_customer(db: Database, token_hash: str, now: str) -> int | None:
    row = await db.fetch_one(
        "SELECT customer_id FROM customer_sessions WHERE token_hash = ? AND expires_at > ?",
        (token_hash, now),
    )
    return row[0] if row else None
