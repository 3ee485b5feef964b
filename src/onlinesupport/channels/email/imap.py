"""Pulls a mailbox by IMAP: new UIDs since the last imported one, IDLE or polling, reconnects.

Progress is UIDVALIDITY + the last imported UID, committed with each imported mail; the
\\Seen flag is never read. A mail is flagged or moved only after its conversation is
committed, so a crash or a dropped connection at any point loses nothing and imports nothing
twice (the Message-ID + hash guard catches a mail moved back by hand).

aioimaplib's gaps (a stack overflow on large FETCH answers, commands that wait forever when the
server hangs up, lost new-mail announcements) are covered in imap_client.py, hence fetches of
FETCH_BATCH mails and every command under a time limit (`_command`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib

from onlinesupport.channels.email.connect import TIMEOUT, MailServerError, explain
from onlinesupport.channels.email.imap_client import (
    FETCH_BATCH,
    close_imap,
    imap_client,
    new_mail,
    run_command,
    select,
)
from onlinesupport.channels.email.intake import EmailIntake, Imported, Incoming
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.store import Database
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store.mailboxes import MailboxRow

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF = 300.0
IDLE_SECONDS = 25 * 60
_FETCH_HEAD = re.compile(rb"FETCH \(.*?UID (\d+)", re.S)
_LITERAL = re.compile(rb"\{(\d+)\}\s*$")


@dataclass
class MailboxState:
    """What admins see of a mailbox's connection."""

    connected: bool = False
    last_error: str = ""
    last_error_at: str = ""
    last_check_at: str = ""


def parse_fetch(lines: list[Any]) -> list[tuple[int, bytes]]:
    """(uid, raw mail) pairs from a UID FETCH ... (UID BODY.PEEK[]) response."""
    found = []
    uid = None
    for line in lines:
        if isinstance(line, bytearray):
            if uid is not None:
                found.append((uid, bytes(line)))
            uid = None
            continue
        head = _FETCH_HEAD.search(line)
        if head and _LITERAL.search(line):
            uid = int(head.group(1))
    return found


class ImapPoller:
    def __init__(
        self,
        mailbox: MailboxRow,
        db: Database,
        intake: EmailIntake,
        secrets: SecretBox,
        clock: Clock,
        state: MailboxState,
        poll_seconds: float,
    ) -> None:
        self._mailbox = mailbox
        self._db = db
        self._intake = intake
        self._secrets = secrets
        self._clock = clock
        self.state = state
        self._poll_seconds = poll_seconds
        self._server = f"{mailbox['imap_host']}:{mailbox['imap_port']}"

    async def run(self) -> None:
        """Import forever; on any failure wait (1 s doubling to 5 min) and reconnect."""
        backoff = 1.0
        last_logged = ""
        while True:
            client = None
            polite = True
            try:
                client = await imap_client(
                    self._mailbox,
                    self._secrets.open(self._mailbox["imap_password"], "mailbox imap password"),
                )
                uidvalidity = await select(client, self._mailbox["imap_folder"], self._server)
                self.state.connected = True
                self.state.last_error = ""
                backoff, last_logged = 1.0, ""
                log.info("mailbox %s: connected to %s", self._mailbox["address"], self._server)
                await self._follow(client, uidvalidity)
            except asyncio.CancelledError:
                polite = False
                raise
            except Exception as exc:  # noqa: BLE001 - a mail server going away must not stop us
                reason = explain(exc, self._server)
                self.state.connected = False
                self.state.last_error = reason
                self.state.last_error_at = to_db(self._clock.now())
                if reason != last_logged:  # log a failure once, not on every retry
                    log.warning("mailbox %s: %s (retrying)", self._mailbox["address"], reason)
                    last_logged = reason
            finally:
                self.state.connected = False
                if client is not None:
                    await close_imap(client, polite)
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    async def _follow(self, client: aioimaplib.IMAP4, uidvalidity: int) -> None:
        idle = client.has_capability("IDLE")
        announced = new_mail(client)
        while True:
            # Again until a round finds nothing and no new mail was announced meanwhile: an
            # announcement comes once, and may come with the answer to another command.
            announced.clear()
            while await self.import_new(client, uidvalidity) or announced.is_set():
                announced.clear()
            self.state.last_check_at = to_db(self._clock.now())
            if idle:
                await self._idle(client)
            else:
                await asyncio.sleep(self._poll_seconds)
                await self._command(client, client.noop())

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        """Wait for the server to announce new mail (or for the poll interval to pass)."""
        waiter = await self._command(client, client.idle_start(timeout=IDLE_SECONDS))
        while True:
            try:
                lines = await self._command(
                    client,
                    client.wait_server_push(timeout=min(IDLE_SECONDS, self._poll_seconds)),
                    timeout=None,
                )
            except TimeoutError:
                break
            if lines == aioimaplib.STOP_WAIT_SERVER_PUSH or any(
                b"EXISTS" in bytes(line) for line in lines
            ):
                break
        client.idle_done()
        await self._command(client, waiter)

    async def _command(
        self, client: aioimaplib.IMAP4, step: Awaitable[T], timeout: float | None = TIMEOUT
    ) -> T:
        """Run one IMAP step under a time limit; fail at once if the server hangs up."""
        return await run_command(client, step, self._server, timeout)

    async def import_new(self, client: aioimaplib.IMAP4, uidvalidity: int) -> int:
        """Import every mail after the last imported UID; returns how many it fetched."""
        mailbox_id = self._mailbox["id"]
        stored = await mailboxes_repo.get(self._db, mailbox_id)
        if stored is None:
            raise MailServerError("the mailbox was deleted")
        last_uid = stored["imap_last_uid"]
        if stored["imap_uidvalidity"] != uidvalidity:
            if stored["imap_uidvalidity"] is not None:
                log.warning(
                    "mailbox %s: UIDVALIDITY changed; reading the folder again (mails "
                    "imported before are recognised and skipped)",
                    self._mailbox["address"],
                )
            await self._db.write(
                lambda conn: mailboxes_repo.reset_position(conn, mailbox_id, uidvalidity)
            )
            last_uid = 0
        response = await self._command(client, client.uid_search(f"UID {last_uid + 1}:*"))
        if response.result != "OK":
            raise MailServerError(f"search refused by {self._server}")
        uids = sorted(
            int(u)
            for line in response.lines[:-1]
            for u in bytes(line).split()
            if u.isdigit() and int(u) > last_uid
        )
        handled = 0
        # A pipeline: while one batch is being written, the next is fetched and parsed.
        writing: tuple[Awaitable[list[Imported]], list[int | None]] | None = None
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = await self._command(
                client,
                client.uid("fetch", ",".join(map(str, batch)), "(UID BODY.PEEK[])"),
                TIMEOUT * 4,
            )
            if fetched.result != "OK":
                raise MailServerError(f"fetch refused by {self._server}")
            mails = [
                Incoming(raw, uid=uid, uidvalidity=uidvalidity)
                for uid, raw in parse_fetch(fetched.lines)
            ]
            committing = self._intake.commit(
                self._mailbox, await self._intake.prepare(self._mailbox, mails)
            )
            if writing is not None:
                handled += await self._finish(client, *writing)
            writing = (committing, [m.uid for m in mails])
        if writing is not None:
            handled += await self._finish(client, *writing)
        return handled

    async def _finish(
        self,
        client: aioimaplib.IMAP4,
        committing: Awaitable[list[Imported]],
        uids: list[int | None],
    ) -> int:
        """Wait for a batch's commit, then tidy its mails on the server."""
        outcomes = await committing
        await self._after_import(client, uids)
        return len(outcomes)

    async def _after_import(self, client: aioimaplib.IMAP4, uids: list[int | None]) -> None:
        """Mark as seen or move, only now that the mails are committed."""
        if not uids:
            return
        uid_set = ",".join(str(u) for u in uids)
        folder = self._mailbox["imap_move_to"]
        steps: list[tuple[str, ...]]
        if self._mailbox["imap_after"] == "move" and folder:
            if client.has_capability("MOVE"):
                steps = [("move", uid_set, folder)]
            else:
                steps = [
                    ("copy", uid_set, folder),
                    ("store", uid_set, "+FLAGS.SILENT (\\Deleted)"),
                    ("expunge", uid_set),
                ]
        else:
            steps = [("store", uid_set, "+FLAGS.SILENT (\\Seen)")]
        for command, *args in steps:
            response = await self._command(client, client.uid(command, *args))
            if response.result != "OK":
                # The mails are safely imported; only the tidying failed. Say so once per batch.
                log.warning(
                    "mailbox %s: %s of imported mails refused: %s",
                    self._mailbox["address"],
                    command,
                    response.lines[-1:],
                )
                return
