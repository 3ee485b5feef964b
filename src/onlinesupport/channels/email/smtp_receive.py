"""The built-in SMTP receiver: the company's mail server forwards support mail here.

Thin protocol wiring: recipients that are not support mailboxes (or their plus addresses, where
signed return paths bring delivery reports) are refused at RCPT (550), clients outside the
allowed networks at MAIL (550), oversized mail by aiosmtpd (552). The DATA answer is 250 only
after the conversation is committed; any failure answers 451 so the sending server keeps the
mail and tries again. Parsing and threading are the intake's job.

Only the networks of `[email] smtp_allowed_hosts` (the LAN by default) and the mail servers an
admin named (Admin → Mailboxes, or the first-run wizard) may hand mail over: the receiver is
no open door for anyone on the internet to write into the inbox.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from onlinesupport.channels.email.intake import EmailIntake, Incoming
from onlinesupport.channels.email.threads import base_address
from onlinesupport.store import Database, StorageFull
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store.mailboxes import MailboxRow

log = logging.getLogger(__name__)

# Reply codes (RFC 5321 / RFC 3463).
OK = "250 2.0.0 OK: received"
NO_SUCH_MAILBOX = "550 5.1.1 No support mailbox with that address here"
HOST_NOT_ALLOWED = "550 5.7.1 This server does not take mail from your address"
TRY_LATER = "451 4.3.0 Could not store the mail now; please try again later"
NO_ROOM = "452 4.3.1 Insufficient system storage; please try again later"


class _Receiver(SMTP):
    # RFC 5321 allows 1,000 bytes a line, but real mail (HTML newsletters, some clients) sends
    # longer ones. Refusing them would lose customers' mail; the size limit still bounds memory.
    line_length_limit = 100_000


class SupportMailHandler:
    def __init__(self, db: Database, intake: EmailIntake, allowed: tuple[str, ...]) -> None:
        self._db = db
        self._intake = intake
        self.allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.allow(allowed)

    def allow(self, networks: tuple[str, ...] | list[str]) -> None:
        """The client networks that may hand over mail (the configured ones, the admin's)."""
        self.allowed = list(dict.fromkeys(ipaddress.ip_network(n, strict=False) for n in networks))

    def _allowed_peer(self, session: Session) -> bool:
        try:
            peer = ipaddress.ip_address(session.peer[0]) if session.peer else None
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped  # a dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d
        return peer is not None and any(peer in network for network in self.allowed)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not self._allowed_peer(session):
            log.warning(
                "refused mail from %s: not an allowed mail server (email.smtp_allowed_hosts"
                " or Admin → Mailboxes)",
                session.peer,
            )
            return HOST_NOT_ALLOWED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def _mailbox(self, address: str) -> MailboxRow | None:
        address = address.strip().lower()
        return await mailboxes_repo.receiving(self._db, address) or await mailboxes_repo.receiving(
            self._db, base_address(address)
        )

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if await self._mailbox(address) is None:
            return NO_SUCH_MAILBOX
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            seen: set[int] = set()
            for address in envelope.rcpt_tos:
                mailbox = await self._mailbox(address)
                if mailbox is None or mailbox["id"] in seen:
                    continue
                seen.add(mailbox["id"])
                await self._intake.receive(
                    mailbox,
                    Incoming(
                        raw,
                        return_path=envelope.mail_from or "",
                        recipients=tuple(envelope.rcpt_tos),
                    ),
                )
        except StorageFull:
            return NO_ROOM  # the store logs a full disk once; the sending server retries
        except Exception:
            log.exception("could not store mail from %s", envelope.mail_from)
            return TRY_LATER
        return OK


async def start_receiver(
    handler: SupportMailHandler, host: str, port: int, max_size: int, tls: ssl.SSLContext | None
) -> asyncio.Server:
    """Listen for SMTP on (host, port); STARTTLS is offered when `tls` is given."""
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return _Receiver(
            handler,
            data_size_limit=max_size,
            tls_context=tls,
            require_starttls=False,
            hostname="onlinesupport",
            ident="OnlineSupport",
        )

    return await loop.create_server(protocol, host=host, port=port)
