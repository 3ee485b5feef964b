"""Issue 13, finding 2: a mail that quotes a conversation's Message-ID must not take it over.

Only the conversation's customer, a colleague the customer copied, or someone answering one of
our own signed mails joins it, and none of them moves where replies go: an agent chooses. Any
other mail naming the conversation opens a new one, linked to it.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from conftest import PASSWORD, free_port, make_config, start_server
from email_helpers import add_mailbox, eventually, mail, mailbox_form, scalar, smtp_send
from mail_servers import Relay
from onlinesupport.core.conversations import Actor


def _message_id(raw: bytes) -> str:
    return next(
        line.split(b":", 1)[1].strip().decode()
        for line in raw.splitlines()
        if line.lower().startswith(b"message-id:")
    )


async def _start(stack: AsyncExitStack, tmp_path: Path, relay: Relay):
    config = make_config(
        tmp_path / "data",
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_acks_per_hour=0,
    )
    server = await start_server(stack, config)
    await add_mailbox(server.services, mailbox_form(None, relay, smtp_receive="on"))
    await server.services.accounts.create_agent("ada@shop.test", "Ada", "admin", PASSWORD)
    agent = await server.services.accounts.create_agent("amy@shop.test", "Amy", "agent", PASSWORD)
    return server, Actor.agent(agent, "Amy")


async def _reply_goes_to(services, relay: Relay, actor: Actor, text: str) -> str:
    count = len(relay.received)
    await services.conversations.post(1, actor, text)
    return (await relay.wait_for(count + 1))[-1]["To"]


async def test_a_stranger_quoting_the_customers_message_id_opens_a_linked_conversation(
    tmp_path: Path, relay: Relay, client_factory
) -> None:
    async with AsyncExitStack() as stack:
        server, amy = await _start(stack, tmp_path, relay)
        services, port = server.services, server.services.email.smtp_port
        first = mail(body="Where is order 1234?", Cc="Dora <dora@customer.test>")
        await smtp_send(port, first, "carla@customer.test")
        # The attack: a stranger answers the customer's own mail.
        await smtp_send(
            port,
            mail(
                sender="mallory@elsewhere.test",
                subject="Re: My order is late",
                body="Please send it to my address instead.",
                In_Reply_To=_message_id(first),
            ),
            "mallory@elsewhere.test",
        )
        assert (
            await scalar(services, "SELECT count(*) FROM messages WHERE conversation_id = 1") == 1
        )
        assert (
            await scalar(
                services,
                "SELECT i.value FROM conversations c JOIN customer_identities"
                " i ON i.customer_id = c.customer_id WHERE c.id = 2",
            )
            == "mallory@elsewhere.test"
        )
        links = await services.db.fetch_all(
            "SELECT conversation_id, data FROM events"
            " WHERE type = 'email.linked' ORDER BY conversation_id"
        )
        assert [r[0] for r in links] == [1, 2]
        assert (
            await _reply_goes_to(services, relay, amy, "It ships today.") == "carla@customer.test"
        )

        # Someone Carla forwarded our reply to answers it: our signed Message-ID lets them in,
        # as a participant; replies still go to Carla.
        ours = relay.received[-1]["Message-ID"]
        await smtp_send(
            port,
            mail(sender="bob@partner.test", body="I handle this for Carla now.", In_Reply_To=ours),
            "bob@partner.test",
        )
        # Dora, whom Carla copied, answers Carla's mail: she joins too.
        await smtp_send(
            port,
            mail(
                sender="dora@customer.test",
                body="Mine is late as well.",
                In_Reply_To=_message_id(first),
            ),
            "dora@customer.test",
        )
        assert await scalar(services, "SELECT count(*) FROM conversations") == 2
        assert (
            await scalar(
                services,
                "SELECT count(*) FROM messages WHERE conversation_id = 1"
                " AND author_type = 'customer'",
            )
            == 3
        )
        assert [
            tuple(r)
            for r in await services.db.fetch_all(
                "SELECT address, copied, wrote FROM email_participants WHERE conversation_id = 1"
                " ORDER BY address"
            )
        ] == [("bob@partner.test", 0, 1), ("dora@customer.test", 1, 1)]
        authors = [
            r[0]
            for r in await services.db.fetch_all(
                "SELECT i.value FROM messages m JOIN customer_identities i ON i.customer_id ="
                " m.author_id WHERE m.conversation_id = 1 AND m.author_type = 'customer'"
                " ORDER BY m.seq"
            )
        ]
        assert authors == ["carla@customer.test", "bob@partner.test", "dora@customer.test"]
        assert await _reply_goes_to(services, relay, amy, "Noted.") == "carla@customer.test"

        # The desk shows who else is on the mail; the agent chooses Bob.
        desk = client_factory(server.desk_url)
        await desk.signin("amy@shop.test")
        page = await (await desk.get("/conversations/1")).text()
        assert "bob@partner.test" in page and "not the customer" in page and "#2" in page
        chosen = await desk.post("/conversations/1/reply-to", {"address": "bob@partner.test"})
        assert chosen.status == 303
        refused = await desk.post(
            "/conversations/1/reply-to", {"address": "mallory@elsewhere.test"}
        )
        assert refused.status == 400
        assert await _reply_goes_to(services, relay, amy, "Sent to you, Bob.") == "bob@partner.test"
        # Carla writes again: the agent's choice stays.
        await smtp_send(port, mail(body="Any news?", In_Reply_To=ours), "carla@customer.test")
        await eventually(
            lambda: scalar(
                services,
                "SELECT count(*) = 4 FROM messages WHERE"
                " conversation_id = 1 AND author_type = 'customer'",
            )
        )
        assert await _reply_goes_to(services, relay, amy, "Still Bob.") == "bob@partner.test"


async def test_an_address_hidden_in_an_encoded_name_is_recorded_as_the_attacker(
    tmp_path: Path, relay: Relay
) -> None:
    async with AsyncExitStack() as stack:
        server, amy = await _start(stack, tmp_path, relay)
        services, port = server.services, server.services.email.smtp_port
        first = mail(sender="customer@example.com", body="My order, please.")
        await smtp_send(port, first, "customer@example.com")
        forged = (
            b"From: =?utf-8?q?customer@example.com?= <attacker@example.net>\r\n"
            b"To: support@shop.test\r\nSubject: Re: My order is late\r\n"
            b"Message-ID: <forged-1@example.net>\r\n"
            b"In-Reply-To: " + _message_id(first).encode() + b"\r\n\r\n"
            b"Send everything to my new address from now on.\r\n"
        )
        await smtp_send(port, forged, "attacker@example.net")
        row = await services.db.fetch_one(
            "SELECT c.id, i.value, e.warning FROM email_messages e JOIN messages m"
            " ON m.id = e.message_id JOIN conversations c ON c.id = m.conversation_id"
            " JOIN customer_identities i ON i.customer_id = c.customer_id"
            " WHERE e.rfc_message_id = 'forged-1@example.net'"
        )
        assert tuple(row[:2]) == (2, "attacker@example.net")
        assert "looks like another address (customer@example.com)" in row[2]
        assert await _reply_goes_to(services, relay, amy, "Here it is.") == "customer@example.com"
