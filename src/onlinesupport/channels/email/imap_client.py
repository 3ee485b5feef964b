"""The one place that knows aioimaplib: connect, STARTTLS, log in, select, run a command, close.

aioimaplib is the only asyncio IMAP client, and it has gaps a mail intake that must never stop
cannot live with. Each workaround below names the upstream behaviour it covers, as found in
aioimaplib 2.0.3 (the version pinned in pyproject.toml: `aioimaplib>=2.0.3,<2.1`). Two of them
use the library's internals (`IMAP4ClientProtocol._handle_line`, and replacing
`protocol.transport`); a new aioimaplib minor version must be checked against these before the
pin is moved (tests/test_email_imap.py, test_email_starttls and bench/email_ingest.py exercise
every one of them against a real Dovecot).
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib

from onlinesupport.channels.email.connect import TIMEOUT, MailServerError
from onlinesupport.store.mailboxes import MailboxRow

T = TypeVar("T")

FETCH_BATCH = 50
"""UIDs fetched in one UID FETCH. aioimaplib parses a response recursively, one stack frame a
line (`IMAP4ClientProtocol._handle_responses`), so a FETCH answer of ~1,000 lines exceeds
Python's recursion limit, and the error is logged by asyncio instead of raised: the command
then waits forever (upstream issue #118, fixes proposed in PRs #103, #119, #130, none released).
50 mails keep far below that."""


@dataclass
class _Watch:
    lost: asyncio.Event
    """Set when the connection drops."""
    announced: asyncio.Event
    """Set when the server announces new mail ("* n EXISTS")."""


_watches: weakref.WeakKeyDictionary[aioimaplib.IMAP4, _Watch] = weakref.WeakKeyDictionary()


def _ok(response: aioimaplib.Response, what: str, server: str) -> None:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines).decode("utf-8", "replace")
        raise MailServerError(f"{what} refused by {server}: {detail.strip()[:200]}")


async def imap_client(mailbox: MailboxRow, password: str) -> aioimaplib.IMAP4:
    """A logged-in IMAP client (nothing selected yet)."""
    host, port, security = mailbox["imap_host"], mailbox["imap_port"], mailbox["imap_security"]
    server = f"{host}:{port}"
    if security == "tls":
        client = aioimaplib.IMAP4_SSL(
            host=host, port=port, timeout=TIMEOUT, ssl_context=ssl.create_default_context()
        )
    else:
        client = aioimaplib.IMAP4(host=host, port=port, timeout=TIMEOUT)
    watch = _Watch(asyncio.Event(), _watch_new_mail(client.protocol))
    # aioimaplib does not fail the commands waiting when the server hangs up (they wait
    # forever; upstream issue #110 for IDLE, #58 for timeouts), so `run_command` watches for it.
    # IMAP4_SSL takes no conn_lost_cb argument (upstream issue #107): set on the protocol,
    # where IMAP4's own constructor puts it.
    client.protocol.conn_lost_cb = lambda exc: watch.lost.set()
    _watches[client] = watch
    try:
        await asyncio.wait_for(client.wait_hello_from_server(), TIMEOUT)
        if security == "starttls":
            await _starttls(client, host, server)
        login = await asyncio.wait_for(client.login(mailbox["imap_user"], password), TIMEOUT)
        if login.result != "OK":
            said = b" ".join(bytes(x) for x in login.lines).decode("utf-8", "replace")
            raise MailServerError(f"login refused by {server}: " + said[:200])
    except BaseException:
        await close_imap(client)
        raise
    return client


def _watch_new_mail(protocol: aioimaplib.IMAP4ClientProtocol) -> asyncio.Event:
    """An event set whenever the server announces new mail ("* n EXISTS").

    Outside IDLE, aioimaplib appends an unsolicited "* n EXISTS" to the answer of whatever
    command is pending (`_untagged_response`) or logs it as ignored; it has no hook for
    unsolicited responses. A server says it only once, so a mail that arrived just after a
    SEARCH would wait for the next mail. The private `_handle_line` (every line passes it) is
    wrapped to look at each line on its way in.
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
    """aioimaplib knows the STARTTLS command but cannot start TLS (upstream issue #1, open since
    2016): send the command, then upgrade the connection with asyncio's `start_tls` and put the
    new transport where the protocol writes (its `transport` attribute)."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise MailServerError(f"TLS: {server} does not offer STARTTLS")
    response = await asyncio.wait_for(
        protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
        TIMEOUT,
    )
    _ok(response, "STARTTLS", server)
    loop = asyncio.get_running_loop()
    protocol.transport = await loop.start_tls(
        protocol.transport, protocol, ssl.create_default_context(), server_hostname=host
    )
    await asyncio.wait_for(protocol.capability(), TIMEOUT)


def new_mail(client: aioimaplib.IMAP4) -> asyncio.Event:
    """Set whenever the server announced new mail; the caller clears it."""
    return _watches[client].announced


async def run_command(
    client: aioimaplib.IMAP4, step: Awaitable[T], server: str, timeout: float | None = TIMEOUT
) -> T:
    """Run one IMAP step under a time limit; fail at once if the server hangs up.

    aioimaplib's own timeouts cover only some commands (upstream issue #58), and a dropped
    connection leaves a command waiting forever (#110).
    """
    lost = _watches[client].lost
    task = asyncio.ensure_future(step)
    hung_up = asyncio.ensure_future(lost.wait())
    try:
        done, _ = await asyncio.wait(
            {task, hung_up}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            return task.result()
        if hung_up in done:
            raise MailServerError(f"{server} closed the connection")
        raise TimeoutError()
    finally:
        hung_up.cancel()
        if not task.done():
            task.cancel()


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
        if (
            polite
            and client.protocol is not None
            and client.protocol.transport is not None
            and not client.protocol.transport.is_closing()
            and not client.protocol.has_pending_idle_command()
        ):
            await asyncio.wait_for(client.logout(), 5)
    except Exception:  # noqa: BLE001 - closing a broken connection: nothing left to do
        pass
    finally:
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()
