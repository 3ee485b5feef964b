"""Issue 13.7: each malformed input the review found answers 4xx (or an error frame), never 500.

The fuzz test (test_fuzz_routes.py) sends whole classes of input to every route; these are the
reviewer's own findings, one by one, so each stays fixed by name.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import re
import time
from typing import Any

import aiohttp
import pytest
from yarl import URL

import onlinesupport
from conftest import PASSWORD, Personas, Server
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.errors import UserError
from test_chat_protocol import SITE, Visitor, allow

HUGE = "9" * 30
NOT_UTF8 = b"email=\xff\xfe%FF&token=\xc3&csrf_token=\xc3\x28&body=\xed\xa0\x80"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad)


@pytest.fixture
def article(server: Server) -> Any:
    async def make() -> int:
        return await server.services.knowledge.save(
            None,
            {
                "title": "Returns and refunds",
                "status": "published",
                "visibility": "public",
                "body": "Return any item within 30 days.",
            },
            None,
        )

    return make


async def test_form_bodies_that_are_not_utf8_are_answered_400(
    server: Server, article: Any, caplog: pytest.LogCaptureFixture
) -> None:
    article_id = await article()
    async with aiohttp.ClientSession() as http:
        for base, path in [
            (server.public_url, "/my/signin"),
            (server.public_url, "/contact"),
            (server.public_url, "/contact/answered"),
            (server.public_url, f"/help/articles/{article_id}/feedback"),
            (server.public_url, "/my/link"),
            (server.desk_url, "/signin"),
        ]:
            async with http.post(
                base + path, data=NOT_UTF8, headers=FORM, allow_redirects=False
            ) as response:
                assert response.status == 400, path
                assert "UTF-8" in await response.text()
        # A charset nobody knows is not a server error either.
        async with http.post(
            server.public_url + "/my/signin",
            data=b"email=a",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=no-such-charset"},
        ) as response:
            assert response.status == 400
        multipart = (
            b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\n\xff\xfe\r\n--b--\r\n'
        )
        async with http.post(
            server.public_url + "/contact",
            data=multipart,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        ) as response:
            assert response.status == 400
    no_tracebacks(caplog)


async def test_tokens_and_signatures_with_letters_outside_ascii_are_refused_not_crashed(
    server: Server, article: Any, caplog: pytest.LogCaptureFixture
) -> None:
    article_id = await article()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        setup = await http.get(server.desk_url + "/setup?token=é☃")
        assert setup.status == 403, "no admin yet: the first-run link is checked"
        for token in ("1.é", "é.é", "1.\u00ff" * 3):
            async with http.post(
                server.public_url + "/contact/answered",
                data={"article_id": str(article_id), "token": token},
            ) as response:
                assert response.status == 400
            async with http.post(
                server.public_url + "/contact",
                data={
                    "token": token,
                    "name": "Lee",
                    "email": "lee@example.com",
                    "message": "Hello",
                    "question_type": "Billing",
                    "urgency": "today",
                },
            ) as r:
                assert r.status in (400, 429)
        # A double-submit cookie to compare with (no admin yet, so no sign-in form hands one out).
        http.cookie_jar.update_cookies({"os_csrf": "a" * 43}, URL(server.desk_url))
        async with http.post(
            server.desk_url + "/signin",
            data={"csrf_token": "é", "email": "x"},
            allow_redirects=False,
        ) as response:
            assert response.status == 403
        async with http.post(
            server.desk_url + "/signin",
            data={"email": "x"},
            headers={"X-CSRF-Token": "é"},
            allow_redirects=False,
        ) as response:
            assert response.status == 403
        sent = await http.get(server.public_url + "/contact/sent?n=1&when=today&s=é")
        assert sent.status == 404
    no_tracebacks(caplog)


async def test_ids_of_twenty_and_thirty_digits_are_refused(
    server: Server, personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    future = str(int(time.time()) + 3600)
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        for token in (f"{HUGE}.{future}.abc", f"1.{HUGE}.abc", f"{'9' * 20}.{future}.abc"):
            async with http.get(server.desk_url + "/invitation?token=" + token) as response:
                assert response.status == 410, token
            async with http.post(server.desk_url + "/invitation", data={"token": token}) as r:
                assert r.status in (403, 410), token  # no CSRF cookie: refused before it
        v = Visitor(http, server)
        await v.start_chat()
        for conversation_id in (HUGE, "9" * 20):
            form = aiohttp.FormData()
            form.add_field("token", v.token or "")
            form.add_field("conversation_id", conversation_id)
            form.add_field("file", b"hello", filename="a.txt", content_type="text/plain")
            async with http.post(
                server.public_url + "/widget/upload", data=form, headers={"Origin": SITE}
            ) as response:
                assert response.status in (400, 403, 404), conversation_id
        for path in (
            f"/widget/files/{HUGE}/{'0' * 32}",
            f"/my/conversations/{HUGE}",
            f"/help/articles/{HUGE}-refunds",
        ):
            async with http.get(server.public_url + path, allow_redirects=False) as response:
                assert response.status in (303, 400, 404), path
        await v.close()
    no_tracebacks(caplog)


async def test_the_visitor_socket_refuses_bad_hello_and_ids_and_stays_usable(
    server: Server, personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    await allow(server, SITE)
    services = server.services
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        await v.start_chat()
        await v.close()
        for hello in (
            {"conversation_id": 10**30},
            {"last_seq": 10**30},
            {"conversation_id": -1},
            {"last_seq": -5},
            {"conversation_id": True},
            {"token": "v1.é.é"},
            {"token": "v1.\ud800.x"},
        ):
            ws = await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
            await ws.send_json(
                {
                    "type": "hello",
                    "token": v.token,
                    "conversation_id": v.conversation_id,
                    "last_seq": 0,
                    **hello,
                }
            )
            first = await ws.receive_json(timeout=5)
            if first["type"] == "error":
                assert "wrong" not in first["message"], hello  # not "Something went wrong"
                # The socket still works: a proper hello is answered.
                await ws.send_json(
                    {
                        "type": "hello",
                        "token": v.token,
                        "conversation_id": v.conversation_id,
                        "last_seq": 0,
                    }
                )
                first = await ws.receive_json(timeout=5)
            assert first["type"] == "welcome", (hello, first)
            await ws.close()

        # A widget that claims more than there is (a restored backup) still gets what follows.
        ws_visitor = Visitor(http, server)
        ws_visitor.token, ws_visitor.conversation_id = v.token, v.conversation_id
        await ws_visitor.connect(last_seq=50)
        await services.conversations.post(
            v.conversation_id, Actor.agent(personas.agent, "Amy"), "Hi, Amy here"
        )
        assert (await ws_visitor.receive("message"))["body"] == "Hi, Amy here"

        for frame in (
            {"type": "answered", "article_id": 10**30},
            {"type": "proactive", "message_id": 10**30, "event": "shown"},
            {"type": "proactive", "message_id": -1, "event": "shown"},
            {"type": "rate", "score": 10**30},
            {"type": "answered", "article_id": 2**63},
        ):
            await ws_visitor.send(**frame)
            error = await ws_visitor.receive("error")
            assert "wrong" not in error["message"], frame
        # A lone surrogate (a cut emoji) is kept as a replacement character, not refused.
        await ws_visitor.send(type="send", client_id="s1", body="half an emoji: \ud83d!")
        assert (await ws_visitor.receive("ack"))["client_id"] == "s1"
        stored = await services.db.fetch_one("SELECT body FROM messages WHERE client_id = 's1'")
        assert stored[0] == "half an emoji: \ufffd!"
        await ws_visitor.send(type="queue")
        assert (await ws_visitor.receive("queue"))["type"] == "queue"
        await ws_visitor.close()
    no_tracebacks(caplog)


async def test_the_desk_socket_ignores_huge_ids_and_stays_open(
    server: Server, personas: Personas, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com", PASSWORD)
    async with desk.session.ws_connect(server.desk_url + "/api/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        for frame in (
            {"type": "read", "conversation_id": 10**30, "seq": 1},
            {"type": "read", "conversation_id": 1, "seq": 10**30},
            {"type": "typing", "conversation_id": 10**30},
            {"type": "presence", "status": ["online"]},
        ):
            await ws.send_json(frame)
            await ws.send_str("ping")
            answer = await ws.receive(timeout=5)
            while answer.type == aiohttp.WSMsgType.TEXT and answer.data != "pong":
                answer = await ws.receive(timeout=5)
            assert answer.data == "pong", frame
    no_tracebacks(caplog)


def _our_classes() -> list[type]:
    found = []
    for module in pkgutil.walk_packages(onlinesupport.__path__, "onlinesupport."):
        if module.name.endswith("windows_service"):
            continue  # pywin32 only
        loaded = importlib.import_module(module.name)
        found += [
            c for _, c in inspect.getmembers(loaded, inspect.isclass) if c.__module__ == module.name
        ]
    return found


# Errors about the server's own state, never about what someone sent.
NOT_INPUT = {
    "SecretUnreadable",
    "StoreError",
    "StoreClosed",
    "ConfigError",
    "CommandError",
    "DataDirLocked",
    "SubscriberLagged",
    "MailServerError",
    "TemporaryFailure",
    "PermanentFailure",
    "LooksLikeSpam",
    "TooSoon",
    "NotFound",
    "StorageFull",
    "ResolvedToRefused",
    "Conflict",  # a store constraint; the service that writes turns it into a UserError
    "AlreadyReported",  # the base of StorageFull
}


def test_every_invalid_input_error_is_a_user_error() -> None:
    errors = [c for c in _our_classes() if issubclass(c, Exception)]
    assert len(errors) > 11
    strays = [
        c.__qualname__
        for c in errors
        if not issubclass(c, UserError) and c.__name__ not in NOT_INPUT
    ]
    assert strays == [], "derive them from onlinesupport.lib.errors.UserError (or list them here)"
    user_errors = {c.__name__ for c in errors if issubclass(c, UserError)}
    assert {
        "InvalidCommand",
        "AccountError",
        "FormRejected",
        "ProtocolError",
        "InvalidRule",
        "InvalidHours",
        "InvalidProactive",
        "InvalidSettings",
        "MailboxError",
        "InvalidBranding",
        "ArticleRejected",
    } <= user_errors


async def test_the_error_middleware_answers_any_user_error_with_its_status_and_message() -> None:
    from aiohttp.test_utils import make_mocked_request

    from onlinesupport.web.security import errors

    class TeapotError(UserError):
        status = 418

    async def refuses(request: Any) -> Any:
        raise TeapotError("no coffee here", field="drink")

    request = make_mocked_request("POST", "/api/x", headers={"Accept": "application/json"})
    response = await errors(request, refuses)
    assert response.status == 418
    assert re.search(r'"error": "no coffee here", "field": "drink"', response.text)
