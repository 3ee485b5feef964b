"""Agents: the people who use the desk, with a role and a capacity."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onlinesupport.store import migrate
from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, conflicts
from onlinesupport.store.rows import new_id, one, only, record, records

ROLES = ("agent", "manager", "admin")

_PUBLIC = "id, email, name, role, active, capacity, created_at"


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as the desk may show them (no password hash)."""

    id: int
    email: str
    name: str
    role: str
    active: int
    capacity: int
    created_at: str


@conflicts()
def create(
    conn: sqlite3.Connection, *, email: str, name: str, role: str, password_hash: str, now: str
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO agents (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?,"
            " ?)",
            (email, name, role, password_hash, now),
        )
    )


def update(conn: sqlite3.Connection, agent_id: int, **columns: Any) -> None:
    allowed = {"name", "role", "active", "password_hash", "capacity"}
    unknown = set(columns) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in columns)
    changed = conn.execute(
        f"UPDATE agents SET {assignments} WHERE id = ?", (*columns.values(), agent_id)
    ).rowcount
    if not changed:
        raise NotFound(f"agent {agent_id} does not exist")


def active_admins(conn: sqlite3.Connection) -> int:
    admins: int = only(conn.execute("SELECT count(*) FROM agents WHERE role = 'admin' AND active"))[
        0
    ]
    return admins


def lock(conn: sqlite3.Connection, agent_id: int) -> Agent:
    row = one(conn.execute(f"SELECT {_PUBLIC} FROM agents WHERE id = ?", (agent_id,)))
    if row is None:
        raise NotFound(f"agent {agent_id} does not exist")
    return record(Agent, row)


def active_by_email(conn: sqlite3.Connection, email: str) -> Agent | None:
    """The active agent with that address, if any."""
    row = one(conn.execute(f"SELECT {_PUBLIC} FROM agents WHERE email = ? AND active", (email,)))
    return record(Agent, row) if row else None


async def is_active(db: Database, email: str) -> bool:
    """Whether an active agent has that address."""
    return (
        await db.fetch_one("SELECT 1 FROM agents WHERE email = ? AND active", (email,)) is not None
    )


async def get(db: Database, agent_id: int) -> Agent | None:
    row = await db.fetch_one(f"SELECT {_PUBLIC} FROM agents WHERE id = ?", (agent_id,))
    return record(Agent, row) if row else None


@dataclass(frozen=True, slots=True)
class Credentials:
    """An agent with their password hash, for signing in (the hash stays out of its repr)."""

    agent: Agent
    password_hash: str = field(repr=False)


async def credentials(db: Database, email: str) -> Credentials | None:
    """The agent with this sign-in address, including the password hash."""
    row = await db.fetch_one(
        f"SELECT {_PUBLIC}, password_hash FROM agents WHERE email = ?", (email,)
    )
    return Credentials(record(Agent, row), row["password_hash"]) if row else None


@dataclass(frozen=True, slots=True)
class AgentLoad(Agent):
    """An agent with `load`: the open chats assigned to them now."""

    load: int


async def list_all(db: Database) -> list[AgentLoad]:
    """Every agent, with `load`: the open chats assigned to them now."""
    rows = await db.fetch_all(
        f"SELECT {_PUBLIC}, (SELECT count(*) FROM conversations c WHERE c.assignee_id = agents.id"
        " AND c.channel = 'chat' AND c.status IN ('open', 'pending')) AS load"
        " FROM agents ORDER BY name, id"
    )
    return records(AgentLoad, rows)


_ADMIN_EXISTS = "SELECT 1 FROM agents WHERE role = 'admin' AND active"


async def admin_exists(db: Database) -> bool:
    return await db.fetch_one(_ADMIN_EXISTS) is not None


def admin_exists_in(path: Path) -> bool:
    """Whether the database file has an admin, read without migrating or writing anything."""
    if migrate.inspect(path) == 0:
        return False
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(_ADMIN_EXISTS).fetchone() is not None
    finally:
        conn.close()


async def notifications(db: Database, agent_id: int) -> str:
    """The agent's notification choices as stored (JSON, or "" for the defaults)."""
    row = await db.fetch_one("SELECT notifications FROM agents WHERE id = ?", (agent_id,))
    if row is None:
        raise NotFound(f"agent {agent_id} does not exist")
    choices: str = row[0]
    return choices


def set_notifications(conn: sqlite3.Connection, agent_id: int, choices: str) -> None:
    conn.execute("UPDATE agents SET notifications = ? WHERE id = ?", (choices, agent_id))
