"""Visitor access: one rule for which conversation is a visitor's, one limit for their sends."""

from __future__ import annotations

import pytest

from onlinesupport.channels.chat.access import (
    MESSAGES_PER_MINUTE,
    NotTheirs,
    TooFast,
    VisitorAccess,
)
from onlinesupport.services import Services


async def _chat(services: Services, access: VisitorAccess) -> tuple[str, str, int, int]:
    visitor_id, token = access.next_token(services.clock.now(), None)
    opened = await services.conversations.open(
        channel="chat",
        customer_name="Vera",
        identity=("visitor", visitor_id),
        body="Hello",
        client_id="c1",
    )
    return visitor_id, token, opened.customer_id, opened.conversation_id


async def test_a_visitor_sends_only_into_their_own_conversation(services: Services) -> None:
    access = VisitorAccess(
        services.db, services.clock, services.secret_key, messages_per_address=100
    )
    visitor_id, token, customer_id, conversation_id = await _chat(services, access)
    assert await access.visitor(token, services.clock.now()) == (visitor_id, customer_id)
    assert await access.sender(token, conversation_id, "192.0.2.1") == (
        customer_id,
        conversation_id,
    )
    _, stranger = access.next_token(services.clock.now(), None)
    assert await access.visitor(stranger, services.clock.now()) == (stranger.split(".")[1], None)
    _, other_token, _, other_conversation = await _chat(services, access)
    for token_, wanted in (
        (stranger, conversation_id),
        (token, other_conversation),
        ("v2.forged.1.x", conversation_id),
        (token, None),
        (None, None),
    ):
        with pytest.raises(NotTheirs) as refused:
            await access.sender(token_, wanted, "192.0.2.1")
        assert refused.value.status == 403
    assert await access.own_conversation(customer_id, other_conversation) is None


async def test_sends_by_socket_and_by_upload_count_against_one_limit(services: Services) -> None:
    access = VisitorAccess(
        services.db, services.clock, services.secret_key, messages_per_address=10**6
    )
    visitor_id, token, _, conversation_id = await _chat(services, access)
    for _ in range(MESSAGES_PER_MINUTE - 1):
        assert access.refuse_rate(visitor_id, "192.0.2.1") is None  # the websocket's sends
    await access.sender(token, conversation_id, "192.0.2.1")
    with pytest.raises(TooFast, match="too quickly") as refused:
        await access.sender(token, conversation_id, "192.0.2.1")
    assert refused.value.status == 429
    assert access.refuse_rate(visitor_id, "192.0.2.1") is not None


async def test_a_network_is_limited_across_its_visitors(services: Services) -> None:
    access = VisitorAccess(services.db, services.clock, services.secret_key, messages_per_address=2)
    assert access.refuse_rate(None, "198.51.100.7") is None
    assert access.refuse_rate("someone", "198.51.100.7") is None
    assert access.refuse_rate("someone-else", "198.51.100.7") == (
        "Too many messages from your network; wait a minute."
    )
    assert access.refuse_rate("someone-else", "198.51.100.8") is None
