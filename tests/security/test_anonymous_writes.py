"""Anonymous writes are limited and coalesced (issue 13, finding 5).

One visitor sent 3,000 page and 1,000 rate frames in 4 s (4,002 events, each pushed to every
desk, which reloaded its inbox each time); 2,000 help-center searches wrote 2,000 "unanswered
search" rows; 300 of 300 "Was this helpful? no" votes counted.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from conftest import Personas, Server, sign_in_page
from email_helpers import scalar
from onlinesupport.channels.chat.protocol import PAGE_VIEWS_PER_MINUTE
from onlinesupport.knowledge.service import UNANSWERED_PER_ADDRESS, VOTES_PER_ADDRESS
from test_chat_protocol import SITE, Visitor, allow

ARTICLE = {
    "title": "Shipping to Norway",
    "status": "published",
    "visibility": "public",
    "body": "We ship to Norway in 3 days.",
}


async def _chatting(http: aiohttp.ClientSession, server: Server) -> Visitor:
    await allow(server, SITE)
    v = Visitor(http, server)
    await v.connect()
    await v.send(type="start", client_id="c1", body="Hello")
    v.conversation_id = (await v.receive("ack"))["conversation_id"]
    return v


async def _settled(v: Visitor) -> None:
    """Frames are handled in order: once `queue` is answered, all before it were (refusals,
    such as "rated already" or "too quickly", may come on the way)."""
    await v.send(type="queue")
    assert v.ws is not None
    while (await v.ws.receive_json(timeout=30))["type"] != "queue":
        pass


async def _events(server: Server, kind: str) -> int:
    return await scalar(server.services, "SELECT count(*) FROM events WHERE type = ?", (kind,))


async def test_a_chat_is_rated_once_however_often_the_visitor_sends_it(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        v = await _chatting(http, server)
        for n in range(300):
            await v.send(type="rate", score=1 + n % 5, comment="spam")
        await _settled(v)
        assert await _events(server, "conversation.rated") == 1
        rating = await server.services.db.fetch_one(
            "SELECT data FROM events WHERE type = 'conversation.rated'"
        )
        assert json.loads(rating[0])["score"] == 1, "the first rating stands"


async def test_page_views_are_limited_per_visitor_and_minute(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        v = await _chatting(http, server)
        for n in range(1_000):
            await v.send(type="page", url=f"https://shop.example.com/p/{n}", title="Page")
        await _settled(v)
        assert await _events(server, "page.viewed") == PAGE_VIEWS_PER_MINUTE


async def test_the_same_page_twice_in_a_row_is_one_view(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        v = await _chatting(http, server)
        for url in ("/a", "/a", "/a", "/b", "/b", "/a"):
            await v.send(type="page", url=f"https://shop.example.com{url}", title="Page")
        await _settled(v)
        assert await _events(server, "page.viewed") == 3


async def test_proactive_and_answered_frames_count_once_per_visitor(server: Server) -> None:
    services = server.services
    message_id = await services.proactive.save(
        None, {"text": "Questions about shipping?", "active": "on"}
    )
    article_id = await services.knowledge.save(None, ARTICLE, None)
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)  # reading the site, no chat yet
        await v.connect()
        for _ in range(20):
            await v.send(type="proactive", message_id=message_id, event="shown")
            await v.send(type="answered", article_id=article_id, question="Norway?")
        await _settled(v)
    shown = await scalar(services, "SELECT count(*) FROM proactive_events WHERE kind = 'shown'")
    assert shown == 1
    assert await scalar(services, "SELECT count(*) FROM kb_deflections") == 1


async def _search(http: aiohttp.ClientSession, server: Server, query: str) -> None:
    async with http.get(server.public_url + "/help/search", params={"q": query}) as response:
        assert response.status == 200


def _from(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def test_unanswered_searches_are_counted_per_address(server: Server) -> None:
    async with _from("127.0.0.1") as http:
        for n in range(300):
            await _search(http, server, f"flood {n}")
        for _ in range(50):
            await _search(http, server, "gift wrapping")
    rows = await scalar(server.services, "SELECT count(*) FROM kb_unanswered_searches")
    assert rows <= UNANSWERED_PER_ADDRESS
    async with _from("127.0.0.2") as http:
        for _ in range(5):
            await _search(http, server, "Gift wrapping")
    counted = await server.services.db.fetch_all(
        "SELECT lower(query), count(*) FROM kb_unanswered_searches GROUP BY lower(query)"
    )
    assert dict(counted).get("gift wrapping", 0) <= 2


async def test_one_helpful_vote_per_visitor_per_article(server: Server) -> None:
    article_id = await server.services.knowledge.save(None, ARTICLE, None)
    url = f"{server.public_url}/help/articles/{article_id}/feedback"
    # A browser keeps its cookies: one vote, however often it is sent.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for _ in range(100):
            async with http.post(url, data={"helpful": "no"}) as response:
                assert response.status == 200
    assert await scalar(server.services, "SELECT count(*) FROM kb_feedback") == 1
    # A script that drops them: no more than a few from one address.
    for _ in range(200):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.post(url, data={"helpful": "no"}) as response:
                assert response.status == 200
    assert await scalar(server.services, "SELECT count(*) FROM kb_feedback") <= VOTES_PER_ADDRESS


async def test_the_contact_forms_answered_button_counts_once_per_address(server: Server) -> None:
    article_id = await server.services.knowledge.save(None, ARTICLE, None)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(server.public_url + "/contact") as page:
            token = re.search(r'name="token" value="([^"]+)"', await page.text()).group(1)
        for _ in range(100):
            async with http.post(
                server.public_url + "/contact/answered",
                data={"article_id": str(article_id), "token": token, "question": "x"},
            ) as response:
                assert response.status == 200
    assert await scalar(server.services, "SELECT count(*) FROM kb_deflections") == 1


@pytest.mark.browser
async def test_the_desk_does_not_reload_its_inbox_for_page_views_and_ratings(
    server: Server, personas: Personas, new_page: Any
) -> None:
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    async with aiohttp.ClientSession() as http:
        v = await _chatting(http, server)
        await expect(page.locator("#conversation-list")).to_contain_text("Hello")
        fetches: list[str] = []
        page.on(
            "request", lambda r: fetches.append(r.url) if "/api/conversations" in r.url else None
        )
        for n in range(5):
            await v.send(type="page", url=f"https://shop.example.com/{n}", title="Page")
        await v.send(type="rate", score=5)
        await _settled(v)
        await asyncio.sleep(1.0)
    assert fetches == []
