"""Transcript and customer search from the desk."""

from __future__ import annotations

import pytest

from conftest import Desk, Personas, Server
from onlinesupport.core.conversations import Actor
from onlinesupport.store import search


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ship norway", '"ship"* "norway"*'),
        ('foo" AND (bar', '"foo"* "AND"* "bar"*'),
        ("  ", None),
    ],
)
def test_user_text_never_becomes_fts_syntax(text: str, expected: str | None) -> None:
    assert search.match_expression(text) == expected


async def test_search_finds_transcripts_by_stem_and_customers_by_address(
    server: Server, personas: Personas, client_factory
) -> None:
    conversations = server.services.conversations
    shipped = await conversations.open(
        channel="email",
        customer_name="Carla",
        identity=("email", "carla@example.com"),
        subject="Order 1042",
        body="Has my parcel shipped yet?",
    )
    await conversations.note(
        shipped.conversation_id,
        Actor.agent(personas.agent, "Amy"),
        "Courier <script>alert(1)</script> confirms shipping",
    )
    await conversations.open(channel="chat", customer_name="Dan", body="Opening hours?")
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get("/search?q=shipping")).text()
    assert f"#{shipped.conversation_id} Carla: Order 1042" in page
    assert "<mark>" in page
    assert "Opening hours" not in page
    page = await (await desk.get("/search?q=courier")).text()
    assert "<mark>Courier</mark> &lt;script&gt;alert(1)&lt;/script&gt;" in page, (
        "notes are searched, escaped"
    )
    page = await (await desk.get("/search?q=CARLA@example")).text()
    assert "carla@example.com" in page
    odd = await desk.get("/search?q=%22foo%22%20AND%20(NEAR%20*")
    assert odd.status == 200 and "No transcript matches." in await odd.text()
    found = await search.conversations(server.services.db, "parc")
    assert [c["id"] for c in found] == [shipped.conversation_id], "prefix matching"


async def test_a_customer_known_only_by_address_is_found_by_it(
    server: Server, personas: Personas, client_factory
) -> None:
    opened = await server.services.conversations.open(
        channel="email", identity=("email", "dora@example.net"), body="My invoice is wrong"
    )
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get("/search?q=invoice")).text()
    assert f"#{opened.conversation_id} dora@example.net:" in page
    page = await (await desk.get("/search?q=dora")).text()
    assert ">dora@example.net</a>" in page and "Unknown" not in page
