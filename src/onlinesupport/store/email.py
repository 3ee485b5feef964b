"""The mails behind customer messages: headers for threading, the raw mail, the reply address."""

from __future__ import annotations

import sqlite3
import zlib
from typing import Any

from onlinesupport.store.database import Database


def already_imported(conn: sqlite3.Connection, mailbox_id: int, rfc_message_id: str,
                     raw_sha256: str) -> int | None:
    """The conversation holding this very mail, if it was imported before."""
    row = conn.execute(
        "SELECT m.conversation_id FROM email_messages e JOIN messages m ON m.id = e.message_id"
        " WHERE e.mailbox_id = ? AND e.rfc_message_id = ? AND e.raw_sha256 = ?",
        (mailbox_id, rfc_message_id, raw_sha256)).fetchone()
    return row[0] if row else None


def conversation_of(conn: sqlite3.Connection, rfc_message_ids: list[str]) -> int | None:
    """The conversation that sent or received any of these Message-IDs (newest first)."""
    for rfc_id in reversed(rfc_message_ids):
        row = conn.execute(
            "SELECT conversation_id FROM outbox WHERE rfc_message_id = ? UNION ALL"
            " SELECT m.conversation_id FROM email_messages e JOIN messages m ON m.id = e.message_id"
            " WHERE e.rfc_message_id = ? LIMIT 1", (rfc_id, rfc_id)).fetchone()
        if row:
            return row[0]
    return None


def record(conn: sqlite3.Connection, message_id: int, mailbox_id: int | None, *,
           rfc_message_id: str, raw_sha256: str, from_address: str, subject: str, refs: str,
           quote_at: int | None, html: str, warning: str, packed_raw: bytes) -> None:
    """Record the mail behind message `message_id`; `packed_raw` is the raw mail, zlib-compressed."""
    conn.execute(
        "INSERT INTO email_messages (message_id, mailbox_id, rfc_message_id, raw_sha256,"
        " from_address, subject, refs, quote_at, html, warning) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message_id, mailbox_id, rfc_message_id, raw_sha256, from_address, subject, refs,
         quote_at, html, warning))
    conn.execute("INSERT INTO email_raw (message_id, raw) VALUES (?, ?)",
                 (message_id, packed_raw))


def set_thread(conn: sqlite3.Connection, conversation_id: int, mailbox_id: int | None,
               reply_to: str, subject: str) -> None:
    """Where replies in this conversation go: the customer's latest address and our mailbox."""
    conn.execute(
        "INSERT INTO email_threads (conversation_id, mailbox_id, reply_to, subject)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET"
        " mailbox_id = coalesce(excluded.mailbox_id, mailbox_id), reply_to = excluded.reply_to",
        (conversation_id, mailbox_id, reply_to, subject))


def thread(conn: sqlite3.Connection, conversation_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM email_threads WHERE conversation_id = ?",
                        (conversation_id,)).fetchone()


def last_inbound(conn: sqlite3.Connection, conversation_id: int) -> sqlite3.Row | None:
    """The customer's latest mail in the conversation: what a reply answers."""
    return conn.execute(
        "SELECT e.rfc_message_id, e.refs FROM email_messages e JOIN messages m ON m.id = e.message_id"
        " WHERE m.conversation_id = ? AND m.author_type = 'customer' ORDER BY m.seq DESC LIMIT 1",
        (conversation_id,)).fetchone()


async def details(db: Database, message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the desk shows of each message's mail: where it came from, or how its sending went."""
    if not message_ids:
        return {}
    marks = ",".join("?" * len(message_ids))
    found: dict[int, dict[str, Any]] = {}
    for row in await db.fetch_all(
            f"SELECT message_id, from_address, quote_at, html != '' AS has_html, warning"
            f" FROM email_messages WHERE message_id IN ({marks})", message_ids):
        found[row["message_id"]] = {"direction": "in", "from": row["from_address"],
                                    "quote_at": row["quote_at"], "has_html": bool(row["has_html"]),
                                    "warning": row["warning"]}
    for row in await db.fetch_all(
            f"SELECT id, message_id, status, attempts, last_error, to_address FROM outbox"
            f" WHERE message_id IN ({marks})", message_ids):
        found[row["message_id"]] = {"direction": "out", "outbox_id": row["id"],
                                    "status": row["status"], "attempts": row["attempts"],
                                    "error": row["last_error"], "to": row["to_address"]}
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
    rows = await db.fetch_all("SELECT content_id, id FROM attachments WHERE message_id = ?"
                              " AND content_id != ''", (message_id,))
    return {r[0]: r[1] for r in rows}
