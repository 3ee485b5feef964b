"""The open conversation's header follows its events in Chromium, as the messages do: who has
it (Assign to me or Release, whom it can be transferred to), whether it can be resolved or
reopened, and the answer it still owes; a merged conversation offers neither."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from conftest import Personas, Server, sign_in_page
from onlinesupport.core.conversations import Actor, merging

pytestmark = pytest.mark.browser

SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


@pytest.mark.parametrize("size", SIZES)
async def test_the_header_follows_a_transfer_the_first_reply_and_a_resolution(
    server: Server, personas: Personas, new_page: Any, size: str
) -> None:
    conversations = server.services.conversations
    opened = await conversations.open(channel="chat", customer_name="Carla", body="Order 1042?")
    cid = opened.conversation_id
    page = await new_page()
    width, height = SIZES[size]
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in_page(page, server, "amy@example.com")
    await page.goto(f"{server.desk_url}/conversations/{cid}")
    await expect(page.locator("#live")).to_have_text("● Live")
    head = page.locator(".conversation-head")
    assign, release = (head.get_by_role("button", name=n) for n in ("Assign to me", "Release"))
    resolve, reopen = (head.get_by_role("button", name=n) for n in ("Resolve", "Reopen"))
    first_due = page.locator("#first-due")
    await expect(assign).to_be_visible()
    await expect(release).to_be_hidden()
    await expect(first_due).to_contain_text("first answer due")
    gap = await page.evaluate(
        "() => document.querySelector('.conversation-head .actions').getBoundingClientRect().top"
        " - document.querySelector('.conversation-head .meta').getBoundingClientRect().bottom"
    )
    assert gap < 60, f"the buttons follow the header's lines, not {gap} px below"

    max_ = Actor.agent(personas.manager, "Max Manager")
    await conversations.transfer(cid, personas.agent, max_, note="Yours, Amy")
    await expect(release).to_be_visible()
    await expect(assign).to_be_hidden()
    await expect(page.locator("#assignee")).to_have_text("Amy Agent")
    offered = page.locator("form[action*='/transfer'] option:not([disabled])")
    assert "Bob Agent" in await offered.all_text_contents()

    await expect(first_due).to_be_visible()
    await page.get_by_label("Reply").fill("It ships today.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator("#messages")).to_contain_text("It ships today.")
    await expect(first_due).to_be_hidden()

    await conversations.resolve(cid, max_)
    await expect(reopen).to_be_visible()
    await expect(resolve).to_be_hidden()
    await conversations.reopen(cid, max_)
    await expect(resolve).to_be_visible()
    await expect(reopen).to_be_hidden()
    box = await resolve.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, "on the screen"

    # Bob takes it: Amy may take it back, and it is not transferred to Bob, who has it.
    await conversations.transfer(cid, personas.other_agent, max_)
    await expect(assign).to_be_visible()
    await expect(release).to_be_hidden()
    await expect(page.locator("#assignee")).to_have_text("Bob Agent")
    assert "Bob Agent" not in await offered.all_text_contents()

    # Merged into another conversation: it stays closed, so neither is offered, and it is
    # answered there: no composer, nobody takes it, a link to where the answer goes.
    other = await conversations.open(channel="chat", customer_name="Carla", body="Also: 1043")
    await merging.merge(conversations, cid, other.conversation_id, max_)
    await expect(page.locator(".merged-banner").first).to_be_visible()
    await expect(page.locator("#composer")).to_have_count(0)
    answer_there = page.locator("#answer-there").get_by_role("link")
    await expect(answer_there).to_have_text(f"#{other.conversation_id}")
    await expect(resolve).to_be_hidden()
    await expect(reopen).to_be_hidden()
    await expect(assign).to_be_hidden()


async def test_the_kept_conversation_shows_what_a_merge_brought_at_once(
    server: Server, personas: Personas, new_page: Any
) -> None:
    conversations = server.services.conversations
    amy = Actor.agent(personas.agent, "Amy Agent")
    mail = ("email", "carla@example.com")
    kept = await conversations.open(channel="email", identity=mail, body="Invoice?")
    await conversations.post(kept.conversation_id, amy, "Here it is.")
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    await page.goto(f"{server.desk_url}/conversations/{kept.conversation_id}")
    await expect(page.locator("#live")).to_have_text("● Live")
    await expect(page.locator("#next-due")).to_be_hidden()
    await page.get_by_label("Reply").fill("Half a repl")

    later = await conversations.open(channel="email", identity=mail, body="The sum is wrong!")
    await merging.merge(conversations, later.conversation_id, kept.conversation_id, amy)
    await expect(page.locator("#messages")).to_contain_text("The sum is wrong!")
    await expect(page.locator("#next-due")).to_contain_text("next answer due")
    await expect(page.get_by_label("Reply")).to_have_value("Half a repl")


async def test_a_merged_conversation_is_never_listed_as_unread(
    server: Server, personas: Personas, new_page: Any
) -> None:
    conversations = server.services.conversations
    kept = (
        await conversations.open(channel="chat", customer_name="Carla", body="Order 1042?")
    ).conversation_id
    merged = (
        await conversations.open(channel="chat", customer_name="Carla", body="And 1043?")
    ).conversation_id
    other = (
        await conversations.open(channel="chat", customer_name="Dan", body="Hours?")
    ).conversation_id
    amy = Actor.agent(personas.agent, "Amy Agent")
    await merging.merge(conversations, merged, kept, amy)
    await conversations.resolve(other, amy)
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    await page.goto(f"{server.desk_url}/inbox?view=resolved")
    rows = page.locator("#conversation-list a[data-conversation-id]")
    await expect(rows.and_(page.locator(f'[data-conversation-id="{other}"]'))).to_have_count(1)
    # Dan's unread chat counts its news; the merged one's news is read where it went.
    await expect(page.locator(f'[data-conversation-id="{other}"] .unread')).to_be_visible()
    await expect(page.locator(f'[data-conversation-id="{merged}"] .unread')).to_be_hidden()
