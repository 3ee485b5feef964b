"""Mail that points to self-service: help-center articles in the acknowledgement, and answers
announced with a link to the customers' page instead of travelling by mail."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from conftest import start_server
from email_helpers import add_mailbox, mail, mailbox_form, scalar
from mail_servers import Relay
from onlinesupport.channels.email.mailboxes import MailboxError
from test_email_smtp import _agent_replies, _config, _send

REFUNDS = {
    "title": "Returns and refunds",
    "status": "published",
    "visibility": "public",
    "body": "Return any item within 30 days for a full refund.",
}


async def test_the_acknowledgement_suggests_articles(tmp_path: Path, relay: Relay) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, _config(tmp_path, public_url="https://support.shop.test")
        )
        services = server.services
        article_id = await services.knowledge.save(None, REFUNDS, None)
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on", ack_articles="on"))
        await _send(
            services.email.smtp_port,
            mail(subject="Refund please", body="How do I return my order?"),
        )
        [ack] = await relay.wait_for(1)
        text = ack.get_body(("plain",)).get_content()
        assert "These articles may already answer your question:" in text
        assert (
            f"- Returns and refunds: https://support.shop.test/help/articles/"
            f"{article_id}-returns-and-refunds"
        ) in text


async def test_no_articles_without_the_setting(tmp_path: Path, relay: Relay) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, _config(tmp_path, public_url="https://support.shop.test")
        )
        await server.services.knowledge.save(None, REFUNDS, None)
        await add_mailbox(server.services, mailbox_form(None, relay, smtp_receive="on"))
        await _send(server.services.email.smtp_port, mail(subject="Refund please"))
        [ack] = await relay.wait_for(1)
        assert "articles" not in ack.get_body(("plain",)).get_content()


async def test_an_answer_can_be_announced_instead_of_mailed(tmp_path: Path, relay: Relay) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path))
        services = server.services
        await add_mailbox(
            services,
            mailbox_form(
                None,
                relay,
                smtp_receive="on",
                ack_enabled="",
                notify_link="https://support.shop.test/my",
            ),
        )
        await _send(
            services.email.smtp_port,
            mail(subject="My diagnosis", body="What do my test results say?"),
        )
        await _agent_replies(services, "Your results show a vitamin D deficiency.")
        [notice] = await relay.wait_for(1)
        text = notice.get_body(("plain",)).get_content()
        assert "vitamin" not in text and "https://support.shop.test/my" in text
        assert "new answer to your question #1: My diagnosis" in text
        assert notice["In-Reply-To"], "a reply to the notice threads back in"
        assert "Auto-Submitted" not in notice
        assert await scalar(services, "SELECT purpose FROM outbox") == "notify"
        assert await scalar(services, "SELECT status FROM outbox") == "sent"


async def test_the_notice_link_must_be_a_web_address(tmp_path: Path, relay: Relay) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path))
        with pytest.raises(MailboxError, match="must start with https://"):
            await add_mailbox(
                server.services,
                mailbox_form(None, relay, smtp_receive="on", notify_link="support.shop.test/my"),
            )
