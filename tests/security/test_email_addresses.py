"""Issue 13.9: one strict check for every email address taken from outside; one-line subjects.

`a@x.example,b@y.example` in the widget's leave-a-message form sent every reply to both, and a
line break in an address or subject made every later reply to that conversation fail. Each
place that accepts an address is tried here, and the outgoing side refuses what got in before.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conftest import PASSWORD, Desk, Server, make_config, start_server
from email_helpers import add_mailbox, eventually, mailbox_form, scalar
from mail_servers import Relay
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.lib.inputs import InvalidAddress, email_address, one_line
from test_chat_protocol import SITE, Visitor, allow

TWO = "lee@customer.test,eve@attacker.example"
NOT_ONE = [
    TWO,
    "lee@customer.test;eve@attacker.example",
    "lee,eve@attacker.example",
    "Lee <lee@customer.test>",
    "lee@customer.test eve@attacker.example",
    "lee@customer.test\r\nBcc: eve@attacker.example",
    "lee@customer.test\nx",
    "lee\x00@customer.test",
    "lee@customer",
    "@customer.test",
    "lee@",
    "lee@@x.example",
    '"lee eve"@customer.test',
    "lee@[127.0.0.1]",
    "lee..x@customer.test",
    "x" * 65 + "@customer.test",
    "lee@" + "a" * 250 + ".test",
    "lee@-x.test",
]
FINE = [
    "lee@customer.test",
    "Lee.Person+orders@mail.customer.co.uk",
    "o'brien@example.ie",
    "jörg@müller.example",
    "  lee@customer.test  ",
]


@pytest.mark.parametrize("text", NOT_ONE)
def test_anything_but_exactly_one_plain_address_is_refused(text: str) -> None:
    with pytest.raises(InvalidAddress):
        email_address(text)


@pytest.mark.parametrize("text", FINE)
def test_ordinary_addresses_are_accepted(text: str) -> None:
    assert email_address(text) == text.strip()


def test_subjects_lose_control_characters() -> None:
    assert (
        one_line("Refund\r\nBcc: eve@attacker.example\x00\tnow")
        == "Refund Bcc: eve@attacker.example now"
    )
    assert one_line("Plain subject") == "Plain subject"


async def test_the_widget_refuses_a_list_of_addresses_and_keeps_subjects_on_one_line(
    server: Server,
) -> None:
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        await v.connect()
        for n, email in enumerate([TWO, "lee@customer.test\r\nBcc: eve@attacker.example"]):
            await v.send(type="leave", client_id=f"l{n}", name="Lee", email=email, body="Hi")
            assert "email address" in (await v.receive("error"))["message"]
            await v.send(type="start", client_id=f"s{n}", name="Lee", email=email, body="Hi")
            assert "email address" in (await v.receive("error"))["message"]
        await v.send(
            type="leave",
            client_id="ok",
            name="Lee",
            email="lee@customer.test",
            subject="Refund\r\nBcc: eve@attacker.example",
            body="Please call me",
        )
        await v.receive("ack")
        await v.close()
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 1
    assert (
        await scalar(server.services, "SELECT subject FROM conversations")
        == "Refund Bcc: eve@attacker.example"
    )


async def _contact_form(server: Server, http: aiohttp.ClientSession, **fields: str) -> Any:
    page = await (await http.get(server.public_url + "/contact")).text()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    clock = server.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds=5)  # people take a moment to fill in a form
    return await http.post(
        server.public_url + "/contact",
        data={
            "token": token,
            "name": "Lee",
            "question_type": "Billing",
            "urgency": "today",
            "message": "Where is my refund?",
            "suggested": "1",
            **fields,
        },
        allow_redirects=False,
    )


@pytest.fixture
async def shop(tmp_path: Path, relay: Relay) -> AsyncIterator[Server]:
    """A server whose clock the test moves (the contact form wants a few seconds), sending
    mail through the relay."""
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), ManualClock())
        await add_mailbox(
            server.services, mailbox_form(None, relay, smtp_receive="on", ack_enabled="")
        )
        await server.services.accounts.create_agent("amy@example.com", "Amy", "admin", PASSWORD)
        yield server


async def test_the_contact_form_refuses_a_list_and_strips_control_characters(shop: Server) -> None:
    async with aiohttp.ClientSession() as http:
        for email in ("lee,eve@attacker.example", TWO):
            refused = await _contact_form(shop, http, email=email, subject="Refund")
            assert refused.status == 400, email
            assert "email address" in await refused.text()
        sent = await _contact_form(
            shop, http, email="lee@customer.test", subject="Refund\r\nBcc: eve@attacker.example"
        )
        assert sent.status == 303
    assert (
        await scalar(shop.services, "SELECT subject FROM conversations")
        == "Refund Bcc: eve@attacker.example"
    )


async def test_the_customer_page_sign_in_refuses_a_list(shop: Server) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(shop.public_url + "/my/signin", data={"email": TWO}) as response:
            assert response.status == 400
            assert "one email address" in await response.text()


async def test_desk_forms_refuse_a_list(shop: Server, client_factory: Any) -> None:
    services = shop.services
    opened = await services.conversations.open(
        channel="phone", customer_name="Lee", body="Called about a refund"
    )
    desk: Desk = client_factory(shop.desk_url)
    await desk.signin("amy@example.com")
    for path, form in [
        (
            "/admin/agents",
            {
                "email": "bo,eve@attacker.example",
                "name": "Bo",
                "role": "agent",
                "password": PASSWORD,
            },
        ),
        (
            f"/customers/{opened.customer_id}",
            {
                "name": "Lee",
                "email": "lee,eve@attacker.example",
                "tier": "standard",
                "tags": "",
                "conversation_id": str(opened.conversation_id),
            },
        ),
        (
            "/admin/mailboxes",
            mailbox_form(None, None, smtp_receive="on", address="help,eve@attacker.example"),
        ),
        (
            "/conversations",
            {
                "name": "Kim",
                "email": "kim,eve@attacker.example",
                "body": "Walked in",
                "subject": "Visit",
            },
        ),
    ]:
        response = await desk.post(path, form)
        assert response.status == 400, path
        assert "email address" in await response.text(), path
    assert (
        await scalar(services, "SELECT count(*) FROM customer_identities WHERE value LIKE '%eve@%'")
        == 0
    )
    assert await scalar(services, "SELECT count(*) FROM agents WHERE email LIKE '%eve@%'") == 0


async def test_the_outbox_refuses_an_address_that_got_in_before_and_sends_odd_subjects_on_one_line(
    shop: Server, relay: Relay
) -> None:
    services = shop.services
    amy = Actor.agent(1, "Amy")
    broken = await services.conversations.open(
        channel="form",
        customer_name="Lee",
        identity=("email", "lee@customer.test"),
        subject="Refund",
        body="Hello",
    )
    # What an older version let in, written straight into the store.
    await services.db.write(
        lambda conn: conn.execute(
            "UPDATE customer_identities SET value = ? WHERE customer_id = ?",
            (TWO, broken.customer_id),
        )
    )
    await services.conversations.post(broken.conversation_id, amy, "Refund sent.")
    await eventually(
        lambda: scalar(services, "SELECT status = 'failed' FROM outbox"),
        what="the mail to a list of addresses to fail",
    )
    assert "not a valid email address" in await scalar(services, "SELECT last_error FROM outbox")

    subject = await services.conversations.open(
        channel="form",
        customer_name="Kim",
        identity=("email", "kim@customer.test"),
        subject="Invoice",
        body="Hello",
    )
    await services.db.write(
        lambda conn: conn.execute(
            "UPDATE conversations SET subject = ? WHERE id = ?",
            ("Invoice\r\nBcc: eve@attacker.example", subject.conversation_id),
        )
    )
    await services.conversations.post(subject.conversation_id, amy, "Here it is.")
    [mail] = await relay.wait_for(1)
    assert mail["Subject"] == f"Re: Invoice Bcc: eve@attacker.example [#{subject.conversation_id}]"
    assert relay.envelopes[0][1] == ["kim@customer.test"]
