"""The supervisor: a loop that raises is restarted with a doubling wait, each cause logged once,
its state shown on the health page; stopping cancels cleanly; tests switch loops off."""

from __future__ import annotations

import asyncio
import logging

import pytest

from conftest import Personas, Server
from onlinesupport.lib.clock import ManualClock
from onlinesupport.lib.supervisor import Supervisor
from onlinesupport.store import StorageFull


class Waits(list):
    """A supervisor's sleep of milliseconds instead of seconds, noting each wait asked for."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(seconds / 1000)


@pytest.fixture
def quick() -> Waits:
    return Waits()


async def _until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


async def test_a_failing_loop_is_restarted_with_backoff_and_logged_once_per_cause(
    quick: Waits, caplog: pytest.LogCaptureFixture
) -> None:
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 4:
            raise ConnectionError("mail server down")
        if runs == 5:
            raise ValueError("bad answer")
        await asyncio.Event().wait()  # then it works

    clock = ManualClock()
    loops = Supervisor(clock, sleep=quick)
    caplog.set_level(logging.DEBUG, "onlinesupport.lib.supervisor")
    async with loops.running():
        loops.start("flaky", flaky)
        await _until(lambda: runs == 6)
        [state] = loops.states()
        assert state.status == "running" and state.failures == 5
        assert state.causes == {"ConnectionError: mail server down": 4, "ValueError: bad answer": 1}
        assert state.last_error == "ValueError: bad answer"
        assert state.since == clock.now()
    assert quick == [1.0, 2.0, 4.0, 8.0, 16.0], "the wait doubles"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split(";")[0] for r in errors] == ["flaky failed", "flaky failed"]
    assert [r.exc_info[1].__class__ for r in errors] == [ConnectionError, ValueError], (
        "one traceback per cause, not per retry"
    )


async def test_a_periodic_job_goes_back_to_its_pace_and_says_it_recovered(
    quick: Waits, caplog: pytest.LogCaptureFixture
) -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs in (2, 3):
            raise StorageFull()

    loops = Supervisor(ManualClock(), sleep=quick)
    async with loops.running():
        loops.every("job", 30, job)
        await _until(lambda: runs >= 5)
        state = loops.states()[0]
        assert state.status == "running" and state.failures == 0 and state.causes == {}
    assert quick[:4] == [30, 1.0, 2.0, 30]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], (
        "a full disk is said by the store, once"
    )
    assert any("job works again after 2 failures" in r.getMessage() for r in caplog.records)


async def test_the_state_while_restarting() -> None:
    clock = ManualClock()

    async def broken() -> None:
        raise RuntimeError("no route to host\nsecond line")

    async def never(seconds: float) -> None:
        await asyncio.Event().wait()

    loops = Supervisor(clock, sleep=never)
    async with loops.running():
        loops.start("broken", broken)
        await _until(lambda: loops.states()[0].failures == 1)
        state = loops.states()[0]
        assert (state.status, state.last_error, state.since, state.last_error_at) == (
            "restarting",
            "RuntimeError: no route to host",
            clock.now(),
            clock.now(),
        )


async def test_stopping_cancels_loops_and_lets_a_sender_finish(quick: Waits) -> None:
    finished, cancelled = asyncio.Event(), asyncio.Event()
    stopping = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def sender() -> None:
        await stopping.wait()
        await asyncio.sleep(0)  # the batch in flight
        finished.set()

    spawned = asyncio.Event()

    async def one_off() -> None:
        await asyncio.sleep(0)
        spawned.set()

    loops = Supervisor(ManualClock(), sleep=quick)
    async with loops.running():
        loops.start("sender", sender, stop=stopping.set)
        loops.start("forever", forever)
        loops.spawn(one_off(), "one-off")
        await asyncio.sleep(0)
    assert cancelled.is_set() and finished.is_set() and spawned.is_set()
    assert loops.names() == []
    loops.start("late", forever)
    assert loops.states()[0].status == "off", "nothing starts once the server stops"


async def test_a_loop_waiting_to_restart_is_cancelled_at_once() -> None:
    asked: list[str] = []

    async def broken() -> None:
        raise OSError("disk gone")

    async def long(seconds: float) -> None:
        await asyncio.sleep(3600)

    loops = Supervisor(ManualClock(), sleep=long)
    async with asyncio.timeout(5):
        async with loops.running():
            loops.start("sender", broken, stop=lambda: asked.append("stop"))
            await _until(lambda: loops.states()[0].status == "restarting")
    assert asked == [], "nothing to finish: not asked, not waited for"


async def test_a_restart_asked_for_starts_the_loop_again(quick: Waits) -> None:
    starts = 0

    async def poller() -> None:
        nonlocal starts
        starts += 1
        await asyncio.Event().wait()

    loops = Supervisor(ManualClock(), sleep=quick)
    async with loops.running():
        loops.start("imap-a@shop.test", poller)
        await _until(lambda: starts == 1)
        await loops.restart("imap-a@shop.test")
        await _until(lambda: starts == 2)
        assert [s.status for s in loops.states()] == ["running"]


async def test_loops_switched_off_are_listed_but_never_run(quick: Waits) -> None:
    ran: list[str] = []

    async def job(name: str) -> None:
        ran.append(name)
        await asyncio.Event().wait()

    loops = Supervisor(ManualClock(), only=("outbox-sender", "imap-*"), sleep=quick)
    async with loops.running():
        for name in ("outbox-sender", "imap-a@shop.test", "chat-offers"):
            loops.start(name, lambda name=name: job(name))
        await _until(lambda: len(ran) == 2)
        assert {s.name: s.status for s in loops.states()} == {
            "chat-offers": "off",
            "imap-a@shop.test": "running",
            "outbox-sender": "running",
        }


async def test_a_failed_one_off_job_is_logged_once_per_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> None:
        raise LookupError("gone")

    loops = Supervisor(ManualClock(), sleep=quick)
    async with loops.running():
        for _ in range(3):
            loops.spawn(failing(), "sign-in-link")
        await asyncio.sleep(0.01)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "sign-in-link failed (said once for this cause)"
    ]


@pytest.mark.loops("crm-sync")
async def test_the_health_page_shows_a_failing_loop(
    server: Server, personas: Personas, client_factory
) -> None:
    async def broken() -> None:
        raise ConnectionRefusedError("nothing at 127.0.0.1:1")

    server.services.supervisor.start("crm-sync", broken)
    await _until(lambda: any(s.failures for s in server.services.supervisor.states()))
    admin = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    page = await (await admin.get("/admin/health")).text()
    assert "crm-sync keeps failing" in page and "nothing at 127.0.0.1:1" in page
    assert "crm-sync: restarting since <time" in page
    assert "outbox-sender: running" in page and "chat-offers: off" in page
