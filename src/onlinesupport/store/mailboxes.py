"""Support mailboxes: their settings and their IMAP progress (UIDVALIDITY and last UID)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, conflicts
from onlinesupport.store.rows import as_dict, as_dicts, new_id, one, record

SETTINGS = (
    "address",
    "display_name",
    "active",
    "queue_id",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_user",
    "imap_password",
    "imap_folder",
    "imap_after",
    "imap_move_to",
    "smtp_receive",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_password",
    "ack_enabled",
    "ack_subject",
    "ack_body",
    "ack_articles",
    "notify_link",
    "signed_return_path",
)


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A support mailbox as stored: its settings and its IMAP position. The passwords stay out
    of its repr, so a mailbox in a log line does not carry them."""

    id: int
    address: str
    display_name: str
    active: int
    queue_id: int
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_password: str = field(repr=False)
    imap_folder: str
    imap_after: str
    imap_move_to: str
    smtp_receive: int
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str = field(repr=False)
    ack_enabled: int
    ack_subject: str
    ack_body: str
    imap_uidvalidity: int | None
    imap_last_uid: int
    last_import_at: str | None
    created_at: str
    updated_at: str
    notify_link: str
    ack_articles: int
    signed_return_path: int


@conflicts()
def insert(conn: sqlite3.Connection, values: dict[str, Any], now: str) -> int:
    columns = [k for k in SETTINGS if k in values]
    marks = ", ".join("?" * (len(columns) + 2))
    return new_id(
        conn.execute(
            f"INSERT INTO mailboxes ({', '.join(columns)}, created_at, updated_at) VALUES"
            f" ({marks})",
            [values[k] for k in columns] + [now, now],
        )
    )


@conflicts()
def update(conn: sqlite3.Connection, mailbox_id: int, values: dict[str, Any], now: str) -> None:
    columns = [k for k in SETTINGS if k in values]
    assignments = ", ".join(f"{k} = ?" for k in columns)
    changed = conn.execute(
        f"UPDATE mailboxes SET {assignments}, updated_at = ? WHERE id = ?",
        [values[k] for k in columns] + [now, mailbox_id],
    ).rowcount
    if not changed:
        raise NotFound(f"mailbox {mailbox_id} does not exist")


def delete(conn: sqlite3.Connection, mailbox_id: int) -> None:
    conn.execute("DELETE FROM mailboxes WHERE id = ?", (mailbox_id,))


def find(conn: sqlite3.Connection, mailbox_id: int) -> Mailbox | None:
    row = one(conn.execute("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,)))
    return record(Mailbox, row) if row else None


def lock(conn: sqlite3.Connection, mailbox_id: int) -> Mailbox:
    row = find(conn, mailbox_id)
    if row is None:
        raise NotFound(f"mailbox {mailbox_id} does not exist")
    return row


def record_import(
    conn: sqlite3.Connection, mailbox_id: int, uidvalidity: int | None, uid: int | None, now: str
) -> None:
    """Move the mailbox's IMAP position past `uid`, in the transaction that imported it."""
    if uid is None:
        conn.execute("UPDATE mailboxes SET last_import_at = ? WHERE id = ?", (now, mailbox_id))
        return
    conn.execute(
        "UPDATE mailboxes SET imap_uidvalidity = ?, imap_last_uid = max(imap_last_uid, ?),"
        " last_import_at = ? WHERE id = ?",
        (uidvalidity, uid, now, mailbox_id),
    )


def reset_position(conn: sqlite3.Connection, mailbox_id: int, uidvalidity: int) -> None:
    """The server renumbered the folder (new UIDVALIDITY): start over from its first message."""
    conn.execute(
        "UPDATE mailboxes SET imap_uidvalidity = ?, imap_last_uid = 0 WHERE id = ?",
        (uidvalidity, mailbox_id),
    )


_DEFAULT_SENDER = "SELECT * FROM mailboxes WHERE active = 1 AND smtp_host != '' ORDER BY id LIMIT 1"


def default_sender(conn: sqlite3.Connection) -> Mailbox | None:
    """The mailbox that answers conversations not started by mail (the leave-a-message form)."""
    row = one(conn.execute(_DEFAULT_SENDER))
    return record(Mailbox, row) if row else None


class MailboxRow(TypedDict):
    """`Mailbox` as a dict, for the mail channel and the admin pages, which pass a mailbox on
    and lay what an admin typed over it."""

    id: int
    address: str
    display_name: str
    active: int
    queue_id: int
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_password: str
    imap_folder: str
    imap_after: str
    imap_move_to: str
    smtp_receive: int
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str
    ack_enabled: int
    ack_subject: str
    ack_body: str
    imap_uidvalidity: int | None
    imap_last_uid: int
    last_import_at: str | None
    created_at: str
    updated_at: str
    notify_link: str
    ack_articles: int
    signed_return_path: int


async def sender(db: Database, mailbox_id: int | None) -> MailboxRow | None:
    """The mailbox a mail goes out from: its own, or the default one if it has none (any more)."""
    row = (
        await db.fetch_one("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,))
        if mailbox_id is not None
        else None
    )
    row = row or await db.fetch_one(_DEFAULT_SENDER)
    return as_dict(MailboxRow, row) if row else None


async def get(db: Database, mailbox_id: int) -> MailboxRow | None:
    row = await db.fetch_one("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,))
    return as_dict(MailboxRow, row) if row else None


async def list_all(db: Database) -> list[MailboxRow]:
    return as_dicts(MailboxRow, await db.fetch_all("SELECT * FROM mailboxes ORDER BY address"))


async def receiving(db: Database, address: str) -> MailboxRow | None:
    """The active mailbox that takes mail for `address` through the built-in SMTP receiver."""
    row = await db.fetch_one(
        "SELECT * FROM mailboxes WHERE address = ? AND active = 1 AND smtp_receive = 1", (address,)
    )
    return as_dict(MailboxRow, row) if row else None


async def owns(db: Database, address: str) -> bool:
    """Whether `address` is one of our support mailboxes."""
    return await db.fetch_one("SELECT 1 FROM mailboxes WHERE address = ?", (address,)) is not None
