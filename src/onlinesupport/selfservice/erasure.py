"""A customer's own data: download it, ask for it to be erased, and an admin's decision."""

from __future__ import annotations

import asyncio
from typing import Any

from onlinesupport.core.attachments import FileStore
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.store import Database, Transaction
from onlinesupport.store import erasure as erasure_repo


class Erasure:
    def __init__(self, db: Database, clock: Clock, files: FileStore) -> None:
        self._db = db
        self._clock = clock
        self._files = files

    async def requests(self) -> list[erasure_repo.ErasureLine]:
        """Every request to erase a customer's data, for the privacy page."""
        return await erasure_repo.requests(self._db)

    async def pending_for(self, customer_id: int) -> erasure_repo.ErasureRequest | None:
        """The customer's request to be erased that awaits a decision, if any."""
        return await erasure_repo.pending_for(self._db, customer_id)

    async def export(self, customer_id: int) -> dict[str, Any]:
        data = await erasure_repo.export(self._db, customer_id)
        return {"exported_at": to_db(self._clock.now()), **data}

    async def request(self, customer_id: int) -> bool:
        """Ask for erasure; False when a request is pending already."""
        now = to_db(self._clock.now())
        return await self._db.write(lambda conn: erasure_repo.request(conn, customer_id, now))

    async def decide(self, request_id: int, erase: bool, agent_id: int) -> bool:
        """Erase (or decline); False when the request was decided already."""
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> list[str] | None:
            customer_id = erasure_repo.decide(
                conn, request_id, "erased" if erase else "declined", agent_id, now
            )
            if customer_id is None:
                return None
            return erasure_repo.anonymise(conn, customer_id, now) if erase else []

        removed = await self._db.write(write)
        if removed is None:
            return False
        # The rows are gone with the commit; the files follow.
        for storage_name in removed:
            await asyncio.to_thread(self._files.path(storage_name).unlink, True)
        return True
