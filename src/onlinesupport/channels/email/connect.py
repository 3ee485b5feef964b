"""Connections to a mailbox's IMAP and SMTP servers, and errors a person can act on.

Used by the IMAP poller, the outbox sender and the admin's "test connection" button, so the
button tests exactly what the background services do.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import aioimaplib
import aiosmtplib

TIMEOUT = 30.0


class MailServerError(Exception):
    """A mail server could not be used; the message says what to check."""


def explain(exc: BaseException, server: str) -> str:
    """One line that says which step failed: DNS, connection, TLS, login, folder, timeout."""
    while isinstance(exc, (aiosmtplib.SMTPConnectError, OSError)) and exc.__cause__ is not None \
            and not isinstance(exc, (socket.gaierror, ssl.SSLError, ConnectionRefusedError)):
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


async def smtp_client(mailbox: dict[str, Any], password: str) -> aiosmtplib.SMTP:
    """A connected SMTP client, logged in when the mailbox has a user."""
    security = mailbox["smtp_security"]
    client = aiosmtplib.SMTP(hostname=mailbox["smtp_host"], port=mailbox["smtp_port"],
                             timeout=TIMEOUT, use_tls=security == "tls",
                             start_tls=security == "starttls")
    await client.connect()
    if mailbox["smtp_user"]:
        try:
            await client.login(mailbox["smtp_user"], password)
        except BaseException:
            client.close()
            raise
    return client


def _ok(response: aioimaplib.Response, what: str, server: str) -> None:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines).decode("utf-8", "replace")
        raise MailServerError(f"{what} refused by {server}: {detail.strip()[:200]}")


async def imap_client(mailbox: dict[str, Any], password: str) -> aioimaplib.IMAP4:
    """A logged-in IMAP client (nothing selected yet)."""
    host, port, security = mailbox["imap_host"], mailbox["imap_port"], mailbox["imap_security"]
    server = f"{host}:{port}"
    if security == "tls":
        client = aioimaplib.IMAP4_SSL(host=host, port=port, timeout=TIMEOUT,
                                      ssl_context=ssl.create_default_context())
    else:
        client = aioimaplib.IMAP4(host=host, port=port, timeout=TIMEOUT)
    # aioimaplib does not fail waiting commands when the server hangs up: watch for it.
    lost = asyncio.Event()
    client.protocol.conn_lost_cb = lambda exc: lost.set()
    client.lost = lost  # type: ignore[attr-defined]
    client.announced = _watch_new_mail(client.protocol)  # type: ignore[attr-defined]
    try:
        await asyncio.wait_for(client.wait_hello_from_server(), TIMEOUT)
        if security == "starttls":
            await _starttls(client, host, server)
        login = await asyncio.wait_for(client.login(mailbox["imap_user"], password), TIMEOUT)
        if login.result != "OK":
            raise MailServerError(f"login refused by {server}: "
                                  + b" ".join(bytes(x) for x in login.lines).decode("utf-8", "replace")[:200])
    except BaseException:
        await close_imap(client)
        raise
    return client


def _watch_new_mail(protocol: aioimaplib.IMAP4ClientProtocol) -> asyncio.Event:
    """An event set whenever the server announces new mail ("* n EXISTS").

    aioimaplib drops an announcement that arrives with the answer to another command (say the
    SEARCH that was just too early to see the mail), and a server says it only once: the poller
    would then sleep until the next mail. So every line is looked at on its way in.
    """
    announced = asyncio.Event()
    handle = protocol._handle_line

    def watch(line: bytes, current: Any) -> Any:
        if line.startswith(b"* ") and line.rstrip().endswith(b" EXISTS"):
            announced.set()
        return handle(line, current)

    protocol._handle_line = watch
    return announced


async def _starttls(client: aioimaplib.IMAP4, host: str, server: str) -> None:
    """aioimaplib has no STARTTLS: ask for it, then wrap the socket in TLS ourselves."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise MailServerError(f"TLS: {server} does not offer STARTTLS")
    response = await asyncio.wait_for(
        protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
        TIMEOUT)
    _ok(response, "STARTTLS", server)
    loop = asyncio.get_running_loop()
    protocol.transport = await loop.start_tls(protocol.transport, protocol,
                                              ssl.create_default_context(), server_hostname=host)
    await asyncio.wait_for(protocol.capability(), TIMEOUT)


async def select(client: aioimaplib.IMAP4, folder: str, server: str) -> int:
    """Select `folder`; returns its UIDVALIDITY."""
    response = await asyncio.wait_for(client.select(folder), TIMEOUT)
    if response.result != "OK":
        raise MailServerError(f"folder {folder!r} does not exist on {server}")
    for line in response.lines:
        text = bytes(line).decode("ascii", "replace")
        if "UIDVALIDITY" in text:
            return int(text.split("UIDVALIDITY", 1)[1].strip(" []").split("]")[0].split()[0])
    raise MailServerError(f"{server} gave no UIDVALIDITY for {folder!r}")


async def close_imap(client: aioimaplib.IMAP4, polite: bool = True) -> None:
    """Log out (`polite`) or just hang up, as when the server stops."""
    try:
        if polite and client.protocol is not None and client.protocol.transport is not None \
                and not client.protocol.transport.is_closing() \
                and not client.protocol.has_pending_idle_command():
            await asyncio.wait_for(client.logout(), 5)
    except Exception:  # noqa: BLE001 - closing a broken connection: nothing left to do
        pass
    finally:
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()
