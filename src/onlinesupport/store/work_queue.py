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
    """Columns whose rows go out in id order; empty: no order is kept."""

    def _same(self, alias: str) -> str:
        return " AND ".join(f"e.{c} IS {alias}.{c}" for c in self.ordered_by)

    def _head(self, alias: str) -> str:
        """SQL: the row `alias` has no earlier unfinished row with the same ordering columns."""
        if not self.ordered_by:
            return ""
        return (f" AND NOT EXISTS (SELECT 1 FROM {self.table} e WHERE {self._same(alias)}"
                f" AND e.id < {alias}.id AND e.status IN ('queued', 'sending'))")

    def _free(self, alias: str) -> str:
        """SQL: nothing earlier with the same ordering columns is being sent or waits for a
        later retry, so `alias` may go in this claim right behind its elders."""
        if not self.ordered_by:
            return ""
        return (f" AND NOT EXISTS (SELECT 1 FROM {self.table} e WHERE {self._same(alias)}"
                f" AND e.id < {alias}.id AND (e.status = 'sending' OR (e.status = 'queued'"
                f" AND e.next_attempt_at > :now)))")


def claim_due(conn: sqlite3.Connection, queue: WorkQueue, now: str,
              limit: int) -> list[sqlite3.Row]:
    """Take up to `limit` due rows; each is claimed by exactly one worker. In an ordered
    queue, rows with the same ordering columns come as a run in id order, which the worker
    sends one after the other (see `unclaim` for the rest of a run that stopped)."""
    order = "d.id" if queue.ordered_by else "d.next_attempt_at, d.id"
    return conn.execute(
        f"UPDATE {queue.table} SET status = 'sending', attempts = attempts + 1 WHERE id IN ("
        f" SELECT d.id FROM {queue.table} d WHERE d.status = 'queued'"
        f" AND d.next_attempt_at <= :now{queue._free('d')} ORDER BY {order} LIMIT :limit)"
        f" RETURNING *", {"now": now, "limit": limit}).fetchall()


def unclaim(conn: sqlite3.Connection, queue: WorkQueue, row_ids: list[int]) -> None:
    """Rows claimed but not tried (the row before them failed) wait again, uncounted."""
    marks = ",".join("?" * len(row_ids))
    conn.execute(f"UPDATE {queue.table} SET status = 'queued', attempts = attempts - 1"
                 f" WHERE id IN ({marks}) AND status = 'sending'", row_ids)


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


def put_back(conn: sqlite3.Connection, queue: WorkQueue, row_ids: list[int], when: str,
             error: str) -> None:
    """Rows still claimed after their sending broke go back to the queue, due at `when`."""
    marks = ",".join("?" * len(row_ids))
    conn.execute(f"UPDATE {queue.table} SET status = 'queued', next_attempt_at = ?,"
                 f" last_error = ? WHERE id IN ({marks}) AND status = 'sending'",
                 (when, error[:500], *row_ids))


def failed(conn: sqlite3.Connection, queue: WorkQueue, row_id: int, error: str) -> None:
    conn.execute(f"UPDATE {queue.table} SET status = 'failed', last_error = ? WHERE id = ?",
                 (error[:500], row_id))


async def next_due(db: Database, queue: WorkQueue) -> str | None:
    """When the earliest row that could be claimed falls due (None: nothing is waiting)."""
    row = await db.fetch_one(f"SELECT min(d.next_attempt_at) FROM {queue.table} d"
                             f" WHERE d.status = 'queued'{queue._head('d')}")
    return row[0] if row else None
