"""Automatic daily backups into the data folder's backups/ folder, keeping the newest N.

A backup is taken once per calendar day (UTC), whenever the server first notices the day has
none: a server that was off at night catches up when it starts. Made with SQLite's online
backup API, so agents keep working meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from onlinesupport.lib.clock import Clock
from onlinesupport.store import backup as backup_store

log = logging.getLogger(__name__)
CHECK_SECONDS = 600
PREFIX = "daily-"


class DailyBackups:
    def __init__(self, database: Path, folder: Path, keep: int, clock: Clock) -> None:
        self._database = database
        self.folder = folder
        self._keep = keep
        self._clock = clock

    def existing(self) -> list[Path]:
        """The daily backups on disk, oldest first."""
        return sorted(self.folder.glob(f"{PREFIX}*.db"))

    async def run_once(self) -> Path | None:
        """Take today's backup if there is none yet, then drop the oldest beyond `keep`."""
        if self._keep == 0:
            return None
        target = self.folder / f"{PREFIX}{self._clock.now():%Y-%m-%d}.db"
        if target.exists():
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        # A full disk raises StorageFull: no traceback every ten minutes for that.
        await asyncio.to_thread(backup_store.backup, self._database, target)
        for old in self.existing()[: -self._keep]:
            old.unlink(missing_ok=True)
        # Left by versions that copied in WAL mode: a checked copy kept its -wal and -shm.
        for suffix in ("-wal", "-shm"):
            for stray in self.folder.glob(f"{PREFIX}*{suffix}"):
                stray.unlink(missing_ok=True)
        log.info("daily backup written to %s", target)
        return target

    async def back_up_now(self) -> Path:
        """A backup the admin asked for, kept until they delete it (not counted in `keep`)."""
        target = self.folder / f"manual-{self._clock.now():%Y%m%d-%H%M%S}.db"
        await asyncio.to_thread(backup_store.backup, self._database, target)
        return target
