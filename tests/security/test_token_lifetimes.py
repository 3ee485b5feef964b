"""Issue 13.12 (the parts outside mail): tokens that live too long, and a talkative Server header.

Contact-form tokens could be posted again and again for 24 hours; visitor tokens and the
addresses of visitors' files never expired. Visitor tokens now last 30 days from their last use
and are replaced at every connection, so a visitor who comes back now and then never loses their
conversation while a token copied long ago stops working; file addresses last about a week
and are handed out afresh with every delivery.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from conftest import PASSWORD, Server, make_config, start_server
from email_helpers import scalar
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from test_chat_protocol import SITE, Visitor, allow

GOOD = {
    "name": "Lee Customer",
    "email": "lee@customer.test",
    "question_type": "Billing",
    "subject": "Double charge",
    "message": "I was charged twice.",
    "urgency": "today",
    "suggested": "1",
}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db4"
    "0000000049454e44ae426082"
)


Shop = tuple[Server, ManualClock]


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        await allow(server, SITE)
        yield server, clock


async def _form_token(http: aiohttp.ClientSession, server: Server, clock: ManualClock) -> str:
    page = await (await http.get(server.public_url + "/contact")).text()
    clock.advance(seconds=5)
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


async def test_a_contact_form_token_sends_one_message(shop: Shop) -> None:
    server, clock = shop
    async with aiohttp.ClientSession() as http:
        first = await _form_token(http, server, clock)
        second = await _form_token(http, server, clock)
        assert first != second, "two forms shown in the same second get different tokens"
        url = server.public_url + "/contact"
        sent = await http.post(url, data={**GOOD, "token": first}, allow_redirects=False)
        assert sent.status == 303
        # The same form again (a double click, a replaying robot): the first answer, no second
        # conversation.
        for text in ("I was charged twice.", "Buy cheap watches"):
            again = await http.post(
                url, data={**GOOD, "message": text, "token": first}, allow_redirects=False
            )
            assert again.status == 303 and again.headers["Location"] == sent.headers["Location"]
        assert await scalar(server.services, "SELECT count(*) FROM conversations") == 1
        # A double click: both sends at once get the one conversation.
        third = await _form_token(http, server, clock)
        both = await asyncio.gather(
            *(
                http.post(url, data={**GOOD, "token": third}, allow_redirects=False)
                for _ in range(2)
            )
        )
        assert {r.status for r in both} == {303}
        assert len({r.headers["Location"] for r in both}) == 1
        assert await scalar(server.services, "SELECT count(*) FROM conversations") == 2
        # "This answered my question" counts once per form, too.
        article = await server.services.knowledge.save(
            None,
            {
                "title": "Refunds",
                "status": "published",
                "visibility": "public",
                "body": "Refunds take 5 days.",
            },
            None,
        )
        for _ in range(3):
            answered = await http.post(
                server.public_url + "/contact/answered",
                data={"token": second, "article_id": str(article), "question": "refund?"},
            )
            assert answered.status == 200
        assert await scalar(server.services, "SELECT count(*) FROM kb_deflections") == 1
        refused = await http.post(url, data={**GOOD, "token": second})
        assert refused.status == 429 and 'value="Lee Customer"' in await refused.text(), (
            "a spent form comes back filled in, with a fresh token"
        )


async def test_visitor_tokens_expire_unless_used_and_are_replaced_at_every_visit(
    shop: Shop,
) -> None:
    server, clock = shop
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        await v.start_chat()
        first = v.token
        await v.close()
        for days in (20, 20, 20, 20):  # an active visitor: back every few weeks, for months
            clock.advance(days=days)
            before = v.token
            welcome = await v.connect()
            assert welcome["conversation_id"] == v.conversation_id, "the chat is still theirs"
            assert welcome["token"] != before, "a fresh token at every visit"
            await v.close()
        stale = Visitor(http, server)
        stale.token, stale.conversation_id = first, v.conversation_id
        welcome = await stale.connect()
        assert welcome["conversation_id"] is None, "a token unused for 80 days is worth nothing"
        await stale.close()
        clock.advance(days=31)
        welcome = await v.connect()
        assert welcome["conversation_id"] is None, "nor one unused for 31 days"
        await v.close()


async def test_a_token_from_before_lifetimes_is_accepted_once_and_replaced(shop: Shop) -> None:
    server, _ = shop
    key = server.services.secret_key
    visitor_id = "oldvisitor1234567890ab"
    # The first format, signed as it always was (no expiry in it).
    digest = hmac.new(key, f"visitor:{visitor_id}".encode(), hashlib.sha256).digest()
    old = f"v1.{visitor_id}.{base64.urlsafe_b64encode(digest[:18]).decode()}"
    opened = await server.services.conversations.open(
        channel="chat", identity=("visitor", visitor_id), body="Asked last year"
    )
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        v.token, v.conversation_id = old, opened.conversation_id
        welcome = await v.connect()
        assert welcome["conversation_id"] == opened.conversation_id
        assert welcome["token"].startswith("v2.")
        await v.close()


async def test_file_addresses_expire_and_a_new_visit_gets_working_ones(shop: Shop) -> None:
    server, clock = shop
    services = server.services
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        await v.start_chat()
        amy = await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
        stored = await services.files.receive("box.png", _chunks(PNG))
        await services.conversations.post(
            v.conversation_id, Actor.agent(amy, "Amy"), "box.png", files=[stored]
        )
        frame = await v.receive("message")
        while not frame["attachments"]:
            frame = await v.receive("message")
        url = frame["attachments"][0]["url"]
        async with http.get(server.public_url + url) as response:
            assert response.status == 200 and await response.read() == PNG
        await v.close()
        clock.advance(days=9)
        async with http.get(server.public_url + url) as response:
            assert response.status == 404
            assert "reload" in await response.text()
        await v.connect(last_seq=0)
        fresh = [f for f in await v.frames(1.0) if f["type"] == "message" and f["attachments"]]
        renewed = fresh[0]["attachments"][0]["url"]
        assert renewed != url
        async with http.get(server.public_url + renewed) as response:
            assert response.status == 200
        forged = re.sub(r"/\d+/([0-9a-f]{32})$", lambda m: f"/{10**12}/{m.group(1)}", renewed)
        async with http.get(server.public_url + forged) as response:
            assert response.status == 404, "the expiry is signed too"
        await v.close()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_the_server_header_names_no_versions(server: Server) -> None:
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        for url in (
            server.public_url + "/healthz",
            server.public_url + "/no-such-page",
            server.public_url + "/widget.js",
            server.desk_url + "/signin",
            server.desk_url + "/static/desk.css",
            server.desk_url + "/inbox",
        ):
            async with http.get(url, allow_redirects=False) as response:
                assert response.headers.get("Server") == "OnlineSupport", url
        ws = await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
        assert ws._response.headers.get("Server") == "OnlineSupport"
        await ws.close()
    # Requests aiohttp cannot parse are answered before any application hook runs.
    port = int(server.public_url.rsplit(":", 1)[1])
    for request in (
        b"GET /" + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        head = (await reader.read(4096)).split(b"\r\n\r\n")[0].decode()
        writer.close()
        assert head.startswith("HTTP/1.") and " 400 " in head.splitlines()[0]
        assert "Server: OnlineSupport" in head.splitlines(), head
