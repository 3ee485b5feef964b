"""The SQLite store: one writer that group-commits, and read connections through aiosqlite.

All writes go through `Database.write(fn)`: `fn(conn)` is plain synchronous code that runs on
the writer's own thread inside a transaction. Commands that arrive while a transaction is being
written wait and go together into the next one (group commit), so every caller is answered only
after its data is durable, without paying one fsync per command. Each command runs in its own
savepoint: one that raises is rolled back alone and its caller gets the exception.

Reads use separate aiosqlite connections (WAL lets them run beside the writer).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from onlinesupport.lib.clock import Clock
from onlinesupport.store import backup as backup_store
from onlinesupport.store import migrate
from onlinesupport.store.errors import StorageFull, StoreClosed, is_full

log = logging.getLogger(__name__)
T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any]

_STOP = object()
ROOM_AGAIN = 8 * 1024 * 1024
"""Free bytes on the disk after which a store that ran out of room counts as writable again."""


class Database:
    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        synchronous: str = "full",
        readers: int = 2,
        max_batch: int = 1000,
        upgrade_backups: Path | None = None,
    ) -> None:
        self.path = path
        self._upgrade_backups = upgrade_backups
        self._clock = clock
        self._synchronous = synchronous.upper()
        self._reader_count = readers
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._conn: sqlite3.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader = itertools.cycle([0])
        self._writer_task: asyncio.Task[None] | None = None
        self._closed = False
        self._full_since: float | None = None
        self.batches = 0
        self.commands = 0

    async def open(self) -> None:
        """Check the file, apply pending migrations, start the writer and open the readers."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._open_writer)
        self._writer_task = asyncio.create_task(self._write_loop(), name="store-writer")
        for _ in range(self._reader_count):
            conn = await aiosqlite.connect(self.path)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.execute("PRAGMA query_only = 1")
            self._readers.append(conn)
        self._next_reader = itertools.cycle(range(len(self._readers)))

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        version = migrate.inspect(self.path)
        if self._upgrade_backups is not None and 0 < version < migrate.latest_version():
            self._back_up_before_upgrade(version, self._upgrade_backups)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            applied = migrate.migrate(conn, self._clock)
        except BaseException:
            conn.close()
            raise
        if applied:
            log.info("database %s migrated to schema version %d", self.path, applied[-1])
        self._conn = conn

    def _back_up_before_upgrade(self, version: int, folder: Path) -> None:
        """Copy the database before a newer program changes its schema (a way back)."""
        stamp = self._clock.now().strftime("%Y%m%d-%H%M%S")
        target = folder / f"before-upgrade-v{version}-{stamp}.db"
        backup_store.backup(self.path, target)
        log.warning(
            "schema version %d will be upgraded to %d; the database was first copied to %s",
            version,
            migrate.latest_version(),
            target,
        )

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` in a write transaction; returns its result once it has committed."""
        if self._closed:
            raise StoreClosed("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fn, future))
        return await future

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            item = await self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            try:
                outcomes, wrote = await loop.run_in_executor(
                    self._executor, self._apply, [fn for fn, _ in batch]
                )
            except Exception as exc:
                # Never let one bad batch stop the writer: its callers get the error, others go on.
                log.exception("write batch failed")
                outcomes, wrote = [(False, exc)] * len(batch), False
            self._track_room(outcomes, wrote)
            self.batches += 1
            self.commands += len(batch)
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _apply(
        self, fns: list[Callable[[sqlite3.Connection], Any]]
    ) -> tuple[list[tuple[bool, Any]], bool]:
        """The outcome of each command, and whether the batch committed any change."""
        conn = self._conn
        assert conn is not None
        outcomes: list[tuple[bool, Any]] = []
        changes = conn.total_changes
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn in fns:
                conn.execute("SAVEPOINT command")
                try:
                    result = fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO command")
                    conn.execute("RELEASE command")
                    outcomes.append((False, StorageFull() if is_full(exc) else exc))
                else:
                    conn.execute("RELEASE command")
                    outcomes.append((True, result))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            # The transaction itself failed (disk full, I/O error): nothing of it is durable.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if is_full(exc):
                return [(False, StorageFull())] * len(fns), False
            log.error("write transaction failed: %s", exc)
            return [(False, exc)] * len(fns), False
        return outcomes, conn.total_changes > changes

    def _track_room(self, outcomes: list[tuple[bool, Any]], wrote: bool) -> None:
        """Note when the disk ran out of room and when it has room again; say each once."""
        refused = any(not ok and isinstance(value, StorageFull) for ok, value in outcomes)
        if refused and self._full_since is None:
            self._full_since = time.monotonic()
            log.error(
                "the disk of %s is full: writes are refused until there is room again "
                "(agents are told, visitors' messages wait in their browsers, mail "
                "servers try again later)",
                self.path.parent,
            )
        elif wrote and not refused and self._full_since is not None:
            self._room_again()

    def _room_again(self) -> None:
        minutes = (time.monotonic() - (self._full_since or 0)) / 60
        self._full_since = None
        log.warning("there is room on the disk again: writes work (refused for %.0f min)", minutes)

    @property
    def full(self) -> bool:
        """Whether writes are refused for want of room: since a write the disk refused, until
        one succeeds or the disk has ROOM_AGAIN bytes free."""
        if self._full_since is not None and shutil.disk_usage(self.path.parent).free >= ROOM_AGAIN:
            self._room_again()
        return self._full_since is not None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        reader = self._readers[next(self._next_reader)]
        return list(await reader.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def close(self) -> None:
        """Finish every write already queued, then close; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._writer_task is not None:
            self._queue.put_nowait(_STOP)
            await self._writer_task
        for reader in self._readers:
            await reader.close()
        self._readers.clear()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
