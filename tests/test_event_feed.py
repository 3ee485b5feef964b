"""The event feed: a consumer stopped and resumed from its cursor gets every event exactly once,
in order; a long poll answers as soon as an event commits; pruned cursors say so."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp

from api_helpers import Api, make_token
from conftest import Server, make_config, start_server, wait_until
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from test_callbacks import ask, enable, set_hours


async def consume(client: Api, cursor: int, into: list[dict[str, Any]], stop: asyncio.Event) -> int:
    """Read the feed from `cursor` until `stop`; returns the cursor to resume from."""
    while not stop.is_set():
        status, page = await client.get(f"/events?after={cursor}&wait=1&limit=7")
        assert status == 200
        into.extend(page["events"])
        cursor = page["next_after"]
    return cursor


async def test_a_stopped_consumer_resumes_with_no_gap_and_no_duplicate(server: Server) -> None:
    conversations = server.services.conversations
    got: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        client = Api(http, server.desk_url, await make_token(server.services, "read"))

        async def produce(start: int, count: int) -> None:
            for n in range(start, start + count):
                opened = await conversations.open(
                    channel="chat", body=f"hello {n}", identity=("email", f"c{n % 3}@example.com")
                )
                await conversations.post(
                    opened.conversation_id, Actor.customer(opened.customer_id), f"more {n}"
                )
                await conversations.resolve(opened.conversation_id, Actor("system"))

        async def caught_up() -> bool:
            status, feed = await client.get("/events?limit=500")
            return len(got) >= len(feed["events"])

        stop = asyncio.Event()
        consumer = asyncio.create_task(consume(client, 0, got, stop))
        await produce(0, 5)
        await wait_until(caught_up)
        stop.set()
        cursor = await consumer
        await produce(5, 6)  # while the consumer is away
        stop.clear()
        consumer = asyncio.create_task(consume(client, cursor, got, stop))
        await produce(11, 4)
        await wait_until(caught_up)
        stop.set()
        await consumer
        status, everything = await client.get("/events?limit=500")
    ids = [e["id"] for e in got]
    assert ids == [e["id"] for e in everything["events"]]
    assert len(ids) == len(set(ids)) == 15 * 4 + 3  # 4 per conversation, 3 new customers
    assert ids == sorted(ids)


async def test_a_long_poll_answers_when_an_event_commits(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        client = Api(http, server.desk_url, await make_token(server.services, "read"))
        status, page = await client.get("/events?wait=0")
        assert page == {"events": [], "next_after": 0}
        started = time.monotonic()
        poll = asyncio.create_task(client.get("/events?after=0&wait=20&types=message.created"))
        await asyncio.sleep(0.3)
        await server.services.conversations.open(
            channel="chat", body="hello", identity=("email", "c@example.com")
        )
        status, page = await poll
        assert time.monotonic() - started < 5
        assert [e["type"] for e in page["events"]] == ["message.created"]
        assert page["events"][0]["data"]["message"]["body"] == "hello"


async def test_a_cursor_older_than_the_kept_events_is_refused(tmp_path: Path) -> None:
    clock = ManualClock()
    async with AsyncExitStack() as stack, aiohttp.ClientSession() as http:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        client = Api(http, server.desk_url, await make_token(server.services, "read"))
        for n in range(3):
            await server.services.conversations.open(
                channel="chat", body="hi", identity=("email", f"c{n}@example.com")
            )
        clock.advance(days=31)
        await server.services.conversations.open(
            channel="chat", body="later", identity=("email", "d@example.com")
        )
        await server.services.webhooks.prune()
        status, body = await client.get("/events?after=0")
        assert status == 410 and body["error"]["code"] == "cursor_expired"
        status, body = await client.get("/events?after=8")
        assert status == 410  # 3 conversations of 3 events each were pruned
        status, body = await client.get("/events?after=9")
        assert status == 200
        assert [e["data"].get("customer", {}).get("email") for e in body["events"]][:1] == [
            "d@example.com"
        ]


async def test_a_cursor_past_the_latest_event_is_refused(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        client = Api(http, server.desk_url, await make_token(server.services, "read"))
        status, body = await client.get("/events?after=1")
        assert status == 422 and body["error"]["field"] == "after", "no event yet"
        await server.services.conversations.open(
            channel="chat", body="hi", identity=("email", "c@example.com")
        )
        status, page = await client.get("/events")
        latest = page["next_after"]
        assert latest > 0
        assert await client.get(f"/events?after={latest}") == (
            200,
            {"events": [], "next_after": latest},
        )
        for after in (latest + 1, 99999999):
            status, body = await client.get(f"/events?after={after}&wait=5")
            assert status == 422, after
            assert body["error"]["code"] == "invalid" and body["error"]["field"] == "after"
            assert f"the latest is {latest}" in body["error"]["message"]


async def test_a_callback_request_reaches_the_feed_with_its_number_and_window(
    server: Server,
) -> None:
    services = server.services
    await set_hours(services)
    await enable(services)
    done, chosen = await ask(services)
    async with aiohttp.ClientSession() as http:
        client = Api(http, server.desk_url, await make_token(services, "read"))
        status, page = await client.get("/events?limit=100")
    assert status == 200
    requested = [e for e in page["events"] if e["type"] == "callback.requested"]
    assert len(requested) == 1
    data = requested[0]["data"]
    assert data["conversation"]["id"] == done.conversation_id
    assert data["conversation"]["channel"] == "phone"
    assert data["callback"]["phone"] == "+49301234567"
    assert data["callback"]["window_start"] == done.start and data["callback"]["source"] == "form"
    types = [e["type"] for e in page["events"]]
    assert (
        types.index("customer.created")
        < types.index("conversation.created")
        < types.index("callback.requested")
    )
