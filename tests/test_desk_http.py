"""Both listeners over real HTTP: what is reachable where, sign-in, CSRF, roles, bad input."""

from __future__ import annotations

import asyncio
import re
import ssl
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conftest import PASSWORD, Desk, Personas, Server, make_config, start_server
from onlinesupport.app import create_desk_app
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import to_db
from onlinesupport.store import outbox as outbox_repo


async def test_public_listener_answers_404_for_every_desk_path(
    server: Server, personas: Personas, client_factory
) -> None:
    desk_app = create_desk_app(server.services)
    paths = set()
    for resource in desk_app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        paths.add(re.sub(r"\{[^}]+\}", "1", path))
    assert {"/inbox", "/admin/agents", "/api/ws", "/signin", "/setup", "/static"} <= paths
    async with aiohttp.ClientSession() as http:
        # The health check, the company logo and the icon are served on both listeners.
        for path in sorted(paths - {"/healthz", "/logo", "/favicon.ico", "/favicon.svg"}):
            for method in ("GET", "POST"):
                async with http.request(method, server.public_url + path) as response:
                    assert response.status == 404, f"{method} {path} on the public listener"
        async with http.get(server.public_url + "/static/desk.js") as response:
            assert response.status == 404
        async with http.get(server.public_url + "/healthz") as response:
            assert response.status == 200 and (await response.json())["listener"] == "public"


async def test_signing_in_and_out(server: Server, personas: Personas, client_factory) -> None:
    desk: Desk = client_factory(server.desk_url)
    response = await desk.get("/inbox")
    assert response.status == 303 and response.headers["Location"].startswith("/signin?next=")
    response = await desk.signin("AMY@example.com ")
    assert response.status == 303 and response.headers["Location"] == "/inbox"
    cookie = response.cookies["os_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    page = await desk.get("/inbox")
    assert page.status == 200 and "Amy Agent" in await page.text()
    response = await desk.post("/signout")
    assert response.status == 303
    assert (await desk.get("/inbox")).status == 303


async def test_a_wrong_password_is_refused_and_repeated_failures_are_throttled(
    server: Server, personas: Personas, client_factory
) -> None:
    desk: Desk = client_factory(server.desk_url)
    response = await desk.signin("amy@example.com", "wrong password")
    assert response.status == 401
    assert "Wrong email address or password" in await response.text()
    response = await desk.signin("nobody@example.com", "wrong password")
    assert response.status == 401, "an unknown address answers exactly like a wrong password"
    for _ in range(4):
        await desk.signin("amy@example.com", "wrong password")
    response = await desk.signin("amy@example.com", PASSWORD)
    assert response.status == 429, "even the right password waits once the account is throttled"
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in await response.text()
    other = await desk.signin("bob@example.com", PASSWORD)
    assert other.status == 303, "other accounts from the same address still sign in"


async def test_many_failures_from_one_address_block_that_address(
    server: Server, personas: Personas, client_factory
) -> None:
    desk: Desk = client_factory(server.desk_url)
    for n in range(20):
        response = await desk.signin(f"guess{n}@example.com", "wrong password")
        assert response.status == 401
    response = await desk.signin("amy@example.com", PASSWORD)
    assert response.status == 429


async def test_the_desk_serves_https_with_secure_cookies(tmp_path: Path, tls_cert) -> None:
    cert, key = tls_cert
    config = make_config(tmp_path / "data", desk_tls_cert=str(cert), desk_tls_key=str(key))
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        assert server.desk_url.startswith("https://")
        await server.services.accounts.create_agent("amy@example.com", "Amy", "admin", PASSWORD)
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context), cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http:
            desk = Desk(http, server.desk_url)
            response = await desk.signin("amy@example.com")
            assert response.status == 303
            assert response.cookies["os_session"]["secure"]
            page = await desk.get("/inbox")
            assert page.status == 200
            assert page.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_the_desk_makes_and_keeps_a_self_signed_certificate(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", desk_tls_self_signed=True)
    cert = config.data_dir / "tls" / "desk-cert.pem"
    made = []
    for _ in range(2):
        async with AsyncExitStack() as stack:
            server = await start_server(stack, config)
            assert server.desk_url.startswith("https://")
            assert server.public_url.startswith("http://"), "the public side stays as configured"
            # Verified against the made certificate, including the name "localhost".
            context = ssl.create_default_context(cafile=str(cert))
            url = server.desk_url.replace("127.0.0.1", "localhost") + "/healthz"
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
                async with http.get(url) as response:
                    assert response.status == 200
        made.append(cert.read_bytes())
    assert made[0] == made[1], "the same certificate after a restart"
    assert oct((config.data_dir / "tls" / "desk-key.pem").stat().st_mode & 0o777) == "0o600"


async def test_state_changing_requests_without_the_csrf_token_are_refused(
    server: Server, personas: Personas, client_factory
) -> None:
    desk: Desk = client_factory(server.desk_url)
    opened = await server.services.conversations.open(channel="chat", body="hello")
    # Sign-in itself needs the form's token.
    response = await desk.session.post(
        server.desk_url + "/signin",
        allow_redirects=False,
        data={"email": "amy@example.com", "password": PASSWORD},
    )
    assert response.status == 403
    await desk.signin("amy@example.com")
    path = f"/conversations/{opened.conversation_id}/messages"
    response = await desk.session.post(
        server.desk_url + path, data={"body": "no token"}, allow_redirects=False
    )
    assert response.status == 403 and "expired" in await response.text()
    response = await desk.session.post(
        server.desk_url + path, json={"body": "bad token"}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status == 403
    response = await desk.post_json(path, {"body": "with token", "client_id": "k1"})
    assert response.status == 200
    assert (await response.json())["message"]["seq"] == 2


async def test_roles_are_enforced_on_every_admin_route(
    server: Server, personas: Personas, client_factory
) -> None:
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/admin/agents")).status == 403
    response = await agent.post(
        "/admin/agents",
        {"email": "eve@example.com", "name": "Eve", "role": "admin", "password": PASSWORD},
    )
    assert response.status == 403
    response = await agent.post(
        f"/admin/agents/{personas.agent}", {"role": "admin", "active": "on"}
    )
    assert response.status == 403
    manager: Desk = client_factory(server.desk_url)
    await manager.signin("max@example.com")
    assert (await manager.get("/admin/agents")).status == 403
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    assert (await admin.get("/admin/agents")).status == 200
    response = await admin.post(
        "/admin/agents",
        {"email": "eve@example.com", "name": "Eve", "role": "agent", "password": PASSWORD},
    )
    assert response.status == 303
    eve: Desk = client_factory(server.desk_url)
    assert (await eve.signin("eve@example.com")).status == 303


async def test_agents_take_conversations_but_only_managers_give_them_away(
    server: Server, personas: Personas, client_factory
) -> None:
    opened = await server.services.conversations.open(channel="chat", body="hello")
    path = f"/conversations/{opened.conversation_id}/assign"
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    response = await amy.post_json(path, {"agent_id": str(personas.other_agent)})
    assert response.status == 403
    response = await amy.post_json(path, {"agent_id": "me"})
    assert (await response.json()) == {"changed": True, "assignee_id": personas.agent}
    bob: Desk = client_factory(server.desk_url)
    await bob.signin("bob@example.com")
    assert (await bob.post_json(path, {"agent_id": ""})).status == 403
    max_: Desk = client_factory(server.desk_url)
    await max_.signin("max@example.com")
    response = await max_.post_json(path, {"agent_id": str(personas.other_agent)})
    assert (await response.json())["assignee_id"] == personas.other_agent


async def test_the_last_admin_cannot_be_disabled(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    response = await admin.post(
        f"/admin/agents/{personas.admin}", {"role": "agent", "active": "on"}
    )
    assert response.status == 400
    assert "at least one active admin" in await response.text()


async def test_a_disabled_agent_is_signed_out_at_once(
    server: Server, personas: Personas, client_factory
) -> None:
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    response = await admin.post(f"/admin/agents/{personas.agent}", {"role": "agent"})
    assert response.status == 303
    assert (await amy.get("/inbox")).status == 303
    assert (await amy.signin("amy@example.com")).status == 401


@pytest.mark.parametrize(
    "method, path, kwargs, status, text",
    [
        ("GET", "/inbox?view=everything", {}, 400, "view must be one of"),
        ("GET", "/conversations/999999", {}, 404, "does not exist"),
        ("GET", "/conversations/abc", {}, 404, "Not Found"),
        ("GET", "/api/conversations/1?after=-4", {}, 400, "after is out of range"),
        (
            "POST",
            "/conversations/1/messages",
            {"data": "{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "not valid JSON",
        ),
        ("POST", "/conversations/1/messages", {"json": ["a list"]}, 400, "JSON object"),
        ("POST", "/conversations/1/messages", {"json": {"body": 5}}, 400, "body must be text"),
        ("POST", "/conversations/1/messages", {"json": {"body": ""}}, 400, "message is empty"),
        (
            "POST",
            "/conversations/1/messages",
            {"json": {"body": "x" * 2_000_000}},
            413,
            "too large",
        ),
    ],
)
async def test_bad_requests_get_a_4xx_with_a_message(
    server: Server,
    personas: Personas,
    client_factory,
    method: str,
    path: str,
    kwargs: dict,
    status: int,
    text: str,
) -> None:
    await server.services.conversations.open(channel="chat", body="hello")
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    headers = {"X-CSRF-Token": desk.csrf, **kwargs.pop("headers", {})}
    response = await desk.session.request(
        method, server.desk_url + path, headers=headers, allow_redirects=False, **kwargs
    )
    body = await response.text()
    assert response.status == status, body
    assert text.lower() in body.lower()
    assert "Traceback" not in body


async def test_the_desk_refuses_clients_outside_its_networks(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", desk_allowed_networks=("10.0.0.0/8",))
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        async with aiohttp.ClientSession() as http:
            async with http.get(server.desk_url + "/signin") as response:
                assert response.status == 403
                assert "not reachable from your network" in await response.text()
            async with http.get(server.public_url + "/healthz") as response:
                assert response.status == 200


async def test_first_run_setup_link_is_one_time(server: Server, client_factory) -> None:
    token = server.services.setup.value
    assert token
    desk: Desk = client_factory(server.desk_url)
    page = await desk.get("/signin")
    assert "one-time link" in await page.text()
    bad = await desk.get("/setup?token=guess")
    assert bad.status == 403
    csrf = await desk.form_token(f"/setup?token={token}")
    fields = {
        "csrf_token": csrf,
        "token": token,
        "name": "Ada",
        "email": "ada@example.com",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    mismatch = await desk.session.post(
        server.desk_url + "/setup",
        allow_redirects=False,
        data={**fields, "password_again": "different!!"},
    )
    assert mismatch.status == 400 and "not the same" in await mismatch.text()
    done = await desk.session.post(server.desk_url + "/setup", data=fields, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/welcome"
    assert (await desk.get("/inbox")).status == 200
    again: Desk = client_factory(server.desk_url)
    response = await again.get(f"/setup?token={token}")
    assert response.status == 303 and response.headers["Location"] == "/signin"


async def test_the_desk_socket_resumes_after_the_last_event_id(
    server: Server, personas: Personas, client_factory
) -> None:
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    conversations = server.services.conversations
    opened = await conversations.open(channel="chat", body="first")
    async with desk.session.ws_connect(server.desk_url + "/api/ws?since=0") as ws:
        assert (await ws.receive_json())["type"] == "hello"
        replayed = [await ws.receive_json(timeout=5) for _ in range(3)]
        assert [m["event"]["type"] for m in replayed] == [
            "conversation.created",
            "sla.target",
            "message.posted",
        ]
        last_seen = replayed[-1]["event"]["id"]
    # While the desk is away, another agent replies.
    from onlinesupport.core.conversations import Actor

    await conversations.post(opened.conversation_id, Actor.agent(personas.other_agent, "Bob"), "hi")
    async with desk.session.ws_connect(server.desk_url + f"/api/ws?since={last_seen}") as ws:
        await ws.receive_json()
        missed = [await ws.receive_json(timeout=5) for _ in range(2)]
        assert [m["event"]["type"] for m in missed] == [
            "message.posted",
            "conversation.first_response",
        ]
        await conversations.resolve(opened.conversation_id, Actor.agent(personas.agent, "Amy"))
        live = await ws.receive_json(timeout=5)
        assert live["event"]["type"] == "conversation.resolved"
        assert live["event"]["id"] > missed[-1]["event"]["id"]
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive_json(timeout=0.3)


async def test_cross_origin_and_anonymous_desk_sockets_are_refused(
    server: Server, personas: Personas, client_factory
) -> None:
    anonymous: Desk = client_factory(server.desk_url)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await anonymous.session.ws_connect(server.desk_url + "/api/ws")
    assert refused.value.status == 401
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await desk.session.ws_connect(
            server.desk_url + "/api/ws", origin="https://evil.example.com"
        )
    assert refused.value.status == 403


async def test_security_headers_are_on_every_page(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        for url in (
            server.desk_url + "/signin",
            server.public_url + "/healthz",
            server.public_url + "/nothing-here",
        ):
            async with http.get(url) as response:
                csp = response.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
                assert "unsafe-inline" not in csp
                assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_customer_panel_shows_history_across_channels_and_edits_the_profile(
    server: Server, personas: Personas, client_factory
) -> None:
    conversations = server.services.conversations
    email = await conversations.open(
        channel="email",
        customer_name="Carla",
        identity=("email", "carla@example.com"),
        subject="Invoice",
        body="Wrong total",
    )
    chat = await conversations.open(
        channel="chat", identity=("email", "carla@example.com"), body="Me again, about the invoice"
    )
    other = await conversations.open(channel="chat", identity=("visitor", "v-123"), body="Hello")
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{chat.conversation_id}")).text()
    cid = email.conversation_id
    assert f'href="/conversations/{cid}?view=open">#{cid} email: Invoice' in page
    assert "this chat" in page
    visitor_page = await desk.get(f"/conversations/{other.conversation_id}")
    assert visitor_page.status == 200, "a customer without an email address shows too"
    path = f"/customers/{other.customer_id}"
    fields = {
        "conversation_id": str(other.conversation_id),
        "name": "Oscar",
        "tier": "preferred",
        "tags": "wholesale, Norway, wholesale",
        "email": "carla@example.com",
    }
    taken = await desk.post(path, fields)
    assert taken.status == 409 and "belongs to another customer" in await taken.text()
    saved = await desk.post(path, {**fields, "email": "Oscar@Example.com"})
    assert saved.status == 303
    assert saved.headers["Location"] == f"/conversations/{other.conversation_id}?view=open"
    from onlinesupport.store import customers as customers_repo

    customer = await customers_repo.get(server.services.db, other.customer_id)
    assert (customer["name"], customer["tier"], customer["tags"]) == (
        "Oscar",
        "preferred",
        ["wholesale", "Norway"],
    )
    assert {(i["kind"], i["value"]) for i in customer["identities"]} == {
        ("visitor", "v-123"),
        ("email", "oscar@example.com"),
    }
    bad = await desk.post(path, {**fields, "email": "", "tier": "gold"})
    assert bad.status == 400 and "tier must be one of" in await bad.text()


async def test_managers_keep_the_scripts_and_agents_use_them(
    server: Server, personas: Personas, client_factory
) -> None:
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    fields = {"title": "Returns", "questions": "Order number?\nWhat is wrong?"}
    assert (await amy.post("/scripts", fields)).status == 403
    max_: Desk = client_factory(server.desk_url)
    await max_.signin("max@example.com")
    assert (await max_.post("/scripts", fields)).status == 303
    duplicate = await max_.post("/scripts", fields)
    assert duplicate.status == 400 and "exists already" in await duplicate.text()
    page = await (await amy.get("/scripts")).text()
    assert "<li>What is wrong?</li>" in page and "Add a script" not in page
    opened = await server.services.conversations.open(channel="chat", body="hi")
    response = await amy.post_json(
        f"/conversations/{opened.conversation_id}/script/start", {"script_id": "1"}
    )
    assert response.status == 200
    stop = await amy.post_json(f"/conversations/{opened.conversation_id}/script/stop", {})
    assert stop.status == 200
    assert (await amy.get(f"/conversations/{opened.conversation_id}/script/stop")).status == 405


async def test_admins_set_how_many_chats_an_agent_takes_at_once(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    opened = await server.services.conversations.open(channel="chat", body="hi")
    from onlinesupport.core.conversations import Actor

    await server.services.conversations.assign(
        opened.conversation_id, personas.agent, Actor.agent(personas.admin, "Ada")
    )
    page = await (await admin.get("/admin/agents")).text()
    assert "offline · 1 of 5 chats" in page
    ok = await admin.post(
        f"/admin/agents/{personas.agent}", {"role": "agent", "active": "on", "capacity": "3"}
    )
    assert ok.status == 303
    assert "offline · 1 of 3 chats" in await (await admin.get("/admin/agents")).text()
    bad = await admin.post(
        f"/admin/agents/{personas.agent}", {"role": "agent", "active": "on", "capacity": "99"}
    )
    assert bad.status == 400 and "from 1 to 50" in await bad.text()
    async with admin.session.ws_connect(server.desk_url + "/api/ws"):
        assert "online · 0 of 5 chats" in await (await admin.get("/admin/agents")).text()


async def test_the_header_names_the_assignee_once_after_an_invite_and_a_transfer(
    server: Server, personas: Personas, client_factory
) -> None:
    conversations = server.services.conversations
    opened = await conversations.open(channel="chat", customer_name="Lee", body="Hello")
    cid = opened.conversation_id
    amy = Actor.agent(personas.agent, "Amy Agent")
    await conversations.assign(cid, personas.agent, amy)
    await conversations.invite(cid, personas.other_agent, amy)
    await conversations.transfer(cid, personas.other_agent, amy)
    bob: Desk = client_factory(server.desk_url)
    await bob.signin("bob@example.com")
    page = await (await bob.get(f"/conversations/{cid}")).text()
    header = page.split('id="participants">', 1)[1].split("</span>", 1)[0]
    assert "Bob Agent" not in header, "the assignee is named already, not again after 'with'"
    data = await (await bob.get(f"/api/conversations/{cid}")).json()
    assert data["conversation"]["assignee_id"] == personas.other_agent


async def test_a_mail_of_no_conversation_is_not_resent_from_the_desk(
    server: Server, personas: Personas, client_factory
) -> None:
    """A customer's sign-in link is no conversation's mail: the desk never shows it, and a
    crafted resend of it is refused (the customer asks for a new link instead)."""
    services = server.services

    def failed_signin_mail(conn: Any) -> int:
        outbox_id = outbox_repo.enqueue(
            conn,
            conversation_id=None,
            message_id=None,
            mailbox_id=None,
            purpose="signin",
            to_address="lee@customer.test",
            subject="Your link to your conversations",
            body="a link",
            rfc_message_id="<signin.resend@shop.test>",
            in_reply_to="",
            refs="",
            now=to_db(services.clock.now()),
        )
        outbox_repo.bounced(conn, outbox_id, "550 no such user")
        return outbox_id

    outbox_id = await services.db.write(failed_signin_mail)
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    assert (await amy.post(f"/outbox/{outbox_id}/resend")).status == 409
    stored = await outbox_repo.get(services.db, outbox_id)
    assert stored is not None and stored.status == "failed"


async def test_a_customer_known_only_by_address_is_named_by_it_in_the_conversation(
    server: Server, personas: Personas, client_factory
) -> None:
    opened = await server.services.conversations.open(
        channel="email",
        identity=("email", "nameless@example.com"),
        subject="Invoice",
        body="Wrong total",
    )
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{opened.conversation_id}")).text()
    assert '<div class="msg-head"><strong>nameless@example.com</strong>' in page
    assert '<div class="msg-head"><strong>customer</strong>' not in page
    assert 'data-customer-email="nameless@example.com"' in page, "for messages arriving live"
