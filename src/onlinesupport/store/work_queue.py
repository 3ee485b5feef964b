"""Durable work queues: rows claimed atomically by one worker, retried later, sent or failed.

The mail outbox and the webhook deliveries are such queues. Each is a table with the same
columns for its state: `status` (queued, sending, sent, failed), `attempts`, `next_attempt_at`,
`last_error` and `sent_at`; a row is written in the transaction of whatever caused it, so a
crash loses none. A queue may be ordered by a column: rows with the same value are then
claimed one at a time, oldest first (a webhook endpoint receives one conversation's events in
order), while rows with different values go out side by side.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from onlinesupport.store.database import Database
from onlinesupport.store.rows import records


class Claimed(Protocol):
    """What a worker reads of a claimed row: at least its id."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed row as its id only, for a worker that reads the rest itself."""

    id: int


C = TypeVar("C", bound=Claimed, covariant=True)


@dataclass(frozen=True)
class WorkQueue(Generic[C]):
    table: str
    kind: type[C]
    """What a claimed row is read as (see `rows.record`)."""
    ordered_by: tuple[str, ...] = ()
    """Columns whose rows go out in id order; empty: no order is kept."""

    def _partition(self) -> str:
        return ", ".join(self.ordered_by)


def claim_due(conn: sqlite3.Connection, queue: WorkQueue[C], now: str, limit: int) -> list[C]:
    """Take up to `limit` due rows; each is claimed by exactly one worker. In an ordered
    queue, rows with the same ordering columns come as a run in id order, behind nothing that
    is being sent or waits for a later retry; the worker sends a run one after the other (see
    `unclaim` for the rest of a run that stopped)."""
    if not queue.ordered_by:
        due = (
            f"SELECT id FROM {queue.table} WHERE status = 'queued'"
            f" AND next_attempt_at <= :now ORDER BY next_attempt_at, id LIMIT :limit"
        )
    else:
        # One pass over the unfinished rows: a row may go when neither it nor anything before
        # it with the same ordering columns is being sent or waits for later.
        due = (
            f"SELECT id FROM (SELECT id, sum(status = 'sending' OR next_attempt_at > :now)"
            f" OVER (PARTITION BY {queue._partition()} ORDER BY id) AS blocked"
            f" FROM {queue.table} WHERE status IN ('queued', 'sending'))"
            f" WHERE blocked = 0 ORDER BY id LIMIT :limit"
        )
    rows = conn.execute(
        f"UPDATE {queue.table} SET status = 'sending', attempts = attempts + 1"
        f" WHERE id IN ({due}) RETURNING *",
        {"now": now, "limit": limit},
    ).fetchall()
    return records(queue.kind, rows)


def unclaim(conn: sqlite3.Connection, queue: WorkQueue[Claimed], row_ids: list[int]) -> None:
    """Rows claimed but not tried (the row before them failed) wait again, uncounted."""
    marks = ",".join("?" * len(row_ids))
    conn.execute(
        f"UPDATE {queue.table} SET status = 'queued', attempts = attempts - 1"
        f" WHERE id IN ({marks}) AND status = 'sending'",
        row_ids,
    )


def release_claims(conn: sqlite3.Connection, queue: WorkQueue[Claimed]) -> int:
    """After a crash: rows caught mid-send go back to the queue (sent again, at least once)."""
    return conn.execute(
        f"UPDATE {queue.table} SET status = 'queued' WHERE status = 'sending'"
    ).rowcount


def sent(conn: sqlite3.Connection, queue: WorkQueue[Claimed], row_id: int, now: str) -> None:
    conn.execute(
        f"UPDATE {queue.table} SET status = 'sent', sent_at = ?, last_error = '' WHERE id = ?",
        (now, row_id),
    )


def retry_later(
    conn: sqlite3.Connection, queue: WorkQueue[Claimed], row_id: int, when: str, error: str
) -> None:
    conn.execute(
        f"UPDATE {queue.table} SET status = 'queued', next_attempt_at = ?,"
        f" last_error = ? WHERE id = ?",
        (when, error[:500], row_id),
    )


def put_back(
    conn: sqlite3.Connection, queue: WorkQueue[Claimed], row_ids: list[int], when: str, error: str
) -> None:
    """Rows still claimed after their sending broke go back to the queue, due at `when`."""
    marks = ",".join("?" * len(row_ids))
    conn.execute(
        f"UPDATE {queue.table} SET status = 'queued', next_attempt_at = ?,"
        f" last_error = ? WHERE id IN ({marks}) AND status = 'sending'",
        (when, error[:500], *row_ids),
    )


def failed(conn: sqlite3.Connection, queue: WorkQueue[Claimed], row_id: int, error: str) -> None:
    conn.execute(
        f"UPDATE {queue.table} SET status = 'failed', last_error = ? WHERE id = ?",
        (error[:500], row_id),
    )


async def any_due(db: Database, queue: WorkQueue[Claimed], now: str) -> bool:
    """Whether any queued row is due (cheap: it may still wait behind another in its run)."""
    return (
        await db.fetch_one(
            f"SELECT 1 FROM {queue.table} WHERE status = 'queued' AND next_attempt_at <= ? LIMIT 1",
            (now,),
        )
        is not None
    )


async def next_due(db: Database, queue: WorkQueue[Claimed]) -> str | None:
    """When the earliest row that could be claimed falls due (None: nothing is waiting). In an
    ordered queue that is the first unfinished row of each run, if it is not being sent."""
    if not queue.ordered_by:
        sql = f"SELECT min(next_attempt_at) FROM {queue.table} WHERE status = 'queued'"
    else:
        sql = (
            f"SELECT min(next_attempt_at) FROM (SELECT status, next_attempt_at, row_number()"
            f" OVER (PARTITION BY {queue._partition()} ORDER BY id) AS place"
            f" FROM {queue.table} WHERE status IN ('queued', 'sending'))"
            f" WHERE place = 1 AND status = 'queued'"
        )
    row = await db.fetch_one(sql)
    return row[0] if row else None
