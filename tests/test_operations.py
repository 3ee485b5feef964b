"""Operations: automatic daily backups, and the admins' health page."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import Personas, Server, make_config, wait_until
from onlinesupport.lib.clock import ManualClock
from onlinesupport.services import open_services


async def test_one_backup_a_day_the_oldest_removed_each_a_working_database(tmp_path: Path) -> None:
    clock = ManualClock()
    config = make_config(tmp_path / "data", storage_backups_keep=2)
    async with open_services(config, clock) as services:
        await services.conversations.open(channel="phone", customer_name="Carla", body="Hi")
        first = await services.backups.run_once()
        assert first is not None and first.name == "daily-2026-01-05.db"
        assert await services.backups.run_once() is None, "one a day"
        for _ in range(3):
            clock.advance(days=1)
            await services.backups.run_once()
        names = [p.name for p in services.backups.existing()]
        assert names == ["daily-2026-01-07.db", "daily-2026-01-08.db"]
        with sqlite3.connect(services.backups.existing()[-1]) as copy:
            assert copy.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1
    off = make_config(tmp_path / "off", storage_backups_keep=0)
    async with open_services(off, clock) as services:
        assert await services.backups.run_once() is None
        assert services.backups.existing() == []


@pytest.mark.loops("daily-backups")
async def test_the_health_page_shows_the_state_and_warns(
    server: Server, personas: Personas, client_factory
) -> None:
    # The server takes today's backup in the background when it starts ("daily-" alone
    # would also match the loop's name, daily-backups, in the list of loops).
    [backup] = await wait_until(server.services.backups.existing, message="no backup at start")
    admin = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    page = await (await admin.get("/admin/health")).text()
    assert "OnlineSupport 0.1.0" in page and "onlinesupport.db" in page
    assert backup.name in page, "the server took today's backup when it started"
    assert "Everything looks fine." in page
    await server.services.conversations.open(channel="phone", customer_name="Carla", body="Hi")
    await server.services.db.write(
        lambda conn: conn.execute(
            "INSERT INTO outbox (conversation_id, purpose, to_address, subject, body,"
            " rfc_message_id, status, next_attempt_at, created_at)"
            " SELECT id, 'reply', 'x@y.test', 's', 'b', 'id@x', 'failed', created_at, created_at"
            " FROM conversations LIMIT 1"
        )
    )
    page = await (await admin.get("/admin/health")).text()
    assert "1 outgoing mail could not be delivered." in page
    agent = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/admin/health")).status == 403
