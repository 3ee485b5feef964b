"""Issue 13.10: the customer page's sign-in takes as long for a known address as an unknown one.

The reviewer measured 2.8 ms against 1.5 ms (median): for a known address the link was
written to the database (with its fsync) before the answer went out, so anyone could tell who
is a customer. The comparison here is built to hold on a busy two-core machine: many pairs, a
known and an unknown address each, in random order within the pair (whatever slows one
sample slows either kind as often), and a leak is called only when the known address is
slower in most pairs *and* its median is slower by more than a fraction of a millisecond.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from conftest import Server, make_config, start_server, wait_until
from email_helpers import add_mailbox, mailbox_form
from mail_servers import Relay
from onlinesupport.lib.clock import ManualClock

PAIRS = 150
KNOWN, UNKNOWN = "lee@customer.test", "nobody@customer.test"


@pytest.fixture
async def shop(tmp_path: Path, relay: Relay) -> AsyncIterator[tuple[Server, ManualClock]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        # A mailbox that can send, so the page promises a link (and the known address's mail
        # really goes out, after the answer).
        await add_mailbox(
            server.services, mailbox_form(None, relay, smtp_receive="on", ack_enabled="")
        )
        await server.services.conversations.open(
            channel="form", customer_name="Lee", identity=("email", KNOWN), body="Hello"
        )
        yield server, clock


async def _ask(http: aiohttp.ClientSession, url: str, email: str) -> float:
    started = time.perf_counter()
    async with http.post(url, data={"email": email}) as response:
        page = await response.text()
    elapsed = time.perf_counter() - started
    assert response.status == 200 and "Check your mail" in page
    return elapsed


async def test_asking_for_a_link_takes_as_long_for_a_known_address_as_for_an_unknown_one(
    shop: tuple[Server, ManualClock],
) -> None:
    server, clock = shop
    url = server.public_url + "/my/signin"
    chance = random.Random(13)
    known: list[float] = []
    unknown: list[float] = []
    async with aiohttp.ClientSession() as http:
        for email in (KNOWN, UNKNOWN) * 5:  # warm up connections, templates, caches
            clock.advance(hours=2)
            await _ask(http, url, email)
        for _ in range(PAIRS):
            clock.advance(hours=2)  # past the hourly limit of links per address
            pair = [KNOWN, UNKNOWN]
            chance.shuffle(pair)
            for email in pair:
                (known if email == KNOWN else unknown).append(await _ask(http, url, email))
                # Let whatever the request left running finish before the next sample.
                await _quiet(server)
    asked_known = len(known) + 5
    slower = sum(k > u for k, u in zip(known, unknown, strict=True)) / PAIRS
    gap_ms = (statistics.median(known) - statistics.median(unknown)) * 1000
    summary = (
        f"known address slower in {slower:.0%} of {PAIRS} pairs; median "
        f"{statistics.median(known) * 1000:.2f} ms known, "
        f"{statistics.median(unknown) * 1000:.2f} ms unknown"
    )
    assert not (slower > 0.70 and gap_ms > 0.2), summary

    # The work is still done: every request for the known address wrote its link (the last
    # one after its answer, so on a busy machine possibly after the last sample).
    async def every_link_written() -> bool:
        links = await server.services.db.fetch_one("SELECT count(*) FROM customer_links")
        return links[0] == asked_known

    await wait_until(every_link_written, message=summary)


async def _quiet(server: Server) -> None:
    """Let what the last request left running finish before the next sample is taken."""
    await asyncio.sleep(0.02)
    await server.services.db.write(lambda conn: None)
