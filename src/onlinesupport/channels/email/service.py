"""The email channel as one part of the running instance: intake, pollers, receiver, sender.

`running()` starts the SMTP receiver and the IMAP pollers with the application and stops them
with it; `reload()` restarts the pollers after an admin changes a mailbox. The pollers (and the
outbox sender, see app.supervise) are loops of the supervisor, which owns their tasks.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from onlinesupport.channels.email.imap import ImapPoller, MailboxState
from onlinesupport.channels.email.intake import EmailIntake
from onlinesupport.channels.email.mailboxes import Mailboxes
from onlinesupport.channels.email.recipients import Recipients
from onlinesupport.channels.email.sender import OutboxSender
from onlinesupport.channels.email.smtp_receive import SupportMailHandler, start_receiver
from onlinesupport.channels.email.transcripts import Transcripts
from onlinesupport.config import Config
from onlinesupport.core.attachments import FileStore
from onlinesupport.core.conversations import Conversations
from onlinesupport.core.hub import Hub
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.lib.supervisor import Supervisor
from onlinesupport.store import Database
from onlinesupport.store import mailboxes as mailboxes_repo

log = logging.getLogger(__name__)


class EmailChannel:
    def __init__(
        self,
        config: Config,
        db: Database,
        hub: Hub,
        conversations: Conversations,
        files: FileStore,
        key: bytes,
        clock: Clock,
        supervisor: Supervisor,
    ) -> None:
        self._config = config
        self._db = db
        self._clock = clock
        self._supervisor = supervisor
        self.secrets = SecretBox(key)
        self.mailboxes = Mailboxes(db, self.secrets, clock)
        self.intake = EmailIntake(
            db,
            conversations,
            files,
            key,
            clock,
            config.email_acks_per_hour,
            config.public_url,
            config.email_max_attachments,
        )
        self.sender = OutboxSender(
            db,
            hub,
            conversations,
            files,
            self.secrets,
            clock,
            key,
            retry_seconds=config.email_retry_seconds,
            max_attempts=config.email_max_attempts,
        )
        self.transcripts = Transcripts(conversations, key)
        self.recipients = Recipients(conversations)
        self.states: dict[int, MailboxState] = {}
        self.smtp_port = 0
        """The port the SMTP receiver listens on; 0 when it is off."""
        self._pollers: list[str] = []
        """The supervisor's names of the running IMAP pollers."""
        self._receiver: SupportMailHandler | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        receiver = None
        if self._config.email_smtp_port:
            self._receiver = SupportMailHandler(self._db, self.intake, ())
            receiver = await start_receiver(
                self._receiver,
                self._config.email_smtp_host,
                self._config.email_smtp_port,
                self._config.email_smtp_max_size,
                self._tls(),
            )
            self.smtp_port = receiver.sockets[0].getsockname()[1]
        await self.reload()
        if self._receiver is not None:
            allowed = (
                ", ".join(map(str, self._receiver.allowed))
                or "nobody (set one under Admin → Mailboxes)"
            )
            log.info(
                "SMTP receiver: %s:%d, taking mail from %s",
                self._config.email_smtp_host,
                self.smtp_port,
                allowed,
            )
        try:
            yield
        finally:
            await self._stop_pollers()
            if receiver is not None:
                receiver.close()
                await receiver.wait_closed()

    def _tls(self) -> ssl.SSLContext | None:
        if not self._config.email_smtp_tls_cert:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._config.email_smtp_tls_cert, self._config.email_smtp_tls_key)
        return context

    async def reload(self) -> None:
        """(Re)start one IMAP poller per active mailbox with an IMAP server, and let the SMTP
        receiver take mail from the configured networks and the admin's mail servers."""
        if self._receiver is not None:
            self._receiver.allow(
                self._config.email_smtp_allowed_hosts + await self.mailboxes.mail_servers()
            )
        await self._stop_pollers()
        for mailbox in await mailboxes_repo.list_all(self._db):
            if not mailbox["active"] or not mailbox["imap_host"]:
                continue
            state = self.states.setdefault(mailbox["id"], MailboxState())
            poller = ImapPoller(
                mailbox,
                self._db,
                self.intake,
                self.secrets,
                self._clock,
                state,
                self._config.email_imap_poll_seconds,
            )
            name = f"imap-{mailbox['address']}"
            self._supervisor.start(name, poller.run)
            self._pollers.append(name)

    async def _stop_pollers(self) -> None:
        names, self._pollers = self._pollers, []
        for name in names:
            await self._supervisor.stop(name)
