"""The one outbox worker: sends what durable work queues hold, retries it with backoff.

Outgoing mail and webhook deliveries are rows written in the same transaction as the event
that causes them (see `store/work_queue.py`). An `OutboxWorker` claims due rows of one queue
and hands each to its channel's `deliver`, which sends it and records the outcome (sent, retry
later, failed) with the queue's functions. The worker wakes when a published event says new
work may be there, and otherwise sleeps until the next retry falls due. On start it releases
claims left by a crash, so a row caught mid-send is sent again (at least once).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from onlinesupport.clock import Clock, from_db, to_db
from onlinesupport.hub import Hub
from onlinesupport.store import Database
from onlinesupport.store import work_queue
from onlinesupport.store.events import Event
from onlinesupport.store.work_queue import WorkQueue

log = logging.getLogger(__name__)
MAX_SLEEP = 3600.0
RETRY_BROKEN = 60.0

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


def doubling_wait(first: float, attempts: int, cap: float) -> float:
    """The wait after `attempts` failed attempts when each wait doubles the one before."""
    return min(cap, first * 2 ** max(0, attempts - 1))


def scheduled_wait(schedule: Sequence[float], attempts: int, jitter: float = 0.1) -> float | None:
    """The wait after `attempts` failed attempts on a fixed schedule, spread by +-`jitter` so
    retries of many rows do not arrive together; None when the schedule is used up."""
    if attempts > len(schedule):
        return None
    wait = schedule[attempts - 1]
    return wait * random.uniform(1 - jitter, 1 + jitter)


class OutboxWorker:
    def __init__(self, db: Database, hub: Hub, clock: Clock, queue: WorkQueue, deliver: Deliver,
                 *, wakes_on: Callable[[Event], bool], batch: int = 1, name: str) -> None:
        self._db = db
        self._hub = hub
        self._clock = clock
        self._queue = queue
        self._deliver = deliver
        self._wakes_on = wakes_on
        self._batch = batch
        self._name = name
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the rows being sent, then return from `run` (a cancel could send one twice)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; wakes on new rows and when a retry falls due."""
        await self._db.write(lambda conn: work_queue.release_claims(conn, self._queue))
        listener = asyncio.create_task(self._listen(), name=f"{self._name}-listener")
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    while await self.send_due():
                        pass
                except Exception:
                    log.exception("%s round failed", self._name)
                await self._sleep()
        finally:
            listener.cancel()

    async def _listen(self) -> None:
        while True:
            with self._hub.subscribe() as subscription:
                try:
                    while True:
                        item = await subscription.get()
                        if isinstance(item, Event) and self._wakes_on(item):
                            self.wake()
                except Exception:  # lagged: wake anyway, the store is the truth
                    self.wake()

    async def _seconds_to_next(self) -> float | None:
        due = await work_queue.next_due(self._db, self._queue)
        if due is None:
            return None
        return (from_db(due) - self._clock.now()).total_seconds()

    async def _sleep(self) -> None:
        wait = await self._seconds_to_next()
        wait = MAX_SLEEP if wait is None else min(max(0.0, wait), MAX_SLEEP)
        try:
            await asyncio.wait_for(self._wake.wait(), wait + 0.01)
        except asyncio.TimeoutError:
            pass

    async def send_due(self) -> int:
        """Send what is due now; returns how many rows were tried."""
        if self._stopping:
            return 0
        wait = await self._seconds_to_next()  # a read first: the writer is asked only for work
        if wait is None or wait > 0:
            return 0
        now = to_db(self._clock.now())
        rows = await self._db.write(
            lambda conn: work_queue.claim_due(conn, self._queue, now, self._batch))
        results = await asyncio.gather(*(self._deliver(dict(row)) for row in rows),
                                       return_exceptions=True)
        for row, result in zip(rows, results):
            if isinstance(result, Exception):
                await self._put_back(row["id"], result)
        return len(rows)

    async def _put_back(self, row_id: int, error: Exception) -> None:
        """A delivery that broke (not one that failed: `deliver` records those) is tried
        again later instead of staying claimed."""
        log.error("%s: sending %s failed unexpectedly", self._name, row_id, exc_info=error)
        when = to_db(self._clock.now() + timedelta(seconds=RETRY_BROKEN))
        await self._db.write(lambda conn: work_queue.retry_later(
            conn, self._queue, row_id, when, f"internal error: {error}"))
