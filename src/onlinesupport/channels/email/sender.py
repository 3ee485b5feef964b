"""Sends the outbox: claims due mails, sends them, records sent / retry / failed as events.

Temporary failures (4xx answers, servers down, timeouts) are retried with a doubling wait;
permanent ones (5xx) fail at once, and so does a mail that runs out of attempts; an agent can
resend a failed mail. Every outcome is an event on the conversation, so the desk shows it live.
A mail is claimed before it is sent; after a crash, claims are released and the mail is sent
again with the same Message-ID (at least once: a receiving client shows one mail).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

import aiosmtplib

from onlinesupport.channels.email import addresses, threads
from onlinesupport.channels.email.compose import compose
from onlinesupport.channels.email.connect import explain, smtp_client
from onlinesupport.core.attachments import FileStore
from onlinesupport.core.conversations import Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.core.hub import Hub
from onlinesupport.core.outbox import OutboxWorker, doubling_wait
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.store import Database, work_queue
from onlinesupport.store import attachments as attachments_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store.mailboxes import MailboxRow
from onlinesupport.store.outbox import MAIL, OutboxItem

log = logging.getLogger(__name__)
MAX_WAIT = 3600.0
NO_MAILBOX = "no mailbox is set up to send mail yet (Admin → Mailboxes)"


class TemporaryFailure(Exception):
    """Worth trying again later."""


class PermanentFailure(Exception):
    """Trying again will not help until someone changes something."""


class OutboxSender:
    def __init__(
        self,
        db: Database,
        hub: Hub,
        conversations: Conversations,
        files: FileStore,
        secrets: SecretBox,
        clock: Clock,
        key: bytes,
        *,
        retry_seconds: float,
        max_attempts: int,
    ) -> None:
        self._db = db
        self._key = key
        self._conversations = conversations
        self._files = files
        self._secrets = secrets
        self._clock = clock
        self._retry_seconds = retry_seconds
        self._max_attempts = max(1, max_attempts)
        self._worker = OutboxWorker(
            db,
            hub,
            clock,
            MAIL,
            self._send_each,
            wakes_on=lambda event: event.type == "email.queued",
            name="outbox",
        )

    def wake(self) -> None:
        self._worker.wake()

    def stop(self) -> None:
        """Finish the mail being sent, then return from `run` (a cancel could send it twice)."""
        self._worker.stop()

    async def run(self) -> None:
        """Send until stopped; wakes on new outbox rows and when a retry falls due."""
        await self._worker.run()

    async def send_due(self) -> int:
        """Send what is due now; returns how many mails were tried."""
        return await self._worker.send_due()

    async def _send_each(self, rows: list[OutboxItem]) -> None:
        for row in rows:
            await self._send(row)

    async def _send(self, row: OutboxItem) -> None:
        try:
            if row.expires_at and from_db(row.expires_at) <= self._clock.now():
                raise PermanentFailure("it expired before it could be sent")
            mailbox = await mailboxes_repo.sender(self._db, row.mailbox_id)
            if mailbox is None or not mailbox["smtp_host"]:
                raise TemporaryFailure(NO_MAILBOX)
            if not row.to_address:
                address = await self._db.write(
                    lambda conn: outbox_repo.address_from_profile(conn, row.id)
                )
                if not address:
                    raise PermanentFailure(
                        "the customer has no email address; add one to their profile, then resend"
                    )
                row = replace(row, to_address=address)
            await self._check_recipient(row.to_address)
            # A notice says an answer is waiting; the answer's files stay with the answer.
            files = [] if row.purpose == "notify" else await self._attachments(row.message_id)
            await self._deliver(asdict(row), mailbox, files)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the mail
            await self._failed(row, exc)
        else:
            await self._record(
                row, "email.sent", {}, lambda conn, now: work_queue.sent(conn, MAIL, row.id, now)
            )
            log.info("sent mail %s to %s", row.rfc_message_id, row.to_address)

    async def _check_recipient(self, to: str) -> None:
        """Refuse what is no address, and our own support addresses (a mail loop)."""
        if not addresses.usable(to):
            raise PermanentFailure(
                f"{to[:100]!r} is not a valid email address; correct it in "
                "the customer's profile, then resend"
            )
        if await mailboxes_repo.owns(self._db, threads.base_address(to.lower())):
            raise PermanentFailure(
                f"{to} is a support address of this server; mail to it would "
                "come straight back (a mail loop)"
            )

    async def send_now(self, to: str, subject: str, body: str) -> None:
        """A mail that belongs to no conversation (a sign-in link): sent at once, not queued,
        since it is only useful for minutes; raises with the reason when it cannot go out."""
        mailbox = await mailboxes_repo.sender(self._db, None)
        if mailbox is None:
            raise TemporaryFailure(NO_MAILBOX)
        domain = mailbox["address"].rsplit("@", 1)[-1]
        row = {
            "to_address": to,
            "subject": subject,
            "body": body,
            "purpose": "notice",
            "rfc_message_id": f"notice.{secrets.token_hex(8)}@{domain}",
            "in_reply_to": "",
            "refs": "",
        }
        await self._deliver(row, mailbox, [])

    async def _deliver(
        self, row: dict[str, Any], mailbox: MailboxRow, files: list[tuple[str, str, bytes]]
    ) -> None:
        """Compose the mail of `row` and hand it to the mailbox's outgoing server."""
        message = compose(row, mailbox, self._clock.now(), files)
        password = self._secrets.open(mailbox["smtp_password"], "mailbox smtp password")
        # A signed return path (VERP) lets a delivery report prove it is one (see intake).
        envelope_sender = (
            threads.return_path(self._key, mailbox["address"], row["id"])
            if mailbox.get("signed_return_path") and row.get("id")
            else None
        )
        client = await smtp_client(mailbox, password)
        try:
            await client.send_message(message, sender=envelope_sender)
        finally:
            client.close()

    async def _attachments(self, message_id: int | None) -> list[tuple[str, str, bytes]]:
        if message_id is None:
            return []
        found = (await attachments_repo.for_messages(self._db, [message_id])).get(message_id, [])
        return [
            (
                a["filename"],
                a["content_type"],
                await asyncio.to_thread(self._files.path(a["storage_name"]).read_bytes),
            )
            for a in found
        ]

    async def _failed(self, row: OutboxItem, exc: Exception) -> None:
        server = "the outgoing mail server"
        ours = isinstance(exc, (TemporaryFailure, PermanentFailure))
        reason = str(exc) if ours else explain(exc, server)
        code = getattr(exc, "code", None)
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
            code = exc.recipients[0].code
            reason = (
                f"{server} refused the address: {exc.recipients[0].code} "
                f"{exc.recipients[0].message}"
            )
        permanent = isinstance(exc, PermanentFailure) or (
            isinstance(code, int) and 500 <= code < 600
        )
        if permanent or row.attempts >= self._max_attempts:
            log.warning("giving up on mail %s to %s: %s", row.id, row.to_address, reason)
            await self._record(
                row,
                "email.failed",
                {"error": reason, "permanent": True},
                lambda conn, now: work_queue.failed(conn, MAIL, row.id, reason),
            )
            return
        wait = doubling_wait(self._retry_seconds, row.attempts, MAX_WAIT)
        when = to_db(self._clock.now() + timedelta(seconds=wait))
        log.info(
            "mail %s to %s not sent (%s); retrying in %.0f s",
            row.id,
            row.to_address,
            reason,
            wait,
        )
        await self._record(
            row,
            "email.deferred",
            {"error": reason, "retry_at": when},
            lambda conn, now: work_queue.retry_later(conn, MAIL, row.id, when, reason),
        )

    async def _record(self, row: OutboxItem, type: str, data: dict[str, Any], change) -> None:
        def command(work: Work) -> None:
            change(work.conn, work.now)
            if type != "email.deferred":
                outbox_repo.forget_body(work.conn, row.id)
            if row.conversation_id is None:
                return  # a sign-in link: its state is on the outbox row (health page), no event
            work.emit(
                row.conversation_id,
                type,
                "system",
                None,
                {
                    "outbox_id": row.id,
                    "message_id": row.message_id,
                    "purpose": row.purpose,
                    "to": row.to_address,
                    **data,
                },
            )

        await self._conversations.run(command)

    async def counts(self) -> dict[str, int]:
        """The number of mails in the outbox by status."""
        return await outbox_repo.counts(self._db)

    async def resend(self, outbox_id: int, actor_id: int) -> bool:
        """An agent asks to send a failed mail again; False if it is not failed."""

        def command(work: Work) -> bool:
            row = outbox_repo.resend(work.conn, outbox_id, work.now)
            if row is None:
                return False
            work.emit(
                row.conversation_id,
                "email.queued",
                "agent",
                actor_id,
                {
                    "outbox_id": outbox_id,
                    "message_id": row.message_id,
                    "purpose": row.purpose,
                    "to": row.to_address,
                    "resend": True,
                },
            )
            return True

        return await self._conversations.run(command)
