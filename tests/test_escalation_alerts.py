"""Escalation on answer targets: the queue's managers are alerted (in the event their desks
watch, and by mail), a late conversation moves to the queue's breach queue; chat hours."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from conftest import PASSWORD, make_config, start_server
from email_helpers import add_mailbox, mailbox_form, scalar
from mail_servers import Relay
from onlinesupport.lib.clock import ManualClock, to_db
from onlinesupport.store import queues as queues_repo
from test_chat_protocol import SITE, Visitor, allow


async def test_managers_are_alerted_and_a_late_conversation_moves(
    tmp_path: Path, relay: Relay
) -> None:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        services = server.services
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on", ack_enabled=""))
        max_id = await services.accounts.create_agent("max@shop.test", "Max", "manager", PASSWORD)
        amy = await services.accounts.create_agent("amy@shop.test", "Amy", "agent", PASSWORD)
        now = to_db(clock.now())
        urgent = await services.db.write(lambda conn: queues_repo.insert(conn, "Urgent", now))

        def configure(conn) -> None:  # type: ignore[no-untyped-def]
            queues_repo.set_members(conn, 1, [amy], [max_id])
            queues_repo.set_escalation(conn, 1, urgent, "")

        await services.db.write(configure)
        opened = await services.conversations.open(
            channel="form", customer_name="Lee", subject="Help", body="Hello?"
        )
        clock.advance(minutes=49)  # 80% of the 60-minute target
        assert await services.sla.check() == 1
        [warning] = await relay.wait_for(1)
        assert warning["To"] == "max@shop.test"
        assert warning["Subject"] == f"#{opened.conversation_id}: the first answer is due soon"
        assert (
            f"/conversations/{opened.conversation_id}" in warning.get_body(("plain",)).get_content()
        )
        clock.advance(minutes=11)
        assert await services.sla.check() == 1
        late = (await relay.wait_for(2))[1]
        assert late["Subject"].endswith("the first answer is late")
        events = await services.db.fetch_all(
            "SELECT type, data FROM events WHERE conversation_id = ? AND type IN"
            " ('sla.warning', 'sla.breached', 'conversation.moved') ORDER BY id",
            (opened.conversation_id,),
        )
        assert [e["type"] for e in events] == ["sla.warning", "sla.breached", "conversation.moved"]
        assert json.loads(events[0]["data"])["notify"] == [max_id]
        assert json.loads(events[2]["data"])["queue_name"] == "Urgent"
        assert await scalar(services, "SELECT queue_id FROM conversations") == urgent


async def test_the_chat_closes_on_its_own_hours(tmp_path: Path) -> None:
    clock = ManualClock()  # Monday 09:00 UTC
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        services = server.services
        await services.accounts.create_agent("amy@shop.test", "Amy", "agent", PASSWORD)
        services.presence.connected(1)
        await allow(server, SITE)
        async with aiohttp.ClientSession() as http:
            assert (await Visitor(http, server).connect())["agents_online"] is True
            await services.db.write(
                lambda conn: queues_repo.set_escalation(conn, 1, None, "mon-fri 10:00-16:00")
            )
            assert (await Visitor(http, server).connect())["agents_online"] is False, (
                "chat closed at 09:00 though mail is answered all day"
            )
