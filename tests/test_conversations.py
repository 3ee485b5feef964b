"""The conversation core: commands, events, idempotent retries, gap-free numbering."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import onlinesupport
from onlinesupport.core.conversations import Actor, InvalidCommand
from onlinesupport.services import Services
from onlinesupport.store import NotFound
from onlinesupport.store import events as events_repo
from onlinesupport.store import messages as messages_repo


async def _agent(services: Services, email: str = "amy@example.com") -> Actor:
    agent_id = await services.accounts.create_agent(email, "Amy", "agent", "a long password")
    return Actor.agent(agent_id, "Amy")


async def test_opening_a_conversation_records_customer_message_and_event(
    services: Services,
) -> None:
    opened = await services.conversations.open(
        channel="chat",
        customer_name="Carla",
        identity=("email", "Carla@Example.com"),
        subject="Order 17",
        body="Where is my order?",
        client_id="c-1",
    )
    messages = await messages_repo.after(services.db, opened.conversation_id)
    assert [(m.seq, m.author_type, m.body, m.author_name) for m in messages] == [
        (1, "customer", "Where is my order?", "Carla")
    ]
    types = [
        e.type for e in await events_repo.for_conversation(services.db, opened.conversation_id)
    ]
    assert types == ["conversation.created", "sla.target", "message.posted"]
    again = await services.conversations.open(
        channel="email", identity=("email", "carla@example.com")
    )
    assert again.customer_id == opened.customer_id, "the same address is the same customer"


async def test_a_retried_client_id_never_makes_a_second_message(services: Services) -> None:
    opened = await services.conversations.open(channel="chat", customer_name="Carla")
    customer = Actor.customer(opened.customer_id, "Carla")
    first = await services.conversations.post(
        opened.conversation_id, customer, "hello", client_id="x1"
    )
    retries = await asyncio.gather(
        *[
            services.conversations.post(opened.conversation_id, customer, "hello", client_id="x1")
            for _ in range(5)
        ]
    )
    assert not first.duplicate
    assert all(r.duplicate and r.message.seq == first.message.seq for r in retries)
    messages = await messages_repo.after(services.db, opened.conversation_id)
    assert [m.body for m in messages] == ["hello"]


async def test_two_hundred_concurrent_posters_leave_no_gap_in_seq(services: Services) -> None:
    opened = await services.conversations.open(channel="chat", customer_name="Carla")
    agent = await _agent(services)
    customer = Actor.customer(opened.customer_id, "Carla")

    async def poster(n: int) -> list[int]:
        who = agent if n % 2 else customer
        seqs = []
        for i in range(5):
            posted = await services.conversations.post(
                opened.conversation_id, who, f"{n}-{i}", client_id=f"{n}-{i}"
            )
            seqs.append(posted.message.seq)
        return seqs

    results = await asyncio.gather(*[poster(n) for n in range(200)])
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(1, 1001))
    stored = [m.seq for m in await messages_repo.after(services.db, opened.conversation_id)]
    assert stored == list(range(1, 1001))
    assert services.db.batches < services.db.commands, "concurrent posts were group-committed"


async def test_every_command_records_its_event(services: Services) -> None:
    agent = await _agent(services)
    opened = await services.conversations.open(
        channel="phone", customer_name="Carla", body="My invoice is wrong"
    )
    cid = opened.conversation_id
    await services.conversations.note(cid, agent, "Checking with billing")
    await services.conversations.post(cid, agent, "We fixed it")
    await services.conversations.post(cid, agent, "Anything else?")
    assert await services.conversations.assign(cid, agent.id, agent)
    assert not await services.conversations.assign(cid, agent.id, agent), "no change, no event"
    assert await services.conversations.resolve(cid, agent)
    assert await services.conversations.reopen(cid, agent)
    events = await events_repo.for_conversation(services.db, cid)
    assert [e.type for e in events] == [
        "conversation.created",
        "sla.target",
        "message.posted",
        "message.posted",
        "message.posted",
        "conversation.first_response",
        "message.posted",
        "conversation.assigned",
        "conversation.resolved",
        "conversation.reopened",
    ]
    assert all(e.actor_id == agent.id for e in events[3:])
    assert events[-2].data == {"from": "open"}
    assert [e.id for e in events] == sorted(e.id for e in events)


async def test_a_customer_message_reopens_a_resolved_conversation(services: Services) -> None:
    agent = await _agent(services)
    opened = await services.conversations.open(channel="chat", customer_name="Carla", body="Hi")
    await services.conversations.resolve(opened.conversation_id, agent)
    await services.conversations.post(
        opened.conversation_id, Actor.customer(opened.customer_id), "One more thing"
    )
    types = [
        e.type for e in await events_repo.for_conversation(services.db, opened.conversation_id)
    ]
    assert types[-2:] == ["conversation.reopened", "message.posted"]


async def test_events_are_published_after_commit_in_order(services: Services) -> None:
    with services.hub.subscribe() as subscription:
        opened = await services.conversations.open(channel="chat", customer_name="Carla", body="Hi")
        received = [await subscription.get() for _ in range(3)]
    assert [e.type for e in received] == ["conversation.created", "sla.target", "message.posted"]
    stored = await events_repo.for_conversation(services.db, opened.conversation_id)
    assert [e.id for e in received] == [e.id for e in stored]


async def test_timestamps_come_from_the_clock(services: Services) -> None:
    opened = await services.conversations.open(channel="chat", customer_name="Carla", body="Hi")
    services.clock.advance(minutes=5)  # type: ignore[attr-defined]
    agent = await _agent(services)
    posted = await services.conversations.post(opened.conversation_id, agent, "Hello")
    first = (await messages_repo.after(services.db, opened.conversation_id))[0]
    assert first.created_at == "2026-01-05T09:00:00.000Z"
    assert posted.message.created_at == "2026-01-05T09:05:00.000Z"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"body": "   "}, "message is empty"),
        ({"body": "x" * 20_001}, "longer than 20000"),
        ({"body": "hi", "kind": "shout"}, "kind must be"),
        ({"body": "hi", "client_id": "x" * 65}, "client_id"),
    ],
)
async def test_bad_input_is_refused_with_a_reason(
    services: Services, kwargs: dict, message: str
) -> None:
    opened = await services.conversations.open(channel="chat")
    with pytest.raises(InvalidCommand, match=message):
        await services.conversations.post(opened.conversation_id, Actor.customer(), **kwargs)


async def test_customers_cannot_write_internal_notes(services: Services) -> None:
    opened = await services.conversations.open(channel="chat")
    with pytest.raises(InvalidCommand, match="only agents"):
        await services.conversations.note(opened.conversation_id, Actor.customer(), "psst")


async def test_a_failed_command_is_rolled_back_alone(services: Services) -> None:
    opened = await services.conversations.open(channel="chat", customer_name="Carla")
    customer = Actor.customer(opened.customer_id)
    good, bad = await asyncio.gather(
        services.conversations.post(opened.conversation_id, customer, "kept"),
        services.conversations.post(999_999, customer, "lost"),
        return_exceptions=True,
    )
    assert isinstance(bad, NotFound)
    assert good.message.seq == 1
    assert [m.body for m in await messages_repo.after(services.db, opened.conversation_id)] == [
        "kept"
    ]
    assert await events_repo.for_conversation(services.db, 999_999) == []


async def test_assigning_a_disabled_agent_is_refused(services: Services) -> None:
    admin = await services.accounts.create_agent(
        "ada@example.com", "Ada", "admin", "a long password"
    )
    agent = await _agent(services)
    await services.accounts.update_agent(agent.id, role="agent", active=False)
    opened = await services.conversations.open(channel="chat")
    with pytest.raises(InvalidCommand, match="disabled"):
        await services.conversations.assign(
            opened.conversation_id, agent.id, Actor.agent(admin, "Ada")
        )


async def test_transfer_and_invite_record_events_and_tell_the_chat(services: Services) -> None:
    amy = await _agent(services)
    bob_id = await services.accounts.create_agent(
        "bob@example.com", "Bob", "agent", "a long password"
    )
    opened = await services.conversations.open(channel="chat", customer_name="Carla", body="Hi")
    cid = opened.conversation_id
    await services.conversations.assign(cid, amy.id, amy)
    assert await services.conversations.invite(cid, bob_id, amy)
    assert not await services.conversations.invite(cid, bob_id, amy), "once is enough"
    with pytest.raises(InvalidCommand, match="has this conversation already"):
        await services.conversations.transfer(cid, amy.id, amy)
    await services.conversations.transfer(cid, bob_id, amy, note="Over to you")
    messages = await messages_repo.after(services.db, cid)
    assert [(m.author_type, m.kind, m.body) for m in messages[1:]] == [
        ("system", "message", "Bob joined the chat."),
        ("agent", "note", "Over to you"),
        ("system", "message", "Bob has taken over the chat."),
    ]
    types = [e.type for e in await events_repo.for_conversation(services.db, cid)]
    assert "conversation.agent_joined" in types and "conversation.transferred" in types
    from onlinesupport.store import conversations as conversations_repo

    assert [c["id"] for c in await conversations_repo.inbox(services.db, "mine", bob_id)] == [cid]
    assert [c["id"] for c in await conversations_repo.inbox(services.db, "mine", amy.id)] == []


async def test_a_script_asks_its_questions_one_answer_at_a_time(services: Services) -> None:
    amy = await _agent(services)
    script_id = await services.scripts.add(
        "Returns", "Order number?\n\nWhat is wrong with it?\nPhoto?"
    )
    opened = await services.conversations.open(channel="chat", customer_name="Carla", body="Broken")
    cid, carla = opened.conversation_id, Actor.customer(opened.customer_id)

    async def bodies() -> list[str]:
        return [m.body for m in await messages_repo.after(services.db, cid)]

    await services.scripts.start(cid, script_id, amy)
    assert (await bodies())[-1] == "Order number?"
    with pytest.raises(InvalidCommand, match="running in this conversation already"):
        await services.scripts.start(cid, script_id, amy)
    await services.conversations.post(cid, carla, "1042")
    assert (await bodies())[-2:] == ["1042", "What is wrong with it?"]
    await services.scripts.skip(cid, amy)
    assert (await bodies())[-1] == "Photo?"
    await services.conversations.post(cid, carla, "no photo, sorry")
    await services.conversations.post(cid, carla, "anything else?")
    assert (await bodies())[-2:] == ["no photo, sorry", "anything else?"], "the script is done"
    types = [
        e.type
        for e in await events_repo.for_conversation(services.db, cid)
        if e.type.startswith("script.")
    ]
    assert types == [
        "script.started",
        "script.advanced",
        "script.advanced",
        "script.advanced",
        "script.finished",
    ]
    authors = {
        m.author_name
        for m in await messages_repo.after(services.db, cid)
        if m.body.endswith("?") and m.author_type == "agent"
    }
    assert authors == {"Amy"}
    with pytest.raises(InvalidCommand, match="no script is running"):
        await services.scripts.skip(cid, amy)
    with pytest.raises(InvalidCommand, match="one per line"):
        await services.scripts.add("Empty", "\n  \n")


async def test_a_scripts_question_does_not_settle_the_answer_owed(services: Services) -> None:
    """The received hooks' declared order: the script asks before the next answer's due time is
    set, so its automatic question does not count as the agent's answer."""
    amy = await _agent(services)
    script_id = await services.scripts.add("Returns", "Order number?\nPhoto?")
    opened = await services.conversations.open(channel="chat", customer_name="Carla", body="Broken")
    cid, carla = opened.conversation_id, Actor.customer(opened.customer_id)
    await services.conversations.post(cid, amy, "Sorry to hear that.")
    await services.scripts.start(cid, script_id, amy)
    await services.conversations.post(cid, carla, "1042")
    row = await services.db.fetch_one(
        "SELECT next_response_due_at FROM conversations WHERE id = ?", (cid,)
    )
    assert row is not None and row["next_response_due_at"] is not None
    with pytest.raises(InvalidCommand, match="only an agent"):
        await services.scripts.start(cid, script_id, carla)


def test_hooks_are_registered_in_one_place() -> None:
    """Every hook is set in `services.wire_hooks`, nowhere else (no constructor adds one)."""
    package = Path(onlinesupport.__file__).parent
    setters = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(
            r"(?<!self)\.(hooks|changed) = |\.(hooks|changed)\.append\(",
            path.read_text(encoding="utf-8"),
        )
    )
    assert setters == ["services.py"]
