"""The mails behind customer messages: headers for threading, the raw mail, the reply address."""

from __future__ import annotations

import json
import sqlite3
import zlib
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dicts, one, only


def already_imported(
    conn: sqlite3.Connection, mailbox_id: int, rfc_message_id: str, raw_sha256: str
) -> int | None:
    """The conversation holding this very mail, if it was imported before."""
    row = conn.execute(
        "SELECT m.conversation_id FROM email_messages e JOIN messages m ON m.id = e.message_id"
        " WHERE e.mailbox_id = ? AND e.rfc_message_id = ? AND e.raw_sha256 = ?",
        (mailbox_id, rfc_message_id, raw_sha256),
    ).fetchone()
    return row[0] if row else None


def conversation_of(conn: sqlite3.Connection, rfc_message_ids: list[str]) -> int | None:
    """The conversation that sent or received any of these Message-IDs (newest first)."""
    for rfc_id in reversed(rfc_message_ids):
        row = one(
            conn.execute(
                "SELECT conversation_id FROM outbox WHERE rfc_message_id = ? UNION ALL"
                " SELECT m.conversation_id FROM email_messages e JOIN messages m ON m.id ="
                " e.message_id"
                " WHERE e.rfc_message_id = ? LIMIT 1",
                (rfc_id, rfc_id),
            )
        )
        if row:
            conversation_id: int = row[0]
            return conversation_id
    return None


def record(
    conn: sqlite3.Connection,
    message_id: int,
    mailbox_id: int | None,
    *,
    rfc_message_id: str,
    raw_sha256: str,
    from_address: str,
    subject: str,
    refs: str,
    quote_at: int | None,
    html: str,
    warning: str,
    packed_raw: bytes,
) -> None:
    """Record the mail behind message `message_id`; `packed_raw` is the raw mail,
    zlib-compressed."""
    conn.execute(
        "INSERT INTO email_messages (message_id, mailbox_id, rfc_message_id, raw_sha256,"
        " from_address, subject, refs, quote_at, html, warning)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message_id,
            mailbox_id,
            rfc_message_id,
            raw_sha256,
            from_address,
            subject,
            refs,
            quote_at,
            html,
            warning,
        ),
    )
    conn.execute("INSERT INTO email_raw (message_id, raw) VALUES (?, ?)", (message_id, packed_raw))


def set_thread(
    conn: sqlite3.Connection,
    conversation_id: int,
    mailbox_id: int | None,
    reply_to: str,
    subject: str,
) -> None:
    """Where replies in this conversation go: the customer's latest address (unless an agent
    chose another one) and our mailbox."""
    conn.execute(
        "INSERT INTO email_threads (conversation_id, mailbox_id, reply_to, subject)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET"
        " mailbox_id = coalesce(excluded.mailbox_id, mailbox_id),"
        " reply_to = CASE WHEN reply_to_chosen THEN reply_to ELSE excluded.reply_to END",
        (conversation_id, mailbox_id, reply_to, subject),
    )


def choose_reply_to(conn: sqlite3.Connection, conversation_id: int, address: str) -> str | None:
    """An agent sends this conversation's replies to `address`; returns the address replies
    went to before, or None if the conversation has no mail thread."""
    row = one(
        conn.execute(
            "SELECT reply_to FROM email_threads WHERE conversation_id = ?", (conversation_id,)
        )
    )
    if row is None:
        return None
    conn.execute(
        "UPDATE email_threads SET reply_to = ?, reply_to_chosen = 1 WHERE conversation_id = ?",
        (address, conversation_id),
    )
    before: str | None = row[0]
    return before


def own_address(conn: sqlite3.Connection, address: str) -> str:
    """'support' if `address` is one of our mailboxes (plus addressing included), 'agent' if
    it is an agent's, else ''. Mail from either is never acknowledged: a loop risk."""
    local, _, domain = address.rpartition("@")
    base = f"{local.split('+', 1)[0]}@{domain}"
    whose: str = only(
        conn.execute(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM mailboxes WHERE address IN (?, ?)) THEN"
            " 'support'"
            " WHEN EXISTS (SELECT 1 FROM agents WHERE email = ?) THEN 'agent' ELSE '' END",
            (address, base, address),
        )
    )[0]
    return whose


def add_participant(
    conn: sqlite3.Connection,
    conversation_id: int,
    address: str,
    name: str,
    now: str,
    *,
    copied: bool = False,
    wrote: bool = False,
) -> bool:
    """Record someone on the conversation besides its customer; True if they are new to it."""
    new = (
        conn.execute(
            "INSERT INTO email_participants (conversation_id, address, name, copied, wrote,"
            " added_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (conversation_id, address, name, int(copied), int(wrote), now),
        ).rowcount
        == 1
    )
    if not new:
        conn.execute(
            "UPDATE email_participants SET copied = max(copied, ?), wrote = max(wrote, ?),"
            " name = CASE WHEN ? != '' THEN ? ELSE name END"
            " WHERE conversation_id = ? AND address = ?",
            (int(copied), int(wrote), name, name, conversation_id, address),
        )
    return new


def copied(conn: sqlite3.Connection, conversation_id: int, address: str) -> bool:
    """Whether the customer's own mail in this conversation was also addressed to `address`."""
    row = conn.execute(
        "SELECT 1 FROM email_participants WHERE conversation_id = ? AND address = ? AND copied",
        (conversation_id, address),
    ).fetchone()
    return row is not None


def known_addresses(conn: sqlite3.Connection, conversation_id: int) -> set[str]:
    """The addresses replies may go to: the customer's, and the conversation's participants'."""
    rows = conn.execute(
        "SELECT i.value FROM conversations c JOIN customer_identities i ON i.customer_id ="
        " c.customer_id AND i.kind = 'email' WHERE c.id = ? UNION"
        " SELECT address FROM email_participants WHERE conversation_id = ?",
        (conversation_id, conversation_id),
    ).fetchall()
    return {r[0] for r in rows}


class Address(TypedDict):
    address: str
    name: str


class CopiedAddress(Address):
    """Someone on a mail conversation besides its customer: copied, or who wrote."""

    copied: int
    wrote: int


class Recipients(TypedDict):
    """What the desk shows of a mail conversation's addresses; `links` are the data of its
    email.linked events."""

    reply_to: str
    chosen: bool
    customer: list[Address]
    participants: list[CopiedAddress]
    links: list[dict[str, Any]]


async def recipients(db: Database, conversation_id: int) -> Recipients | None:
    """Where replies go, who else could get them, and the conversations a mail linked to this
    one: what the desk shows of a mail conversation (None when there is nothing to show)."""
    thread = await db.fetch_one(
        "SELECT reply_to, reply_to_chosen FROM email_threads WHERE conversation_id = ?",
        (conversation_id,),
    )
    others = await db.fetch_all(
        "SELECT address, name, copied, wrote FROM email_participants WHERE conversation_id = ?"
        " ORDER BY added_at, address",
        (conversation_id,),
    )
    links = await db.fetch_all(
        "SELECT data FROM events WHERE conversation_id = ? AND type = 'email.linked' ORDER BY id",
        (conversation_id,),
    )
    if thread is None and not others and not links:
        return None
    customer = await db.fetch_all(
        "SELECT i.value AS address, cu.name FROM conversations c JOIN customers cu"
        " ON cu.id = c.customer_id JOIN customer_identities i ON i.customer_id = c.customer_id"
        " AND i.kind = 'email' WHERE c.id = ? ORDER BY i.id",
        (conversation_id,),
    )
    return {
        "reply_to": thread["reply_to"] if thread else "",
        "chosen": bool(thread and thread["reply_to_chosen"]),
        "customer": as_dicts(Address, customer),
        "participants": as_dicts(CopiedAddress, others),
        "links": [json.loads(r[0]) for r in links],
    }


@dataclass(frozen=True, slots=True)
class EmailThread:
    """Where a mail conversation's replies go, and from which mailbox."""

    conversation_id: int
    mailbox_id: int | None
    reply_to: str
    subject: str
    reply_to_chosen: bool
    """An agent chose `reply_to` (it is not the sender's address)."""


def thread(conn: sqlite3.Connection, conversation_id: int) -> EmailThread | None:
    row = one(
        conn.execute("SELECT * FROM email_threads WHERE conversation_id = ?", (conversation_id,))
    )
    if row is None:
        return None
    return EmailThread(
        row["conversation_id"],
        row["mailbox_id"],
        row["reply_to"],
        row["subject"],
        bool(row["reply_to_chosen"]),
    )


@dataclass(frozen=True, slots=True)
class AnsweredMail:
    """The headers a reply to a mail refers to."""

    rfc_message_id: str
    refs: str
    """The mail's References, separated by spaces."""


def last_inbound(conn: sqlite3.Connection, conversation_id: int) -> AnsweredMail | None:
    """The customer's latest mail in the conversation: what a reply answers."""
    row = one(
        conn.execute(
            "SELECT e.rfc_message_id, e.refs FROM email_messages e"
            " JOIN messages m ON m.id = e.message_id"
            " WHERE m.conversation_id = ? AND m.author_type = 'customer' ORDER BY m.seq DESC LIMIT"
            " 1",
            (conversation_id,),
        )
    )
    return AnsweredMail(row["rfc_message_id"], row["refs"]) if row is not None else None


# "from" is a keyword, hence the functional form.
MailReceived = TypedDict(
    "MailReceived",
    {
        "direction": Literal["in"],
        "from": str,
        "quote_at": int | None,
        "has_html": bool,
        "warning": str | None,
    },
)
"""How a customer's message came in by mail, as the desk shows it."""


class MailSent(TypedDict):
    """How the sending of an agent's message by mail goes, as the desk shows it."""

    direction: Literal["out"]
    outbox_id: int
    status: str
    attempts: int
    error: str | None
    to: str


MailDetails = MailReceived | MailSent


async def details(db: Database, message_ids: list[int]) -> dict[int, MailDetails]:
    """What the desk shows of each message's mail: where it came from, or how its sending went."""
    if not message_ids:
        return {}
    marks = ",".join("?" * len(message_ids))
    found: dict[int, MailDetails] = {}
    for row in await db.fetch_all(
        f"SELECT message_id, from_address, quote_at, html != '' AS has_html, warning"
        f" FROM email_messages WHERE message_id IN ({marks})",
        message_ids,
    ):
        found[row["message_id"]] = {
            "direction": "in",
            "from": row["from_address"],
            "quote_at": row["quote_at"],
            "has_html": bool(row["has_html"]),
            "warning": row["warning"],
        }
    for row in await db.fetch_all(
        f"SELECT id, message_id, status, attempts, last_error, to_address FROM outbox"
        f" WHERE message_id IN ({marks})",
        message_ids,
    ):
        found[row["message_id"]] = {
            "direction": "out",
            "outbox_id": row["id"],
            "status": row["status"],
            "attempts": row["attempts"],
            "error": row["last_error"],
            "to": row["to_address"],
        }
    return found


async def raw(db: Database, message_id: int) -> bytes | None:
    row = await db.fetch_one("SELECT raw FROM email_raw WHERE message_id = ?", (message_id,))
    return zlib.decompress(row[0]) if row else None


async def html(db: Database, message_id: int) -> str | None:
    row = await db.fetch_one("SELECT html FROM email_messages WHERE message_id = ?", (message_id,))
    return row[0] if row else None


def set_content_id(conn: sqlite3.Connection, attachment_id: int, content_id: str) -> None:
    conn.execute("UPDATE attachments SET content_id = ? WHERE id = ?", (content_id, attachment_id))


async def inline_files(db: Database, message_id: int) -> dict[str, int]:
    """Content-ID → attachment id of a mail's inline images."""
    rows = await db.fetch_all(
        "SELECT content_id, id FROM attachments WHERE message_id = ? AND content_id != ''",
        (message_id,),
    )
    return {r[0]: r[1] for r in rows}
