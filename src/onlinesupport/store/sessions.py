"""Desk sign-in sessions, stored server-side; the cookie holds a token whose keyed hash is
the id."""

from __future__ import annotations

import sqlite3
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dict


def create(
    conn: sqlite3.Connection,
    *,
    session_id: str,
    agent_id: int,
    csrf_token: str,
    address: str,
    now: str,
    expires_at: str,
) -> None:
    conn.execute(
        "INSERT INTO sessions (id, agent_id, csrf_token, address, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, agent_id, csrf_token, address, now, expires_at),
    )


def extend(conn: sqlite3.Connection, session_id: str, expires_at: str) -> None:
    conn.execute("UPDATE sessions SET expires_at = ? WHERE id = ?", (expires_at, session_id))


def delete(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def delete_for_agent(conn: sqlite3.Connection, agent_id: int) -> None:
    conn.execute("DELETE FROM sessions WHERE agent_id = ?", (agent_id,))


def delete_expired(conn: sqlite3.Connection, now: str) -> int:
    return conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount


class SignedInAgent(TypedDict):
    """An unexpired session's agent, with the session's id, CSRF token and expiry."""

    session_id: str
    csrf_token: str
    expires_at: str
    id: int
    email: str
    name: str
    role: str


async def active(db: Database, session_id: str, now: str) -> SignedInAgent | None:
    """The unexpired session with its active agent, or None."""
    row = await db.fetch_one(
        "SELECT s.id AS session_id, s.csrf_token, s.expires_at, a.id, a.email, a.name, a.role"
        " FROM sessions s JOIN agents a ON a.id = s.agent_id"
        " WHERE s.id = ? AND s.expires_at > ? AND a.active",
        (session_id, now),
    )
    return as_dict(SignedInAgent, row) if row else None
