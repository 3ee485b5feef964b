"""The one outbox worker under a full disk: it pauses instead of failing, and a batch whose
outcome the disk kept from being recorded goes back to its queue once there is room, so mail
and webhook deliveries are sent (at least once), never left claimed until a restart."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from onlinesupport.core import outbox
from onlinesupport.core.outbox import OutboxWorker
from onlinesupport.lib.clock import to_db
from onlinesupport.services import Services
from onlinesupport.store import StorageFull, work_queue
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store.outbox import MAIL, OutboxItem


async def queue_mail(services: Services, n: int) -> int:
    now = to_db(services.clock.now())
    return await services.db.write(
        lambda conn: outbox_repo.enqueue(
            conn,
            conversation_id=None,
            message_id=None,
            mailbox_id=None,
            purpose="signin",
            to_address=f"lee{n}@customer.test",
            subject="Your sign-in link",
            body="a link",
            rfc_message_id=f"<signin.{n}@shop.test>",
            in_reply_to="",
            refs="",
            now=now,
        )
    )


async def test_a_full_disk_pauses_the_worker_and_every_row_is_sent_once_there_is_room(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(outbox, "FULL_DISK_WAIT", 0.05)
    first, second = await queue_mail(services, 1), await queue_mail(services, 2)
    full = {"claims": 1, "records": 1}
    claim_due = work_queue.claim_due

    def claim(conn: sqlite3.Connection, *args: Any) -> list[OutboxItem]:
        if full["claims"]:
            full["claims"] -= 1
            raise StorageFull()
        return claim_due(conn, *args)

    monkeypatch.setattr(work_queue, "claim_due", claim)
    tried: list[int] = []
    done = asyncio.Event()

    async def deliver(rows: list[OutboxItem]) -> None:
        tried.extend(row.id for row in rows)
        if full["records"]:  # sent, but the disk refuses to record it
            full["records"] -= 1
            raise StorageFull()
        now = to_db(services.clock.now())

        def record(conn: sqlite3.Connection) -> None:
            for row in rows:
                work_queue.sent(conn, MAIL, row.id, now)

        await services.db.write(record)
        if await outbox_repo.counts(services.db) == {"sent": 2}:
            done.set()

    worker = OutboxWorker(
        services.db,
        services.hub,
        services.clock,
        MAIL,
        deliver,
        wakes_on=lambda event: False,
        batch=1,
        name="test-outbox",
    )
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        worker.stop()
        await asyncio.wait_for(running, 5)
    assert full == {"claims": 0, "records": 0}, "both kinds of refusal happened"
    assert sorted(set(tried)) == [first, second]
    assert len(tried) == 3, "the row whose outcome was not recorded was sent again, once"
    put_back = await outbox_repo.get(services.db, tried[0])
    assert put_back is not None and put_back["last_error"] == ""
    assert put_back["attempts"] == 2
    assert not [r for r in caplog.records if r.exc_info], "the store says it once, no traceback"
