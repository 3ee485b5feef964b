"""A support mailbox end to end in Chromium: set up by the admin, mail in, reply out, answer in."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from conftest import Personas, Server
from email_helpers import mail
from mail_servers import PASSWORD, USER, Dovecot, Relay
from test_widget_browser import desk_page

pytestmark = pytest.mark.browser


async def test_a_mailbox_set_up_in_the_desk_brings_mail_in_and_sends_replies_out(
    server: Server, personas: Personas, new_page: Any, dovecot: Dovecot, relay: Relay
) -> None:
    admin = await desk_page(new_page, server, "ada@example.com")
    await admin.get_by_role("link", name="Mailboxes").click()
    form = admin.locator("form.mailbox-form")
    await form.get_by_label("Support address").fill(USER)
    await form.get_by_label("Name on replies").fill("Shop Support")
    await form.get_by_label("IMAP server").fill("127.0.0.1")
    await form.locator("input[name=imap_port]").fill(str(dovecot.port))
    await form.locator("select[name=imap_security]").select_option("none")
    await form.locator("input[name=imap_user]").fill(USER)
    await form.locator("input[name=imap_password]").fill(PASSWORD)
    await form.get_by_label("SMTP server").fill("127.0.0.1")
    await form.locator("input[name=smtp_port]").fill(str(relay.port))
    await form.locator("select[name=smtp_security]").select_option("none")
    await form.get_by_role("button", name="Add mailbox").click()
    await expect(admin.get_by_role("heading", name=USER)).to_be_visible()
    await admin.get_by_role("button", name="Test connection").click()
    await expect(admin.locator("#checks")).to_contain_text("IMAP: works")
    await expect(admin.locator("#checks")).to_contain_text("SMTP: works")

    agent = await desk_page(new_page, server)
    first = mail(
        subject="Broken zipper",
        body=(
            "The zipper of my jacket broke after a week.\n\n"
            "On Mon, 23 Nov 2026, Shop <shop@shop.test> wrote:\n> Thanks for your order!"
        ),
    )
    await dovecot.append(first)
    link = agent.locator("a[data-conversation-id]", has_text="Broken zipper")
    await expect(link).to_be_visible(timeout=15_000)
    await link.click()
    message = agent.locator("li.msg-customer").first
    await expect(message.locator(".msg-body").first).to_have_text(
        "The zipper of my jacket broke after a week.\n\n"
    )
    await expect(message.locator("details.quoted")).not_to_have_attribute("open", "")
    await expect(message.get_by_role("link", name="Original mail")).to_be_visible()

    await agent.get_by_label("Reply").fill("Sorry! A new jacket is on its way.")
    await agent.get_by_role("button", name="Send reply").click()
    mine = agent.locator("li.msg-agent").last
    await expect(mine.locator(".delivery")).to_have_text(
        "Emailed to carla@customer.test", timeout=15_000
    )
    await agent.reload()  # the same, drawn by the server
    await expect(agent.locator("li.msg-agent").last.locator(".delivery")).to_have_text(
        "Emailed to carla@customer.test"
    )
    received = await relay.wait_for(2)  # the acknowledgement, then the reply
    reply = next(m for m in received if "Auto-Submitted" not in m)
    assert "A new jacket is on its way." in reply.get_body(("plain",)).get_content()

    await dovecot.append(
        mail(subject="Re: Broken zipper", body="Great, thank you!", In_Reply_To=reply["Message-ID"])
    )
    await expect(
        agent.locator("li.msg-customer .msg-body", has_text="Great, thank you!")
    ).to_be_visible(timeout=15_000)
    await expect(agent.locator("a[data-conversation-id]")).to_have_count(1)
