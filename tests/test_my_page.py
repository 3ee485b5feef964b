"""The customer's own page: a mailed single-use link, their conversations only, replies join in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from conftest import Server, make_config, start_server
from email_helpers import add_mailbox, mailbox_form, scalar
from mail_servers import Relay
from onlinesupport.clock import ManualClock


async def _link(relay: Relay, count: int) -> str:
    mails = await relay.wait_for(count)
    text = mails[count - 1].get_body(("plain",)).get_content()
    return re.search(r"(/my/link/[A-Za-z0-9_-]+)", text).group(1)


@pytest.fixture
async def shop(tmp_path: Path, relay: Relay) -> AsyncIterator[tuple[Server, ManualClock]]:
    """A server on a clock the test moves, with a mailbox that sends through the relay."""
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        await add_mailbox(server.services, mailbox_form(None, relay, smtp_receive="on",
                                                        ack_enabled=""))
        yield server, clock


async def test_a_customer_signs_in_by_mail_reads_and_replies(shop, relay: Relay,
                                                             client_factory) -> None:
    server, _ = shop
    services = server.services
    mine = await services.conversations.open(channel="form", customer_name="Lee",
                                             identity=("email", "lee@customer.test"),
                                             subject="Refund", body="Where is my refund?")
    theirs = await services.conversations.open(channel="form", customer_name="Kim",
                                               identity=("email", "kim@customer.test"),
                                               subject="Secret", body="Private matter")
    lee = client_factory(server.public_url)
    page = await lee.session.post(server.public_url + "/my/signin",
                                  data={"email": "Lee@Customer.test"})
    assert "Check your mail" in await page.text()
    unknown = await lee.session.post(server.public_url + "/my/signin",
                                     data={"email": "nobody@customer.test"})
    assert await unknown.text() == await page.text(), "no hint whether an address is known"
    link = await _link(relay, 1)
    assert relay.received[0]["Auto-Submitted"] == "auto-generated"
    assert len(relay.received) == 1, "no mail for an unknown address"

    confirm = await (await lee.get(link)).text()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    assert await scalar(services, "SELECT used_at FROM customer_links") is None, \
        "opening the link (a mail scanner) does not spend it"
    signed_in = await lee.session.post(server.public_url + "/my/link", data={"token": token})
    listing = await signed_in.text()
    assert "#1 Refund" in listing and "Secret" not in listing
    again = await lee.session.post(server.public_url + "/my/link", data={"token": token},
                                   allow_redirects=False)
    assert again.status == 400, "a link works once"

    assert (await lee.get(f"/my/conversations/{theirs.conversation_id}")).status == 404
    view = await (await lee.get(f"/my/conversations/{mine.conversation_id}")).text()
    assert "Where is my refund?" in view
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', view).group(1)
    forged = await lee.session.post(
        server.public_url + f"/my/conversations/{mine.conversation_id}",
        data={"body": "x", "csrf_token": "nope"}, allow_redirects=False)
    assert forged.status == 403
    sent = await lee.session.post(
        server.public_url + f"/my/conversations/{mine.conversation_id}",
        data={"body": "Any news?", "csrf_token": csrf, "client_id": "c1"})
    assert "Any news?" in await sent.text()
    assert await scalar(services, "SELECT count(*) FROM messages WHERE conversation_id = ?",
                        (mine.conversation_id,)) == 2

    await lee.session.post(server.public_url + "/my/signout", data={"csrf_token": csrf})
    assert "Enter the email address" in await (await lee.get("/my")).text()


async def test_links_expire_and_requests_are_limited(shop, relay: Relay, client_factory) -> None:
    server, clock = shop
    services = server.services
    await services.conversations.open(channel="form", customer_name="Lee",
                                      identity=("email", "lee@customer.test"), body="Hi")
    lee = client_factory(server.public_url)
    for _ in range(7):
        await lee.session.post(server.public_url + "/my/signin",
                               data={"email": "lee@customer.test"})
    link = await _link(relay, 1)
    await relay.wait_for(5)
    assert len(relay.received) == 5, "five an hour"
    clock.advance(minutes=31)
    confirm = await (await lee.get(link)).text()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    late = await lee.session.post(server.public_url + "/my/link", data={"token": token})
    assert late.status == 400 and "too old" in await late.text()
