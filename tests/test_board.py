"""The managers' live board: figures per queue, and moving work between queues by dragging
(or with the keyboard), pushed live to the board and to the assigned agent's inbox."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from conftest import Desk, Personas, Server, sign_in_page
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import to_db
from onlinesupport.store import queues as queues_repo


async def _billing(server: Server) -> int:
    now = to_db(server.services.clock.now())
    return await server.services.db.write(lambda conn: queues_repo.insert(conn, "Billing", now))


async def test_the_board_shows_each_queue_and_is_for_managers(
    server: Server, personas: Personas, client_factory
) -> None:
    billing = await _billing(server)
    conversations = server.services.conversations
    await conversations.open(
        channel="email", customer_name="Carla", subject="Late parcel", body="Where is it?"
    )
    answered = await conversations.open(channel="chat", customer_name="Dan", body="Hi")
    await conversations.post(answered.conversation_id, Actor.agent(personas.agent, "Amy"), "Hi!")
    manager: Desk = client_factory(server.desk_url)
    await manager.signin("max@example.com")
    page = await (await manager.get("/board")).text()
    general = page.split('aria-labelledby="lane-1"')[1].split("</section>")[0]
    assert '<span data-figure="waiting">1</span> waiting' in general
    assert "first answer today 0 min" in general and "Late parcel" in general
    assert f'data-queue="{billing}"' in page
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/board")).status == 403


@pytest.mark.browser
async def test_a_manager_drags_a_conversation_and_the_agents_inbox_follows(
    server: Server, personas: Personas, new_page: Any
) -> None:
    billing = await _billing(server)
    conversations = server.services.conversations
    opened = await conversations.open(
        channel="email", customer_name="Carla", subject="Double charge", body="Charged twice"
    )
    await conversations.assign(
        opened.conversation_id, personas.agent, Actor.agent(personas.agent, "Amy")
    )
    other = await conversations.open(
        channel="email", customer_name="Dan", subject="Refund", body="Refund please"
    )
    amy, max_ = await new_page(), await new_page()
    await sign_in_page(amy, server, "amy@example.com")
    row = amy.locator(f'[data-conversation-id="{opened.conversation_id}"]')
    await expect(row.locator(".queue")).to_have_text("General")

    await sign_in_page(max_, server, "max@example.com")
    await max_.goto(server.desk_url + "/board")
    card = max_.locator(f'[data-conversation="{opened.conversation_id}"]')
    lane = max_.locator(f'.lane[data-queue="{billing}"]')
    await card.drag_to(lane)
    await expect(lane.locator(f'[data-conversation="{opened.conversation_id}"]')).to_be_visible()
    await expect(row.locator(".queue")).to_have_text("Billing")  # live, no reload

    # The keyboard way: the card's own Move form.
    other_card = max_.locator(f'[data-conversation="{other.conversation_id}"]')
    await other_card.get_by_label(f"Move #{other.conversation_id} to").select_option(str(billing))
    await other_card.get_by_role("button", name="Move").press("Enter")
    await expect(lane.locator(f'[data-conversation="{other.conversation_id}"]')).to_be_visible()
    moved = await server.services.db.fetch_all(
        "SELECT conversation_id FROM events WHERE type = 'conversation.moved' ORDER BY id"
    )
    assert [r[0] for r in moved] == [opened.conversation_id, other.conversation_id]

    # Dropped on an agent online in the lane, it is theirs.
    other_card = lane.locator(f'[data-conversation="{other.conversation_id}"]')
    await other_card.drag_to(lane.locator(f'[data-agent="{personas.agent}"]'))
    await expect(
        amy.locator(f'[data-conversation-id="{other.conversation_id}"]').locator(".assignee")
    ).to_have_text("Amy Agent")


async def test_the_inbox_narrows_to_one_queue(
    server: Server, personas: Personas, client_factory
) -> None:
    billing = await _billing(server)
    conversations = server.services.conversations
    kept = await conversations.open(channel="email", customer_name="Carla", body="Invoice?")
    await conversations.move(kept.conversation_id, billing, Actor.agent(personas.manager, "Max"))
    await conversations.open(channel="email", customer_name="Dan", body="Hello")
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    only = await (await agent.get(f"/api/conversations?view=open&queue={billing}")).json()
    assert [c["customer_name"] for c in only["conversations"]] == ["Carla"]
    everything = await (await agent.get("/api/conversations?view=open")).json()
    assert len(everything["conversations"]) == 2
    page = await (await agent.get(f"/inbox?queue={billing}")).text()
    assert "Carla" in page and "Dan" not in page.split('id="conversation-list"')[1]
