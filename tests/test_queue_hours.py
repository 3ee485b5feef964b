"""Queues' business hours: set by the admin, counted in due times and acknowledgements."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib

from conftest import PASSWORD, free_port, make_config, start_server
from email_helpers import add_mailbox, mail, mailbox_form, scalar
from mail_servers import USER, Relay
from onlinesupport.lib.clock import ManualClock

FRIDAY_EVENING = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
HOURS = {
    "first_response_minutes": "120",
    "next_response_minutes": "240",
    "timezone": "Europe/Berlin",
    "hours": "mon-fri 09:00-17:00",
    "holidays": "2026-11-30",
}


async def test_a_mail_on_friday_evening_is_due_after_the_weekend_and_the_holiday(
    tmp_path: Path, relay: Relay, client_factory
) -> None:
    config = make_config(
        tmp_path / "data", email_smtp_port=free_port(), email_smtp_host="127.0.0.1"
    )
    async with AsyncExitStack() as stack:
        clock = ManualClock(FRIDAY_EVENING)
        server = await start_server(stack, config, clock)
        services = server.services
        await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
        desk = client_factory(server.desk_url)
        await desk.signin("ada@example.com")
        bad = await desk.post("/admin/queues/1", {**HOURS, "hours": "mon-fri 9-5"})
        assert bad.status == 400 and "line 1" in await bad.text()
        assert (await desk.post("/admin/queues/1", HOURS)).status == 303
        page = await (await desk.get("/admin/queues")).text()
        assert "closed now" in page and "mon-fri 09:00-17:00" in page

        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on"))
        await aiosmtplib.send(
            mail(subject="Weekend question"),
            sender="carla@customer.test",
            recipients=[USER],
            hostname="127.0.0.1",
            port=services.email.smtp_port,
            start_tls=False,
        )
        # Monday 30 November is a holiday: Tuesday 09:00 + 2 h = 11:00 in Berlin, 10:00 UTC.
        due = await scalar(services, "SELECT first_response_due_at FROM conversations")
        assert due == "2026-12-01T10:00:00.000Z"
        [ack] = await relay.wait_for(1)
        assert (
            "by Tuesday 1 December, 11:00 (Europe/Berlin)" in ack.get_body(("plain",)).get_content()
        )
        view = await (await desk.get("/conversations/1")).text()
        assert 'first answer due <time datetime="2026-12-01T10:00:00.000Z">' in view
        # Tuesday 11:01 in Berlin, still unanswered: overdue, and it says so everywhere.
        clock.advance(days=3, hours=16, minutes=31)
        assert await services.sla.check() == 1
        await desk.signin("ada@example.com")  # days later: a new desk session
        view = await (await desk.get("/conversations/1")).text()
        assert "overdue: first answer due" in view
        assert '<span class="tag urgent">overdue</span>' in view


async def test_without_hours_the_target_counts_plain_time(tmp_path: Path, relay: Relay) -> None:
    config = make_config(
        tmp_path / "data", email_smtp_port=free_port(), email_smtp_host="127.0.0.1"
    )
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config, ManualClock(FRIDAY_EVENING))).services
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on"))
        await aiosmtplib.send(
            mail(),
            sender="carla@customer.test",
            recipients=[USER],
            hostname="127.0.0.1",
            port=services.email.smtp_port,
            start_tls=False,
        )
        assert (
            await scalar(services, "SELECT first_response_due_at FROM conversations")
            == "2026-11-27T18:30:00.000Z"
        )
        [ack] = await relay.wait_for(1)
        assert "will answer within 1 hour" in ack.get_body(("plain",)).get_content()
