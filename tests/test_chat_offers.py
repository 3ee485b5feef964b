"""Chat offers: one agent at a time, declined or unanswered it moves on, accepted it is theirs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, Personas, Server, make_config, sign_in_page, start_server
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.routing.offers import ChatOffers
from onlinesupport.store import queues as queues_repo


async def _offers_on(server: Server, seconds: int) -> None:
    await server.services.db.write(lambda conn: queues_repo.set_offers(conn, 1, True, seconds))


async def _offered(server: Server, cid: int) -> list[tuple[str, int]]:
    rows = await server.services.db.fetch_all(
        "SELECT type, json_extract(data, '$.agent_id') FROM events WHERE conversation_id = ?"
        " AND type LIKE 'offer.%' ORDER BY id",
        (cid,),
    )
    return [(r[0], r[1]) for r in rows]


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock, int, int]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        amy = await server.services.accounts.create_agent("amy@shop.test", "Amy", "agent", PASSWORD)
        bob = await server.services.accounts.create_agent("bob@shop.test", "Bob", "agent", PASSWORD)
        await server.services.accounts.create_agent("ada@shop.test", "Ada", "admin", PASSWORD)
        await _offers_on(server, 30)
        yield server, clock, amy, bob


async def test_offered_declined_expired_and_accepted(shop) -> None:
    server, clock, amy, bob = shop
    offers = server.services.offers
    chat = await server.services.conversations.open(
        channel="chat", customer_name="Nora", body="Hello"
    )
    cid = chat.conversation_id
    await offers.tick()
    assert await _offered(server, cid) == [], "nobody online: it waits"
    server.services.presence.connected(amy)
    server.services.presence.connected(bob)
    await offers.tick()
    [(_, first)] = await _offered(server, cid)
    second = bob if first == amy else amy
    assert not await offers.answer(cid, Actor.agent(second, "x"), True), "not offered to them"
    assert await offers.answer(cid, Actor.agent(first, "x"), False)
    assert (await _offered(server, cid))[-1] == ("offer.made", second), "declined: the next one"
    clock.advance(seconds=31)
    await offers.tick()
    assert (await _offered(server, cid))[-2:] == [
        ("offer.expired", second),
        ("offer.made", first),
    ], "a new round"
    assert await offers.answer(cid, Actor.agent(first, "First"), True)
    assignee = await server.services.db.fetch_one("SELECT assignee_id FROM conversations")
    assert assignee[0] == first
    await offers.tick()
    assert (await _offered(server, cid))[-1] == ("offer.made", first), "no offers once taken"


async def test_offers_respect_capacity_and_away(shop) -> None:
    server, _, amy, bob = shop
    services = server.services
    await services.accounts.update_agent(amy, role="agent", active=True, capacity=1)
    services.presence.connected(amy)
    services.presence.connected(bob)
    services.presence.set_status(bob, "away")
    first = await services.conversations.open(channel="chat", body="One")
    await services.offers.tick()
    await services.offers.answer(first.conversation_id, Actor.agent(amy, "Amy"), True)
    second = await services.conversations.open(channel="chat", body="Two")
    await services.offers.tick()
    assert await _offered(server, second.conversation_id) == [], "Amy is full, Bob away"
    services.presence.set_status(bob, "online")
    await services.offers.tick()
    assert await _offered(server, second.conversation_id) == [("offer.made", bob)]


@pytest.mark.browser
@pytest.mark.loops("chat-offers")
async def test_a_chat_is_offered_declined_and_re_offered_in_the_desk(
    server: Server, personas: Personas, new_page: Any
) -> None:
    await _offers_on(server, 5)
    pages = {}
    for email in ("amy@example.com", "bob@example.com"):
        pages[email] = await new_page()
        await sign_in_page(pages[email], server, email)
    chat = await server.services.conversations.open(
        channel="chat", customer_name="Nora", body="Is anyone there?"
    )
    offered = list(pages.values())
    first = None
    for _ in range(50):  # the offer comes with the next round of the offer loop (1 s)
        visible = [p for p in offered if await p.locator("#offer").is_visible()]
        if visible:
            [first] = visible
            break
        await asyncio.sleep(0.2)
    assert first is not None, "offered to one of them"
    await expect(first.locator("#offer .who")).to_have_text("Nora")
    await first.get_by_role("button", name="Decline").click()
    other = next(p for p in offered if p is not first)
    await expect(other.locator("#offer")).to_be_visible()
    await expect(first.locator("#offer")).to_be_hidden()
    # Unanswered: after its 5 seconds the offer goes round again, back to the first.
    await expect(other.locator("#offer")).to_be_hidden(timeout=10_000)
    await expect(first.locator("#offer")).to_be_visible(timeout=10_000)
    await first.get_by_role("button", name="Accept").click()
    await expect(first).to_have_url(
        f"{server.desk_url}/conversations/{chat.conversation_id}?view=mine"
    )
    await expect(first.locator("#messages")).to_contain_text("Is anyone there?")


async def test_an_agent_gone_offline_hands_chats_back_where_the_queue_says_so(shop) -> None:
    server, _, amy, bob = shop
    services = server.services
    # The test does not wait the minute a reload is allowed.
    services.offers = ChatOffers(
        services.db, services.conversations, services.clock, services.presence, grace=0
    )
    chat = await services.conversations.open(channel="chat", body="Hello")
    mail = await services.conversations.open(channel="email", body="Hello by mail")
    for cid in (chat.conversation_id, mail.conversation_id):
        await services.conversations.assign(cid, amy, Actor.agent(amy, "Amy"))
    services.presence.connected(amy)
    services.presence.disconnected(amy)
    await services.offers.tick()
    kept = await services.db.fetch_one(
        "SELECT assignee_id FROM conversations WHERE id = ?", (chat.conversation_id,)
    )
    assert kept[0] == amy, "the queue keeps them"
    await services.db.write(lambda conn: queues_repo.set_offers(conn, 1, True, 30, True))
    services.presence.connected(amy)
    services.presence.disconnected(amy)
    services.presence.connected(bob)
    await services.offers.tick()
    rows = await services.db.fetch_all("SELECT id, assignee_id FROM conversations ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (chat.conversation_id, None),
        (mail.conversation_id, amy),
    ], "chats only"
    assert (await _offered(server, chat.conversation_id))[-1] == ("offer.made", bob)


async def test_round_robin_takes_turns_whatever_the_load(shop) -> None:
    server, _, amy, bob = shop
    services = server.services
    await services.db.write(
        lambda conn: queues_repo.set_offers(conn, 1, True, 30, assignment="round-robin")
    )
    await services.rules.save(
        None,
        {
            "name": "Everyone",
            "active": "on",
            "conditions": "channel is email",
            "actions": "assign auto",
        },
    )
    services.presence.connected(amy)
    services.presence.connected(bob)
    for n in range(2):  # Amy is busier: least-loaded would give Bob the next ones
        busy = await services.conversations.open(channel="chat", body=f"Chat {n}")
        await services.conversations.assign(busy.conversation_id, amy, Actor.agent(amy, "Amy"))
    given = []
    for n in range(4):
        opened = await services.conversations.open(channel="email", body=f"Mail {n}")
        row = await services.db.fetch_one(
            "SELECT assignee_id FROM conversations WHERE id = ?", (opened.conversation_id,)
        )
        given.append(row[0])
    assert given == [amy, bob, amy, bob], "in turn, not by load"


async def test_a_desk_loaded_after_the_offer_still_shows_it(shop, client_factory) -> None:
    server, clock, amy, bob = shop
    chat = await server.services.conversations.open(
        channel="chat", customer_name="Nora <b>", body="Hello"
    )
    server.services.presence.connected(amy)
    await server.services.offers.tick()
    assert await _offered(server, chat.conversation_id) == [("offer.made", amy)]
    desk = client_factory(server.desk_url)
    await desk.signin("amy@shop.test")
    page = await (await desk.get("/inbox")).text()
    assert f'data-pending="{chat.conversation_id}" data-seconds="30"' in page
    assert 'data-who="Nora &lt;b&gt;"' in page
    clock.advance(seconds=31)
    assert "data-pending" not in await (await desk.get("/inbox")).text(), "expired: gone"
