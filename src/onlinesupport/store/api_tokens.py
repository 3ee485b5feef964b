"""API tokens: kept as a hash of the secret, with their scope, acting agent and last use."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import new_id


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    scope: str
    agent_id: int | None
    agent_name: str | None
    agent_active: bool
    created_by: int | None
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


_SELECT = (
    "SELECT t.id, t.name, t.prefix, t.scope, t.agent_id, a.name AS agent_name,"
    " coalesce(a.active, 0) AS agent_active, t.created_by, t.created_at, t.expires_at,"
    " t.last_used_at, t.revoked_at FROM api_tokens t"
    " LEFT JOIN agents a ON a.id = t.agent_id"
)


def _from_row(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        row["id"],
        row["name"],
        row["prefix"],
        row["scope"],
        row["agent_id"],
        row["agent_name"],
        bool(row["agent_active"]),
        row["created_by"],
        row["created_at"],
        row["expires_at"],
        row["last_used_at"],
        row["revoked_at"],
    )


def insert(
    conn: sqlite3.Connection,
    *,
    name: str,
    token_hash: str,
    prefix: str,
    scope: str,
    agent_id: int | None,
    created_by: int | None,
    expires_at: str | None,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO api_tokens (name, token_hash, prefix, scope, agent_id, created_by,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, token_hash, prefix, scope, agent_id, created_by, now, expires_at),
        )
    )


def revoke(conn: sqlite3.Connection, token_id: int, now: str) -> None:
    found = conn.execute(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, token_id)
    ).rowcount
    if not found:
        raise NotFound(f"API token {token_id} does not exist")


def touch(conn: sqlite3.Connection, used: dict[int, str]) -> None:
    """Record when tokens were last used (token id -> time)."""
    conn.executemany(
        "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
        [(when, token_id) for token_id, when in used.items()],
    )


async def by_hash(db: Database, token_hash: str) -> ApiToken | None:
    row = await db.fetch_one(f"{_SELECT} WHERE t.token_hash = ?", (token_hash,))
    return _from_row(row) if row else None


async def list_all(db: Database) -> list[ApiToken]:
    rows = await db.fetch_all(f"{_SELECT} ORDER BY t.revoked_at IS NOT NULL, t.id DESC")
    return [_from_row(r) for r in rows]
