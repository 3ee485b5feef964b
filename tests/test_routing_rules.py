"""Routing rules: parsing what admins write, every condition and action, order and stop, and
the rules at work on real conversations (events record why a conversation landed where)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from conftest import PASSWORD, Server, make_config, start_server
from email_helpers import scalar
from onlinesupport.lib.clock import ManualClock, to_db
from onlinesupport.routing.rules import (
    Facts,
    InvalidRule,
    Rule,
    evaluate,
    parse_actions,
    parse_conditions,
)
from onlinesupport.store import queues as queues_repo
from test_chat_protocol import SITE, Visitor, allow


def rule(
    conditions: str,
    actions: str = "priority 1",
    trigger: str = "new",
    rule_id: int = 1,
    active: bool = True,
) -> Rule:
    return Rule(
        rule_id,
        f"rule {rule_id}",
        trigger,
        parse_conditions(conditions),
        parse_actions(actions),
        active,
    )


FACTS = Facts(
    channel="email",
    mailbox="billing@shop.test",
    sender="kim@bigcorp.example",
    tier="preferred",
    tags=("VIP",),
    subject="Invoice 2231 is wrong",
    body="Hello, my order #4711 was charged twice.",
    page="https://shop.test/pricing/pro",
    question_type="billing",
    urgency="today",
    language="de",
)


@pytest.mark.parametrize(
    "condition, holds",
    [
        ("channel is email", True),
        ("channel is chat, form", False),
        ("mailbox is billing@shop.test", True),
        ("mailbox is sales@shop.test", False),
        ("sender is KIM@bigcorp.example", True),
        ("sender domain bigcorp.example", True),
        ("sender domain corp.example", False),
        ("sender domain example", True),
        ("sender domain other.example", False),
        ("sender contains kim", True),
        ("tier is preferred", True),
        ("tier is standard", False),
        ("tag has vip", True),
        ("tag has spam", False),
        ("subject contains refund, invoice", True),
        ("subject contains refund", False),
        ("body matches order\\s*#?\\d{4}", True),
        ("body matches ^order", False),
        ("text contains wrong", True),
        ("text contains charged", True),
        ("page matches */pricing*", True),
        ("page matches */contact*", False),
        ("question_type is Billing", True),
        ("urgency is today", True),
        ("language is de", True),
        ("language is en", False),
    ],
)
def test_each_condition(condition: str, holds: bool) -> None:
    assert evaluate([rule(condition)], FACTS, "new") == ([rule(condition)] if holds else [])


def test_hours_ask_the_calendar_only_when_needed() -> None:
    asked = []
    facts = Facts(channel="chat", open_now=lambda: asked.append(1) or False)
    assert evaluate([rule("hours outside")], facts, "new") != []
    assert evaluate([rule("hours inside")], facts, "new") == []
    assert evaluate([rule("channel is email\nhours inside")], facts, "new") == []
    assert len(asked) == 2, "the email rule failed before its hours were asked"


def test_order_stop_trigger_and_inactive() -> None:
    rules = [
        rule("channel is email", "tag a", rule_id=1),
        rule("channel is email", "tag b", trigger="message", rule_id=2),
        rule("channel is email", "tag c\nstop", trigger="both", rule_id=3),
        rule("channel is email", "tag d", rule_id=4),
        rule("channel is email", "tag e", rule_id=5, active=False),
    ]
    assert [r.id for r in evaluate(rules, FACTS, "new")] == [1, 3]
    assert [r.id for r in evaluate(rules, FACTS, "message")] == [2, 3]
    assert [r.id for r in evaluate(rules, FACTS, "new") if r.active] == [1, 3]


@pytest.mark.parametrize(
    "conditions, actions, message",
    [
        ("colour is red", "stop", "condition line 1: 'colour' is not one of"),
        ("\nchannel equals chat", "stop", "condition line 2: after channel write is"),
        ("subject contains", "stop", "condition line 1: subject contains what?"),
        ("body matches (unclosed", "stop", "condition line 1: not a pattern"),
        ("", "", "a rule needs at least one action"),
        ("", "priority high", "action line 1: priority takes a whole number"),
        ("", "queue", "action line 1: queue what?"),
        ("", "explode now", "action line 1: 'explode' is not one of"),
    ],
)
def test_mistakes_name_the_line(conditions: str, actions: str, message: str) -> None:
    with pytest.raises(InvalidRule, match=re.escape(message)):
        parse_conditions(conditions)
        parse_actions(actions)


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        db = server.services.db
        await db.write(lambda conn: queues_repo.insert(conn, "Billing", to_db(clock.now())))
        await server.services.accounts.create_agent("bea@shop.test", "Bea", "agent", PASSWORD)
        await server.services.accounts.create_agent("ada@shop.test", "Ada", "admin", PASSWORD)
        yield server, clock


async def _events(server: Server, conversation_id: int, kind: str) -> list[dict]:
    rows = await server.services.db.fetch_all(
        "SELECT data FROM events WHERE conversation_id = ? AND type = ? ORDER BY id",
        (conversation_id, kind),
    )
    return [json.loads(r["data"]) for r in rows]


async def test_rules_route_a_new_conversation_and_say_why(shop) -> None:
    server, clock = shop
    rules = server.services.rules
    await rules.save(
        None,
        {
            "name": "Billing mail",
            "active": "on",
            "trigger": "new",
            "conditions": "text contains invoice, charged\nsender domain bigcorp.example",
            "actions": "queue Billing\npriority 2\ntag billing\n"
            "first_response 30\nassign bea@shop.test",
        },
    )
    await rules.save(
        None,
        {
            "name": "Chats",
            "active": "on",
            "trigger": "new",
            "conditions": "channel is chat",
            "actions": "tag other",
        },
    )
    opened = await server.services.conversations.open(
        channel="chat",
        customer_name="Kim",
        identity=("email", "kim@bigcorp.example"),
        body="I was charged twice",
    )
    row = await server.services.db.fetch_one(
        "SELECT c.priority, c.tags, c.first_response_due_at, c.assignee_id, q.name"
        " FROM conversations c JOIN queues q ON q.id = c.queue_id WHERE c.id = ?",
        (opened.conversation_id,),
    )
    assert (row["name"], row["priority"], json.loads(row["tags"])) == (
        "Billing",
        2,
        ["billing", "other"],
    )
    assert row["first_response_due_at"] == to_db(clock.now().replace(minute=30))
    fired = await _events(server, opened.conversation_id, "rule.fired")
    assert [f["name"] for f in fired] == ["Billing mail", "Chats"]
    assert fired[0]["actions"] == [
        "queue Billing",
        "priority 2",
        "tag billing",
        "first answer within 30 minutes",
        "assigned to Bea",
    ]
    assert (await _events(server, opened.conversation_id, "conversation.moved"))[0][
        "queue_name"
    ] == "Billing"


async def test_message_rules_reply_once_and_spam(shop) -> None:
    server, _ = shop
    rules = server.services.rules
    await rules.save(
        None,
        {
            "name": "Urgent",
            "active": "on",
            "trigger": "message",
            "conditions": "body contains urgent",
            "actions": "priority 3",
        },
    )
    await rules.save(
        None,
        {
            "name": "Thanks",
            "active": "on",
            "trigger": "both",
            "conditions": "channel is chat",
            "actions": "reply Thanks! Your number is {ticket}.",
        },
    )
    await rules.save(
        None,
        {
            "name": "Spam",
            "active": "on",
            "trigger": "new",
            "conditions": "body matches (?i)cheap pills",
            "actions": "spam\nstop",
        },
    )
    conversations = server.services.conversations
    opened = await conversations.open(channel="chat", customer_name="Lee", body="Hello")
    cid = opened.conversation_id
    await conversations.post(cid, _customer(opened), "This is urgent!")
    bodies = await server.services.db.fetch_all(
        "SELECT author_type, body FROM messages WHERE conversation_id = ? ORDER BY seq", (cid,)
    )
    assert [tuple(b) for b in bodies] == [
        ("customer", "Hello"),
        ("agent", f"Thanks! Your number is {cid}."),
        ("customer", "This is urgent!"),
    ], "one reply only"
    assert (
        await scalar(server.services, "SELECT priority FROM conversations WHERE id = ?", (cid,))
        == 3
    )
    assert (
        await scalar(
            server.services, "SELECT first_response_at FROM conversations WHERE id = ?", (cid,)
        )
        is None
    ), "an automatic reply is no answer"
    spam = await conversations.open(channel="form", customer_name="X", body="CHEAP PILLS here")
    row = await server.services.db.fetch_one(
        "SELECT status, tags FROM conversations WHERE id = ?", (spam.conversation_id,)
    )
    assert (row["status"], json.loads(row["tags"])) == ("closed", ["spam"])


def _customer(opened):  # type: ignore[no-untyped-def]
    from onlinesupport.core.conversations import Actor

    return Actor.customer(opened.customer_id)


async def test_saving_checks_names_and_order_can_change(shop) -> None:
    server, _ = shop
    rules = server.services.rules
    with pytest.raises(InvalidRule, match="no queue named 'Sales'"):
        await rules.save(None, {"name": "x", "trigger": "new", "actions": "queue Sales"})
    with pytest.raises(InvalidRule, match="no active agent"):
        await rules.save(None, {"name": "x", "trigger": "new", "actions": "assign zed@shop.test"})
    first = await rules.save(None, {"name": "First", "active": "on", "actions": "tag a"})
    second = await rules.save(None, {"name": "Second", "active": "on", "actions": "tag b"})
    await rules.move(second, -1)
    assert [r.id for r in rules.rules][-2:] == [second, first]
    await rules.delete(second)
    assert [r.id for r in rules.rules][-1] == first and second not in [r.id for r in rules.rules]
    examples = [r for r in rules.rules if r.name.startswith("Example")]
    assert len(examples) == 4 and not any(r.active for r in examples), "shipped switched off"


async def test_the_admin_page_edits_and_tests_a_pasted_email(shop, client_factory) -> None:
    server, _ = shop
    admin = client_factory(server.desk_url)
    await admin.signin("ada@shop.test")
    refused = await admin.post(
        "/admin/rules",
        {"name": "Bad", "trigger": "new", "conditions": "colour is red", "actions": "stop"},
    )
    assert refused.status == 400 and "condition line 1" in await refused.text()
    assert (
        await admin.post(
            "/admin/rules",
            {
                "name": "Invoices",
                "trigger": "new",
                "active": "on",
                "conditions": "channel is email\nsubject contains invoice",
                "actions": "queue Billing\npriority 2",
            },
        )
    ).status == 303
    raw = (
        "From: Kim <kim@bigcorp.example>\nTo: help@shop.test\nSubject: Invoice 22 wrong\n\n"
        "Please fix it.\n"
    )
    page = await (
        await admin.post("/admin/rules/test", {"raw": raw, "channel": "chat", "trigger": "new"})
    ).text()
    result = page.split('id="sample-results"')[1]
    assert "Invoices</strong>: fires → queue Billing, priority 2" in result
    assert "✓ subject contains invoice" in result
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 0
    agent = client_factory(server.desk_url)
    await agent.signin("bea@shop.test")
    assert (await agent.get("/admin/rules")).status == 403


async def test_the_conversation_shows_why_it_landed_where_it_did(shop, client_factory) -> None:
    server, _ = shop
    await server.services.rules.save(
        None,
        {
            "name": "Billing words",
            "active": "on",
            "conditions": "body contains invoice",
            "actions": "queue Billing\ntag money",
        },
    )
    opened = await server.services.conversations.open(
        channel="chat", customer_name="Lee", body="About my invoice"
    )
    agent = client_factory(server.desk_url)
    await agent.signin("bea@shop.test")
    page = await (await agent.get(f"/conversations/{opened.conversation_id}")).text()
    assert "Routed by" in page and "Billing words: queue Billing, tag money" in page
    assert "Tags: money" in page


async def test_automatic_assignment_respects_presence_and_capacity(shop) -> None:
    server, clock = shop
    services = server.services
    cid = await services.accounts.create_agent("cid@shop.test", "Cid", "agent", PASSWORD)
    bea = (await services.db.fetch_one("SELECT id FROM agents WHERE email = 'bea@shop.test'"))[0]
    ada = (await services.db.fetch_one("SELECT id FROM agents WHERE email = 'ada@shop.test'"))[0]
    await services.accounts.update_agent(bea, role="agent", active=True, capacity=1)
    await services.db.write(lambda conn: queues_repo.set_members(conn, 1, [bea, cid]))
    await services.rules.save(
        None,
        {
            "name": "Everyone gets someone",
            "active": "on",
            "conditions": "channel is chat",
            "actions": "assign auto",
        },
    )
    services.presence.connected(bea)
    services.presence.connected(cid)
    services.presence.connected(ada)  # online, but not a member of the queue
    services.presence.set_status(cid, "away")

    async def new_chat() -> int | None:
        clock.advance(seconds=1)
        opened = await services.conversations.open(channel="chat", body="Hi")
        return await scalar(
            services,
            "SELECT assignee_id FROM conversations WHERE id = ?",
            (opened.conversation_id,),
        )

    assert await new_chat() == bea
    assert await new_chat() is None, "Bea is full (capacity 1), Cid is away, Ada not a member"
    services.presence.set_status(cid, "online")
    assert await new_chat() == cid
    assert await new_chat() == cid, "Bea is still full"
    await services.accounts.update_agent(bea, role="agent", active=True, capacity=5)
    assert await new_chat() == bea, "the least loaded"
    fired = await server.services.db.fetch_all(
        "SELECT data FROM events WHERE type = 'rule.fired' ORDER BY id"
    )
    assert json.loads(fired[1]["data"])["actions"] == ["waits: nobody online with room"]


async def test_the_inbox_sorts_by_the_answer_due_first(shop, client_factory) -> None:
    server, clock = shop
    services = server.services
    await services.rules.save(
        None,
        {
            "name": "Urgent mail",
            "active": "on",
            "conditions": "subject contains urgent",
            "actions": "first_response 5\npriority 2",
        },
    )
    fast = await services.conversations.open(channel="email", subject="Urgent!", body="y")
    clock.advance(minutes=1)
    slow = await services.conversations.open(channel="email", subject="Question", body="x")
    agent = client_factory(server.desk_url)
    await agent.signin("bea@shop.test")
    recent = await (await agent.get("/api/conversations?view=open")).json()
    assert [c["id"] for c in recent["conversations"]] == [
        slow.conversation_id,
        fast.conversation_id,
    ]
    due = await (await agent.get("/api/conversations?view=open&sort=due")).json()
    assert [c["id"] for c in due["conversations"]] == [fast.conversation_id, slow.conversation_id]
    assert due["conversations"][0]["answer_due_at"] < due["conversations"][1]["answer_due_at"]
    page = await (await agent.get("/inbox?sort=due")).text()
    assert "<strong>answer due first</strong>" in page and ">P2<" in page, "priority, not overdue"
    assert (await agent.get("/api/conversations?sort=sideways")).status == 400


async def test_a_chat_in_german_goes_to_the_german_queue(shop) -> None:
    server, clock = shop
    services = server.services
    now = to_db(clock.now())
    await services.db.write(lambda conn: queues_repo.insert(conn, "Deutsch", now))
    await services.rules.save(
        None,
        {
            "name": "German",
            "active": "on",
            "conditions": "language is de",
            "actions": "queue Deutsch",
        },
    )
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        v = Visitor(http, server)
        await v.connect()
        await v.send(type="start", client_id="c1", body="Hallo", language="de")
        german = (await v.receive("ack"))["conversation_id"]
    english = await services.conversations.open(channel="chat", body="Hello", language="en")
    rows = await services.db.fetch_all(
        "SELECT c.id, q.name FROM conversations c JOIN queues q ON q.id = c.queue_id ORDER BY c.id"
    )
    assert [tuple(r) for r in rows] == [(german, "Deutsch"), (english.conversation_id, "General")]
