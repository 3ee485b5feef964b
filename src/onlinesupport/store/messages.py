"""Messages of a conversation, numbered by a gap-free `seq`, deduplicated by `client_id`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Any

from onlinesupport.store import attachments as attachments_repo
from onlinesupport.store import email as email_repo
from onlinesupport.store.customers import first_email_of
from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import new_id


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    seq: int
    author_type: str
    author_id: int | None
    kind: str
    body: str
    client_id: str | None
    created_at: str
    author_name: str = ""
    attachments: tuple[attachments_repo.Attachment, ...] = ()
    email: email_repo.MailDetails | None = None
    """For mail: where it came from (inbound) or how its sending goes (outbound)."""
    author_email: str = ""
    """A customer author's address: what the desk names them by when they gave no name."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "author_type": self.author_type,
            "author_id": self.author_id,
            "author_name": self.author_name,
            "kind": self.kind,
            "body": self.body,
            "client_id": self.client_id,
            "created_at": self.created_at,
            "attachments": [
                {
                    "id": a["id"],
                    "filename": a["filename"],
                    "content_type": a["content_type"],
                    "size": a["size"],
                }
                for a in self.attachments
            ],
            "email": self.email,
        }


# A customer message is named after its author: in a mail conversation that may be someone
# the customer copied, not the conversation's customer.
_SELECT = (
    "SELECT m.*, CASE m.author_type WHEN 'agent' THEN a.name WHEN 'customer' THEN cu.name"
    " ELSE 'System' END AS author_name,"
    " CASE WHEN m.author_type = 'customer' AND coalesce(cu.name, '') = ''"
    f" THEN {first_email_of('cu.id')} END AS author_email FROM messages m"
    " JOIN conversations c ON c.id = m.conversation_id"
    " JOIN customers cu ON cu.id = CASE WHEN m.author_type = 'customer'"
    " THEN coalesce(m.author_id, c.customer_id) ELSE c.customer_id END"
    " LEFT JOIN agents a ON a.id = m.author_id AND m.author_type = 'agent'"
)


def _from_row(row: sqlite3.Row) -> Message:
    return Message(
        row["id"],
        row["conversation_id"],
        row["seq"],
        row["author_type"],
        row["author_id"],
        row["kind"],
        row["body"],
        row["client_id"],
        row["created_at"],
        row["author_name"] or "",
        author_email=row["author_email"] or "",
    )


def by_client_id(conn: sqlite3.Connection, conversation_id: int, client_id: str) -> Message | None:
    # A retry is rare: look the id up on its index first, join for the author only on a hit.
    found = conn.execute(
        "SELECT id FROM messages WHERE conversation_id = ? AND client_id = ?",
        (conversation_id, client_id),
    ).fetchone()
    if found is None:
        return None
    return _from_row(conn.execute(f"{_SELECT} WHERE m.id = ?", (found[0],)).fetchone())


def by_customer_client_id(
    conn: sqlite3.Connection, customer_id: int, client_id: str
) -> Message | None:
    """The message with this client id in any of the customer's conversations (a retried start)."""
    found = conn.execute(
        "SELECT m.id FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.customer_id = ? AND m.client_id = ?",
        (customer_id, client_id),
    ).fetchone()
    if found is None:
        return None
    return _from_row(conn.execute(f"{_SELECT} WHERE m.id = ?", (found[0],)).fetchone())


def insert(
    conn: sqlite3.Connection,
    *,
    conversation_id: int,
    seq: int,
    author_type: str,
    author_id: int | None,
    kind: str,
    body: str,
    client_id: str | None,
    now: str,
    author_name: str = "",
) -> Message:
    cursor = conn.execute(
        "INSERT INTO messages (conversation_id, seq, author_type, author_id, kind, body,"
        " client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (conversation_id, seq, author_type, author_id, kind, body, client_id, now),
    )
    return Message(
        new_id(cursor),
        conversation_id,
        seq,
        author_type,
        author_id,
        kind,
        body,
        client_id,
        now,
        author_name,
    )


def transcript(conn: sqlite3.Connection, conversation_id: int) -> list[Message]:
    """What the customer saw of a conversation: its messages (no notes), with authors (not
    their attachments or mail details)."""
    rows = conn.execute(
        f"{_SELECT} WHERE m.conversation_id = ? AND m.kind = 'message' ORDER BY m.seq",
        (conversation_id,),
    ).fetchall()
    return [_from_row(r) for r in rows]


async def after(
    db: Database, conversation_id: int, after_seq: int = 0, limit: int = 1000
) -> list[Message]:
    rows = await db.fetch_all(
        f"{_SELECT} WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
        (conversation_id, after_seq, limit),
    )
    messages = [_from_row(r) for r in rows]
    ids = [m.id for m in messages]
    files = await attachments_repo.for_messages(db, ids)
    mails = await email_repo.details(db, ids)
    return [
        replace(m, attachments=tuple(files.get(m.id, ())), email=mails.get(m.id))
        if m.id in files or m.id in mails
        else m
        for m in messages
    ]


def lock(conn: sqlite3.Connection, message_id: int) -> Message:
    """Inside a write: one message, with its author's name."""
    row = conn.execute(f"{_SELECT} WHERE m.id = ?", (message_id,)).fetchone()
    if row is None:
        raise NotFound(f"message {message_id} does not exist")
    return _from_row(row)


def first_unanswered(conn: sqlite3.Connection, conversation_ids: list[int]) -> str | None:
    """When the earliest customer message of these conversations written after the last
    agent's message in any of them was written (None: every one is answered)."""
    marks = ", ".join("?" * len(conversation_ids))
    row = conn.execute(
        "SELECT min(created_at) FROM messages WHERE kind = 'message'"
        f" AND author_type = 'customer' AND conversation_id IN ({marks})"
        " AND created_at > coalesce((SELECT max(created_at) FROM messages WHERE kind = 'message'"
        f" AND author_type = 'agent' AND conversation_id IN ({marks})), '')",
        (*conversation_ids, *conversation_ids),
    ).fetchone()
    return None if row is None else row[0]
