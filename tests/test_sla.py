"""First-answer targets: a warning before, a breach after, each recorded once, on the clock."""

from __future__ import annotations

from pathlib import Path

from conftest import make_config
from onlinesupport.clock import ManualClock
from onlinesupport.conversations import Actor
from onlinesupport.services import open_services
from onlinesupport.store import events as events_repo


async def _types(services, cid: int) -> list[str]:
    return [e.type for e in await events_repo.for_conversation(services.db, cid)
            if e.type.startswith("sla.")]


async def test_a_warning_at_80_percent_then_a_breach_that_raises_priority(tmp_path: Path) -> None:
    clock = ManualClock()
    async with open_services(make_config(tmp_path / "data"), clock) as services:
        waiting = await services.conversations.open(channel="email", customer_name="Carla",
                                                    body="Hello?")  # due in 60 minutes
        answered = await services.conversations.open(channel="email", customer_name="Dan",
                                                     body="Hi")
        agent = await services.accounts.create_agent("amy@shop.test", "Amy", "agent",
                                                     "correct horse battery")
        await services.conversations.post(answered.conversation_id, Actor.agent(agent, "Amy"),
                                          "Hello Dan")
        clock.advance(minutes=47)
        assert await services.sla.check() == 0
        clock.advance(minutes=2)  # 49 of 60 minutes gone
        assert await services.sla.check() == 1
        assert await _types(services, waiting.conversation_id) == ["sla.warning"]
        assert await services.sla.check() == 0, "recorded once"
        clock.advance(minutes=11)
        assert await services.sla.check() == 1
        assert await _types(services, waiting.conversation_id) == ["sla.warning", "sla.breached"]
        row = await services.db.fetch_one("SELECT priority, sla_breached_at FROM conversations"
                                          " WHERE id = ?", (waiting.conversation_id,))
        assert row["priority"] == 1 and row["sla_breached_at"]
        clock.advance(hours=5)
        assert await services.sla.check() == 0, "a breach is recorded once"
        assert await _types(services, answered.conversation_id) == [], "answered in time"
