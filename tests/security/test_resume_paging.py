"""A widget that comes back far behind gets every message (issue 13, finding 13).

The catch-up read stopped at 1,000 messages and nothing fetched the rest until a new message
was posted; a reloaded page (last_seq 0) of a long chat showed only its first 1,000.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from conftest import Personas, Server
from onlinesupport.core.conversations import Actor
from test_chat_protocol import visitor  # noqa: F401  (the fixture)
from test_widget_browser import desk_page, start_chat, website  # noqa: F401  (website: the fixture)

TOTAL = 2_600


async def test_a_visitor_far_behind_is_paged_through_to_the_newest_message(
    server: Server, personas: Personas, visitor
) -> None:  # noqa: F811
    v = visitor()
    await v.connect()
    await v.send(type="start", client_id="c1", body="A long chat begins")
    v.conversation_id = (await v.receive("ack"))["conversation_id"]
    await v.close()
    agent = Actor.agent(personas.agent, "Amy")
    # Posted together, they share commits (the writer's group commit): quick to set up.
    await asyncio.gather(
        *(
            server.services.conversations.post(v.conversation_id, agent, f"reply {n}")
            for n in range(2, TOTAL + 1)
        )
    )
    for last_seq in (0, 900):
        await v.connect(last_seq=last_seq)
        seqs = []
        while not seqs or seqs[-1] < TOTAL:
            seqs.append((await v.receive("message"))["seq"])
        assert seqs == list(range(last_seq + 1, TOTAL + 1))
        await v.close()


@pytest.mark.browser
async def test_a_reloaded_long_chat_shows_its_newest_messages_in_the_widget(
    server: Server, personas: Personas, website: str, new_page
) -> None:  # noqa: F811
    await desk_page(new_page, server)  # an agent online: the widget offers the chat
    page, widget = await start_chat(new_page, website, "A long chat begins")
    conversation_id = (await server.services.db.fetch_one("SELECT id FROM conversations"))[0]
    agent = Actor.agent(personas.agent, "Amy")
    await asyncio.gather(
        *(
            server.services.conversations.post(conversation_id, agent, f"reply {n}")
            for n in range(2, TOTAL + 1)
        )
    )
    log = widget.locator(".log")
    # Live, as a burst (it took minutes when each message scrolled and beeped on its own) ...
    await expect(log.locator(".m").last).to_contain_text(f"reply {TOTAL}", timeout=30_000)
    # ... and after a reload, which asks for everything from seq 0.
    await page.reload()
    await expect(log.locator(".m").last).to_contain_text(f"reply {TOTAL}", timeout=30_000)
    await expect(log.locator(".m")).to_have_count(TOTAL)
