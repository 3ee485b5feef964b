"""The desk in a real browser: first-run setup, signing in, replying, live updates among agents."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, Personas, Server, sign_in_page
from onlinesupport.core.conversations import Actor

pytestmark = pytest.mark.browser


async def test_first_run_setup_link_wizard_and_the_widget_test_page(
    server: Server, new_page
) -> None:
    """A fresh install: setup link -> admin -> company -> website -> test page shows the chat."""
    page = await new_page()
    await page.goto(server.desk_url + "/signin")
    await expect(page.get_by_role("heading", name="Almost there")).to_be_visible()
    await page.goto(f"{server.desk_url}/setup?token={server.services.setup.value}")
    await page.get_by_label("Your name").fill("Ada Owner")
    await page.get_by_label("Email address").fill("ada@example.com")
    await page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    await page.get_by_label("Password again").fill(PASSWORD)
    await page.get_by_role("button", name="Create admin account").click()
    await expect(page).to_have_url(server.desk_url + "/welcome/company")
    await expect(page.locator(".topbar")).to_contain_text("Ada Owner")

    await page.get_by_label("Company name").fill("Acme Tools")
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page).to_have_url(server.desk_url + "/welcome/website")
    await page.get_by_label("Website address").fill("www.acme-tools.example")
    await expect(page.get_by_label("Title of the chat window")).to_have_value(
        "Chat with Acme Tools"
    )
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator(".notice")).to_contain_text("Saved")
    await expect(page.locator("#script-tag")).to_contain_text("/widget.js")
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="Test it: open a page that shows the chat").click()
    test_page = await opened.value
    await test_page.get_by_role("button", name="Open chat").click()
    await expect(test_page.locator("[data-onlinesupport]")).to_contain_text("Chat with Acme Tools")
    await test_page.close()

    await page.get_by_role("link", name="Continue").click()
    await expect(page.get_by_role("heading", name="Support mailbox")).to_be_visible()
    await page.get_by_role("link", name="Skip this step").click()
    await page.get_by_label("Name", exact=True).fill("Amy Agent")
    await page.get_by_label("Email address").fill("amy@example.com")
    await page.get_by_label("Password (at least 10 characters; empty: send an invitation)").fill(
        PASSWORD
    )
    await page.get_by_role("button", name="Add this colleague").click()
    await expect(page.locator(".notice")).to_have_text("Account added.")
    await page.get_by_role("link", name="Continue").click()
    await expect(page.locator(".checks")).to_contain_text("Connect your support mailbox")
    await page.get_by_role("button", name="Go to the inbox").click()
    await expect(page).to_have_url(server.desk_url + "/inbox")
    checklist = page.locator(".setup-checklist")
    await expect(checklist).to_contain_text("Connect your support mailbox")
    await expect(checklist).not_to_contain_text("Add your colleagues")


async def test_an_agent_replies_and_a_second_agents_desk_updates_live(
    server: Server, personas: Personas, new_page
) -> None:
    conversations = server.services.conversations
    opened = await conversations.open(
        channel="chat",
        customer_name="Carla Customer",
        identity=("email", "carla@example.com"),
        subject="Where is order 1042?",
        body="It was due Monday.",
    )
    amy, bob = await new_page(), await new_page()
    await sign_in_page(amy, server, "amy@example.com")
    await sign_in_page(bob, server, "bob@example.com")

    # Bob watches the inbox; a new conversation arrives without a reload.
    second = await conversations.open(channel="email", customer_name="Dan Doe", subject="Refund")
    await expect(bob.locator("#conversation-list")).to_contain_text("Dan Doe")
    await expect(bob.locator('[data-count="open"]')).to_have_text("2")

    # Amy opens Carla's conversation, takes it, and replies with the keyboard.
    await amy.get_by_role("link", name="Carla Customer").click()
    await expect(amy.locator("#messages")).to_contain_text("It was due Monday.")
    await amy.get_by_role("button", name="Assign to me").click()
    await expect(amy.locator("#assignee")).to_have_text("Amy Agent")
    await expect(amy.locator("#live")).to_have_text("● Live")
    await amy.get_by_label("Reply").fill("It ships today, sorry for the wait.")
    await amy.get_by_label("Reply").press("Control+Enter")
    await expect(amy.locator("#messages .msg-agent .msg-body")).to_have_text(
        "It ships today, sorry for the wait."
    )
    await expect(amy.get_by_label("Reply")).to_have_value("")

    # Bob sees the assignment in his inbox, then opens the conversation and sees the reply.
    carla_row = bob.locator("#conversation-list li", has_text="Carla Customer")
    await expect(carla_row.locator(".assignee")).to_have_text("Amy Agent")
    await carla_row.get_by_role("link").click()
    await expect(bob.locator("#messages .msg-agent .msg-body")).to_have_text(
        "It ships today, sorry for the wait."
    )

    # Amy adds an internal note; the customer writes again: both appear live on Bob's page.
    await amy.get_by_label("Reply").fill("Checked with the warehouse.")
    await amy.get_by_role("button", name="Add internal note").click()
    await conversations.post(
        opened.conversation_id, Actor.customer(opened.customer_id, "Carla"), "Thanks!"
    )
    await expect(bob.locator("#messages .msg-note .msg-body")).to_have_text(
        "Checked with the warehouse."
    )
    await expect(bob.locator("#messages .msg-customer .msg-body").last).to_have_text("Thanks!")
    await expect(bob.locator("#messages li")).to_have_count(4)

    # Resolving moves it out of the open view for everyone.
    await amy.get_by_role("button", name="Resolve").click()
    await expect(amy.locator("#status")).to_have_text("resolved")
    await expect(bob.locator("#status")).to_have_text("resolved")
    await expect(bob.locator("#conversation-list")).not_to_contain_text("Carla Customer")
    assert second.conversation_id != opened.conversation_id


async def test_a_reply_written_while_offline_is_sent_once_after_retry(
    server: Server, personas: Personas, new_page
) -> None:
    opened = await server.services.conversations.open(
        channel="chat", customer_name="Carla", body="Hello?"
    )
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    await page.goto(f"{server.desk_url}/conversations/{opened.conversation_id}")
    await expect(page.locator("#live")).to_have_text("● Live")
    await page.context.set_offline(True)
    await page.get_by_label("Reply").fill("Are you still there?")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator("#composer-error")).to_contain_text("Not sent")
    await expect(page.get_by_label("Reply")).to_have_value("Are you still there?")
    await page.context.set_offline(False)
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator("#messages .msg-agent .msg-body")).to_have_text(
        "Are you still there?"
    )
    await expect(page.locator("#composer-error")).to_have_text("")
    rows = await server.services.db.fetch_all(
        "SELECT body FROM messages WHERE conversation_id = ? AND author_type = 'agent'",
        (opened.conversation_id,),
    )
    assert [r["body"] for r in rows] == ["Are you still there?"]


async def test_switching_chats_keeps_a_half_written_reply_and_shows_what_is_new(
    server: Server, personas: Personas, new_page
) -> None:
    conversations = server.services.conversations
    first = await conversations.open(channel="chat", customer_name="Ann", body="Question one")
    await conversations.open(channel="chat", customer_name="Ben", body="Question two")
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    ann = page.locator("#conversation-list li", has_text="Ann")
    ben = page.locator("#conversation-list li", has_text="Ben")
    await expect(ann.locator(".unread")).to_have_text("1 new")
    await ann.get_by_role("link").click()
    await expect(ann.locator(".unread")).to_be_hidden()
    await page.get_by_label("Reply").fill("Half a reply to Ann")
    await ben.get_by_role("link").click()
    await expect(page.locator("#messages")).to_contain_text("Question two")
    await expect(page.get_by_label("Reply")).to_have_value("")
    await expect(ann.locator(".unread")).to_be_hidden()
    await conversations.post(first.conversation_id, Actor.customer(first.customer_id), "Hello?")
    await expect(ann.locator(".unread")).to_have_text("1 new")
    await expect(ben.locator(".unread")).to_be_hidden()
    await ann.get_by_role("link").click()
    await expect(page.get_by_label("Reply")).to_have_value("Half a reply to Ann")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator("#messages .msg-agent .msg-body")).to_have_text(
        ["Half a reply to Ann"]
    )
    await ben.get_by_role("link").click()
    await ann.get_by_role("link").click()
    await expect(page.get_by_label("Reply")).to_have_value("")
