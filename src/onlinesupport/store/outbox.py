"""Mail waiting to be sent: what goes out, resends, bounces, and what the desk shows of it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from onlinesupport.store.database import Database
from onlinesupport.store.rows import new_id, one, only, record
from onlinesupport.store.work_queue import WorkQueue


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A mail of the outbox, and how its sending goes."""

    id: int
    conversation_id: int | None
    """None: a mail of no conversation (a sign-in link)."""
    message_id: int | None
    mailbox_id: int | None
    purpose: str
    to_address: str
    subject: str
    body: str
    rfc_message_id: str
    in_reply_to: str
    refs: str
    status: str
    attempts: int
    next_attempt_at: str
    last_error: str
    sent_at: str | None
    created_at: str
    expires_at: str | None


MAIL = WorkQueue("outbox", OutboxItem)
"""Mail waiting to be sent: claimed, retried and settled through `store.work_queue`."""


def enqueue(
    conn: sqlite3.Connection,
    *,
    conversation_id: int | None,
    message_id: int | None,
    mailbox_id: int | None,
    purpose: str,
    to_address: str,
    subject: str,
    body: str,
    rfc_message_id: str,
    in_reply_to: str,
    refs: str,
    now: str,
    expires_at: str | None = None,
) -> int:
    """Queue a mail; one without a conversation (a sign-in link) and with `expires_at` is given
    up on once it is too late to be of use."""
    return new_id(
        conn.execute(
            "INSERT INTO outbox (conversation_id, message_id, mailbox_id, purpose, to_address,"
            " subject,"
            " body, rfc_message_id, in_reply_to, refs, next_attempt_at, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                message_id,
                mailbox_id,
                purpose,
                to_address,
                subject,
                body,
                rfc_message_id,
                in_reply_to,
                refs,
                now,
                now,
                expires_at,
            ),
        )
    )


def resend(conn: sqlite3.Connection, outbox_id: int, now: str) -> OutboxItem | None:
    """Queue a failed mail of a conversation again (an agent's resend); None if it is not
    failed (a sign-in link is not resent: the customer asks for a new one)."""
    row = one(
        conn.execute(
            "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, last_error ="
            " ''"
            " WHERE id = ? AND status = 'failed' AND conversation_id IS NOT NULL RETURNING *",
            (now, outbox_id),
        )
    )
    return record(OutboxItem, row) if row is not None else None


def forget_body(conn: sqlite3.Connection, outbox_id: int) -> None:
    """A sign-in link is a credential: not kept once it is sent or given up on."""
    conn.execute("UPDATE outbox SET body = '' WHERE id = ? AND purpose = 'signin'", (outbox_id,))


def bounced(conn: sqlite3.Connection, outbox_id: int, error: str) -> OutboxItem | None:
    """A (verified) delivery report says this sent mail never arrived: mark it failed."""
    row = one(
        conn.execute(
            "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ? RETURNING *",
            (error[:500], outbox_id),
        )
    )
    return record(OutboxItem, row) if row is not None else None


def by_message_id(conn: sqlite3.Connection, rfc_message_id: str) -> OutboxItem | None:
    row = one(conn.execute("SELECT * FROM outbox WHERE rfc_message_id = ?", (rfc_message_id,)))
    return record(OutboxItem, row) if row is not None else None


def address_from_profile(conn: sqlite3.Connection, outbox_id: int) -> str:
    """Address a mail that had none to the customer's email address, if they have one now."""
    row = conn.execute(
        "SELECT i.value FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
        " JOIN customer_identities i ON i.customer_id = c.customer_id AND i.kind = 'email'"
        " WHERE o.id = ? ORDER BY i.id LIMIT 1",
        (outbox_id,),
    ).fetchone()
    if row is None:
        return ""
    address: str = row[0]
    conn.execute("UPDATE outbox SET to_address = ? WHERE id = ?", (address, outbox_id))
    return address


def acks_since(conn: sqlite3.Connection, to_address: str, since: str) -> int:
    acks: int = only(
        conn.execute(
            "SELECT count(*) FROM outbox WHERE to_address = ?"
            " AND purpose = 'ack' AND created_at >= ?",
            (to_address, since),
        )
    )[0]
    return acks


async def get(db: Database, outbox_id: int) -> OutboxItem | None:
    row = await db.fetch_one("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
    return record(OutboxItem, row) if row else None


async def counts(db: Database) -> dict[str, int]:
    """Mails per status; those stopped by a customer's erasure count as `erased`, not as
    failed deliveries (nothing went wrong)."""
    rows = await db.fetch_all(
        "SELECT CASE WHEN status = 'failed' AND last_error = 'erased' THEN 'erased'"
        " ELSE status END, count(*) FROM outbox GROUP BY 1"
    )
    return {r[0]: r[1] for r in rows}
