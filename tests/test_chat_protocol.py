"""The visitor websocket without a browser: origins, identity, idempotent sends, resume, typing."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest

from conftest import Desk, Personas, Server
from onlinesupport.channels.chat import widget_settings
from onlinesupport.core.conversations import Actor
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import queues as queues_repo

SITE = "http://shop.example.com:8000"


async def allow(server: Server, *origins: str) -> None:
    current = await widget_settings.load(server.services.db)
    await widget_settings.save(
        server.services.db,
        server.services.clock,
        dataclasses.replace(current, allowed_origins=tuple(origins)),
    )


class Visitor:
    """A widget's websocket, spoken to by hand."""

    def __init__(self, http: aiohttp.ClientSession, server: Server) -> None:
        self.http = http
        self.server = server
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.conversation_id: int | None = None

    async def connect(self, last_seq: int = 0, **hello: Any) -> dict[str, Any]:
        self.ws = await self.http.ws_connect(self.server.public_url + "/widget/ws", origin=SITE)
        await self.ws.send_json(
            {
                "type": "hello",
                "token": self.token,
                "conversation_id": self.conversation_id,
                "last_seq": last_seq,
                **hello,
            }
        )
        welcome = await self.receive("welcome")
        self.token = welcome["token"]
        return welcome

    async def start_chat(self, body: str = "Hello") -> int:
        """Connect as a new visitor and open a chat; its conversation id."""
        await self.connect()
        await self.send(type="start", client_id="first", body=body)
        self.conversation_id = (await self.receive("ack"))["conversation_id"]
        return self.conversation_id

    async def receive(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            frame = await self.ws.receive_json(timeout=timeout)
            if frame["type"] == kind:
                return frame
            if frame["type"] == "error" and kind != "error":
                raise AssertionError(frame)

    async def frames(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds`."""
        assert self.ws is not None
        got = []
        try:
            while True:
                got.append(await self.ws.receive_json(timeout=seconds))
        except TimeoutError:
            return got

    async def send(self, **frame: Any) -> None:
        assert self.ws is not None
        await self.ws.send_json(frame)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


@pytest.fixture
async def visitor(server: Server) -> Any:
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        made: list[Visitor] = []

        def make() -> Visitor:
            made.append(Visitor(http, server))
            return made[-1]

        yield make
        for v in made:
            await v.close()


async def test_only_allowed_websites_may_open_the_visitor_socket(server: Server) -> None:
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        for origin in ("https://evil.example.com", None):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(
                    server.public_url + "/widget/ws", **({"origin": origin} if origin else {})
                )
            assert refused.value.status == 403
        async with http.get(server.public_url + "/widget.js") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("application/javascript")


async def test_a_chat_starts_and_a_retried_start_makes_nothing_twice(
    server: Server, visitor
) -> None:
    v = visitor()
    welcome = await v.connect()
    assert welcome["conversation_id"] is None and welcome["token"].startswith("v2.")
    assert welcome["widget"]["title"] == "Chat with us"
    start = {
        "type": "start",
        "client_id": "c1",
        "body": "Do you ship to Norway?",
        "name": "Nora",
        "page": {"url": "https://shop.example.com/shipping", "title": "Shipping"},
    }
    await v.send(**start)
    ack = await v.receive("ack")
    assert ack["client_id"] == "c1" and ack["seq"] == 1
    v.conversation_id = ack["conversation_id"]
    stored = await messages_repo.after(server.services.db, v.conversation_id)
    assert [m.body for m in stored] == ["Do you ship to Norway?"], "acknowledged after commit"
    # The network drops before the widget sees the ack: it sends the same start again.
    await v.close()
    await v.connect()
    await v.send(**start)
    again = await v.receive("ack")
    assert again == ack
    conversations = await server.services.db.fetch_all("SELECT id, page_url FROM conversations")
    assert [tuple(r) for r in conversations] == [
        (v.conversation_id, "https://shop.example.com/shipping")
    ]
    await v.send(type="send", client_id="c2", body="And to Iceland?")
    await v.send(type="send", client_id="c2", body="And to Iceland?")
    acks = [await v.receive("ack"), await v.receive("ack")]
    assert acks[0] == acks[1] and acks[0]["seq"] == 2
    bodies = [m.body for m in await messages_repo.after(server.services.db, v.conversation_id)]
    assert bodies == ["Do you ship to Norway?", "And to Iceland?"]


async def test_a_reconnecting_visitor_gets_what_it_missed_and_never_a_note(
    server: Server, personas: Personas, visitor
) -> None:
    v = visitor()
    await v.connect()
    await v.send(type="start", client_id="c1", body="Hello?")
    v.conversation_id = (await v.receive("ack"))["conversation_id"]
    first = await v.receive("message")
    assert (first["seq"], first["client_id"], first["author_type"]) == (1, "c1", "customer")
    await v.close()
    amy = Actor.agent(personas.agent, "Amy Agent")
    conversations = server.services.conversations
    await conversations.post(v.conversation_id, amy, "Hi, I'm here.")
    await conversations.note(v.conversation_id, amy, "VIP customer, be nice")
    await conversations.post(v.conversation_id, amy, "How can I help?")
    welcome = await v.connect(last_seq=1)
    assert welcome["conversation_id"] == v.conversation_id
    missed = [f for f in await v.frames() if f["type"] == "message"]
    assert [(m["seq"], m["body"], m["author_name"]) for m in missed] == [
        (2, "Hi, I'm here.", "Amy Agent"),
        (4, "How can I help?", "Amy Agent"),
    ]
    await conversations.post(v.conversation_id, amy, "Still there?")
    live = await v.receive("message")
    assert (live["seq"], live["body"]) == (5, "Still there?")
    assert [f for f in await v.frames() if f["type"] == "message"] == []


async def test_a_visitor_cannot_read_another_visitors_conversation(server: Server, visitor) -> None:
    alice, mallory = visitor(), visitor()
    await alice.connect()
    await alice.send(type="start", client_id="a1", body="My address is 1 Main Street")
    alice.conversation_id = (await alice.receive("ack"))["conversation_id"]
    await mallory.connect()
    await mallory.close()
    mallory.conversation_id = alice.conversation_id
    welcome = await mallory.connect()
    assert welcome["conversation_id"] is None
    assert [f for f in await mallory.frames() if f["type"] == "message"] == []
    mallory.token = alice.token[:-4] + "AAAA"
    forged = await mallory.connect()
    assert forged["token"] != alice.token and forged["conversation_id"] is None
    await mallory.send(type="send", client_id="m1", body="hijack")
    error = await mallory.receive("error")
    assert error["client_id"] == "m1" and "start a chat first" in error["message"]


async def test_typing_goes_both_ways(
    server: Server, personas: Personas, visitor, client_factory
) -> None:
    v = visitor()
    await v.connect()
    await v.send(type="start", client_id="c1", body="Hi")
    v.conversation_id = (await v.receive("ack"))["conversation_id"]
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    async with desk.session.ws_connect(server.desk_url + "/api/ws") as agent_ws:
        await agent_ws.receive_json()
        await v.send(type="typing")
        while True:
            frame = await agent_ws.receive_json(timeout=5)
            if frame["type"] == "notice":
                break
        assert frame == {
            "type": "notice",
            "conversation_id": v.conversation_id,
            "notice": "typing",
            "data": {"author_type": "customer"},
        }
        await agent_ws.send_json({"type": "typing", "conversation_id": v.conversation_id})
        typing = await v.receive("typing")
        assert typing["name"] == "Amy Agent"


async def test_the_leave_a_message_form_when_no_agent_is_online(
    server: Server, personas: Personas, visitor, client_factory
) -> None:
    v = visitor()
    assert (await v.connect())["agents_online"] is False
    await v.send(
        type="leave",
        client_id="l1",
        name="Lee",
        email="Lee@Example.com",
        body="Please call me back",
    )
    ack = await v.receive("ack")
    assert ack["client_id"] == "l1"
    row = await server.services.db.fetch_one(
        "SELECT c.channel, c.subject, i.value FROM conversations c"
        " JOIN customer_identities i ON i.customer_id = c.customer_id"
    )
    assert tuple(row) == ("form", "Message left on the website", "lee@example.com")
    welcome = await visitor().connect()
    assert "Billing" in welcome["form"]["question_types"] and "today" in welcome["form"]["urgency"]
    for _ in range(2):  # a resend after a lost ack stores it once
        await v.send(
            type="leave",
            client_id="l3",
            name="Lee",
            email="lee@example.com",
            subject="Invoice 7",
            question_type="Billing",
            urgency="today",
            body="Charged twice",
            page={"url": "https://shop.example.com/orders"},
        )
        assert (await v.receive("ack"))["client_id"] == "l3"
    form = await server.services.db.fetch_all(
        "SELECT c.subject, c.page_url, e.data FROM conversations c JOIN events e"
        " ON e.conversation_id = c.id AND e.type = 'form.submitted'"
    )
    assert [tuple(r) for r in form] == [
        ("Message left on the website", "", '{"question_type":"","urgency":"no-rush"}'),
        (
            "Invoice 7",
            "https://shop.example.com/orders",
            '{"question_type":"Billing","urgency":"today"}',
        ),
    ]
    await v.send(type="leave", client_id="l2", name="Lee", email="not an address", body="x")
    assert "does not look like an email address" in (await v.receive("error"))["message"]
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    async with desk.session.ws_connect(server.desk_url + "/api/ws"):
        assert (await visitor().connect())["agents_online"] is True
        # Outside business hours (today is a holiday) the form is offered, agents or not.
        today = server.services.clock.now().date().isoformat()
        await server.services.db.write(
            lambda conn: queues_repo.update(
                conn,
                1,
                first_response_minutes=60,
                next_response_minutes=240,
                timezone="UTC",
                hours="mon-sun 00:00-24:00",
                holidays=today,
            )
        )
        assert (await visitor().connect())["agents_online"] is False


async def test_bad_frames_get_an_error_and_the_socket_stays_open(server: Server, visitor) -> None:
    v = visitor()
    await v.connect()
    assert v.ws is not None
    await v.ws.send_str("not json")
    assert "JSON" in (await v.receive("error"))["message"]
    await v.send(type="shout")
    assert "unknown frame type" in (await v.receive("error"))["message"]
    await v.send(type="start", client_id="x" * 65, body="hi")
    assert "client_id" in (await v.receive("error"))["message"]
    await v.send(type="start", client_id="ok", body="")
    assert "body is empty" in (await v.receive("error"))["message"]
    await v.send(type="start", client_id="ok", body="still works")
    assert (await v.receive("ack"))["seq"] == 1


async def test_a_visitor_sending_too_fast_is_slowed_down(server: Server, visitor) -> None:
    v = visitor()
    await v.connect()
    await v.send(type="start", client_id="c0", body="hi")
    await v.receive("ack")
    for n in range(1, 30):
        await v.send(type="send", client_id=f"c{n}", body=f"m{n}")
    await v.send(type="send", client_id="c30", body="one too many")
    frames = await v.frames(1.0)
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["client_id"] for e in errors] == ["c30"]
    assert "too quickly" in errors[0]["message"]


async def test_ending_and_rating_a_chat(server: Server, personas: Personas, visitor) -> None:
    v = visitor()
    await v.connect()
    await v.send(type="rate", score=5)
    assert "no chat to rate" in (await v.receive("error"))["message"]
    await v.send(type="start", client_id="c1", body="Hi")
    v.conversation_id = (await v.receive("ack"))["conversation_id"]
    await v.send(type="end")
    await v.receive("ended")
    for bad in (0, 6, "5", 4.5, True):
        await v.send(type="rate", score=bad)
        assert "from 1 to 5" in (await v.receive("error"))["message"]
    await v.send(type="rate", score=4, comment="Quick and friendly")
    await v.receive("rated")
    from onlinesupport.store import events as events_repo

    events = await events_repo.for_conversation(server.services.db, v.conversation_id)
    assert [(e.type, e.actor_type) for e in events[-2:]] == [
        ("conversation.resolved", "customer"),
        ("conversation.rated", "customer"),
    ]
    assert events[-1].data == {"score": 4, "comment": "Quick and friendly"}
    # The chat goes on: a new message reopens it; an agent ending it tells the visitor.
    await v.send(type="send", client_id="c2", body="One more thing")
    await v.receive("ack")
    await server.services.conversations.resolve(
        v.conversation_id, Actor.agent(personas.agent, "Amy")
    )
    await v.receive("ended")


async def test_a_waiting_visitor_learns_their_place_in_line(
    server: Server, personas: Personas, visitor
) -> None:
    amy = Actor.agent(personas.agent, "Amy")
    first, second = visitor(), visitor()
    for v, text in ((first, "one"), (second, "two")):
        await v.connect()
        await v.send(type="start", client_id="c", body=text)
        v.conversation_id = (await v.receive("ack"))["conversation_id"]
    await second.send(type="queue")
    assert await second.receive("queue") == {"type": "queue", "position": 2, "wait_minutes": 4}
    await server.services.conversations.post(first.conversation_id, amy, "Hello!")
    await first.send(type="queue")
    assert (await first.receive("queue"))["position"] is None
    await second.send(type="queue")
    place = await second.receive("queue")
    assert place["position"] == 1 and place["wait_minutes"] >= 1


async def test_one_address_cannot_escape_the_limit_by_starting_over(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from contextlib import AsyncExitStack

    from conftest import make_config, start_server

    config = make_config(tmp_path / "data", public_visitor_messages_per_address=5)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        await allow(server, SITE)
        async with aiohttp.ClientSession() as http:
            replies = []
            for n in range(3):
                v = Visitor(http, server)
                await v.connect()  # a new visitor each time: counts once
                await v.send(type="start", client_id=f"c{n}", body="hi")  # and its message again
                replies.append((await v.frames(0.5))[0]["type"])
                await v.close()
            assert replies == ["ack", "ack", "error"]
            fresh = Visitor(http, server)
            assert fresh.ws is None
            fresh.ws = await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
            await fresh.ws.send_json({"type": "hello"})
            refused = await fresh.ws.receive_json(timeout=5)
            assert refused["type"] == "error" and "from your network" in refused["message"]
            await fresh.ws.close()


async def test_the_email_given_before_the_chat_reaches_the_customer_record(
    server: Server, personas: Personas, visitor
) -> None:
    from onlinesupport.store import customers as customers_repo
    from onlinesupport.store import search

    v = visitor()
    await v.connect()
    await v.send(
        type="start",
        client_id="c1",
        body="Where is my order?",
        name="Nora",
        email=" Nora@Example.com ",
    )
    ack = await v.receive("ack")
    opened = await server.services.db.fetch_one(
        "SELECT customer_id FROM conversations WHERE id = ?", (ack["conversation_id"],)
    )
    customer = await customers_repo.get(server.services.db, opened[0])
    assert customer["email"] == "nora@example.com", "the desk profile's Email"
    assert [c["id"] for c in await search.customers(server.services.db, "nora@example")] == [
        opened[0]
    ], "search finds the customer by it"
    # A mail from that address later joins the same customer's history.
    assert (
        await customers_repo.by_identity(server.services.db, "email", "nora@example.com")
        == opened[0]
    )


async def test_a_visitor_who_gave_only_an_email_address_is_named_by_it_in_the_desk(
    server: Server, personas: Personas, visitor, client_factory
) -> None:
    v = visitor()
    await v.connect()
    await v.send(type="start", client_id="c1", body="Where is my order?", email="lee@shop.test")
    cid = (await v.receive("ack"))["conversation_id"]
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    inbox = await (await desk.get("/inbox")).text()
    assert '<strong class="who">lee@shop.test</strong>' in inbox
    assert "Unknown customer" not in inbox
    page = await (await desk.get(f"/conversations/{cid}")).text()
    assert "<h1>Conversation with lee@shop.test</h1>" in page
    assert '<strong id="customer-name">lee@shop.test</strong>' in page
    listed = await (await desk.get("/api/conversations?view=open")).json()
    [row] = listed["conversations"]
    assert (row["customer_name"], row["customer_email"]) == ("", "lee@shop.test"), (
        "the live list (desk.js) names them the same way"
    )
    board = await desk.signin("max@example.com")
    assert board.status == 303
    assert "#1 lee@shop.test" in await (await desk.get("/board")).text()


async def test_an_email_of_another_customer_is_noted_for_agents_not_taken_over(
    server: Server, personas: Personas, visitor
) -> None:
    from onlinesupport.store import customers as customers_repo

    earlier = await server.services.conversations.open(
        channel="email",
        customer_name="Carla",
        identity=("email", "carla@example.com"),
        subject="Invoice",
        body="Private details",
    )
    v = visitor()
    await v.connect()
    await v.send(type="start", client_id="c1", body="Hello", email="carla@example.com")
    ack = await v.receive("ack")
    row = await server.services.db.fetch_one(
        "SELECT customer_id FROM conversations WHERE id = ?", (ack["conversation_id"],)
    )
    assert row[0] != earlier.customer_id, "typing an address gives no one else's history"
    assert (
        await customers_repo.by_identity(server.services.db, "email", "carla@example.com")
        == earlier.customer_id
    )
    stored = await messages_repo.after(server.services.db, ack["conversation_id"])
    note = [m for m in stored if m.kind == "note"]
    assert len(note) == 1 and "carla@example.com" in note[0].body and "Carla" in note[0].body
    frames = await v.frames(0.5)
    assert not [f for f in frames if f["type"] == "message" and "carla" in f["body"]], (
        "the note is for agents only"
    )


async def test_the_place_in_line_counts_visitors_still_waiting_and_a_plausible_wait(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    from contextlib import AsyncExitStack

    from conftest import make_config, start_server
    from onlinesupport.lib.clock import ManualClock

    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        await allow(server, SITE)
        conversations = server.services.conversations
        amy = await server.services.accounts.create_agent(
            "amy@example.com", "Amy", "agent", "correct horse battery"
        )
        # Yesterday: one chat answered the next morning, three within two minutes.
        late = await conversations.open(channel="chat", customer_name="Late", body="hi")
        clock.advance(hours=14)
        await conversations.post(late.conversation_id, Actor.agent(amy, "Amy"), "Good morning")
        for n in range(3):
            quick = await conversations.open(channel="chat", customer_name=f"Q{n}", body="hi")
            clock.advance(minutes=2)
            await conversations.post(quick.conversation_id, Actor.agent(amy, "Amy"), "Hello")
        # Nine visitors who asked and left hours ago, never answered.
        for n in range(9):
            await conversations.open(channel="chat", customer_name=f"Gone {n}", body="anyone?")
        clock.advance(hours=3)
        async with aiohttp.ClientSession() as http:
            v = Visitor(http, server)
            await v.connect()
            await v.send(type="start", client_id="c1", body="Is anyone there?")
            v.conversation_id = (await v.receive("ack"))["conversation_id"]
            await v.send(type="queue")
            place = await v.receive("queue")
            await v.close()
        assert place == {"type": "queue", "position": 1, "wait_minutes": 2}


async def test_a_visitor_listener_that_fails_says_so_once_and_follows_again(
    server: Server,
    personas: Personas,
    visitor,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from onlinesupport.channels.chat.protocol import VisitorSession

    v = visitor()
    await v.start_chat("Hello?")
    await v.receive("message")
    push = VisitorSession._push
    failures = 0

    async def failing_once(self: VisitorSession, message: Any) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise RuntimeError("a bug in the push")
        await push(self, message)

    monkeypatch.setattr(VisitorSession, "_push", failing_once)
    amy = Actor.agent(personas.agent, "Amy Agent")
    await server.services.conversations.post(v.conversation_id, amy, "Hi, I'm here.")
    caught_up = await v.receive("message", timeout=10)
    assert (caught_up["seq"], caught_up["body"]) == (2, "Hi, I'm here."), "from the store"
    await server.services.conversations.post(v.conversation_id, amy, "How can I help?")
    assert (await v.receive("message"))["body"] == "How can I help?", "live again"
    said = [r for r in caplog.records if "visitor listener" in r.getMessage()]
    assert len(said) == 1 and said[0].exc_info[1].args == ("a bug in the push",)
