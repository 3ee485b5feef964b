"""Issue 13.7: every route of both listeners and every websocket frame type, fed malformed input.

The routes come from the applications' own routers and the frame types from the protocol code,
so whatever is added later is fuzzed without anyone remembering to list it here. Each route gets
classes of bad input (bytes that are not UTF-8, letters outside ASCII where tokens go, huge and
negative numbers, control characters, missing fields, oversized values, JSON of the wrong
types), signed in and not, with and without a valid CSRF token. The answer may be any 2xx, 3xx
or 4xx, never a 5xx; nothing may log an error or a traceback; and afterwards the listeners, the
session and the websockets still work.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from conftest import PASSWORD, Desk, Server, make_config, start_server
from onlinesupport.app import create_desk_app, create_public_app
from onlinesupport.channels.chat import protocol
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock, to_db
from onlinesupport.selfservice.access import CustomerAccess
from onlinesupport.store import customer_access as access_repo
from onlinesupport.web.desk import socket as desk_socket
from test_chat_protocol import SITE, allow

HUGE = "9" * 30
# Text that stays a valid form value but is hostile: where tokens, ids and addresses go.
HOSTILE = [
    "é☃\u200b",
    "\x00\r\n\t\x1b\x7f",
    HUGE,
    "-1",
    "²",
    "1e400",
    "A" * 100,
    "a@x.example,b@y.example",
    "/\t/evil.example",
    "{{7*7}}<script>",
]
# Typed values for JSON bodies and websocket frames.
TYPED: list[Any] = [
    10**30,
    -1,
    0,
    2**63,
    True,
    None,
    1.5,
    float("nan"),
    "",
    "\ud800",
    "é☃",
    "\x00\r\n",
    [],
    {},
    {"url": 10**30},
    "x" * 30_000,
]
# Field names every handler may read; the handler's own source adds the rest.
COMMON = [
    "csrf_token",
    "token",
    "email",
    "name",
    "password",
    "password_again",
    "body",
    "subject",
    "message",
    "next",
    "q",
    "id",
    "conversation_id",
    "agent_id",
    "queue_id",
    "client_id",
    "article_id",
    "helpful",
    "role",
    "status",
    "view",
    "page",
    "since",
    "lang",
    "question",
    "question_type",
    "urgency",
    "website",
    "decision",
    "score",
    "seq",
    "n",
    "s",
    "when",
    "part",
    "done",
    "suggested",
    "text",
    "title",
    "shortcut",
]
_FIELD = re.compile(
    r"""(?:get|getall|_text_field\(\w+,|_minutes\(\w+,)\(?\s*["'](\w+)["']"""
    r"""|\[["'](\w+)["']\]"""
)
# Values that get a form past its first checks, so the odd text in the other fields goes deep.
PLAUSIBLE = {
    "tier": "standard",
    "role": "agent",
    "status": "open",
    "decision": "erase",
    "helpful": "yes",
    "urgency": "today",
    "question_type": "Billing",
    "conversation_id": "1",
    "agent_id": "1",
    "queue_id": "1",
    "article_id": "1",
    "email": "lee@customer.test",
    "capacity": "3",
    "active": "on",
    "view": "open",
    "score": "5",
    "seq": "1",
    "client_id": "fuzz-1",
    "suggested": "1",
}
ODD_TEXT = "Lee \ud800 \x00\r\nBcc: x@y.example\u202e"
# Values tried for each path parameter until the route's pattern matches.
PATH_SAMPLES = [
    "1",
    "company",
    "start",
    "0" * 32,
    "0" * 16,
    "backup.db",
    "refunds",
    "a" * 24,
    "file.txt",
    "rotate",
    "de",
]


def fields_of(handler: Any) -> list[str]:
    """The names a handler reads from its request, from its source, plus the common ones."""
    try:
        source = inspect.getsource(handler)
    except (OSError, TypeError):
        source = ""
    found = {a or b for a, b in _FIELD.findall(source)}
    return sorted(found | set(COMMON))


def concrete_paths(resource: web.AbstractResource) -> list[str]:
    """A path that reaches `resource`, then the same with each number made huge."""
    info = resource.get_info()
    if "path" in info:
        return [info["path"]]
    if "prefix" in info:  # static files
        return [
            info["prefix"] + "/desk.css",
            info["prefix"] + "/..%2F..%2Fetc%2Fpasswd",
            info["prefix"] + "/%ff%fe",
            info["prefix"] + "/" + "a" * 300,
        ]
    formatter, pattern = info["formatter"], info["pattern"]
    names = re.findall(r"\{(\w+)\}", formatter)
    for values in itertools.product(PATH_SAMPLES, repeat=len(names)):
        path = formatter.format(**dict(zip(names, values, strict=True)))
        if pattern.fullmatch(path):
            break
    else:
        raise AssertionError(f"no sample value reaches {formatter}; add one to PATH_SAMPLES")
    chosen = dict(zip(names, values, strict=True))
    paths = [path]
    for name, value in chosen.items():
        if value.isdigit():
            huge = formatter.format(**{**chosen, name: HUGE})
            if pattern.fullmatch(huge):
                paths.append(huge)
    return paths


def routes(app: web.Application) -> Iterator[tuple[str, str, Any]]:
    """(method, path, handler) for every route, the ones that end a session last."""
    found = []
    for route in app.router.routes():
        if route.method not in ("GET", "POST"):
            continue
        for path in concrete_paths(route.resource):
            found.append((route.method, path, route.handler))
    return iter(sorted(found, key=lambda r: ("signout" in r[1], r[1], r[0])))


def urlencoded(fields: dict[str, str]) -> bytes:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in fields.items()).encode()


def multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart form with `fields` (raw bytes, as a hostile client sends them) and a file."""
    boundary = "fuzz" + secrets.token_hex(8)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="..\\\\..\\\\evil\u202e.txt"\r\nContent-Type: text/plain\r\n\r\n'
        f"not text: ".encode()
        + b"\xff\xfe\x00"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def bodies(names: list[str], csrf: str) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(what, body, headers) for one POST route; `csrf` goes in every form that is not about it."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    yield "missing fields", urlencoded({"csrf_token": csrf}), form
    not_utf8 = b"&".join(n.encode() + b"=\xff\xfe%FF\xc3(" for n in names)
    yield "not UTF-8", b"csrf_token=" + csrf.encode() + b"&" + not_utf8, form
    yield "not UTF-8, CSRF in a header", not_utf8, {**form, "X-CSRF-Token": csrf}
    yield (
        "unknown charset",
        urlencoded({"csrf_token": csrf, "email": "a"}),
        {"Content-Type": "application/x-www-form-urlencoded; charset=x-no-such"},
    )
    for value in HOSTILE:
        yield (
            f"every field {value[:12]!r}",
            urlencoded({**dict.fromkeys(names, value), "csrf_token": csrf}),
            form,
        )
    yield (
        "oversized fields",
        urlencoded({"csrf_token": csrf, **dict.fromkeys(names, "x" * 5000)}),
        form,
    )
    for offset in range(len(TYPED)):
        typed = {n: TYPED[(i + offset) % len(TYPED)] for i, n in enumerate(names)}
        body = json.dumps({**typed, "csrf_token": csrf}).encode()
        yield (
            f"JSON of odd types ({offset})",
            body,
            {
                "Content-Type": "application/json",
                "X-CSRF-Token": csrf,
                "Accept": "application/json",
            },
        )
    plausible = {n: PLAUSIBLE.get(n, ODD_TEXT) for n in names}
    yield (
        "plausible JSON, odd text",
        json.dumps({**plausible, "csrf_token": csrf}).encode(),
        {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    yield (
        "plausible form, odd text",
        urlencoded(
            {**{n: v.replace("\ud800", "\ufffd") for n, v in plausible.items()}, "csrf_token": csrf}
        ),
        form,
    )
    yield (
        "JSON that is not an object",
        b"[1, 2",
        {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    )
    yield (
        "JSON nested too deeply",
        b"[" * 50_000,
        {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    )
    data, content_type = multipart(
        {n: b"\xed\xa0\x80" if n == "name" else HUGE.encode() for n in names}
    )
    yield "multipart", data, {"Content-Type": content_type, "X-CSRF-Token": csrf}


# Headers anyone can set, with values that are not what they should be.
HOSTILE_HEADERS = [
    {"Origin": "http://[::1"},
    {"Origin": "null"},
    {"Origin": "https://évil.example:99999"},
    {"Referer": "http://[", "Accept": "application/json;q=é"},
    {"Cookie": 'os_session=é☃; os_customer=%ff%fe; os_csrf="\\\\"'},
    {"X-Forwarded-For": "é, ::::, 999.1.1.1", "X-Forwarded-Proto": "gopher"},
    {"Accept-Encoding": "gzip;" * 200, "Accept-Language": "*" * 3000},
]


def queries(names: list[str]) -> Iterator[tuple[str, str]]:
    """(what, raw query string) for one GET route."""
    yield "no query", ""
    yield "not UTF-8", "&".join(f"{n}=%ff%fe%c3%28" for n in names)
    for value in HOSTILE:
        yield (
            f"every parameter {value[:12]!r}",
            "&".join(f"{n}={quote(value, safe='')}" for n in names),
        )
    yield "one long parameter", f"{names[0]}={'A' * 7000}"
    yield "a request line too long to read", f"{names[0]}={'A' * 9000}"


class Findings:
    """Every answer that was a server error, as readable lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.requests = 0

    def check(self, who: str, method: str, path: str, what: str, status: int, text: str) -> None:
        self.requests += 1
        if status >= 500 or "Traceback" in text:
            self.lines.append(f"{who}: {method} {path[:80]} [{what}] -> {status} {text[:80]!r}")


async def fuzz_http(
    http: aiohttp.ClientSession,
    base: str,
    app: web.Application,
    who: str,
    csrf: str,
    findings: Findings,
    *,
    bad_csrf: bool = False,
) -> None:
    for method, path, handler in routes(app):
        names = fields_of(handler)
        if bad_csrf:
            if method == "POST":
                await refused_csrf(http, base + path, names, who, findings)
            continue
        for headers in HOSTILE_HEADERS:
            what = "headers " + ", ".join(headers)
            data = urlencoded({"csrf_token": csrf}) if method == "POST" else None
            async with http.request(
                method,
                URL(base + path, encoded=True),
                data=data,
                headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
                allow_redirects=False,
            ) as response:
                findings.check(
                    who, method, path, what, response.status, await response.text(errors="replace")
                )
        if method == "GET":
            for what, query in queries(names):
                url = URL(base + path + ("?" + query if query else ""), encoded=True)
                async with http.get(url, allow_redirects=False) as response:
                    findings.check(
                        who,
                        method,
                        path,
                        what,
                        response.status,
                        await response.text(errors="replace"),
                    )
                    if signed_out(response):
                        break
            continue
        for what, body, headers in bodies(names, csrf):
            async with http.post(
                URL(base + path, encoded=True), data=body, headers=headers, allow_redirects=False
            ) as response:
                findings.check(
                    who, method, path, what, response.status, await response.text(errors="replace")
                )
                if signed_out(response):
                    break


def signed_out(response: aiohttp.ClientResponse) -> bool:
    """Whether the route wants a signed-in agent (its handler is never reached without one)."""
    return response.status == 401 or (
        response.status == 303 and response.headers["Location"].startswith("/signin?next=")
    )


async def refused_csrf(
    http: aiohttp.ClientSession, url: str, names: list[str], who: str, findings: Findings
) -> None:
    """A CSRF token that is not the session's: letters outside ASCII, in a form and a header."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for what, body, headers in (
        ("CSRF field outside ASCII", urlencoded({n: "é\u2603" for n in names}), form),
        ("CSRF field not UTF-8", b"csrf_token=\xed\xa0\x80&body=\xff", form),
        (
            "CSRF header outside ASCII",
            b"{}",
            {"Content-Type": "application/json", "X-CSRF-Token": "é\u2603"},
        ),
    ):
        async with http.post(
            URL(url, encoded=True), data=body, headers=headers, allow_redirects=False
        ) as response:
            findings.check(
                who, "POST", url, what, response.status, await response.text(errors="replace")
            )


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad[:20])


Shop = tuple[Server, ManualClock]


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    """A server on a clock the test moves (so rate limits never hide a route), with a
    conversation, an article, a canned reply and a spare agent to be fuzzed at."""
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        services = server.services
        # Agent 1 is the one the fuzzed admin pages change; the admin signing in is agent 2.
        await services.accounts.create_agent("spare@example.com", "Spare", "agent", PASSWORD)
        await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
        await services.conversations.open(
            channel="form",
            customer_name="Lee",
            identity=("email", "lee@customer.test"),
            subject="Refund",
            body="Where is my refund?",
        )
        await services.knowledge.save(
            None,
            {"title": "Returns", "status": "published", "visibility": "public", "body": "30 days."},
            None,
        )
        await services.canned.add(
            2, True, shared=True, shortcut="thanks", title="Thanks", body="Thank you!"
        )
        await allow(server, SITE)
        yield server, clock


async def customer_session(services: Any, clock: ManualClock) -> str:
    """A signed-in customer page session for lee@customer.test (as a redeemed mailed link)."""
    token = secrets.token_urlsafe(32)
    customer = await services.db.fetch_one(
        "SELECT customer_id FROM customer_identities WHERE value = 'lee@customer.test'"
    )
    now = clock.now()
    await services.db.write(
        lambda conn: access_repo.add_link(
            conn,
            hashlib.sha256(token.encode()).hexdigest(),
            customer[0],
            to_db(now),
            to_db(now + timedelta(minutes=30)),
        )
    )
    access: CustomerAccess = services.customer_access
    session = await access.redeem(token)
    assert session is not None
    return session


@pytest.mark.slow
async def test_no_route_of_either_listener_answers_malformed_input_with_a_server_error(
    shop: Shop, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server, clock = shop
    services = server.services
    findings = Findings()
    desk_app, public_app = create_desk_app(services), create_public_app(services)

    anonymous: Desk = client_factory(server.desk_url)
    anonymous_csrf = await anonymous.form_token("/signin")
    await fuzz_http(
        anonymous.session, server.desk_url, desk_app, "desk, anonymous", anonymous_csrf, findings
    )
    admin: Desk = client_factory(server.desk_url)
    assert (await admin.signin("ada@example.com")).status == 303
    await fuzz_http(
        admin.session,
        server.desk_url,
        desk_app,
        "desk, admin, bad CSRF",
        admin.csrf,
        findings,
        bad_csrf=True,
    )
    await fuzz_http(admin.session, server.desk_url, desk_app, "desk, admin", admin.csrf, findings)

    visitor: Desk = client_factory(server.public_url)
    await fuzz_http(
        visitor.session, server.public_url, public_app, "public, anonymous", "", findings
    )
    customer: Desk = client_factory(server.public_url)
    session = await customer_session(services, clock)
    customer.session.cookie_jar.update_cookies({"os_customer": session}, URL(server.public_url))
    await fuzz_http(
        customer.session,
        server.public_url,
        public_app,
        "public, customer",
        services.customer_access.csrf(session),
        findings,
    )

    assert not findings.lines, (
        f"{len(findings.lines)} of {findings.requests} requests:\n" + "\n".join(findings.lines[:40])
    )
    assert findings.requests > 2000
    for base, listener in ((server.public_url, "public"), (server.desk_url, "desk")):
        async with anonymous.session.get(base + "/healthz") as response:
            assert (await response.json())["listener"] == listener
    no_errors_logged(caplog)


def frame_types() -> list[str]:
    """The visitor frame types the protocol handles, read from its dispatch table."""
    source = inspect.getsource(protocol.VisitorSession.handle)
    found = re.findall(r'"(\w+)": self\._\w+', source)
    assert len(found) >= 10, "the dispatch table moved; read the frame types from it again"
    return ["hello", *found]


def frame_fields() -> dict[str, list[str]]:
    """The fields each frame type names in the protocol's description."""
    fields = {}
    for kind, names in re.findall(r"^  (\w+)\s+\{([^}]*)\}", protocol.__doc__ or "", re.M):
        fields[kind] = [n.strip(" ?") for n in names.split(",") if n.strip(" ?")]
    return fields


class Socket:
    """A visitor websocket that checks, after every frame, that it still answers."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def still_answers(self, after: Any) -> list[dict[str, Any]]:
        """Ask where we are in the queue; every frame before the answer is returned."""
        await self.ws.send_json({"type": "queue"})
        seen = []
        while True:
            frame = await self.ws.receive_json(timeout=5)
            if frame["type"] == "error":
                assert "went wrong" not in frame["message"], after
            if frame["type"] == "queue":
                return seen
            seen.append(frame)


@pytest.mark.slow
async def test_no_visitor_frame_breaks_the_socket_or_stops_delivery(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    server, clock = shop
    services = server.services
    types, fields = frame_types(), frame_fields()
    assert set(types) <= set(fields), "describe every frame type in the protocol's docstring"
    url = server.public_url + "/widget/ws"
    sent = 0
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url, origin=SITE)
        await ws.send_json({"type": "hello"})
        token = (await ws.receive_json(timeout=5))["token"]
        await ws.send_json({"type": "start", "client_id": "first", "body": "Hello"})
        ack = await ws.receive_json(timeout=5)
        conversation_id = ack["conversation_id"]
        chat = Socket(ws)

        # hello: only once a socket, so each odd hello gets its own socket, then a proper one.
        for name, value in itertools.product(fields["hello"], TYPED):
            clock.advance(minutes=2)
            other = await http.ws_connect(url, origin=SITE)
            hello = {
                "type": "hello",
                "token": token,
                "conversation_id": conversation_id,
                "last_seq": 0,
                name: value,
            }
            await other.send_str(json.dumps(hello))
            answer = await other.receive_json(timeout=5)
            if answer["type"] == "error":
                assert "went wrong" not in answer["message"], hello
                await other.send_json({"type": "hello", "token": token})
                answer = await other.receive_json(timeout=5)
            assert answer["type"] == "welcome", (hello, answer)
            await other.close()
            sent += 1

        for kind in types:
            if kind == "hello":
                continue
            variants = [{}] + [{n: v} for n in [*fields[kind], "type"] for v in TYPED]
            for variant in variants:
                clock.advance(minutes=2)  # past every per-minute limit
                frame = {"type": kind, "client_id": f"c{sent}", "body": "hi", **variant}
                await ws.send_str(json.dumps(frame))
                await chat.still_answers(frame)
                sent += 1
        for raw in (
            "",
            "null",
            "[]",
            '"hello"',
            "{",
            '{"type": null}',
            "1e999999",
            '{"type": "send", "body": "\\ud800\\udfff\\ud800"}',
            "[" * 60_000,
            '{"type": "send", "body": ' + "[" * 5000 + "]" * 5000 + "}",
        ):
            await ws.send_str(raw)
            await chat.still_answers(raw)
            sent += 1
        assert sent > 300

        # Delivery goes on: an agent's answer reaches the fuzzed socket.
        await services.conversations.reopen(conversation_id, Actor.agent(2, "Ada"))
        await services.conversations.post(conversation_id, Actor.agent(2, "Ada"), "Still here")
        frame = await ws.receive_json(timeout=5)
        while frame.get("body") != "Still here":
            frame = await ws.receive_json(timeout=5)
        await ws.close()
    no_errors_logged(caplog)


@pytest.mark.slow
async def test_no_desk_socket_frame_breaks_the_socket(
    shop: Shop, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = shop
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    source = inspect.getsource(desk_socket._on_frame)
    types = re.findall(r'frame.get\("type"\) == "(\w+)"', source)
    assert len(types) >= 3
    names = sorted(set(re.findall(r'frame(?:\.get\(|\[)"(\w+)"', source)) - {"type"})
    async with admin.session.ws_connect(server.desk_url + "/api/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        frames = [
            json.dumps({"type": kind, **dict.fromkeys(names, 1), name: value})
            for kind in types
            for name in names
            for value in TYPED
        ]
        # Longer than the desk's frame limit closes the socket, as it should; not fuzzed here.
        frames = [f for f in frames if len(f) < 4000]
        frames += ["", "{", "[]", "null", '{"type": []}', "x" * 4000, "[" * 4000]
        for frame in frames:
            await ws.send_str(frame)
            await ws.send_str("ping")
            answer = await ws.receive(timeout=5)
            while answer.type == aiohttp.WSMsgType.TEXT and answer.data != "pong":
                answer = await ws.receive(timeout=5)
            assert answer.data == "pong", frame[:200]
    no_errors_logged(caplog)
