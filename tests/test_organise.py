"""Organising conversations: merge, split, snooze, bulk actions, mentions, inbox filters and
saved views, on the services with a real database and the test clock."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest

from email_helpers import add_mailbox, mail, mailbox_form
from onlinesupport.channels.email.intake import Incoming
from onlinesupport.core.canned import PermissionDenied
from onlinesupport.core.conversations import Actor, InvalidCommand, bulk, merging, snooze
from onlinesupport.core.conversations.mentions import mentioned
from onlinesupport.core.inbox_views import InboxQuery, parse
from onlinesupport.lib.clock import to_db
from onlinesupport.services import Services
from onlinesupport.store import NotFound
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store.conversations import InboxFilter
from onlinesupport.store.mentions import MentionableAgent


async def _agent(services: Services, name: str = "Amy Agent", role: str = "agent") -> Actor:
    email = name.split()[0].lower() + "@example.com"
    agent_id = await services.accounts.create_agent(email, name, role, "a long password")
    return Actor.agent(agent_id, name)


async def _events(services: Services, cid: int) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in await events_repo.for_conversation(services.db, cid)]


async def _row(services: Services, cid: int) -> dict:
    found = await conversations_repo.get(services.db, cid)
    assert found is not None
    return found


async def _bodies(services: Services, cid: int) -> list[str]:
    return [m.body for m in await messages_repo.after(services.db, cid)]


async def _mailbox(services: Services) -> dict:
    mailbox_id = await add_mailbox(
        services, mailbox_form(None, None, ack_enabled="", smtp_receive="on")
    )
    found = await mailboxes_repo.get(services.db, mailbox_id)
    assert found is not None
    return found


# ---- merge ------------------------------------------------------------------------------


async def test_a_mail_thread_merged_into_the_chat_keeps_its_history_and_its_replies_land_there(
    services: Services,
) -> None:
    amy = await _agent(services)
    mailbox = await _mailbox(services)
    chat = await services.conversations.open(
        channel="chat",
        customer_name="Carla",
        identity=("visitor", "v-1"),
        body="Order 1234 has not arrived.",
    )
    first_mail = mail(subject="Order 1234", body="Where is order 1234?")
    by_mail = await services.email.intake.receive(mailbox, Incoming(first_mail))
    await services.conversations.post(by_mail.conversation_id, amy, "Looking into it.")

    await merging.merge(services.conversations, by_mail.conversation_id, chat.conversation_id, amy)

    source = await _row(services, by_mail.conversation_id)
    assert (source["merged_into"], source["status"]) == (chat.conversation_id, "closed")
    assert (
        "conversation.merged",
        {"into": chat.conversation_id, "subject": "", "from": "open"},
    ) in await _events(services, source["id"])
    merged_in = [
        d for t, d in await _events(services, chat.conversation_id) if t == "conversation.merged_in"
    ]
    assert merged_in == [
        {
            "from": by_mail.conversation_id,
            "channel": "email",
            "subject": "Order 1234",
            "customer_id": source["customer_id"],
            "up_to_seq": 2,
            "tags": [],
        }
    ]
    # The merged conversation's messages stay where they were: nothing renumbered.
    assert await _bodies(services, by_mail.conversation_id) == [
        "Where is order 1234?",
        "Looking into it.",
    ]

    # Carla answers the old mail thread: it lands in the chat, not in the merged conversation.
    reply = mail(
        subject="Re: Order 1234",
        body="Any news?",
        In_Reply_To=message_from_bytes(first_mail)["Message-ID"],
    )
    imported = await services.email.intake.receive(mailbox, Incoming(reply))
    assert imported.conversation_id == chat.conversation_id
    assert await _bodies(services, chat.conversation_id) == [
        "Order 1234 has not arrived.",
        "Any news?",
    ]
    assert (await _row(services, by_mail.conversation_id))["status"] == "closed"


async def test_a_customer_writing_in_a_merged_chat_is_kept_there_and_copied_to_the_target(
    services: Services,
) -> None:
    amy = await _agent(services)
    old = await services.conversations.open(
        channel="chat", customer_name="Carla", identity=("visitor", "v-1"), body="First question"
    )
    new = await services.conversations.open(
        channel="email",
        customer_name="Carla",
        identity=("email", "carla@example.com"),
        subject="Same thing",
        body="By mail",
    )
    await services.conversations.resolve(new.conversation_id, amy)
    await merging.merge(services.conversations, old.conversation_id, new.conversation_id, amy)
    assert (await _row(services, new.conversation_id))["status"] == "open", (
        "an open conversation merged into a resolved one reopens it"
    )

    posted = await services.conversations.post(
        old.conversation_id, Actor.customer(old.customer_id), "Hello again?"
    )
    assert (posted.message.conversation_id, posted.message.seq) == (old.conversation_id, 2)
    assert (await _row(services, old.conversation_id))["status"] == "closed"
    assert await _bodies(services, new.conversation_id) == ["By mail", "Hello again?"]


async def test_a_customer_writing_in_a_merged_chat_is_owed_the_next_answer_in_the_target(
    services: Services,
) -> None:
    amy = await _agent(services)
    old = await services.conversations.open(
        channel="chat", customer_name="Carla", identity=("visitor", "v-1"), body="First question"
    )
    new = await services.conversations.open(
        channel="chat", customer_name="Carla", identity=("visitor", "v-2"), body="Again"
    )
    for cid in (old.conversation_id, new.conversation_id):
        await services.conversations.post(cid, amy, "Answer")
    await merging.merge(services.conversations, old.conversation_id, new.conversation_id, amy)
    await services.conversations.post(
        old.conversation_id, Actor.customer(old.customer_id), "Hello again?"
    )
    # The merged chat has ended: the promise goes on in the one it went into (docs/reports.md).
    assert (await _row(services, old.conversation_id))["next_response_due_at"] is None
    assert (await _row(services, new.conversation_id))["next_response_due_at"] is not None
    assert ("sla.target", "next_response") not in [
        (t, d.get("target")) for t, d in await _events(services, old.conversation_id)
    ]


async def test_rules_act_once_on_a_message_in_a_merged_chat_in_the_target(
    services: Services,
) -> None:
    amy = await _agent(services)
    old = await services.conversations.open(
        channel="chat", customer_name="Carla", identity=("visitor", "v-1"), body="First question"
    )
    new = await services.conversations.open(
        channel="chat", customer_name="Carla", identity=("visitor", "v-2"), body="Again"
    )
    await merging.merge(services.conversations, old.conversation_id, new.conversation_id, amy)
    await services.rules.save(
        None,
        {
            "name": "Chats",
            "active": "on",
            "trigger": "message",
            "conditions": "channel is chat",
            "actions": "tag chatted",
        },
    )
    await services.conversations.post(
        old.conversation_id, Actor.customer(old.customer_id), "Hello again?"
    )
    fired = {
        cid: [t for t, _ in await _events(services, cid) if t == "rule.fired"]
        for cid in (old.conversation_id, new.conversation_id)
    }
    # The customer's message is copied into the target; only the copy is routed.
    assert fired == {old.conversation_id: [], new.conversation_id: ["rule.fired"]}


async def test_merging_refuses_itself_and_merged_conversations_and_passes_earlier_merges_on(
    services: Services,
) -> None:
    amy = await _agent(services)
    a, b, c = [
        (
            await services.conversations.open(
                channel="email", customer_name="C", body=f"message {n}"
            )
        ).conversation_id
        for n in range(3)
    ]
    with pytest.raises(InvalidCommand, match="itself"):
        await merging.merge(services.conversations, a, a, amy)
    await merging.merge(services.conversations, a, b, amy)
    with pytest.raises(InvalidCommand, match="already"):
        await merging.merge(services.conversations, a, c, amy)
    with pytest.raises(InvalidCommand, match="merge into that one"):
        await merging.merge(services.conversations, c, a, amy)
    with pytest.raises(NotFound):
        await merging.merge(services.conversations, c, 999, amy)

    await merging.merge(services.conversations, b, c, amy)
    assert (await _row(services, a))["merged_into"] == c, "one step from any merged one"
    assert [d["from"] for t, d in await _events(services, c) if t == "conversation.merged_in"] == [
        a,
        b,
    ]
    posted = await services.conversations.post(a, Actor.customer(None), "late word")
    assert posted.message.conversation_id == a
    assert (await _bodies(services, c))[-1] == "late word"


async def test_splitting_copies_a_message_into_a_new_conversation_with_the_same_assignee(
    services: Services,
) -> None:
    amy = await _agent(services)
    opened = await services.conversations.open(
        channel="email",
        customer_name="Carla",
        identity=("email", "carla@example.com"),
        subject="Invoice",
        body="Invoice 7 is wrong.",
    )
    second = await services.conversations.post(
        opened.conversation_id,
        Actor.customer(opened.customer_id),
        "Also: can I change my address?\nIt moved.",
    )
    await services.conversations.assign(opened.conversation_id, amy.id, amy)

    new_id = await merging.split(
        services.conversations, opened.conversation_id, second.message.id, "", amy
    )

    row = await _row(services, new_id)
    assert (row["subject"], row["channel"], row["customer_id"], row["assignee_id"]) == (
        "Also: can I change my address?",
        "email",
        opened.customer_id,
        amy.id,
    )
    assert await _bodies(services, new_id) == ["Also: can I change my address?\nIt moved."]
    assert await _bodies(services, opened.conversation_id) == [
        "Invoice 7 is wrong.",
        "Also: can I change my address?\nIt moved.",
    ], "history kept"
    assert (
        "conversation.split",
        {
            "message_id": second.message.id,
            "seq": 2,
            "into": new_id,
            "subject": "Also: can I change my address?",
        },
    ) in await _events(services, opened.conversation_id)
    assert (
        "conversation.split_from",
        {"from": opened.conversation_id, "message_id": second.message.id, "seq": 2},
    ) in await _events(services, new_id)
    note = await services.conversations.note(opened.conversation_id, amy, "internal")
    with pytest.raises(InvalidCommand, match="only a customer"):
        await merging.split(
            services.conversations, opened.conversation_id, note.message.id, "", amy
        )
    with pytest.raises(InvalidCommand, match="is not in conversation"):
        await merging.split(services.conversations, new_id, second.message.id, "", amy)


# ---- snooze -------------------------------------------------------------------------------


async def test_a_snooze_until_a_time_ends_when_the_clock_gets_there(services: Services) -> None:
    amy = await _agent(services)
    cid = (
        await services.conversations.open(channel="email", customer_name="C", body="hi")
    ).conversation_id
    until = snooze.preset_until("1h", services.clock.now(), "UTC")
    assert await snooze.snooze(services.conversations, cid, until, amy)
    assert [c["id"] for c in await conversations_repo.inbox(services.db, "open", amy.id)] == []
    assert [c["id"] for c in await conversations_repo.inbox(services.db, "snoozed", amy.id)] == [
        cid
    ]

    services.clock.advance(minutes=59)
    assert await services.snoozes.wake_due() == 0
    services.clock.advance(minutes=2)
    assert await services.snoozes.wake_due() == 1
    assert [c["id"] for c in await conversations_repo.inbox(services.db, "open", amy.id)] == [cid]
    assert [t for t, _ in await _events(services, cid)][-2:] == [
        "conversation.snoozed",
        "conversation.woke",
    ]
    assert (await _events(services, cid))[-1][1] == {"reason": "time"}


async def test_a_snooze_until_the_customer_answers_ends_with_their_message(
    services: Services,
) -> None:
    amy = await _agent(services)
    opened = await services.conversations.open(channel="chat", customer_name="C", body="hi")
    await snooze.snooze(services.conversations, opened.conversation_id, None, amy)
    services.clock.advance(days=30)
    assert await services.snoozes.wake_due() == 0
    await services.conversations.post(
        opened.conversation_id, Actor.customer(opened.customer_id), "I am back"
    )
    row = await _row(services, opened.conversation_id)
    assert row["snoozed_at"] is None
    assert ("conversation.woke", {"reason": "reply"}) in await _events(
        services, opened.conversation_id
    )


def test_snooze_presets_are_the_business_s_morning() -> None:
    friday_evening = datetime(2026, 1, 9, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
    berlin = "Europe/Berlin"
    assert (
        to_db(snooze.preset_until("tomorrow", friday_evening, berlin)) == "2026-01-10T08:00:00.000Z"
    )
    assert (
        to_db(snooze.preset_until("next-week", friday_evening, berlin))
        == "2026-01-12T08:00:00.000Z"
    )
    assert snooze.preset_until("reply", friday_evening, berlin) is None
    assert to_db(snooze.parse_until("2026-01-09T20:00", berlin)) == "2026-01-09T19:00:00.000Z"
    assert to_db(snooze.parse_until("2026-01-09T20:00:00Z", berlin)) == "2026-01-09T20:00:00.000Z"
    with pytest.raises(InvalidCommand):
        snooze.preset_until("forever", friday_evening, berlin)
    with pytest.raises(InvalidCommand):
        snooze.parse_until("soon", berlin)


async def test_a_snooze_must_end_in_the_coming_year_and_resolving_ends_it(
    services: Services,
) -> None:
    amy = await _agent(services)
    cid = (
        await services.conversations.open(channel="email", customer_name="C", body="hi")
    ).conversation_id
    now = services.clock.now()
    with pytest.raises(InvalidCommand, match="coming year"):
        await snooze.snooze(services.conversations, cid, now, amy)
    await snooze.snooze(services.conversations, cid, now.replace(year=now.year + 1), amy)
    await services.conversations.resolve(cid, amy)
    assert (await _row(services, cid))["snoozed_at"] is None
    assert not await snooze.snooze(services.conversations, cid, None, amy), "not while resolved"


# ---- bulk ---------------------------------------------------------------------------------


async def test_bulk_actions_change_every_selected_conversation_with_its_own_events(
    services: Services,
) -> None:
    max_ = await _agent(services, "Max Manager", "manager")
    bob = await _agent(services, "Bob Agent")
    ids = [
        (
            await services.conversations.open(channel="email", customer_name=f"C{n}", body="hi")
        ).conversation_id
        for n in range(3)
    ]
    queue_id = await services.db.write(
        lambda conn: (
            conn.execute(
                "INSERT INTO queues (name, created_at) VALUES ('Billing', ?)",
                (to_db(services.clock.now()),),
            ).lastrowid
        )
    )

    async def run(*args: Any) -> int:
        return (await bulk.apply(*args)).changed

    assert await run(services.conversations, ids, bulk.BulkAction("tag", tag="vip"), max_) == 3
    assert await run(services.conversations, ids, bulk.BulkAction("tag", tag="VIP"), max_) == 0
    assert (
        await run(services.conversations, ids[:2], bulk.BulkAction("assign", agent_id=bob.id), max_)
        == 2
    )
    assert (
        await run(services.conversations, ids[:2], bulk.BulkAction("move", queue_id=queue_id), max_)
        == 2
    )
    assert await run(services.conversations, ids[2:], bulk.BulkAction("snooze"), max_) == 1
    assert await run(services.conversations, ids[:1], bulk.BulkAction("resolve"), max_) == 1
    first = await _row(services, ids[0])
    assert (
        json.loads(first["tags"]),
        first["assignee_id"],
        first["queue_id"],
        first["status"],
    ) == (["vip"], bob.id, queue_id, "resolved")
    assert [t for t, _ in await _events(services, ids[0])][3:] == [
        "conversation.tagged",
        "conversation.assigned",
        "conversation.moved",
        "conversation.resolved",
    ]

    with pytest.raises(NotFound):
        await run(services.conversations, [ids[1], 999], bulk.BulkAction("resolve"), max_)
    assert (await _row(services, ids[1]))["status"] == "open", "all or nothing"
    for bad in (bulk.BulkAction("delete"), bulk.BulkAction("tag", tag="<b>")):
        with pytest.raises(InvalidCommand):
            await run(services.conversations, ids, bad, max_)
    with pytest.raises(InvalidCommand, match="at most"):
        await run(services.conversations, list(range(1, 300)), bulk.BulkAction("resolve"), max_)


# ---- mentions -----------------------------------------------------------------------------


def test_a_mention_names_a_colleague_by_full_name_unique_first_name_or_address() -> None:
    agents = [
        MentionableAgent(1, "Amy Agent", "amy@example.com"),
        MentionableAgent(2, "Bob Agent", "robert@example.com"),
        MentionableAgent(3, "Bob Builder", "builder@example.com"),
        MentionableAgent(4, "Max Manager", "max.m@example.com"),
    ]

    def ids(text: str) -> list[int]:
        return [a.id for a in mentioned(text, agents)]

    assert ids("@Bob Builder can you check?") == [3]
    assert ids("cc @amy, and @max.m.") == [1, 4]
    assert ids("@Bob, is it you?") == [], "two Bobs: the full name is needed"
    assert ids("@robert, is it you?") == [2]
    assert ids("write to carla@amy.com or@Amy") == [], "addresses are not mentions"
    assert ids("@Amy @Amy Agent") == [1]
    assert ids("@Amyx") == []


async def test_a_note_that_mentions_a_colleague_is_recorded_and_listed_for_them(
    services: Services,
) -> None:
    amy = await _agent(services)
    bob = await _agent(services, "Bob Agent")
    cid = (
        await services.conversations.open(channel="email", customer_name="C", body="hi")
    ).conversation_id
    posted = await services.conversations.note(cid, amy, "@Bob Agent please check, thanks @Amy")
    assert (await _events(services, cid))[-1] == (
        "note.mentioned",
        {
            "message_id": posted.message.id,
            "seq": 2,
            "agent_ids": [bob.id],
            "names": ["Bob Agent"],
            "by": "Amy Agent",
        },
    )
    assert [c["id"] for c in await conversations_repo.inbox(services.db, "mentions", bob.id)] == [
        cid
    ]
    assert await conversations_repo.inbox(services.db, "mentions", amy.id) == []
    assert (await conversations_repo.view_counts(services.db, bob.id))["mentions"] == 1
    await services.conversations.post(cid, amy, "@Bob Agent a reply to the customer")
    assert [t for t, _ in await _events(services, cid)].count("note.mentioned") == 1, (
        "only notes mention"
    )


# ---- filters and saved views -------------------------------------------------------------


async def test_inbox_filters_narrow_by_queue_channel_tag_assignee_priority_and_due(
    services: Services,
) -> None:
    amy = await _agent(services)
    conversations = services.conversations
    chat = (await conversations.open(channel="chat", customer_name="A", body="x")).conversation_id
    mail_id = (
        await conversations.open(channel="email", customer_name="B", body="y")
    ).conversation_id
    await bulk.apply(conversations, [mail_id], bulk.BulkAction("tag", tag="VIP"), amy)
    await conversations.assign(chat, amy.id, amy)
    now = to_db(services.clock.now())
    later = to_db(services.clock.now() + timedelta(hours=3))

    def set_due(conn: sqlite3.Connection) -> None:
        conversations_repo.update(conn, mail_id, now, priority=2, first_response_due_at=now)
        conversations_repo.update(conn, chat, now, first_response_due_at=later)

    await services.db.write(set_due)

    async def shown(**narrow: object) -> list[int]:
        rows = await conversations_repo.inbox(
            services.db, "open", amy.id, narrow=InboxFilter(**narrow), now=now
        )
        return sorted(r["id"] for r in rows)

    assert await shown() == [chat, mail_id]
    assert await shown(channel="email") == [mail_id]
    assert await shown(tag="vip") == [mail_id]
    assert await shown(assignee="me") == [chat]
    assert await shown(assignee="none") == [mail_id]
    assert await shown(assignee=str(amy.id)) == [chat]
    assert await shown(priority=1) == [mail_id]
    assert await shown(due="1h") == [mail_id]
    assert await shown(queue_id=1, channel="chat") == [chat]


def test_an_inbox_query_is_checked_and_keeps_only_what_differs_from_the_default() -> None:
    query = parse(
        {
            "view": "mine",
            "channel": "email",
            "tag": " vip ",
            "assignee": "none",
            "priority": "2",
            "due": "overdue",
            "queue": "3",
        }
    )
    assert query.params() == {
        "view": "mine",
        "queue": "3",
        "channel": "email",
        "tag": "vip",
        "assignee": "none",
        "priority": "2",
        "due": "overdue",
    }
    assert parse({}).params() == {} and parse({}) == InboxQuery()
    for bad in (
        {"view": "all"},
        {"channel": "fax"},
        {"due": "never"},
        {"priority": "x"},
        {"assignee": "someone"},
        {"sort": "random"},
        {"queue": "0"},
        {"tag": "t" * 41},
    ):
        with pytest.raises(InvalidCommand):
            parse(bad)


async def test_saved_views_are_an_agents_own_or_shared_by_a_manager(services: Services) -> None:
    amy = await _agent(services)
    bob = await _agent(services, "Bob Agent")
    max_ = await _agent(services, "Max Manager", "manager")
    views = services.saved_views
    vip = parse({"tag": "vip", "channel": "email"})
    mine = await views.add(amy.id, False, name="My VIP mail", shared=False, query=vip)
    shared = await views.add(
        max_.id, True, name="Late", shared=True, query=parse({"due": "overdue"})
    )
    with pytest.raises(PermissionDenied):
        await views.add(amy.id, False, name="Everyone", shared=True, query=vip)
    with pytest.raises(InvalidCommand, match="exists already"):
        await views.add(amy.id, False, name="My VIP mail", shared=False, query=vip)

    assert [v["name"] for v in await views.for_agent(amy.id)] == ["Late", "My VIP mail"]
    assert [v["name"] for v in await views.for_agent(bob.id)] == ["Late"]
    assert (await views.query(mine, amy.id)).narrow == InboxFilter(channel="email", tag="vip")
    with pytest.raises(NotFound):
        await views.query(mine, bob.id)
    with pytest.raises(PermissionDenied):
        await views.delete(shared, amy.id, False)
    with pytest.raises(PermissionDenied):
        await views.delete(mine, bob.id, False)
    await views.delete(mine, amy.id, False)
    assert [v["name"] for v in await views.for_agent(amy.id)] == ["Late"]
