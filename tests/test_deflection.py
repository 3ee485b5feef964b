"""Deflection: an article answers the question before (or while) it waits in the queue."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from conftest import Server, make_config, start_server
from email_helpers import scalar
from onlinesupport.lib.clock import ManualClock
from test_chat_protocol import SITE, Visitor, allow
from test_contact_form import GOOD, _token

REFUNDS = {
    "title": "Returns and refunds",
    "status": "published",
    "visibility": "public",
    "body": "You can return any item within 30 days and get a full refund. Billing "
    "mistakes such as a double charge are refunded within 3 days.",
}


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock, int]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        article_id = await server.services.knowledge.save(None, REFUNDS, None)
        yield server, clock, article_id


async def test_the_contact_form_offers_articles_and_an_answered_question_is_not_sent(
    shop, client_factory
) -> None:
    server, clock, article_id = shop
    public = client_factory(server.public_url)
    question = {**GOOD, "token": await _token(public, clock)}
    response = await public.session.post(server.public_url + "/contact", data=question)
    page = await response.text()
    assert response.status == 200 and "These articles may answer your question" in page
    assert "Returns and refunds" in page and "<mark>" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    answered = await public.session.post(
        server.public_url + "/contact/answered",
        data={"article_id": str(article_id), "token": token, "question": "Double charge"},
    )
    assert answered.status == 200 and "Your question was not sent" in await answered.text()
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 0
    assert await scalar(server.services, "SELECT source FROM kb_deflections") == "form"
    forged = await public.session.post(
        server.public_url + "/contact/answered",
        data={"article_id": str(article_id), "token": "1.forged", "question": "x"},
    )
    assert forged.status == 400


async def test_still_needing_help_sends_the_question_untouched(shop, client_factory) -> None:
    server, clock, _ = shop
    public = client_factory(server.public_url)
    response = await public.session.post(
        server.public_url + "/contact", data={**GOOD, "token": await _token(public, clock)}
    )
    page = await response.text()
    hidden = dict(
        re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
            page.split("Still need help?")[1],
        )
    )
    assert hidden["suggested"] == "1" and hidden["message"] == GOOD["message"]
    sent = await public.session.post(
        server.public_url + "/contact", data=hidden, allow_redirects=False
    )
    assert sent.status == 303 and "/contact/sent" in sent.headers["Location"]
    assert await scalar(server.services, "SELECT subject FROM conversations") == "Double charge"
    assert await scalar(server.services, "SELECT count(*) FROM kb_deflections") == 0


async def test_the_widget_records_an_answer_before_and_while_waiting(shop) -> None:
    server, _, article_id = shop
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{server.public_url}/help/suggest?q=I+want+a+refund", headers={"Origin": SITE}
        ) as response:
            assert response.headers["Access-Control-Allow-Origin"] == SITE
            [found] = (await response.json())["articles"]
            assert found["id"] == article_id
        async with http.get(
            f"{server.public_url}/help/suggest?q=refund", headers={"Origin": "https://evil.example"}
        ) as response:
            assert response.status == 403

        v = Visitor(http, server)
        await v.connect()
        await v.send(type="answered", article_id=article_id, question="Can I get a refund?")
        assert (await v.receive("answered"))["conversation_id"] is None
        await v.send(type="answered", article_id=article_id + 99)
        assert "no such article" in (await v.receive("error"))["message"]

        await v.send(type="start", client_id="c1", body="Where is my refund?")
        v.conversation_id = (await v.receive("ack"))["conversation_id"]
        await v.send(type="answered", article_id=article_id, question="Where is my refund?")
        assert (await v.receive("answered"))["conversation_id"] == v.conversation_id
        await v.close()
    status = await scalar(server.services, "SELECT status FROM conversations")
    assert status == "resolved", "it left the queue"
    rows = await server.services.db.fetch_all(
        "SELECT source, conversation_id, question FROM kb_deflections ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("widget", None, "Can I get a refund?"),
        ("widget", v.conversation_id, "Where is my refund?"),
    ]
