"""Fixtures' building blocks for email tests: servers, a configured mailbox, mails, waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, TypeVar

import aiosmtplib

from conftest import wait_until
from mail_servers import PASSWORD, USER, Dovecot, Relay
from onlinesupport.services import Services

T = TypeVar("T")


def mailbox_form(dovecot: Dovecot | None, relay: Relay | None, **overrides: Any) -> dict[str, str]:
    form = {
        "address": USER,
        "display_name": "Shop Support",
        "active": "on",
        "imap_host": "",
        "imap_port": "993",
        "imap_security": "none",
        "imap_user": USER,
        "imap_password": PASSWORD,
        "imap_folder": "INBOX",
        "imap_after": "seen",
        "imap_move_to": "",
        "smtp_host": "",
        "smtp_port": "25",
        "smtp_security": "none",
        "smtp_user": "",
        "smtp_password": "",
        "ack_enabled": "on",
        "ack_subject": "",
        "ack_body": "",
    }
    if dovecot is not None:
        form.update(imap_host="127.0.0.1", imap_port=str(dovecot.port))
    if relay is not None:
        form.update(smtp_host="127.0.0.1", smtp_port=str(relay.port))
    form.update(overrides)
    return form


async def add_mailbox(services: Services, form: dict[str, str]) -> int:
    mailbox_id = await services.email.mailboxes.create(form)
    await services.email.reload()
    return mailbox_id


def mail(
    sender: str = "carla@customer.test",
    subject: str = "My order is late",
    body: str = "Order 1234 has not arrived.",
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Carla Customer <{sender}>"
    msg["To"] = USER
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes(policy=policy.SMTP)


async def eventually(
    check: Callable[[], Awaitable[T]], timeout: float = 15.0, what: str = "condition"
) -> T:
    """Poll `check` until it returns something truthy."""
    return await wait_until(check, timeout, f"timed out waiting for {what}")


async def scalar(services: Services, sql: str, params: tuple = ()) -> Any:
    row = await services.db.fetch_one(sql, params)
    return row[0] if row else None


async def smtp_send(port: int, raw: bytes, sender: str, to: str = USER) -> None:
    """Hand `raw` to the SMTP receiver on `port` as a mail client would."""
    await aiosmtplib.send(
        raw, sender=sender, recipients=[to], hostname="127.0.0.1", port=port, start_tls=False
    )


async def smtp_raw(port: int, mail_from: str, rcpt: str, data: bytes) -> list[bytes]:
    """One SMTP session with `data` sent exactly as it is (a client library would repair its
    line endings), dot-stuffed and ended with CRLF.CRLF; returns the server's answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    stuffed = b"".join(
        b"." + line if line.startswith(b".") else line for line in data.splitlines(keepends=True)
    )
    for line in (
        b"EHLO test\r\n",
        f"MAIL FROM:<{mail_from}>\r\n".encode(),
        f"RCPT TO:<{rcpt}>\r\n".encode(),
        b"DATA\r\n",
        stuffed + b"\r\n.\r\n",
        b"QUIT\r\n",
    ):
        writer.write(line)
        await writer.drain()
    answers = (await reader.read()).splitlines()
    writer.close()
    return answers
