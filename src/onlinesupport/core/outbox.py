"""The one outbox worker: sends what durable work queues hold, retries it with backoff.

Outgoing mail and webhook deliveries are rows written in the same transaction as the event
that causes them (see `store/work_queue.py`). An `OutboxWorker` claims due rows of one queue
and hands them to its channel's `deliver`, which sends them and records the outcomes (sent,
retry later, failed) with the queue's functions. The worker wakes when a published event says new
work may be there, and otherwise sleeps until the next retry falls due. On start it releases
claims left by a crash, so a row caught mid-send is sent again (at least once). While the disk
is full (`StorageFull`, logged once by the store) it pauses, and rows whose outcome could not be
recorded go back to their queue once it has room.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Generic, TypeVar

from onlinesupport.core.hub import Hub
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.store import Database, StorageFull, Transaction, work_queue
from onlinesupport.store.events import Event
from onlinesupport.store.work_queue import Claimed, WorkQueue

log = logging.getLogger(__name__)
MAX_SLEEP = 3600.0
RETRY_BROKEN = 60.0
FULL_DISK_WAIT = 30.0

C = TypeVar("C", bound=Claimed)
Deliver = Callable[[list[C]], Awaitable[None]]
"""Sends claimed rows and records how each went."""


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


class OutboxWorker(Generic[C]):
    def __init__(
        self,
        db: Database,
        hub: Hub,
        clock: Clock,
        queue: WorkQueue[C],
        deliver: Deliver[C],
        *,
        wakes_on: Callable[[Event], bool],
        batch: int = 1,
        gather: float = 0.0,
        concurrency: int = 1,
        name: str,
    ) -> None:
        self._db = db
        self._hub = hub
        self._clock = clock
        self._queue = queue
        self._deliver = deliver
        self._wakes_on = wakes_on
        self._batch = batch
        self._gather = gather
        """Seconds to let new rows gather after a wake, so they go in fewer, larger batches."""
        self._concurrency = concurrency
        """Batches in flight at once (an ordered queue never claims a row behind one that is
        being sent, so batches never overlap in what must stay in order)."""
        self._name = name
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the rows being sent, then return from `run` (a cancel could send one twice)."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; wakes on new rows, when a batch lands and when a retry falls
        due."""
        await self._db.write(lambda conn: work_queue.release_claims(conn, self._queue))
        listener = asyncio.create_task(self._listen(), name=f"{self._name}-listener")
        flying: set[asyncio.Task[None]] = set()

        def landed(task: asyncio.Task[None]) -> None:
            flying.discard(task)
            self.wake()

        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    while len(flying) < self._concurrency and (rows := await self._claim()):
                        task = asyncio.create_task(self._send(rows), name=f"{self._name}-batch")
                        flying.add(task)
                        task.add_done_callback(landed)
                except StorageFull:
                    await self._pause(FULL_DISK_WAIT)
                except Exception:
                    log.exception("%s round failed", self._name)
                # With every slot taken, only a landing batch (or a stop) makes room.
                await self._sleep(busy=len(flying) >= self._concurrency)
        finally:
            listener.cancel()
            await asyncio.gather(*flying, return_exceptions=True)

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

    async def _sleep(self, *, busy: bool = False) -> None:
        wait = None if busy else await self._seconds_to_next()
        wait = MAX_SLEEP if wait is None else min(max(0.0, wait), MAX_SLEEP)
        try:
            await asyncio.wait_for(self._wake.wait(), wait + 0.01)
        except TimeoutError:
            pass
        else:
            if self._gather and not self._stopping:
                await asyncio.sleep(self._gather)

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if the worker is stopped."""
        try:
            await asyncio.wait_for(self._stopped.wait(), seconds)
        except TimeoutError:
            pass

    async def send_due(self) -> int:
        """Send what is due now (one batch); returns how many rows were tried."""
        rows = await self._claim()
        if rows:
            await self._send(rows)
        return len(rows)

    async def _claim(self) -> list[C]:
        if self._stopping:
            return []
        now = to_db(self._clock.now())
        if not await work_queue.any_due(self._db, self._queue, now):
            return []  # a read first: the writer is asked only when there may be work
        return await self._db.write(
            lambda conn: work_queue.claim_due(conn, self._queue, now, self._batch)
        )

    async def _send(self, rows: list[C]) -> None:
        try:
            await self._deliver(rows)
        except StorageFull:
            await self._put_back_when_room([row.id for row in rows])
        except Exception as exc:  # noqa: BLE001 - a broken batch must not stay claimed
            await self._put_back([row.id for row in rows], exc)

    async def _put_back(self, row_ids: list[int], error: Exception) -> None:
        """Rows whose sending broke (not failed: `deliver` records those) are tried again
        later instead of staying claimed."""
        log.error("%s: sending %s failed unexpectedly", self._name, row_ids, exc_info=error)
        when = to_db(self._clock.now() + timedelta(seconds=RETRY_BROKEN))
        await self._db.write(
            lambda conn: work_queue.put_back(
                conn, self._queue, row_ids, when, f"internal error: {error}"
            )
        )

    async def _put_back_when_room(self, row_ids: list[int]) -> None:
        """Rows whose outcome the full disk kept from being recorded go back to the queue once
        a write succeeds again (a sent one is sent again: at least once). Stopping first leaves
        them claimed, and the next start releases them."""

        def put_back(when: str) -> Callable[[Transaction], None]:
            return lambda conn: work_queue.put_back(
                conn, self._queue, row_ids, when, "not recorded: the disk was full"
            )

        while not self._stopping:
            await self._pause(FULL_DISK_WAIT)
            try:
                await self._db.write(put_back(to_db(self._clock.now())))
                return
            except StorageFull:
                continue
