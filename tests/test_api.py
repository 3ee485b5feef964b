"""The JSON API end to end on a real server: tokens of each scope, revoked and expired ones,
paging while conversations arrive, idempotent posts, and every documented error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from api_helpers import Api, make_token
from conftest import PASSWORD, Desk, Personas, Server, make_config, start_server
from onlinesupport.channels.chat.identity import signature
from onlinesupport.lib.clock import ManualClock
from onlinesupport.lib.errors import UserError
from onlinesupport.store import StorageFull
from onlinesupport.web.api.errors import to_api_error
from onlinesupport.web.api.openapi import document as openapi_document
from onlinesupport.web.api.routes import OPERATIONS, PREFIX, create_api_app
from onlinesupport.web.api.schemas import COMPONENTS
from test_chat_protocol import visitor  # noqa: F401  (the fixture: visitors on an allowed site)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def api(
    server: Server, http: aiohttp.ClientSession, scope: str, agent_id: int | None = None
) -> Api:
    return Api(http, server.desk_url, await make_token(server.services, scope, agent_id))


async def open_conversation(client: Api, n: int = 0, **extra: object) -> dict:
    status, body = await client.post(
        "/conversations",
        {
            "channel": "email",
            "body": f"Order {n} failed",
            "customer": {"email": f"c{n}@example.com"},
            **extra,
        },
    )
    assert status in (200, 201), body
    return body["conversation"]


async def test_each_scope_reaches_what_it_allows(
    server: Server, http: aiohttp.ClientSession, personas: Personas
) -> None:
    read, write, admin = [await api(server, http, s) for s in ("read", "write", "admin")]
    conversation = await open_conversation(write)
    assert (await read.get(f"/conversations/{conversation['id']}"))[0] == 200
    status, body = await read.post(f"/conversations/{conversation['id']}/resolve")
    assert status == 403 and body["error"]["code"] == "insufficient_scope"
    assert (await write.post(f"/conversations/{conversation['id']}/resolve"))[0] == 200
    assert (await write.get("/webhooks"))[0] == 403
    assert (await admin.get("/webhooks")) == (200, {"endpoints": []})
    assert (await read.get("/me"))[1]["scope"] == "read"


async def test_revoked_expired_and_missing_tokens_are_refused(config_clock: tuple) -> None:
    server, clock = config_clock
    async with aiohttp.ClientSession() as http:
        services = server.services
        admin = await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
        agent = await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
        revoked = Api(http, server.desk_url, await make_token(services, "read"))
        expiring = Api(
            http,
            server.desk_url,
            await make_token(services, "read", expires_at=clock.now() + timedelta(hours=1)),
        )
        acting = Api(http, server.desk_url, await make_token(services, "write", agent))
        assert (await revoked.get("/me"))[0] == 200
        token_id = (await revoked.get("/me"))[1]["token_id"]
        await services.api_tokens.revoke(token_id)
        status, body = await revoked.get("/me")
        assert status == 401 and body["error"] == {
            "code": "unauthorized",
            "message": "the token was revoked",
        }
        assert (await expiring.get("/me"))[0] == 200
        clock.advance(hours=2)
        assert (await expiring.get("/me"))[1]["error"]["message"] == "the token has expired"
        assert (await acting.get("/me"))[1]["agent"] == {"id": agent, "name": "Amy"}
        await services.accounts.update_agent(agent, role="agent", active=False)
        assert (await acting.get("/me"))[0] == 401
        for headers in (
            {},
            {"Authorization": "Basic abc"},
            {"Authorization": "Bearer "},
            {"Authorization": "Bearer ost_nonsense"},
        ):
            async with http.get(f"{server.desk_url}/api/v1/me", headers=headers) as r:
                assert r.status == 401, headers
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
                assert (await r.json())["error"]["code"] == "unauthorized"
        assert admin


@pytest.fixture
async def config_clock(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        yield await start_server(stack, make_config(tmp_path / "data"), clock), clock


async def test_a_token_chosen_to_expire_on_a_day_works_until_that_days_end(
    config_clock: tuple, client_factory
) -> None:
    """The desk's expiry is a date: the token works all that day, in the business's zone."""
    server, clock = config_clock  # Monday 2026-01-05 09:00 UTC: 04:00 in New York
    services = server.services
    await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    await services.db.write(
        lambda conn: conn.execute("UPDATE queues SET timezone = 'America/New_York' WHERE id = 1")
    )
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("ada@example.com")
    for day, error in (("2026-01-04", "has passed"), ("soon", "not a date")):
        async with await desk.post(
            "/admin/api-tokens", {"name": "x", "scope": "read", "expires": day}
        ) as r:
            assert r.status == 400 and error in await r.text(), day
    async with await desk.post(
        "/admin/api-tokens", {"name": "shop", "scope": "read", "expires": "2026-01-05"}
    ) as r:
        page = await r.text()
        assert r.status == 200, page
    assert "end of 2026-01-05 (America/New_York)" in page
    assert "America/New_York time" in page
    secret = page.split('<code id="new-token">')[1].split("<")[0]
    async with aiohttp.ClientSession() as http:
        token = Api(http, server.desk_url, secret)
        assert (await token.get("/me"))[0] == 200
        clock.advance(hours=19, minutes=59)  # 23:59 in New York, 04:59 UTC the next day
        assert (await token.get("/me"))[0] == 200
        clock.advance(minutes=1)
        status, body = await token.get("/me")
        assert status == 401 and body["error"]["message"] == "the token has expired"


async def test_newest_first_pages_stay_put_while_conversations_arrive(
    server: Server, http: aiohttp.ClientSession
) -> None:
    client = await api(server, http, "write")
    existing = [(await open_conversation(client, n))["id"] for n in range(23)]
    seen: list[int] = []
    cursor = None
    arrived = 100
    while True:
        query = f"?limit=5&cursor={cursor}" if cursor else "?limit=5"
        status, page = await client.get("/conversations" + query)
        assert status == 200
        seen += [c["id"] for c in page["conversations"]]
        for _ in range(2):  # new conversations between pages land in front, not in the pages
            await open_conversation(client, arrived)
            arrived += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(existing, reverse=True)


async def test_syncing_by_last_change_sees_a_changed_conversation_again(
    server: Server, http: aiohttp.ClientSession
) -> None:
    client = await api(server, http, "write")
    ids = [(await open_conversation(client, n))["id"] for n in range(6)]
    status, first = await client.get("/conversations?sort=updated&limit=3")
    assert [c["id"] for c in first["conversations"]] == ids[:3]
    await client.post(f"/conversations/{ids[0]}/resolve")
    status, rest = await client.get(
        f"/conversations?sort=updated&limit=10&cursor={first['next_cursor']}"
    )
    assert [c["id"] for c in rest["conversations"]] == [*ids[3:], ids[0]]
    assert rest["conversations"][-1]["status"] == "resolved" and rest["next_cursor"] is None
    status, body = await client.get("/conversations?status=resolved&limit=10")
    assert [c["id"] for c in body["conversations"]] == [ids[0]]
    since = rest["conversations"][-1]["updated_at"]
    status, body = await client.get(f"/conversations?updated_since={since}")
    assert [c["id"] for c in body["conversations"]] == [ids[0]]


async def test_posts_with_a_client_id_happen_once(
    server: Server, http: aiohttp.ClientSession, personas: Personas
) -> None:
    client = await api(server, http, "write", personas.agent)
    first = await open_conversation(client, 1, client_id="shop-order-1")
    again = await client.post(
        "/conversations",
        {
            "channel": "email",
            "body": "Order 1 failed",
            "client_id": "shop-order-1",
            "customer": {"email": "c1@example.com"},
        },
    )
    assert (
        again[0] == 200 and again[1]["duplicate"] and again[1]["conversation"]["id"] == first["id"]
    )
    path = f"/conversations/{first['id']}/messages"
    reply = {"body": "We are on it", "client_id": "reply-1"}
    status, posted = await client.post(path, reply)
    assert status == 201 and posted["message"]["author"] == {
        "type": "agent",
        "id": personas.agent,
        "name": "Amy Agent",
    }
    status, repeated = await client.post(path, reply)
    assert status == 200 and repeated["duplicate"]
    assert repeated["message"]["id"] == posted["message"]["id"]
    status, body = await client.get(path)
    assert [m["body"] for m in body["messages"]] == ["Order 1 failed", "We are on it"]
    status, note = await client.post(path, {"body": "internal", "kind": "note"})
    assert note["message"]["kind"] == "note"
    status, one = await client.get(f"{path}/{note['message']['seq']}")
    assert one["message"]["body"] == "internal"


async def test_conversation_commands_and_customers(
    server: Server, http: aiohttp.ClientSession, personas: Personas
) -> None:
    client = await api(server, http, "write")
    services = server.services
    queue = await services.db.write(
        lambda conn: (
            conn.execute(
                "INSERT INTO queues (name, created_at)"
                " VALUES ('Billing', '2026-01-01T00:00:00.000Z')"
            ).lastrowid
        )
    )
    cid = (await open_conversation(client, 1, subject="Refund"))["id"]
    status, body = await client.post(f"/conversations/{cid}/assign", {"agent_id": personas.agent})
    assert body["changed"] and body["conversation"]["assignee"]["id"] == personas.agent
    status, body = await client.post(f"/conversations/{cid}/move", {"queue_id": queue})
    assert body["conversation"]["queue"] == {"id": queue, "name": "Billing"}
    status, body = await client.post(f"/conversations/{cid}/tags", {"tags": ["vip", "refund"]})
    assert body["conversation"]["tags"] == ["vip", "refund"]
    status, body = await client.post(f"/conversations/{cid}/priority", {"priority": 3})
    assert body["conversation"]["priority"] == 3
    assert (await client.post(f"/conversations/{cid}/resolve"))[1]["conversation"][
        "status"
    ] == "resolved"
    assert (await client.post(f"/conversations/{cid}/reopen"))[1]["changed"]
    assert (await client.post(f"/conversations/{cid}/assign", {"agent_id": None}))[1][
        "conversation"
    ]["assignee"] is None
    status, created = await client.post(
        "/customers", {"name": "Shop User", "external_id": "u-77", "phone": "+49 30 1234567"}
    )
    assert status == 201
    customer = created["customer"]
    status, found = await client.get("/customers?external_id=u-77")
    assert found["customers"] == [customer]
    status, changed = await client.call(
        "PATCH", f"/customers/{customer['id']}", {"email": "User@Example.com", "tier": "preferred"}
    )
    assert changed["customer"]["email"] == "user@example.com"
    assert changed["customer"]["phone"] == "+49 30 1234567"
    opened = await client.post(
        "/conversations",
        {"channel": "phone", "body": "Call me", "customer": {"external_id": "u-77"}},
    )
    assert opened[1]["conversation"]["customer"]["id"] == customer["id"]
    status, theirs = await client.get(f"/customers/{customer['id']}/conversations")
    assert [c["id"] for c in theirs["conversations"]] == [opened[1]["conversation"]["id"]]
    status, body = await client.get("/customers?email=user@example.com")
    assert [c["id"] for c in body["customers"]] == [customer["id"]]
    assert (await client.get("/agents"))[1]["agents"][0].keys() >= {"id", "name", "role"}
    assert {q["name"] for q in (await client.get("/queues"))[1]["queues"]} == {"General", "Billing"}


async def test_a_conversation_names_its_customer_by_the_first_identity_found(
    server: Server, http: aiohttp.ClientSession
) -> None:
    """external_id, then email, then phone, then id: the first found wins; what it lacks and
    nobody has is added; two identities of two customers are 409, naming the later one."""
    client = await api(server, http, "write")

    async def customer_of(**given: object) -> tuple[int, Any]:
        status, body = await client.post(
            "/conversations", {"channel": "email", "body": "Order failed", "customer": given}
        )
        if status in (200, 201):
            return status, body["conversation"]["customer"]["id"]
        return status, body["error"]

    async def found(query: str) -> list[int]:
        return [c["id"] for c in (await client.get(f"/customers?{query}"))[1]["customers"]]

    # A guest (known by email) who later registers in the shop: the same customer, now with
    # the shop's id.
    guest = await open_conversation(client, 1)
    guest_id = guest["customer"]["id"]
    assert await customer_of(email="C1@example.com", external_id="1001") == (201, guest_id)
    assert await found("external_id=1001") == [guest_id]
    # Found by the external id, their new address and number are added.
    assert await customer_of(external_id="1001", email="new@example.com", phone="+49 30 555") == (
        201,
        guest_id,
    )
    assert await found("email=new@example.com") == await found("phone=0049 30 555") == [guest_id]
    assert (await client.get(f"/customers/{guest_id}"))[1]["customer"][
        "email"
    ] == "c1@example.com", "the first address stays the one shown"
    # A customer id with an identity nobody has yet.
    other_id = (await open_conversation(client, 2))["customer"]["id"]
    assert await customer_of(id=other_id, phone="+44 20 7946 0000") == (201, other_id)
    # Two identities of two different customers.
    for given, field in (
        ({"external_id": "1001", "email": "c2@example.com"}, "email"),
        ({"email": "c2@example.com", "phone": "+49 30 555"}, "phone"),
        ({"phone": "+49 30 555", "id": other_id}, "id"),
    ):
        status, error = await customer_of(**given)
        assert status == 409 and error["code"] == "conflict" and error["field"] == field, given
        assert "two different customers" in error["message"]
    # Found by email, the customer already has another external id: a customer has one.
    status, error = await customer_of(email="c1@example.com", external_id="2002")
    assert (status, error["field"]) == (409, "external_id")
    assert "has external id 1001, not 2002" in error["message"]
    assert await found("external_id=2002") == []
    # Nobody has any of them: one new customer with all of them.
    status, new_id = await customer_of(
        external_id="3003", email="n@example.com", phone="+33 1 23 45 67 89", name="Nina"
    )
    assert status == 201 and new_id not in (guest_id, other_id)
    nina = (await client.get(f"/customers/{new_id}"))[1]["customer"]
    assert (nina["name"], nina["email"], nina["phone"], nina["external_id"]) == (
        "Nina",
        "n@example.com",
        "+33 1 23 45 67 89",
        "3003",
    )
    assert (
        await client.post(
            "/conversations", {"channel": "email", "body": "x", "customer": {"id": 987654}}
        )
    )[0] == 404


async def test_a_conversation_keeps_the_channel_it_was_started_in(
    server: Server, http: aiohttp.ClientSession
) -> None:
    """No channel is assumed: a shop's email is no phone call in the reports."""
    client = await api(server, http, "write")
    for channel in ("email", "form", "phone"):
        assert (await open_conversation(client, 1, channel=channel))["channel"] == channel
    status, body = await client.post(
        "/conversations", {"body": "x", "customer": {"email": "c1@example.com"}}
    )
    assert (status, body["error"]["field"]) == (422, "channel")
    status, report = await client.get("/reports/overview?period=today")
    assert status == 200
    assert {c["channel"]: c["count"] for c in report["channels"]}.items() >= {
        "email": 1,
        "form": 1,
        "phone": 1,
    }.items()


async def test_the_external_id_is_the_user_id_the_website_signs(
    server: Server, http: aiohttp.ClientSession, personas: Personas, visitor
) -> None:
    client = await api(server, http, "write")
    secret = server.services.identity.secret
    status, made = await client.post("/customers", {"name": "Nora Kunde", "external_id": "42"})
    assert status == 201 and made["customer"]["external_id"] == "42"
    nora = visitor()
    welcome = await nora.connect(user={"id": "42", "hash": signature(secret, "42")})
    assert welcome["visitor"]["verified"] and welcome["visitor"]["name"] == "Nora Kunde"
    await nora.send(type="start", client_id="c1", body="Where is order 77?")
    chat = (await nora.receive("ack"))["conversation_id"]
    status, theirs = await client.get(f"/customers/{made['customer']['id']}/conversations")
    assert [c["id"] for c in theirs["conversations"]] == [chat], (
        "the signed user's chat is on the customer the shop added"
    )

    otto = visitor()
    await otto.connect(user={"id": "43", "name": "Otto", "hash": signature(secret, "43")})
    await otto.send(type="start", client_id="c2", body="Hello")
    await otto.receive("ack")
    status, found = await client.get("/customers?external_id=43")
    assert [(c["name"], c["external_id"]) for c in found["customers"]] == [("Otto", "43")], (
        "a customer the website brought is found by the id it signed"
    )
    opened = await client.post(
        "/conversations",
        {"channel": "email", "body": "Your parcel", "customer": {"external_id": " 43 "}},
    )
    assert opened[1]["conversation"]["customer"]["id"] == found["customers"][0]["id"]

    status, body = await client.call(
        "PATCH", f"/customers/{made['customer']['id']}", {"external_id": "43"}
    )
    assert status == 409 and body["error"]["code"] == "conflict"
    assert "external id 43" in body["error"]["message"]
    status, body = await client.call(
        "PATCH", f"/customers/{made['customer']['id']}", {"external_id": ""}
    )
    assert status == 200 and body["customer"]["external_id"] is None
    assert (await client.get("/customers?external_id=42"))[1]["customers"] == []
    assert (
        await server.services.db.fetch_one(
            "SELECT 1 FROM customer_identities WHERE kind = 'external' AND value = '42'"
        )
        is None
    )


async def test_articles_are_written_published_and_deleted(
    server: Server, http: aiohttp.ClientSession
) -> None:
    client = await api(server, http, "write")
    status, body = await client.post(
        "/articles", {"title": "Where is my order?", "body": "Track it **here**."}
    )
    assert status == 201 and body["article"]["status"] == "draft"
    article = body["article"]
    status, body = await client.post(f"/articles/{article['id']}/publish")
    assert body["article"]["status"] == "published"
    async with http.get(f"{server.public_url}/help/{article['slug']}") as r:
        assert r.status in (200, 404)  # the public page's address depends on the category
    status, body = await client.call("PATCH", f"/articles/{article['id']}", {"title": "Orders"})
    assert body["article"]["title"] == "Orders" and body["article"]["body"] == "Track it **here**."
    assert [a["id"] for a in (await client.get("/articles?status=published"))[1]["articles"]] == [
        article["id"]
    ]
    assert (await client.call("DELETE", f"/articles/{article['id']}"))[0] == 204
    assert (await client.get(f"/articles/{article['id']}"))[0] == 404


async def test_files_go_up_as_messages_and_come_back(
    server: Server, http: aiohttp.ClientSession
) -> None:
    client = await api(server, http, "write")
    cid = (await open_conversation(client))["id"]
    form = aiohttp.FormData()
    form.add_field("client_id", "file-1")
    form.add_field(
        "file", b"%PDF-1.4\n%%EOF\n", filename="invoice.pdf", content_type="application/pdf"
    )
    status, body = await client.call("POST", f"/conversations/{cid}/attachments", data=form)
    assert status == 201, body
    [attachment] = body["message"]["attachments"]
    async with http.get(
        server.desk_url + attachment["url"], headers={"Authorization": f"Bearer {client.token}"}
    ) as r:
        assert r.status == 200 and await r.read() == b"%PDF-1.4\n%%EOF\n"


async def test_every_documented_error_has_the_error_shape(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", api_requests_per_minute=30)
    async with AsyncExitStack() as stack, aiohttp.ClientSession() as http:
        server = await start_server(stack, config)
        client = Api(http, server.desk_url, await make_token(server.services, "admin"))
        cid = (await open_conversation(client))["id"]
        other = await open_conversation(client, 2)
        expected = [
            ("POST", "/conversations", "{not json", 400, "invalid_json", ""),
            ("GET", "/conversations/999999", None, 404, "not_found", ""),
            ("GET", "/conversations/abc", None, 404, "not_found", ""),
            ("GET", "/conversations/99999999999999999999", None, 404, "not_found", ""),
            (
                "POST",
                f"/conversations/{cid}/priority",
                {"priority": 12},
                422,
                "invalid",
                "priority",
            ),
            (
                "POST",
                f"/conversations/{cid}/messages",
                {"body": "x", "colour": 1},
                422,
                "invalid",
                "colour",
            ),
            ("POST", f"/conversations/{cid}/messages", {"body": "   "}, 422, "invalid", ""),
            ("POST", f"/conversations/{cid}/assign", {"agent_id": 4242}, 404, "not_found", ""),
            ("GET", "/conversations?cursor=bm90IG91cnM", None, 422, "invalid", "cursor"),
            ("GET", "/conversations?limit=0", None, 422, "invalid", "limit"),
            (
                "GET",
                "/conversations?updated_since=yesterday",
                None,
                422,
                "invalid",
                "updated_since",
            ),
            ("POST", "/customers", {"email": "c0@example.com"}, 409, "conflict", "email"),
            (
                "PATCH",
                f"/customers/{other['customer']['id']}",
                {"email": "c0@example.com"},
                409,
                "conflict",
                "email",
            ),
            (
                "PATCH",
                f"/customers/{other['customer']['id']}",
                {"email": "a,b@example.com"},
                422,
                "invalid",
                "email",
            ),
            ("POST", "/webhooks", {"url": "http://169.254.169.254/latest"}, 422, "invalid", "url"),
            ("POST", "/webhooks", {"url": f"{server.desk_url}/hooks"}, 422, "invalid", "url"),
            ("POST", "/webhooks", {"url": "   "}, 422, "invalid", "url"),
            (
                "POST",
                "/conversations",
                {"channel": "form", "body": "x", "customer": {}},
                422,
                "invalid",
                "customer",
            ),
            (
                "POST",
                "/conversations",
                {"body": "x", "customer": {"email": "c0@example.com"}},
                422,
                "invalid",
                "channel",
            ),
            (
                "POST",
                "/conversations",
                {"channel": "chat", "body": "x", "customer": {"email": "c0@example.com"}},
                422,
                "invalid",
                "channel",
            ),
        ]
        for method, path, body, status, code, field in expected:
            kwargs = {"data": body} if isinstance(body, str) else {}
            got, answer = await client.call(
                method, path, None if isinstance(body, str) else body, **kwargs
            )
            assert got == status, (method, path, answer)
            assert answer["error"]["code"] == code, (method, path, answer)
            assert answer["error"].get("field", "") == field, (method, path, answer)
            assert answer["error"]["message"]
        async with http.post(
            f"{server.desk_url}/api/v1/conversations",
            data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            headers={"Authorization": f"Bearer {client.token}"},
        ) as r:
            assert r.status == 413 and (await r.json())["error"]["code"] == "too_large"
        for _ in range(40):
            status, answer = await client.get("/me")
            if status == 429:
                break
        assert status == 429 and answer["error"]["code"] == "rate_limited"


async def test_a_wrong_method_or_path_gets_the_api_error_not_the_desk_form_refusal(
    server: Server, http: aiohttp.ClientSession, personas: Personas
) -> None:
    client = await api(server, http, "admin")
    cid = (await open_conversation(client))["id"]
    wrong = [
        ("PATCH", f"/conversations/{cid}", "GET"),
        ("DELETE", "/me", "GET"),
        ("PUT", "/conversations", "GET, POST"),
        ("POST", "/events", "GET"),
        ("GET", "/webhooks/1/test", "POST"),
        ("PUT", "/articles/1", "GET, PATCH, DELETE"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ]
    for method, path, allow in wrong:
        async with http.request(
            method,
            f"{server.desk_url}{PREFIX}{path}",
            headers={"Authorization": f"Bearer {client.token}"},
        ) as r:
            assert r.status == 405, (method, path, await r.text())
            assert r.headers["Allow"] == allow
            assert (await r.json())["error"]["code"] == "method_not_allowed"
    for method in ("GET", "POST", "DELETE"):
        status, body = await client.call(method, "/no/such/thing")
        assert status == 404 and body["error"]["code"] == "not_found", (method, body)
    for method, path, _ in [*wrong, ("POST", "/no/such/thing", "")]:
        async with http.request(method, f"{server.desk_url}{PREFIX}{path}") as r:
            expected = (
                (405, "method_not_allowed") if path == "/openapi.json" else (401, "unauthorized")
            )  # the document is open; the rest needs a token first
            assert (r.status, (await r.json())["error"]["code"]) == expected, (method, path)


async def test_the_document_lists_every_route(server: Server, http: aiohttp.ClientSession) -> None:
    """A route added without its declaration (or the other way round) fails here."""
    app = create_api_app(server.services, tokens_only=False)
    routed = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method not in ("HEAD", "*")
    }
    async with http.get(f"{server.desk_url}{PREFIX}/openapi.json") as r:
        document = await r.json()
    documented = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert routed - documented == {("GET", "/openapi.json")}
    assert documented - routed == set()
    assert document["openapi"] == "3.1.0"
    assert len(documented) == len(OPERATIONS)


def test_every_user_error_is_an_api_error_with_its_status_message_and_field() -> None:
    class Crowded(UserError):
        status = 429

    def shown(exc: Exception) -> tuple:
        error = to_api_error(exc)
        assert error is not None
        return error.status, error.code, error.message, error.field, error.headers

    assert shown(Crowded("one at a time", "body")) == (
        429,
        "rate_limited",
        "one at a time",
        "body",
        {},
    )
    assert shown(UserError("that is no date", "due")) == (
        422,
        "invalid",
        "that is no date",
        "due",
        {},
    ), "a plain 400 is the API's 422"
    assert shown(StorageFull())[:2] == (503, "unavailable")
    assert shown(StorageFull())[4] == {"Retry-After": "60"}
    assert to_api_error(KeyError("a bug")) is None


def test_the_document_lists_422_wherever_input_can_be_refused() -> None:
    """A UserError from any service is 422 in the API: every operation that takes input (a
    path id, a query or a body) says so, with the error shape, and the introduction too."""
    document = openapi_document(OPERATIONS, COMPONENTS)
    assert "422 `invalid`" in document["info"]["description"]
    for operation in OPERATIONS:
        answers = document["paths"][operation.path][operation.method.lower()]["responses"]
        takes_input = (
            operation.path_params
            or operation.query
            or operation.body is not None
            or operation.upload is not None
            or operation.method in ("POST", "PATCH", "DELETE")
        )
        assert ("422" in answers) == bool(takes_input), (operation.method, operation.path)
        if takes_input:
            assert answers["422"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }


async def test_a_desk_session_calls_the_api_only_with_its_csrf_token(
    server: Server, personas: Personas, client_factory
) -> None:
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    async with desk.session.get(server.desk_url + "/api/v1/me") as r:
        assert r.status == 403 and "X-CSRF-Token" in (await r.json())["error"]["message"]
    async with desk.session.get(
        server.desk_url + "/api/v1/me", headers={"X-CSRF-Token": desk.csrf}
    ) as r:
        assert (await r.json())["scope"] == "write"
    async with desk.session.post(
        server.desk_url + "/api/v1/conversations",
        json={"body": "x", "customer": {"email": "a@example.com"}},
    ) as r:
        assert r.status == 403
    async with desk.session.get(server.desk_url + "/api/reference") as r:
        page = await r.text()
        assert all(f"{op.method} {op.path}</code>" in page for op in OPERATIONS)


async def test_the_public_listener_serves_the_api_only_when_asked(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for public in (False, True):
            async with AsyncExitStack() as stack:
                server = await start_server(
                    stack, make_config(tmp_path / str(public), api_public=public)
                )
                token = await make_token(server.services, "read")
                async with http.get(
                    f"{server.public_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                ) as r:
                    assert r.status == (200 if public else 404)
                async with http.get(f"{server.public_url}/api/v1/me") as r:
                    without = (r.status, await r.text())
                async with http.get(f"{server.public_url}/api/v1/openapi.json") as r:
                    document = (r.status, await r.text())
                async with http.get(f"{server.public_url}/api/v1/no-such-thing") as r:
                    unknown = (r.status, await r.text())
                assert without == document == unknown
                assert without[0] == 404
