"""SIGTERM and SIGINT that always reach the event loop, however busy it is.

asyncio's `loop.add_signal_handler` learns of a signal only from the byte the C-level handler
writes into the loop's self-pipe, and every `call_soon_threadsafe` from a worker thread (each
store read finishing, each `to_thread`) writes into the same pipe. Under load, with thousands of
websockets and reads completing faster than the loop drains the pipe, the pipe fills, the write
fails ("Exception ignored when trying to write to the signal wakeup fd: BlockingIOError") and
the signal is lost: a server with 2,050 chats open ran on for 50 minutes after SIGTERM
(docs/performance.md; CPython issue 74224, which uvloop fixed the same way in its PR 154).

Here a plain Python handler takes the signal instead. Python runs it on the main thread, which
is the loop's, whatever the pipe holds; the callback it queues cannot be lost, because
`call_soon_threadsafe` queues before it wakes, and a full pipe is itself a wake-up.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

Handler = Callable[[int, FrameType | None], object] | int | None


@contextmanager
def stop_on_signals(
    loop: asyncio.AbstractEventLoop, stop: Callable[[], object], signals: Sequence[int]
) -> Iterator[None]:
    """Call `stop` on the loop when one of `signals` arrives, until the block ends.

    Must be entered on the main thread (Python delivers signals only there), as
    `loop.add_signal_handler` must.
    """

    def on_signal(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stop)

    previous: dict[int, Handler] = {}
    try:
        for sig in signals:
            previous[sig] = signal.signal(sig, on_signal)
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
