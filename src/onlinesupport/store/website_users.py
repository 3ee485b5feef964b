"""Customers a company's website vouches for (identity kind 'external': the website's own
user id), and what moves to them when a visitor signs in on the website during a chat."""

from __future__ import annotations

import sqlite3

from onlinesupport.store.database import Database


def attach(conn: sqlite3.Connection, customer_id: int, kind: str, value: str) -> bool:
    """Give the customer identity (kind, value) unless another customer holds it; True when
    the customer holds it afterwards."""
    holder: int = conn.execute(
        "INSERT INTO customer_identities (customer_id, kind, value)"
        " VALUES (?, ?, ?) ON CONFLICT (kind, value) DO UPDATE SET"
        " kind = kind RETURNING customer_id",
        (customer_id, kind, value),
    ).fetchone()[0]
    return holder == customer_id


def owner(conn: sqlite3.Connection, kind: str, value: str) -> int | None:
    row = conn.execute(
        "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?", (kind, value)
    ).fetchone()
    return row[0] if row else None


def is_verified(conn: sqlite3.Connection, customer_id: int) -> bool:
    """Whether the customer is a website user (holds an external id)."""
    return (
        conn.execute(
            "SELECT 1 FROM customer_identities WHERE customer_id = ? AND kind = 'external'",
            (customer_id,),
        ).fetchone()
        is not None
    )


async def verified(db: Database, customer_id: int) -> bool:
    """The same, read outside the writer."""
    return (
        await db.fetch_one(
            "SELECT 1 FROM customer_identities WHERE customer_id = ? AND kind = 'external'",
            (customer_id,),
        )
        is not None
    )


def move_identity(conn: sqlite3.Connection, kind: str, value: str, customer_id: int) -> None:
    conn.execute(
        "UPDATE customer_identities SET customer_id = ? WHERE kind = ? AND value = ?",
        (customer_id, kind, value),
    )


def open_chats(conn: sqlite3.Connection, customer_id: int) -> list[int]:
    """The customer's chats not yet resolved (a visitor's chat in progress)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM conversations WHERE customer_id = ? AND channel = 'chat'"
            " AND status IN ('open', 'pending') ORDER BY id",
            (customer_id,),
        )
    ]


def move_conversation(
    conn: sqlite3.Connection, conversation_id: int, customer_id: int, now: str
) -> None:
    conn.execute(
        "UPDATE conversations SET customer_id = ?, updated_at = ? WHERE id = ?",
        (customer_id, now, conversation_id),
    )


def fill_name(conn: sqlite3.Connection, customer_id: int, name: str) -> None:
    """Give the customer a name if they have none yet (an agent's edit is never replaced)."""
    conn.execute("UPDATE customers SET name = ? WHERE id = ? AND name = ''", (name, customer_id))
