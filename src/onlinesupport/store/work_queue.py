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

from onlinesupport.store.database import Database


@dataclass(frozen=True)
class WorkQueue:
    table: str
    ordered_by: tuple[str, ...] = ()
    """Columns whose rows go out one at a time in id order; empty: no order is kept."""

    def _head(self, alias: str) -> str:
        """SQL: the row `alias` has no earlier unfinished row with the same ordering columns."""
        if not self.ordered_by:
            return ""
        same = " AND ".join(f"e.{c} IS {alias}.{c}" for c in self.ordered_by)
        return (f" AND NOT EXISTS (SELECT 1 FROM {self.table} e WHERE {same} AND e.id < {alias}.id"
                f" AND e.status IN ('queued', 'sending'))")


def claim_due(conn: sqlite3.Connection, queue: WorkQueue, now: str,
              limit: int) -> list[sqlite3.Row]:
    """Take up to `limit` due rows; each is claimed by exactly one worker."""
    return conn.execute(
        f"UPDATE {queue.table} SET status = 'sending', attempts = attempts + 1 WHERE id IN ("
        f" SELECT d.id FROM {queue.table} d WHERE d.status = 'queued' AND d.next_attempt_at <= ?"
        f"{queue._head('d')} ORDER BY d.next_attempt_at, d.id LIMIT ?) RETURNING *",
        (now, limit)).fetchall()


def release_claims(conn: sqlite3.Connection, queue: WorkQueue) -> int:
    """After a crash: rows caught mid-send go back to the queue (sent again, at least once)."""
    return conn.execute(f"UPDATE {queue.table} SET status = 'queued'"
                        f" WHERE status = 'sending'").rowcount


def sent(conn: sqlite3.Connection, queue: WorkQueue, row_id: int, now: str) -> None:
    conn.execute(f"UPDATE {queue.table} SET status = 'sent', sent_at = ?, last_error = ''"
                 f" WHERE id = ?", (now, row_id))


def retry_later(conn: sqlite3.Connection, queue: WorkQueue, row_id: int, when: str,
                error: str) -> None:
    conn.execute(f"UPDATE {queue.table} SET status = 'queued', next_attempt_at = ?,"
                 f" last_error = ? WHERE id = ?", (when, error[:500], row_id))


def failed(conn: sqlite3.Connection, queue: WorkQueue, row_id: int, error: str) -> None:
    conn.execute(f"UPDATE {queue.table} SET status = 'failed', last_error = ? WHERE id = ?",
                 (error[:500], row_id))


async def next_due(db: Database, queue: WorkQueue) -> str | None:
    """When the earliest row that could be claimed falls due (None: nothing is waiting)."""
    row = await db.fetch_one(f"SELECT min(d.next_attempt_at) FROM {queue.table} d"
                             f" WHERE d.status = 'queued'{queue._head('d')}")
    return row[0] if row else None
