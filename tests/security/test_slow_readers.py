"""A client that sends but never reads cannot pin the server's memory (issue 13, finding 15).

Its own frames kept the heartbeat alive and the push task blocked with up to 1,000 queued
events (about 19 MB a socket with long replies): 50 such clients grew the server from 66 MB to
930-970 MB, never returned.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

import raw_websocket
from conftest import PASSWORD, Desk, make_config, start_server
from onlinesupport.core.conversations import Actor
from onlinesupport.core.hub import Hub, SubscriberLagged
from onlinesupport.store.events import Event
from onlinesupport.store.messages import Message
from onlinesupport.web.sockets import NOT_READING
from running_server import ADMIN, start

LONG = "A long answer. " * 1_300  # ~19.5 KB, as the review's replies


def _posted(n: int) -> Event:
    message = Message(
        id=n,
        conversation_id=1,
        seq=n,
        author_type="agent",
        author_id=1,
        author_name="Amy",
        kind="message",
        body=LONG,
        created_at="",
        client_id=None,
    )
    return Event(n, 1, "message.posted", "agent", 1, "", {"seq": n}, message)


async def test_a_subscriber_holds_no_more_than_its_bytes_of_events() -> None:
    hub = Hub()
    with hub.subscribe(1, maxsize=1000, max_bytes=256 * 1024) as subscription:
        hub.publish(_posted(n) for n in range(1, 100))
        try:
            await asyncio.wait_for(subscription.get(), 0.1)
            held = True
        except SubscriberLagged:
            held = False
        assert not held, "100 long replies (~2 MB) were held for a socket that does not read"
    with hub.subscribe(1, max_bytes=16 * 1024) as subscription:
        hub.publish([_posted(1)])  # one event bigger than the budget still goes through
        assert (await asyncio.wait_for(subscription.get(), 1)).id == 1


async def _stalled_visitor(public_url: str) -> tuple[asyncio.StreamWriter, int]:
    """A visitor that starts a chat, then never reads again (with a tiny receive window)."""
    # The public listener's own pages are an allowed origin (the widget's test page).
    reader, writer = await raw_websocket.connect(
        public_url, "/widget/ws", public_url, receive_buffer=4096
    )
    raw_websocket.send(writer, {"type": "hello"})
    raw_websocket.send(writer, {"type": "start", "client_id": "c1", "body": "Hello"})
    while (frame := await raw_websocket.read_frame(reader))["type"] != "ack":
        pass
    return writer, frame["conversation_id"]


@pytest.mark.slow
async def test_a_visitor_that_sends_but_never_reads_is_closed_and_counted(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", limits_unread_seconds=2)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        services = server.services
        agent = await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
        writer, conversation_id = await _stalled_visitor(server.public_url)
        closed, posted = False, 1
        deadline = asyncio.get_running_loop().time() + 60
        try:
            # The kernel takes ~3 MB before a send blocks; from then on the peer has 2 s.
            while not closed and asyncio.get_running_loop().time() < deadline:
                await services.conversations.post(conversation_id, Actor.agent(agent, "Amy"), LONG)
                posted += 1
                raw_websocket.send(writer, {"type": "typing"})  # its own frames keep coming
                try:
                    await writer.drain()
                except ConnectionError:
                    closed = True
                await asyncio.sleep(0.02)
        finally:
            writer.transport.abort()
        assert closed, "the server still holds a socket whose peer does not read"
        assert services.tally.totals[NOT_READING] == 1
        await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            desk = Desk(http, server.desk_url)
            await desk.signin("ada@example.com")
            page = await (await desk.get("/admin/health")).text()
        assert f"{NOT_READING}: 1" in page, "counted on the health page"
        # It resumes by cursor like any reconnecting widget: nothing was lost meanwhile.
        stored = await services.db.fetch_one(
            "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
        )
        assert stored[0] == posted


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
        / 1024
    )


@pytest.mark.slow
async def test_clients_that_never_read_do_not_grow_the_server(tmp_path: Path) -> None:
    server = start(tmp_path)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            desk = Desk(http, server.desk_url)
            assert (await desk.signin(ADMIN)).status == 303
            stalled = [await _stalled_visitor(server.public_url) for _ in range(10)]
            await asyncio.sleep(1)
            before = _rss_mb(server.process.pid)
            for _ in range(400):
                await asyncio.gather(
                    *(
                        desk.post_json(f"/conversations/{cid}/messages", {"body": LONG})
                        for _, cid in stalled
                    )
                )
            grown = _rss_mb(server.process.pid) - before
            for writer, _ in stalled:
                writer.close()
        # 10 sockets x 400 replies of 19.5 KB is 78 MB of events. The kernel takes ~3 MB a
        # socket before a send blocks; after that each socket may hold 512 KB of events.
        assert grown < 25, f"the server grew by {grown:.0f} MB"
    finally:
        server.stop()
