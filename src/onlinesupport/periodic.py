"""Background jobs that run every few seconds for the lifetime of the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from onlinesupport.store import StorageFull

log = logging.getLogger(__name__)


@asynccontextmanager
async def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> AsyncIterator[None]:
    """Run `job` now and then every `seconds` until the context closes; a failing run is logged
    and the next one still comes."""
    async def loop() -> None:
        while True:
            try:
                await job()
            except StorageFull:
                pass  # said once by the store, not once a run
            except Exception:
                log.exception("%s failed; trying again in %.0f s", name, seconds)
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
