"""What the widget records for the reports: a page view per page opened (counted, with a
ceiling on made-up addresses, and with the trail's limit per visitor), a waiting chat's visitor
leaving and coming back, proactive messages with their page, and the chat a proactive message
started (once, however often it is said)."""

from __future__ import annotations

import asyncio

import aiohttp

from conftest import Personas, Server, wait_until
from onlinesupport.channels.chat.protocol import PAGE_VIEWS_PER_MINUTE
from onlinesupport.core.conversations import Actor
from onlinesupport.reports import recording
from onlinesupport.store import events as events_repo
from onlinesupport.store import proactive as proactive_repo
from test_chat_protocol import SITE, Visitor, allow


async def _types(server: Server, cid: int) -> list[str]:
    return [
        e.type
        for e in await events_repo.for_conversation(server.services.db, cid)
        if e.type.startswith(("chat.", "proactive."))
    ]


async def test_the_widget_counts_page_views_and_a_waiting_visitor_leaving(
    server: Server, personas: Personas
) -> None:
    services = server.services
    await allow(server, SITE)
    pricing = await services.db.write(
        lambda conn: proactive_repo.insert(
            conn,
            {
                "active": 1,
                "url_pattern": "*",
                "seconds_on_page": 0,
                "audience": "all",
                "tier": "",
                "business_hours_only": 0,
                "text": "Need help?",
                "button": "",
            },
            "2026-01-01T00:00:00.000Z",
        )
    )
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        await v.connect()
        await v.send(type="page", url="https://shop.example.com/pricing?utm=x#plans")
        await v.send(
            type="proactive",
            message_id=pricing,
            event="shown",
            page="https://shop.example.com/pricing?utm=x",
        )
        await v.send(
            type="proactive",
            message_id=pricing,
            event="clicked",
            page="https://shop.example.com/pricing",
        )
        await v.send(type="start", client_id="c1", body="How much?", name="Nora")
        v.conversation_id = (await v.receive("ack"))["conversation_id"]
        for _ in range(5):  # a widget that says it again starts no second chat
            await v.send(
                type="proactive",
                message_id=pricing,
                event="chat_started",
                page="https://shop.example.com/pricing",
            )
        await wait_until(lambda: _has(server, v.conversation_id, "proactive.chat_started"))
        await v.close()
        await wait_until(lambda: _has(server, v.conversation_id, "chat.left"))
        await v.connect()
        await wait_until(lambda: _has(server, v.conversation_id, "chat.returned"))
        await v.send(type="page", url="https://shop.example.com/pricing", title="Pricing")
        await services.conversations.post(
            v.conversation_id, Actor.agent(personas.agent, "Amy"), "Hello!"
        )
        await v.receive("message")
        await v.close()
        await asyncio.sleep(0.3)
    assert await _types(server, v.conversation_id) == [
        "proactive.chat_started",
        "chat.left",
        "chat.returned",
    ], "answered: leaving is no news"
    await services.recorder.flush()
    views = await services.db.fetch_all(
        "SELECT key, count FROM site_counts WHERE kind = 'page_view'"
    )
    assert [tuple(r) for r in views] == [("https://shop.example.com/pricing", 2)]
    pages = await services.db.fetch_all("SELECT kind, page FROM proactive_events ORDER BY id")
    assert {tuple(r) for r in pages} == {
        ("shown", "https://shop.example.com/pricing"),
        ("clicked", "https://shop.example.com/pricing"),
        ("chat_started", "https://shop.example.com/pricing"),
    }


async def _has(server: Server, cid: int, kind: str) -> bool:
    return kind in await _types(server, cid)


async def test_page_views_have_the_trails_limits(server: Server) -> None:
    """One path for a page view: the same page again is none, and a visitor's flood is cut at
    the trail's limit per minute, whether or not they are in a chat."""
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        reader = Visitor(http, server)
        await reader.connect()
        for _ in range(3):
            await reader.send(type="page", url="https://shop.example.com/a")
        await reader.send(type="page", url="https://shop.example.com/b")
        flood = Visitor(http, server)
        await flood.connect()
        for n in range(300):
            await flood.send(type="page", url=f"https://shop.example.com/p/{n}")
        for v in (reader, flood):
            await v.send(type="queue")
            await v.receive("queue")
    await server.services.recorder.flush()
    views = dict(
        tuple(r)
        for r in await server.services.db.fetch_all(
            "SELECT key, count FROM site_counts WHERE kind = 'page_view'"
        )
    )
    assert (views.pop("https://shop.example.com/a"), views.pop("https://shop.example.com/b")) == (
        1,
        1,
    )
    assert sum(views.values()) == PAGE_VIEWS_PER_MINUTE


async def test_a_flood_of_made_up_pages_stays_a_few_thousand_rows(server: Server) -> None:
    recorder = server.services.recorder
    for n in range(recording.KEYS_PER_DAY + 500):
        recorder.page_viewed(f"https://shop.example.com/made-up-{n}")
    for _ in range(1000):
        recorder.page_viewed("https://shop.example.com/made-up-1")
    await recorder.flush()
    row = await server.services.db.fetch_one(
        "SELECT count(*), sum(count), max(CASE WHEN key = '' THEN count END) FROM site_counts"
    )
    assert tuple(row) == (recording.KEYS_PER_DAY + 1, recording.KEYS_PER_DAY + 1500, 500)
