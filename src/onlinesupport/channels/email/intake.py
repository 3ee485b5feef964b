"""Mail in, conversation out: one transaction per mail, whichever way it arrived.

IMAP and the SMTP receiver both hand raw bytes to `EmailIntake`. A mail's attachments are
written to the data folder first; then one transaction finds the customer and the thread,
adds the message, records the mail (raw included), moves the mailbox's IMAP position past it
and queues the acknowledgement. So a mail is either wholly imported or not at all, and the
IMAP position can never run ahead of what is stored.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from onlinesupport.channels.email import acknowledgement, addresses, outgoing, threads
from onlinesupport.channels.email.parse import ParsedMail, parse
from onlinesupport.core.attachments import FileStore
from onlinesupport.core.conversations import SYSTEM, Actor, Conversations
from onlinesupport.core.conversations.service import Command
from onlinesupport.core.conversations.work import Work
from onlinesupport.knowledge.service import suggest_articles
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.store import Database, Transaction
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import email as email_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store.attachments import StoredFile
from onlinesupport.store.kb import Hit
from onlinesupport.store.mailboxes import MailboxRow

log = logging.getLogger(__name__)
_OWN_WARNINGS = {
    "support": "This mail came from the support address {address} itself (a mail loop or a "
    "forged sender): it is not acknowledged, and replies do not go to it.",
    "agent": "This mail came from an agent's address ({address}): it is not acknowledged.",
}


@dataclass(frozen=True)
class Imported:
    conversation_id: int
    message_id: int | None
    new_conversation: bool = False
    duplicate: bool = False
    bounce: bool = False


@dataclass
class Prepared:
    """A mail ready for its transaction: parsed, files stored, raw copy compressed."""

    mail: Incoming
    parsed: ParsedMail
    files: list[tuple[StoredFile, str]]
    packed: Any
    """The zlib-compressed raw mail (a future until `prepare` has finished)."""
    articles: list[Hit] = field(default_factory=list)
    """Help-center articles for the acknowledgement, if it may show some: searched before the
    transaction, since the search needs nothing the transaction writes."""


@dataclass(frozen=True)
class Incoming:
    """One mail to import: its bytes, and where it came from."""

    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None
    return_path: str | None = None
    recipients: tuple[str, ...] = ()
    """The SMTP envelope's recipients (RCPT TO), when the mail came by SMTP."""


class EmailIntake:
    def __init__(
        self,
        db: Database,
        conversations: Conversations,
        files: FileStore,
        key: bytes,
        clock: Clock,
        acks_per_hour: int,
        public_url: str = "",
        max_files: int = 100,
    ) -> None:
        self._db = db
        self._conversations = conversations
        self._files = files
        self._key = key
        self._clock = clock
        self._acks_per_hour = acks_per_hour
        self._public_url = public_url
        self._max_files = max_files

    async def receive(self, mailbox: MailboxRow, mail: Incoming) -> Imported:
        return (await self.receive_many(mailbox, [mail]))[0]

    async def receive_many(self, mailbox: MailboxRow, mails: Sequence[Incoming]) -> list[Imported]:
        """Import mails in order; they share commits (group commit), each its own transaction."""
        return await self.commit(mailbox, await self.prepare(mailbox, mails))

    async def prepare(self, mailbox: MailboxRow, mails: Sequence[Incoming]) -> list[Prepared]:
        """Parse the mails, store their files and find the articles an acknowledgement shows:
        everything that need not wait for the writer."""
        prepared: list[Prepared] = []
        try:
            for mail in mails:
                parsed = parse(mail.raw, mail.return_path)
                # Compressing in a thread overlaps with parsing the next mail (zlib frees the GIL).
                packed = asyncio.ensure_future(asyncio.to_thread(zlib.compress, mail.raw, 1))
                kept = parsed.files[: self._max_files]
                if len(parsed.files) > len(kept):
                    # One mail must not write thousands of files; the original keeps them all.
                    parsed.warning = " ".join(
                        filter(
                            None,
                            (
                                parsed.warning,
                                (
                                    f"This mail has {len(parsed.files):,} attachments; the first"
                                    f" {len(kept)} "
                                    f"are shown, the rest are only in the original mail."
                                ),
                            ),
                        )
                    )
                item = Prepared(mail, parsed, [], packed)
                prepared.append(item)
                for part in kept:
                    item.files.append(
                        (await self._files.keep(part.filename, part.data), part.content_id)
                    )
                if self._may_suggest(mailbox, parsed):
                    item.articles = await suggest_articles(
                        self._db, acknowledgement.question(parsed.subject, parsed.text)
                    )
            for item in prepared:
                item.packed = await item.packed
        except BaseException:
            # No transaction will own these files (a full disk, a mail that cannot be read).
            self._discard(prepared)
            raise
        return prepared

    def _may_suggest(self, mailbox: MailboxRow, parsed: ParsedMail) -> bool:
        """Whether the mail's acknowledgement, if it gets one, shows articles (whether it gets
        one is only known in the transaction)."""
        return bool(
            mailbox["ack_enabled"]
            and mailbox["ack_articles"]
            and self._public_url
            and self._acks_per_hour
            and parsed.bounce is None
            and not parsed.automatic
        )

    def _discard(self, prepared: Sequence[Prepared]) -> None:
        for item in prepared:
            for stored, _ in item.files:
                self._files.discard(stored)

    def commit(self, mailbox: MailboxRow, prepared: list[Prepared]) -> Awaitable[list[Imported]]:
        """Queue the mails' transactions now, in order; await the result for their outcomes.

        Queued in order before anything is awaited, so a reply later in the batch (or in the
        next batch) sees the conversation an earlier mail opened; a caller may prepare the next
        batch while these are written.
        """
        pending = [
            asyncio.ensure_future(self._conversations.run(self._command(mailbox, item)))
            for item in prepared
        ]
        return self._outcomes(prepared, pending)

    async def _outcomes(
        self, prepared: list[Prepared], pending: list[asyncio.Task[Imported]]
    ) -> list[Imported]:
        results = await asyncio.gather(*pending, return_exceptions=True)
        # Every mail whose files no message owns gives them up, also after the first failure.
        self._discard(
            [
                item
                for item, result in zip(prepared, results, strict=True)
                if isinstance(result, BaseException) or result.duplicate or result.bounce
            ]
        )
        outcomes = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            outcomes.append(result)
        return outcomes

    def _command(self, mailbox: MailboxRow, item: Prepared) -> Command[Imported]:
        mailbox_id = mailbox["id"]
        mail, parsed, files = item.mail, item.parsed, item.files

        def command(work: Work) -> Imported:
            mailboxes_repo.record_import(
                work.conn, mailbox_id, mail.uidvalidity, mail.uid, work.now
            )
            earlier = email_repo.already_imported(
                work.conn, mailbox_id, parsed.message_id, parsed.sha256
            )
            if earlier is not None:
                return Imported(earlier, None, duplicate=True)
            if parsed.bounce is not None:
                bounced = self._bounce(work, item)
                if bounced is not None:
                    return bounced
            address = parsed.from_address
            own = email_repo.own_address(work.conn, address) if address else ""
            warnings = [parsed.warning, _OWN_WARNINGS.get(own, "").format(address=address)]
            customer_id = (
                customers_repo.find_or_create(
                    work.conn, "email", address, parsed.from_name, work.now
                )
                if address
                else customers_repo.create(work.conn, parsed.from_name, work.now)
            )
            sender = Actor.customer(customer_id, parsed.from_name)
            named = threads.named_conversation(
                work.conn, self._key, parsed.thread_ids, parsed.subject
            )
            role = _role(work.conn, named, customer_id, address)
            new = role == "new"
            if new:
                conversation_id = self._conversations.open_in(
                    work,
                    channel="email",
                    customer_id=customer_id,
                    subject=parsed.subject or "(no subject)",
                    opener=sender,
                    queue_id=mailbox["queue_id"],
                )
            else:
                assert named is not None
                # The mail joins the thread it answers; a merged one's mail goes to the target.
                conversation_id = conversations_repo.merge_target(work.conn, named.conversation_id)
            message = self._conversations.post_in(
                work,
                conversation_id,
                sender,
                parsed.text,
                files=[stored for stored, _ in files],
            )
            for attachment, (_, content_id) in zip(message.attachments, files, strict=True):
                if content_id:
                    email_repo.set_content_id(work.conn, attachment["id"], content_id)
            email_repo.record(
                work.conn,
                message.id,
                mailbox_id,
                rfc_message_id=parsed.message_id,
                raw_sha256=parsed.sha256,
                from_address=address,
                subject=parsed.subject,
                refs=" ".join(parsed.thread_ids),
                quote_at=parsed.quote_at,
                html=parsed.html,
                warning=" ".join(filter(None, warnings)),
                packed_raw=item.packed,
            )
            if role == "participant":
                assert named is not None
                self._participant_wrote(work, conversation_id, parsed, message.id, named.by)
                return Imported(conversation_id, message.id)
            if named is not None and new:
                _link(work, conversation_id, named.conversation_id, address)
            self._customer_wrote(work, mailbox, conversation_id, item, new, own)
            return Imported(conversation_id, message.id, new_conversation=new)

        return command

    def _customer_wrote(
        self,
        work: Work,
        mailbox: MailboxRow,
        conversation_id: int,
        item: Prepared,
        new: bool,
        own: str,
    ) -> None:
        """The conversation's own customer wrote: replies go to them, colleagues they copied
        become participants, and a new conversation is acknowledged."""
        parsed = item.parsed
        for address in dict.fromkeys(parsed.to):
            if address not in (
                parsed.from_address,
                mailbox["address"],
            ) and not email_repo.own_address(work.conn, address):
                email_repo.add_participant(
                    work.conn, conversation_id, address, "", work.now, copied=True
                )
        reply_to = parsed.reply_to or parsed.from_address
        if reply_to == parsed.from_address:
            reply_to = "" if own == "support" else reply_to
        elif email_repo.own_address(work.conn, reply_to) == "support":
            reply_to = "" if own == "support" else parsed.from_address
        if not reply_to or parsed.automatic:
            return
        email_repo.set_thread(
            work.conn, conversation_id, mailbox["id"], reply_to, parsed.subject if new else ""
        )
        if new and not own:
            self._acknowledge(work, mailbox, conversation_id, item, reply_to)

    def _participant_wrote(
        self,
        work: Work,
        conversation_id: int,
        parsed: ParsedMail,
        message_id: int,
        via: str,
    ) -> None:
        """Someone other than the customer wrote into the conversation: recorded and shown,
        but replies still go where they went; an agent chooses."""
        if not parsed.from_address:
            return
        email_repo.add_participant(
            work.conn, conversation_id, parsed.from_address, parsed.from_name, work.now, wrote=True
        )
        work.emit(
            conversation_id,
            "email.participant",
            "system",
            None,
            {
                "address": parsed.from_address,
                "name": parsed.from_name,
                "message_id": message_id,
                "via": via,
            },
        )

    def _bounce(self, work: Work, item: Prepared) -> Imported | None:
        """A delivery report about one of our mails: a note on its conversation, and the mail
        marked failed if the report came back to that mail's signed return path (anyone can
        write a report naming a Message-ID they have seen; only a real one comes back there)."""
        parsed = item.parsed
        bounce = parsed.bounce
        assert bounce is not None
        outbox_id = threads.bounced_outbox(self._key, [*item.mail.recipients, *parsed.delivered_to])
        row = outbox_repo.bounced(work.conn, outbox_id, bounce.reason) if outbox_id else None
        recipient = bounce.recipient or (row.to_address if row else "") or "the customer"
        conversation_id: int | None
        if row is not None:
            if row.conversation_id is None:
                # A sign-in link's: marked failed, it shows on the health page; the report is
                # kept as a mail of its own, like one about no mail of ours.
                return None
            conversation_id = row.conversation_id
            text = f"Mail to {recipient} could not be delivered: {bounce.reason}"
        else:
            sent = outbox_repo.by_message_id(work.conn, bounce.original_message_id)
            named = threads.named_conversation(
                work.conn, self._key, [bounce.original_message_id], ""
            )
            conversation_id = (
                sent.conversation_id if sent else (named.conversation_id if named else None)
            )
            if conversation_id is None:
                return None
            text = (
                f"A delivery report says mail to {recipient} could not be delivered: "
                f"{bounce.reason}. It did not come back to a signed return path, so it may be "
                f"forged: the mail is not marked as failed."
            )
        message = self._conversations.post_in(work, conversation_id, SYSTEM, text, kind="event")
        email_repo.record(
            work.conn,
            message.id,
            None,
            rfc_message_id=parsed.message_id,
            raw_sha256=parsed.sha256,
            from_address=parsed.from_address,
            subject=parsed.subject,
            refs="",
            quote_at=None,
            html="",
            warning="",
            packed_raw=item.packed,
        )
        if row is not None:
            work.emit(
                conversation_id,
                "email.failed",
                "system",
                None,
                {
                    "outbox_id": row.id,
                    "message_id": row.message_id,
                    "error": bounce.reason,
                    "permanent": True,
                },
            )
        return Imported(conversation_id, message.id, bounce=True)

    def _acknowledge(
        self,
        work: Work,
        mailbox: MailboxRow,
        conversation_id: int,
        item: Prepared,
        to: str,
    ) -> None:
        parsed = item.parsed
        if not mailbox["ack_enabled"] or self._acks_per_hour == 0 or not addresses.usable(to):
            return
        since = to_db(self._clock.now() - timedelta(hours=1))
        if outbox_repo.acks_since(work.conn, to, since) >= self._acks_per_hour:
            log.info("no acknowledgement to %s: %d sent in the last hour", to, self._acks_per_hour)
            return
        subject, body = acknowledgement.render(
            work.conn,
            mailbox,
            conversation_id,
            parsed.from_name,
            parsed.subject,
            item.articles,
            self._public_url,
        )
        outgoing.queue(
            work,
            self._key,
            conversation_id,
            mailbox_id=mailbox["id"],
            domain=mailbox["address"].rsplit("@", 1)[-1],
            purpose="ack",
            to=to,
            subject=subject,
            body=body,
            in_reply_to=parsed.message_id,
            refs=" ".join([*parsed.references[-10:], parsed.message_id]),
        )


def _role(conn: Transaction, named: threads.Named | None, customer_id: int, address: str) -> str:
    """How a mail joins the conversation it names: as its 'customer', as a 'participant' (a
    colleague the customer copied, or anyone answering one of our signed mails), or not at
    all ('new': it opens a conversation of its own, linked to the one it named)."""
    if named is None:
        return "new"
    if named.customer_id == customer_id:
        return "customer"
    if named.by == "signed" or (
        named.by == "stored" and address and email_repo.copied(conn, named.conversation_id, address)
    ):
        return "participant"
    return "new"


def _link(
    work: Work,
    conversation_id: int,
    named_id: int,
    address: str,
) -> None:
    """A mail named a conversation it may not join: both conversations show the other."""
    for this, other in ((conversation_id, named_id), (named_id, conversation_id)):
        work.emit(
            this,
            "email.linked",
            "system",
            None,
            {"linked_id": other, "address": address, "opened": this == conversation_id},
        )
