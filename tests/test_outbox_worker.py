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
from onlinesupport.ops import health
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
    assert put_back is not None and put_back.last_error == ""
    assert put_back.attempts == 2
    assert not [r for r in caplog.records if r.exc_info], "the store says it once, no traceback"


async def test_mail_stopped_by_an_erasure_is_counted_apart_from_failed_deliveries(
    services: Services,
) -> None:
    """`counts()` maps a mail an erasure stopped to `erased`: the health page warns only of
    mail that really could not be delivered."""
    agent = await services.accounts.create_agent("ada@example.com", "Ada", "admin", "x" * 12)
    opened = await services.conversations.open(
        channel="email", identity=("email", "lee@customer.test"), body="Where is my order?"
    )
    now = to_db(services.clock.now())

    async def mail(n: int) -> int:
        return await services.db.write(
            lambda conn: outbox_repo.enqueue(
                conn,
                conversation_id=opened.conversation_id,
                message_id=None,
                mailbox_id=None,
                purpose="reply",
                to_address="lee@customer.test",
                subject="Your order",
                body=f"reply {n}",
                rfc_message_id=f"<reply.{n}@shop.test>",
                in_reply_to="",
                refs="",
                now=now,
            )
        )

    delivered, bounced, waiting, claimed = [await mail(n) for n in range(4)]
    await services.db.write(lambda conn: work_queue.sent(conn, MAIL, delivered, now))
    await services.db.write(lambda conn: work_queue.failed(conn, MAIL, bounced, "550 no user"))
    assert await outbox_repo.counts(services.db) == {"sent": 1, "failed": 1, "queued": 2}
    await services.db.write(lambda conn: work_queue.claim_due(conn, MAIL, now, 10))
    await services.db.write(lambda conn: work_queue.retry_later(conn, MAIL, waiting, now, "busy"))
    assert await outbox_repo.counts(services.db) == {
        "sent": 1,
        "failed": 1,
        "queued": 1,
        "sending": 1,
    }, f"mail {claimed} is being sent"

    await services.erasure.request(opened.customer_id)
    [asked] = await services.erasure.requests()
    assert await services.erasure.decide(asked["id"], True, agent)

    assert await outbox_repo.counts(services.db) == {"sent": 1, "failed": 1, "erased": 2}, (
        "the queued and the claimed mail were stopped; sent and failed ones keep their status"
    )
    warnings = (await health.report(services))["warnings"]
    assert "1 outgoing mail could not be delivered." in warnings, warnings
