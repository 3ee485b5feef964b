"""Issue 18, verified website customers: only the website's signature makes a visitor a known
customer. A tampered or missing signature, a hostile `user` object, an unsigned email address
or a browser left signed in by someone else never lands a chat on another customer's record
(where agents would read that customer's history to a stranger)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Personas, Server
from email_helpers import scalar
from onlinesupport.channels.chat.identity import signature
from test_chat_protocol import visitor  # noqa: F401  (the fixture: visitors on an allowed site)


def signed(server: Server, user_id: str = "42", **extra: Any) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": "nora@kunde.test",
        "name": "Nora Kunde",
        "hash": signature(server.services.identity.secret, user_id),
        **extra,
    }


async def _chat(who, body: str, **hello: Any) -> int:
    await who.connect(**hello)
    await who.send(type="start", client_id=body[:8], body=body)
    who.conversation_id = (await who.receive("ack"))["conversation_id"]
    return who.conversation_id


async def _customer(server: Server, conversation_id: int) -> int:
    return await scalar(
        server.services, "SELECT customer_id FROM conversations WHERE id = ?", (conversation_id,)
    )


async def test_a_tampered_signature_gives_an_anonymous_visitor_and_the_desk_says_so(
    server: Server, personas: Personas, visitor, client_factory
) -> None:
    nora = await _customer(server, await _chat(visitor(), "Real Nora here", user=signed(server)))
    forger = visitor()
    welcome = await forger.connect(user={**signed(server), "id": "43"})
    assert welcome["visitor"] == {"verified": False, "unverified": True, "name": "", "email": ""}
    await forger.send(
        type="start",
        client_id="f1",
        body="I am Nora, show me my orders",
        name="Nora",
        email="nora@kunde.test",
    )
    forged = (await forger.receive("ack"))["conversation_id"]
    assert await _customer(server, forged) != nora
    assert (
        await scalar(
            server.services,
            "SELECT count(*) FROM customer_identities WHERE kind = 'email' AND customer_id != ?",
            (nora,),
        )
        == 0
    ), "the typed address stays with its owner"
    assert (
        await scalar(
            server.services,
            "SELECT data FROM events WHERE conversation_id = ? AND type = 'identity.unverified'",
            (forged,),
        )
        == '{"external_id":"43"}'
    )
    desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{forged}")).text()
    assert "Not verified: the page named account “43”, but without a correct signature" in page
    history = page.split('<ol class="plain history">')[1].split("</ol>")[0]
    assert history.count("<li>") == 1, "none of Nora's history beside the forger's chat"


@pytest.mark.parametrize(
    "user",
    [
        42,
        "42",
        ["42"],
        {"id": {"$ne": None}, "hash": "x"},
        {"id": "42", "hash": 1},
        {"id": "x" * 50_000, "hash": "0" * 64},
        {"id": "\u0000\u202e", "hash": "0" * 64},
    ],
)
async def test_hostile_user_objects_leave_the_visitor_anonymous(
    server: Server, visitor, user: Any
) -> None:
    someone = visitor()
    welcome = await someone.connect(user=user)
    assert welcome["visitor"]["verified"] is False
    await someone.send(type="start", client_id="h1", body="hello")
    await someone.receive("ack")
    assert (
        await scalar(
            server.services, "SELECT count(*) FROM customer_identities WHERE kind = 'external'"
        )
        == 0
    )


async def test_an_unsigned_email_never_joins_another_customers_record(
    server: Server, visitor
) -> None:
    lee = await server.services.conversations.open(
        channel="email",
        customer_name="Lee",
        identity=("email", "lee@customer.test"),
        subject="My secret order",
        body="Order 99 for Lee",
    )
    # The website signs user 7 correctly, but the page (or its user) changed the email.
    mallory = visitor()
    chat = await _chat(
        mallory,
        "What did I order?",
        user=signed(server, "7", email="lee@customer.test", name="Lee"),
    )
    assert await _customer(server, chat) != lee.customer_id
    assert (
        await scalar(
            server.services,
            "SELECT customer_id FROM customer_identities WHERE value = 'lee@customer.test'",
        )
        == lee.customer_id
    )


async def test_a_browser_left_signed_in_is_not_the_next_persons(server: Server, visitor) -> None:
    nora = visitor()
    chat = await _chat(nora, "My address is Hauptstr. 1", user=signed(server))
    await nora.close()
    old_token = nora.token
    forged = {**signed(server), "hash": "0" * 64}
    for hello in ({}, {"user": signed(server, "7")}, {"user": forged}):
        nora.token, nora.conversation_id = old_token, chat
        welcome = await nora.connect(**hello)
        assert welcome["conversation_id"] is None, f"resumed with {hello}"
        assert welcome["token"] != old_token
        assert not any(f["type"] == "message" for f in await nora.frames())
        await nora.close()
    nora.token, nora.conversation_id = old_token, chat
    assert (await nora.connect(user=signed(server)))["conversation_id"] == chat
