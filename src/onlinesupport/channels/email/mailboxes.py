"""Support mailboxes as admins edit them: checked, passwords sealed, and tested live."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import Any

from onlinesupport.channels.email.connect import explain, smtp_client
from onlinesupport.channels.email.imap_client import close_imap, imap_client, select
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import is_email_address, row_id, whole_number
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.store import Conflict, Database, NotFound
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import settings as settings_repo
from onlinesupport.store.mailboxes import MailboxRow

SECURITY = ("tls", "starttls", "none")
MAIL_SERVERS = "smtp_receiver"
"""Settings key: the mail servers allowed to hand mail to the built-in SMTP receiver."""
MAX_MAIL_SERVERS = 50
FIELDS = {  # name: (kind, limit)
    "address": ("text", 320),
    "display_name": ("text", 200),
    "active": ("flag", 0),
    "imap_host": ("text", 255),
    "imap_port": ("port", 0),
    "imap_security": ("security", 0),
    "imap_user": ("text", 320),
    "imap_password": ("secret", 500),
    "imap_folder": ("text", 200),
    "imap_after": ("after", 0),
    "imap_move_to": ("text", 200),
    "smtp_receive": ("flag", 0),
    "smtp_host": ("text", 255),
    "smtp_port": ("port", 0),
    "smtp_security": ("security", 0),
    "smtp_user": ("text", 320),
    "smtp_password": ("secret", 500),
    "ack_enabled": ("flag", 0),
    "ack_subject": ("text", 200),
    "ack_body": ("text", 5000),
    "queue_id": ("queue", 0),
    "ack_articles": ("flag", 0),
    "notify_link": ("text", 300),
    "signed_return_path": ("flag", 0),
}


class MailboxError(UserError):
    """The admin's input is not acceptable; the message is safe to show."""


@dataclass(frozen=True)
class Check:
    """One step of a connection test: what was tried, whether it worked, and the details."""

    step: str
    ok: bool
    detail: str


def _clean(form: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (kind, limit) in FIELDS.items():
        raw = form.get(name, "")
        if kind == "flag":
            values[name] = 1 if raw in ("on", "1", "true") else 0
            continue
        raw = raw if kind == "secret" else raw.strip()
        if kind in ("text", "secret") and len(raw) > limit:
            raise MailboxError(f"{name.replace('_', ' ')} is longer than {limit} characters")
        if kind == "port":
            port = whole_number(raw, 1, 65535)
            if port is None:
                raise MailboxError(f"{name.replace('_', ' ')} must be a port from 1 to 65535")
            values[name] = port
        elif kind == "security" and raw not in SECURITY:
            raise MailboxError(f"{name.replace('_', ' ')} must be one of {', '.join(SECURITY)}")
        elif kind == "after" and raw not in ("seen", "move"):
            raise MailboxError("after import must be 'seen' or 'move'")
        elif kind == "queue":
            values[name] = row_id(raw) or 1
        else:
            values[name] = raw
    if not is_email_address(values["address"]):
        raise MailboxError(
            "the support address must be an email address such as help@example.com", "address"
        )
    values["address"] = values["address"].lower()
    if not values["imap_host"] and not values["smtp_receive"]:
        raise MailboxError(
            "choose how mail comes in: an IMAP server, the built-in SMTP receiver, or both"
        )
    if values["imap_after"] == "move" and not values["imap_move_to"]:
        raise MailboxError("name the folder imported mail is moved to")
    values["imap_folder"] = values["imap_folder"] or "INBOX"
    if values["notify_link"] and not values["notify_link"].startswith(("https://", "http://")):
        raise MailboxError(
            "the link to the customers' page must start with https:// (for "
            "example https://support.example.com/my)"
        )
    return values


class Mailboxes:
    def __init__(self, db: Database, secrets: SecretBox, clock: Clock) -> None:
        self._db = db
        self._secrets = secrets
        self._clock = clock

    def _seal(self, values: dict[str, Any], keep_empty: bool) -> dict[str, Any]:
        """Encrypt the passwords; an empty one on edit means "unchanged" (it is never shown)."""
        for name in ("imap_password", "smtp_password"):
            if keep_empty and values[name] == "":
                del values[name]
            else:
                values[name] = self._secrets.seal(values[name], f"mailbox {name.replace('_', ' ')}")
        return values

    async def _checked(self, form: dict[str, str], keep_empty: bool) -> dict[str, Any]:
        values = self._seal(_clean(form), keep_empty=keep_empty)
        if await queues_repo.get(self._db, values["queue_id"]) is None:
            raise MailboxError("choose one of the queues")
        return values

    async def create(self, form: dict[str, str]) -> int:
        values = await self._checked(form, keep_empty=False)
        now = to_db(self._clock.now())
        try:
            return await self._db.write(lambda conn: mailboxes_repo.insert(conn, values, now))
        except Conflict:
            raise MailboxError(f"{values['address']} is set up already") from None

    async def update(self, mailbox_id: int, form: dict[str, str]) -> None:
        values = await self._checked(form, keep_empty=True)
        now = to_db(self._clock.now())
        try:
            await self._db.write(lambda conn: mailboxes_repo.update(conn, mailbox_id, values, now))
        except Conflict:
            raise MailboxError(f"{values['address']} is set up already") from None

    async def list_all(self) -> list[MailboxRow]:
        """Every mailbox as stored (passwords sealed)."""
        return await mailboxes_repo.list_all(self._db)

    async def get(self, mailbox_id: int) -> MailboxRow:
        """The mailbox as stored (passwords sealed); raises NotFound."""
        found = await mailboxes_repo.get(self._db, mailbox_id)
        if found is None:
            raise NotFound(f"mailbox {mailbox_id} does not exist")
        return found

    async def mail_servers(self) -> tuple[str, ...]:
        """The networks an admin allowed to hand mail to the SMTP receiver."""
        saved = await settings_repo.get(self._db, MAIL_SERVERS) or {}
        return tuple(saved.get("allowed", ()))

    async def save_mail_servers(self, text: str) -> tuple[str, ...]:
        """Keep the mail servers typed as addresses or networks, one per line or comma-separated;
        raises MailboxError naming what is not an address."""
        allowed = parse_mail_servers(text)
        now = to_db(self._clock.now())
        await self._db.write(
            lambda conn: settings_repo.put(conn, MAIL_SERVERS, {"allowed": list(allowed)}, now)
        )
        return allowed

    async def delete(self, mailbox_id: int) -> None:
        await self._db.write(lambda conn: mailboxes_repo.delete(conn, mailbox_id))

    async def test(self, mailbox: MailboxRow) -> list[Check]:
        """Log in to the mailbox's IMAP and SMTP servers as the services would, step by step."""
        checks = []
        if mailbox["imap_host"]:
            checks.append(await self._test_imap(mailbox))
        if mailbox["smtp_host"]:
            checks.append(await self._test_smtp(mailbox))
        if not checks:
            checks.append(Check("servers", False, "no IMAP or SMTP server is set up"))
        return checks

    async def _test_imap(self, mailbox: MailboxRow) -> Check:
        server = f"{mailbox['imap_host']}:{mailbox['imap_port']}"
        try:
            password = self._secrets.open(mailbox["imap_password"], "mailbox imap password")
            client = await imap_client(mailbox, password)
            try:
                await select(client, mailbox["imap_folder"], server)
                if mailbox["imap_after"] == "move":
                    await select(client, mailbox["imap_move_to"], server)
            finally:
                await close_imap(client)
        except Exception as exc:  # noqa: BLE001 - the admin is shown what failed
            return Check("IMAP", False, explain(exc, server))
        return Check("IMAP", True, f"logged in to {server} and opened {mailbox['imap_folder']}")

    async def _test_smtp(self, mailbox: MailboxRow) -> Check:
        server = f"{mailbox['smtp_host']}:{mailbox['smtp_port']}"
        try:
            password = self._secrets.open(mailbox["smtp_password"], "mailbox smtp password")
            client = await asyncio.wait_for(smtp_client(mailbox, password), 60)
            client.close()
        except Exception as exc:  # noqa: BLE001
            return Check("SMTP", False, explain(exc, server))
        login = " and logged in" if mailbox["smtp_user"] else ""
        return Check("SMTP", True, f"connected to {server}{login}")


def parse_mail_servers(text: str) -> tuple[str, ...]:
    """Addresses or networks ("203.0.113.5", "2001:db8::/48"), one per line or comma-separated."""
    found = []
    for item in text.replace(",", "\n").split():
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise MailboxError(
                f"{item[:60]!r} is not an IP address or network: give your mail "
                "server's address, such as 203.0.113.5 (a host name does not "
                "work here)"
            ) from None
        if network.prefixlen == 0:
            raise MailboxError(
                f"{item[:60]} would let anyone on the internet write into the "
                "inbox; give your mail server's address instead"
            )
        found.append(str(network))
    if len(found) > MAX_MAIL_SERVERS:
        raise MailboxError(f"at most {MAX_MAIL_SERVERS} mail servers")
    return tuple(dict.fromkeys(found))
