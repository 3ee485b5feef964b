"""In Chromium: a customer known only by their address is named by it in the conversation,
for the messages on the page and for those arriving live."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from conftest import Personas, Server, sign_in_page
from onlinesupport.core.conversations import Actor

pytestmark = pytest.mark.browser


async def test_a_customer_known_only_by_address_is_named_by_it_live_too(
    server: Server, personas: Personas, new_page
) -> None:
    conversations = server.services.conversations
    opened = await conversations.open(
        channel="email",
        identity=("email", "nameless@example.com"),
        subject="Invoice",
        body="Wrong total",
    )
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    await page.goto(f"{server.desk_url}/conversations/{opened.conversation_id}")
    heads = page.locator("#messages .msg-head strong")
    await expect(heads).to_have_text(["nameless@example.com"])
    await conversations.post(
        opened.conversation_id, Actor.customer(opened.customer_id), "And the date is wrong"
    )
    await expect(heads).to_have_text(["nameless@example.com", "nameless@example.com"])
