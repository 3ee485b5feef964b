"""Every background loop of the running server, owned in one place.

A loop is registered by name (`start`, or `every` for a job that runs every few seconds) and
runs until the server stops. When it raises, it is started again after a wait that doubles from
one second to five minutes; each cause of failure is logged once, with its traceback, and its
repeats are counted rather than logged, so a mail server that stays down for a day writes one
line and not thousands. The health page shows every loop: running, or restarting since when and
why. One-off jobs that must not hold up a request (`spawn`) are owned here too, so none is left
running, or failing unseen, when the server stops.

Tests switch loops off by name (`only`): a loop that is off is listed but never started.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from onlinesupport.lib.clock import Clock
from onlinesupport.lib.errors import AlreadyReported

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0
MAX_WAIT = 300.0
HEALTHY_AFTER = 60.0
"""A loop that ran this long before failing starts its waits from one second again."""
STOP_TIMEOUT = 15.0
Status = Literal["running", "restarting", "stopped", "off"]


@dataclass
class LoopState:
    """What the health page shows of one loop."""

    name: str
    status: Status = "running"
    since: datetime | None = None
    """When the status last changed (for "restarting": when the failures began)."""
    failures: int = 0
    """Failures since the loop last ran well."""
    last_error: str = ""
    last_error_at: datetime | None = None
    causes: dict[str, int] = field(default_factory=dict)
    """Each cause of the current run of failures, and how often it happened."""


@dataclass
class _Loop:
    state: LoopState
    run: Callable[[], Awaitable[None]]
    stop: Callable[[], None] | None
    stop_timeout: float
    task: asyncio.Task[None] | None = None
    stopping: bool = False


def cause(exc: BaseException) -> str:
    """One line naming a failure; the same cause gives the same line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class Supervisor:
    def __init__(
        self,
        clock: Clock,
        only: Collection[str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`only`: the names (shell patterns, e.g. "imap-*") of the loops that run; None for
        all of them. `sleep` waits between runs and before restarts (tests shorten it)."""
        self._clock = clock
        self._sleep = sleep
        self._only = None if only is None else tuple(only)
        self._loops: dict[str, _Loop] = {}
        self._spawned: set[asyncio.Task[None]] = set()
        self._spawn_causes: dict[str, int] = {}
        self._closing = False

    def enabled(self, name: str) -> bool:
        return self._only is None or any(fnmatch.fnmatchcase(name, p) for p in self._only)

    def start(
        self,
        name: str,
        run: Callable[[], Awaitable[None]],
        *,
        stop: Callable[[], None] | None = None,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        """Run `run()` as the loop `name` until the server stops, restarting it when it raises.

        `stop`, if given, asks the loop to finish what it is doing and return (an outbox sender
        finishing its batch), and it is cancelled only if it has not returned after
        `stop_timeout` seconds; without it the loop is cancelled at once.
        """
        if name in self._loops and self._loops[name].task is not None:
            raise ValueError(f"loop {name} is already running")
        loop = _Loop(LoopState(name, since=self._clock.now()), run, stop, stop_timeout)
        self._loops[name] = loop
        if self._closing or not self.enabled(name):
            loop.state.status = "off"
            return
        loop.task = asyncio.create_task(self._supervise(loop), name=name)

    def every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run `job` now and then every `seconds`; a failed run is retried with the same
        doubling wait as any loop, then the job goes back to its pace."""

        async def periodic() -> None:
            while True:
                await job()
                if (loop := self._loops.get(name)) is not None:
                    self._recovered(loop.state)
                await self._sleep(seconds)

        self.start(name, periodic)

    async def stop(self, name: str) -> None:
        """Stop the loop `name` (asking it first when it can be asked) and forget it."""
        loop = self._loops.pop(name, None)
        if loop is None or loop.task is None:
            return
        task = loop.task
        loop.stopping = True
        # A loop waiting to be restarted has nothing to finish: it is cancelled at once.
        if loop.stop is not None and loop.state.status == "running":
            loop.stop()
            with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), loop.stop_timeout)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    async def restart(self, name: str) -> None:
        """Stop the loop `name` and start it again at once (a mailbox the admin changed)."""
        loop = self._loops.get(name)
        if loop is None:
            raise KeyError(name)
        await self.stop(name)
        self.start(name, loop.run, stop=loop.stop, stop_timeout=loop.stop_timeout)

    def names(self) -> list[str]:
        return list(self._loops)

    def states(self) -> list[LoopState]:
        """Every registered loop's state, by name."""
        return [self._loops[name].state for name in sorted(self._loops)]

    def spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        """Run a one-off `job` in the background; it is awaited (or cancelled) when the server
        stops, and a failure is logged once per cause."""
        task = asyncio.create_task(job, name=name)
        self._spawned.add(task)
        task.add_done_callback(self._spawn_done)

    def _spawn_done(self, task: asyncio.Task[None]) -> None:
        self._spawned.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        assert exc is not None
        key = f"{task.get_name()}: {cause(exc)}"
        seen = self._spawn_causes.get(key, 0)
        self._spawn_causes[key] = seen + 1
        if not seen:
            log.error("%s failed (said once for this cause)", task.get_name(), exc_info=exc)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Supervisor]:
        """Own the loops while the server runs; on the way out stop them, the last started
        first, and let one-off jobs finish (for at most STOP_TIMEOUT seconds)."""
        self._closing = False
        try:
            yield self
        finally:
            self._closing = True
            for name in reversed(list(self._loops)):
                await self.stop(name)
            if self._spawned:
                spawned = list(self._spawned)
                _, pending = await asyncio.wait(spawned, timeout=STOP_TIMEOUT)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    async def _supervise(self, loop: _Loop) -> None:
        state = loop.state
        wait = FIRST_WAIT
        while True:
            started = asyncio.get_running_loop().time()
            if state.status != "running":
                state.status = "running"
                if not state.failures:
                    state.since = self._clock.now()
            try:
                await loop.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a loop must never take the server down
                if loop.stopping:
                    log.warning("%s failed while stopping: %s", state.name, cause(exc))
                    return
                if asyncio.get_running_loop().time() - started >= HEALTHY_AFTER:
                    self._recovered(state)
                    wait = FIRST_WAIT
                self._failed(state, exc, wait)
                await self._sleep(wait)
                wait = min(MAX_WAIT, wait * 2)
                continue
            state.status = "stopped"
            state.since = self._clock.now()
            return

    def _failed(self, state: LoopState, exc: Exception, wait: float) -> None:
        key = cause(exc)
        now = self._clock.now()
        if not state.failures:
            state.since = now
        state.status = "restarting"
        state.failures += 1
        state.last_error = key
        state.last_error_at = now
        seen = state.causes.get(key, 0)
        state.causes[key] = seen + 1
        if isinstance(exc, AlreadyReported):
            return  # e.g. a full disk: the store says it once, for everyone
        if not seen:
            log.error(
                "%s failed; restarting it in %.0f s (said once for this cause)",
                state.name,
                wait,
                exc_info=exc,
            )
        else:
            log.debug("%s failed again (%d times): %s", state.name, seen + 1, key)

    def _recovered(self, state: LoopState) -> None:
        if not state.failures:
            return
        summary = "; ".join(f"{key} ×{count}" for key, count in state.causes.items())
        log.warning("%s works again after %d failures (%s)", state.name, state.failures, summary)
        state.failures = 0
        state.causes.clear()
        state.status = "running"
        state.since = self._clock.now()
