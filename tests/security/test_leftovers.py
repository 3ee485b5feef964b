"""Leftovers of ordinary events (issue 13, finding 17): files beside backups, and ERROR
tracebacks for a visitor who simply went away."""

from __future__ import annotations

import logging
import socket
import struct
from pathlib import Path

import pytest

import raw_websocket
from conftest import Server, make_config, wait_until
from onlinesupport.lib.clock import ManualClock
from onlinesupport.services import open_services
from onlinesupport.store import backup as backup_store
from test_chat_protocol import SITE, allow


async def test_daily_backups_leave_nothing_but_the_backups(tmp_path: Path) -> None:
    clock = ManualClock()
    config = make_config(tmp_path / "data", storage_backups_keep=2)
    async with open_services(config, clock) as services:
        await services.conversations.open(channel="phone", customer_name="Carla", body="Hi")
        folder = services.backups.folder
        for _ in range(4):
            await services.backups.run_once()
            clock.advance(days=1)
        assert sorted(p.name for p in folder.iterdir()) == [
            "daily-2026-01-07.db",
            "daily-2026-01-08.db",
        ]
        backup_store.check(folder / "daily-2026-01-08.db")
        assert sorted(p.name for p in folder.iterdir()) == [
            "daily-2026-01-07.db",
            "daily-2026-01-08.db",
        ], "checking a backup leaves nothing"


async def test_a_visitor_who_hangs_up_before_the_ack_is_no_error(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    await allow(server, SITE)
    for n in range(20):
        reader, writer = await raw_websocket.connect(server.public_url, "/widget/ws", SITE)
        raw_websocket.send(writer, {"type": "hello"})
        assert (await raw_websocket.read_frame(reader))["type"] == "welcome"
        raw_websocket.send(
            writer, {"type": "start", "client_id": f"c{n}", "body": "Hello, then gone"}
        )
        await writer.drain()
        # Gone at once, with a reset: the ack is written to a connection that is no more.
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def stored() -> bool:
        count = await server.services.db.fetch_one("SELECT count(*) FROM messages")
        return count[0] == 20

    await wait_until(stored, message="every message was stored before its visitor left")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
