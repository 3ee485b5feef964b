"""Queues (workgroups): response-time targets and business hours."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import new_id, one, only, record, records


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue as stored: its answer targets, hours, escalation and how it offers chats."""

    id: int
    name: str
    first_response_minutes: int
    next_response_minutes: int
    created_at: str
    timezone: str
    hours: str
    holidays: str
    internal: int
    breach_queue_id: int | None
    chat_hours: str
    chat_offers: int
    offer_seconds: int
    release_offline: int
    assignment: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent who may take a queue's work, with their open conversations (`load`)."""

    id: int
    name: str
    capacity: int
    load: int


@dataclass(frozen=True, slots=True)
class Manager:
    """A queue's active manager, whom late answers are reported to."""

    id: int
    name: str
    email: str


def find(conn: sqlite3.Connection, queue_id: int) -> Queue | None:
    row = one(conn.execute("SELECT * FROM queues WHERE id = ?", (queue_id,)))
    return record(Queue, row) if row else None


def lock(conn: sqlite3.Connection, queue_id: int) -> Queue:
    row = find(conn, queue_id)
    if row is None:
        raise NotFound(f"queue {queue_id} does not exist")
    return row


def update(
    conn: sqlite3.Connection,
    queue_id: int,
    *,
    first_response_minutes: int,
    next_response_minutes: int,
    timezone: str,
    hours: str,
    holidays: str,
) -> None:
    changed = conn.execute(
        "UPDATE queues SET first_response_minutes = ?, next_response_minutes = ?, timezone = ?,"
        " hours = ?, holidays = ? WHERE id = ?",
        (first_response_minutes, next_response_minutes, timezone, hours, holidays, queue_id),
    ).rowcount
    if not changed:
        raise NotFound(f"queue {queue_id} does not exist")


def by_name(conn: sqlite3.Connection, name: str) -> Queue | None:
    """The queue of that name, in any letter case (rules name queues)."""
    row = one(conn.execute("SELECT * FROM queues WHERE name = ? COLLATE NOCASE", (name,)))
    return record(Queue, row) if row else None


async def named(db: Database, name: str) -> bool:
    """Whether a queue of that name exists, in any letter case."""
    return (
        await db.fetch_one("SELECT 1 FROM queues WHERE name = ? COLLATE NOCASE", (name,))
        is not None
    )


def of_conversation(conn: sqlite3.Connection, conversation_id: int) -> Queue:
    """The queue the conversation is in."""
    return record(
        Queue,
        only(
            conn.execute(
                "SELECT q.* FROM queues q JOIN conversations c ON c.queue_id = q.id WHERE c.id = ?",
                (conversation_id,),
            )
        ),
    )


def breach_queue(conn: sqlite3.Connection, queue_id: int) -> Queue | None:
    """Where the queue sends conversations whose answer is late, if anywhere."""
    row = one(
        conn.execute(
            "SELECT b.* FROM queues q JOIN queues b ON b.id = q.breach_queue_id WHERE q.id = ?",
            (queue_id,),
        )
    )
    return record(Queue, row) if row else None


def assignment(conn: sqlite3.Connection, queue_id: int) -> str:
    """How the queue picks an agent: 'least-loaded' or 'round-robin'."""
    how: str = only(conn.execute("SELECT assignment FROM queues WHERE id = ?", (queue_id,)))[0]
    return how


_CANDIDATES = (
    "SELECT a.id, a.name, a.capacity, (SELECT count(*) FROM conversations c"
    "  WHERE c.assignee_id = a.id AND c.status IN ('open', 'pending')) AS load"
    " FROM agents a WHERE a.active AND (a.id IN (SELECT agent_id FROM queue_members"
    "  WHERE queue_id = :q) OR NOT EXISTS (SELECT 1 FROM queue_members WHERE queue_id = :q))"
)


def candidates(conn: sqlite3.Connection, queue_id: int) -> list[Candidate]:
    """The agents who may take a queue's work: its members (anyone, if it has none)."""
    return records(Candidate, conn.execute(_CANDIDATES, {"q": queue_id}).fetchall())


async def candidates_now(db: Database, queue_id: int) -> list[Candidate]:
    """The same, read outside the writer."""
    return records(Candidate, await db.fetch_all(_CANDIDATES, {"q": queue_id}))


async def list_all(db: Database) -> list[Queue]:
    return records(Queue, await db.fetch_all("SELECT * FROM queues ORDER BY name"))


async def get(db: Database, queue_id: int) -> Queue | None:
    row = await db.fetch_one("SELECT * FROM queues WHERE id = ?", (queue_id,))
    return record(Queue, row) if row else None


def id_named(conn: sqlite3.Connection, name: str) -> int | None:
    """The id of the queue of that name, if there is one."""
    row = conn.execute("SELECT id FROM queues WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def insert(conn: sqlite3.Connection, name: str, now: str) -> int:
    return new_id(conn.execute("INSERT INTO queues (name, created_at) VALUES (?, ?)", (name, now)))


def set_internal(conn: sqlite3.Connection, queue_id: int, internal: bool) -> None:
    conn.execute("UPDATE queues SET internal = ? WHERE id = ?", (int(internal), queue_id))


def set_members(
    conn: sqlite3.Connection, queue_id: int, agent_ids: list[int], managers: Sequence[int] = ()
) -> None:
    """The queue's members; `managers` among them (a manager not listed as member joins)."""
    conn.execute("DELETE FROM queue_members WHERE queue_id = ?", (queue_id,))
    everyone = sorted(set(agent_ids) | set(managers))
    conn.executemany(
        "INSERT INTO queue_members (queue_id, agent_id, manager) VALUES (?, ?, ?)",
        [(queue_id, agent_id, int(agent_id in managers)) for agent_id in everyone],
    )


def set_escalation(
    conn: sqlite3.Connection, queue_id: int, breach_queue_id: int | None, chat_hours: str
) -> None:
    conn.execute(
        "UPDATE queues SET breach_queue_id = ?, chat_hours = ? WHERE id = ?",
        (breach_queue_id, chat_hours, queue_id),
    )


def set_offers(
    conn: sqlite3.Connection,
    queue_id: int,
    on: bool,
    seconds: int,
    release_offline: bool = False,
    assignment: str = "least-loaded",
) -> None:
    conn.execute(
        "UPDATE queues SET chat_offers = ?, offer_seconds = ?, release_offline = ?,"
        " assignment = ? WHERE id = ?",
        (int(on), seconds, int(release_offline), assignment, queue_id),
    )


def managers_of(conn: sqlite3.Connection, queue_id: int) -> list[Manager]:
    """The active managers of a queue."""
    return records(
        Manager,
        conn.execute(
            "SELECT a.id, a.name, a.email FROM queue_members m JOIN agents a ON a.id = m.agent_id"
            " WHERE m.queue_id = ? AND m.manager AND a.active ORDER BY a.name",
            (queue_id,),
        ).fetchall(),
    )


async def members(db: Database) -> dict[int, set[int]]:
    """Queue id → the ids of its member agents."""
    found: dict[int, set[int]] = {}
    for row in await db.fetch_all("SELECT queue_id, agent_id FROM queue_members"):
        found.setdefault(row[0], set()).add(row[1])
    return found


async def managers(db: Database) -> dict[int, set[int]]:
    """Queue id → the ids of its managers."""
    found: dict[int, set[int]] = {}
    for row in await db.fetch_all("SELECT queue_id, agent_id FROM queue_members WHERE manager"):
        found.setdefault(row[0], set()).add(row[1])
    return found
