"""Problem records: what back-end staff work on for a customer's conversation."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import as_dict, as_dicts, new_id, one, record

TYPES = ("question", "problem", "rma")
STATUSES = ("new", "in progress", "waiting for parts", "solved")
EDITABLE = ("type", "product", "serial_number", "rma_number", "summary", "status")
_SELECT = (
    "SELECT p.*, q.name AS queue_name, c.subject, c.assignee_id, a.name AS owner_name,"
    " g.name AS created_by_name FROM problems p JOIN queues q ON q.id = p.queue_id"
    " JOIN conversations c ON c.id = p.conversation_id"
    " LEFT JOIN agents a ON a.id = c.assignee_id LEFT JOIN agents g ON g.id = p.created_by"
)


def insert(
    conn: sqlite3.Connection,
    conversation_id: int,
    queue_id: int,
    values: dict[str, str],
    agent_id: int | None,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO problems (conversation_id, queue_id, type, product, serial_number,"
            " rma_number, summary, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                queue_id,
                values["type"],
                values["product"],
                values["serial_number"],
                values["rma_number"],
                values["summary"],
                agent_id,
                now,
                now,
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem record: what back-end staff work on for a customer's conversation."""

    id: int
    conversation_id: int
    queue_id: int
    type: str
    product: str
    serial_number: str
    rma_number: str
    summary: str
    status: str
    created_by: int | None
    created_at: str
    updated_at: str


def update(conn: sqlite3.Connection, problem_id: int, values: dict[str, str], now: str) -> Problem:
    row = one(
        conn.execute(
            f"UPDATE problems SET {', '.join(f'{k} = ?' for k in EDITABLE)}, updated_at = ?"
            f" WHERE id = ? RETURNING *",
            (*[values[k] for k in EDITABLE], now, problem_id),
        )
    )
    if row is None:
        raise NotFound(f"problem {problem_id} does not exist")
    return record(Problem, row)


class ProblemLine(TypedDict):
    """A problem (`_SELECT`): its queue, its conversation's subject and owner, who raised it."""

    id: int
    conversation_id: int
    queue_id: int
    type: str
    product: str
    serial_number: str
    rma_number: str
    summary: str
    status: str
    created_by: int | None
    created_at: str
    updated_at: str
    queue_name: str
    subject: str
    assignee_id: int | None
    owner_name: str | None
    created_by_name: str | None


async def get(db: Database, problem_id: int) -> ProblemLine | None:
    row = await db.fetch_one(f"{_SELECT} WHERE p.id = ?", (problem_id,))
    return as_dict(ProblemLine, row) if row else None


async def for_conversation(db: Database, conversation_id: int) -> list[ProblemLine]:
    rows = await db.fetch_all(
        f"{_SELECT} WHERE p.conversation_id = ? ORDER BY p.id", (conversation_id,)
    )
    return as_dicts(ProblemLine, rows)


async def open_ones(db: Database) -> list[ProblemLine]:
    """Every problem not solved, oldest first, with its queue."""
    rows = await db.fetch_all(f"{_SELECT} WHERE p.status <> 'solved' ORDER BY q.name, p.created_at")
    return as_dicts(ProblemLine, rows)
