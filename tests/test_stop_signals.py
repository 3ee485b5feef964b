"""SIGTERM reaches a loop whose self-pipe is full (lib/stop_signals.py).

Each case runs in its own Python process: signals are delivered to the main thread, and the
test sends one to the process that receives it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

# While the loop is busy, a worker thread wakes it 20,000 times, which fills the loop's
# self-pipe; then SIGTERM arrives. The first argument says who listens for it.
SCRIPT = textwrap.dedent(
    """
    import asyncio, contextlib, os, signal, sys, threading, time
    from onlinesupport.lib.stop_signals import stop_on_signals

    def flood_then_signal(loop):
        flood = threading.Thread(
            target=lambda: [loop.call_soon_threadsafe(int) for _ in range(20_000)]
        )
        flood.start()
        flood.join()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)

    @contextlib.contextmanager
    def asyncio_handler(loop, stop, signals):
        loop.add_signal_handler(signals[0], stop)
        yield

    async def main(listen):
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        with listen(loop, stop.set, [signal.SIGTERM]):
            loop.call_soon(flood_then_signal, loop)
            try:
                await asyncio.wait_for(stop.wait(), 5)
                print("stopped")
            except TimeoutError:
                print("signal lost")

    asyncio.run(main(stop_on_signals if sys.argv[1] == "ours" else asyncio_handler))
    """
)


def _run(listener: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, listener],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sigterm_stops_the_loop_even_when_its_self_pipe_is_full() -> None:
    assert _run("ours") == "stopped"


def test_asyncio_alone_still_loses_that_signal() -> None:
    """The CPython bug that lib/stop_signals.py covers (python/cpython#74224).

    If this fails, the Python in use delivers the signal by itself: the flood no longer proves
    anything above, and stop_on_signals may give way to `loop.add_signal_handler`.
    """
    assert _run("asyncio") == "signal lost"
