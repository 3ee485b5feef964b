"""Answer targets (first and next): a warning before, a breach after, each recorded once."""

from __future__ import annotations

from pathlib import Path

from conftest import make_config
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.services import open_services
from onlinesupport.store import events as events_repo


async def _types(services, cid: int) -> list[str]:
    return [
        e.type
        for e in await events_repo.for_conversation(services.db, cid)
        if e.type in ("sla.warning", "sla.breached")
    ]


async def test_a_warning_at_80_percent_then_a_breach_that_raises_priority(tmp_path: Path) -> None:
    clock = ManualClock()
    async with open_services(make_config(tmp_path / "data"), clock) as services:
        waiting = await services.conversations.open(
            channel="email", customer_name="Carla", body="Hello?"
        )  # due in 60 minutes
        answered = await services.conversations.open(
            channel="email", customer_name="Dan", body="Hi"
        )
        agent = await services.accounts.create_agent(
            "amy@shop.test", "Amy", "agent", "correct horse battery"
        )
        await services.conversations.post(
            answered.conversation_id, Actor.agent(agent, "Amy"), "Hello Dan"
        )
        clock.advance(minutes=47)
        assert await services.sla.check() == 0
        clock.advance(minutes=2)  # 49 of 60 minutes gone
        assert await services.sla.check() == 1
        assert await _types(services, waiting.conversation_id) == ["sla.warning"]
        assert await services.sla.check() == 0, "recorded once"
        clock.advance(minutes=11)
        assert await services.sla.check() == 1
        assert await _types(services, waiting.conversation_id) == ["sla.warning", "sla.breached"]
        row = await services.db.fetch_one(
            "SELECT priority, sla_breached_at FROM conversations WHERE id = ?",
            (waiting.conversation_id,),
        )
        assert row["priority"] == 1 and row["sla_breached_at"]
        clock.advance(hours=5)
        assert await services.sla.check() == 0, "a breach is recorded once"
        assert await _types(services, answered.conversation_id) == [], "answered in time"


async def test_the_next_answer_is_owed_when_the_customer_writes_again(tmp_path: Path) -> None:
    clock = ManualClock()
    async with open_services(make_config(tmp_path / "data"), clock) as services:
        agent = Actor.agent(
            await services.accounts.create_agent(
                "amy@shop.test", "Amy", "agent", "correct horse battery"
            ),
            "Amy",
        )
        opened = await services.conversations.open(
            channel="email", customer_name="Carla", body="Hello?"
        )
        cid, customer = opened.conversation_id, Actor.customer(opened.customer_id)
        await services.conversations.post(cid, agent, "Hello Carla")

        async def due() -> tuple:
            row = await services.db.fetch_one(
                "SELECT next_response_due_at, next_breached_at, priority FROM conversations"
                " WHERE id = ?",
                (cid,),
            )
            return tuple(row)

        assert (await due())[0] is None, "nothing owed after an answer"
        clock.advance(minutes=10)
        await services.conversations.post(cid, customer, "Thanks, one more question")
        clock.advance(minutes=5)
        await services.conversations.post(cid, customer, "Are you there?")
        next_due = (await due())[0]
        assert next_due == "2026-01-05T13:10:00.000Z", "240 minutes from the first unanswered"
        clock.advance(minutes=200)
        assert await services.sla.check() == 1
        clock.advance(minutes=40)
        assert await services.sla.check() == 1
        events = [
            (e.type, e.data["target"])
            for e in await events_repo.for_conversation(services.db, cid)
            if e.type.startswith("sla.")
        ]
        assert events == [
            ("sla.target", "first_response"),
            ("sla.target", "next_response"),
            ("sla.warning", "next_response"),
            ("sla.breached", "next_response"),
        ]
        _, breached_at, priority = await due()
        assert breached_at is not None and priority == 1
        await services.conversations.post(cid, agent, "Sorry for the wait")
        assert (await due())[0] is None, "answered: nothing owed"
        clock.advance(minutes=1)
        await services.conversations.post(cid, customer, "Another thing")
        assert (await due())[1] is None, "a new wait starts clean"


async def test_a_rule_gives_preferred_customers_their_own_targets(tmp_path: Path) -> None:
    clock = ManualClock()  # Monday 2026-01-05 09:00 UTC; the General queue is always open
    async with open_services(make_config(tmp_path / "data"), clock) as services:
        [example] = [r for r in services.rules.rules if "preferred" in r.name]
        await services.rules.save(
            example.id,
            {
                "name": example.name,
                "active": "on",
                "trigger": "new",
                "conditions": "tier is preferred",
                "actions": "first_response 5\nnext_response 15\npriority 1",
            },
        )
        agent = Actor.agent(
            await services.accounts.create_agent(
                "amy@shop.test", "Amy", "agent", "correct horse battery"
            ),
            "Amy",
        )
        first = await services.conversations.open(
            channel="chat", customer_name="Vera", identity=("email", "vera@vip.test"), body="Hi"
        )
        await services.customers.update_profile(
            first.customer_id, name="Vera", email="vera@vip.test", tier="preferred", tags=""
        )
        opened = await services.conversations.open(
            channel="chat",
            customer_name="Vera",
            identity=("email", "vera@vip.test"),
            body="Hello again",
        )
        cid = opened.conversation_id

        async def column(name: str) -> str:
            row = await services.db.fetch_one(
                f"SELECT {name} FROM conversations WHERE id = ?", (cid,)
            )
            return row[0]

        assert await column("first_response_due_at") == "2026-01-05T09:05:00.000Z"
        await services.conversations.post(cid, agent, "Hi Vera")
        clock.advance(minutes=1)
        await services.conversations.post(cid, Actor.customer(opened.customer_id), "And?")
        assert await column("next_response_due_at") == "2026-01-05T09:16:00.000Z"
