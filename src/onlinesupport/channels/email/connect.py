"""Connections to a mailbox's SMTP server, and errors a person can act on (for IMAP too; the
IMAP connection itself is in imap_client.py, the one module that knows aioimaplib).

Used by the IMAP poller, the outbox sender and the admin's "test connection" button, so the
button tests exactly what the background services do.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import aiosmtplib

from onlinesupport.store.mailboxes import MailboxRow

TIMEOUT = 30.0


class MailServerError(Exception):
    """A mail server could not be used; the message says what to check."""


def explain(exc: BaseException, server: str) -> str:
    """One line that says which step failed: DNS, connection, TLS, login, folder, timeout."""
    while (
        isinstance(exc, (aiosmtplib.SMTPConnectError, OSError))
        and exc.__cause__ is not None
        and not isinstance(exc, (socket.gaierror, ssl.SSLError, ConnectionRefusedError))
    ):
        exc = exc.__cause__
    if isinstance(exc, MailServerError):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return f"DNS: the name of {server} cannot be found ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return f"refused: nothing accepts connections at {server}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: the secure connection to {server} failed ({exc.reason or exc})"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return f"timeout: {server} did not answer in time"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"login refused by {server}: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{server} answered {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPException):
        text = str(exc)
        if "Connection refused" in text:
            return f"refused: nothing accepts connections at {server}"
        if "Name or service not known" in text or "getaddrinfo" in text:
            return f"DNS: the name of {server} cannot be found"
        return f"{server}: {text}"
    if isinstance(exc, OSError):
        return f"{server}: {exc.strerror or exc}"
    return f"{server}: {type(exc).__name__}: {exc}"


async def smtp_client(mailbox: MailboxRow, password: str) -> aiosmtplib.SMTP:
    """A connected SMTP client, logged in when the mailbox has a user."""
    security = mailbox["smtp_security"]
    client = aiosmtplib.SMTP(
        hostname=mailbox["smtp_host"],
        port=mailbox["smtp_port"],
        timeout=TIMEOUT,
        use_tls=security == "tls",
        start_tls=security == "starttls",
    )
    await client.connect()
    if mailbox["smtp_user"]:
        try:
            await client.login(mailbox["smtp_user"], password)
        except BaseException:
            client.close()
            raise
    return client
