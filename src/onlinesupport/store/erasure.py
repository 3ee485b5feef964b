"""Erasure requests, a customer's data for download, and anonymising a customer."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, TypedDict

from onlinesupport.store import webhooks as webhooks_repo
from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dict, as_dicts

ERASED = "(erased)"
# Event data the reports use; everything else an event carries may identify the person.
KEPT_EVENT_KEYS = (
    "score",
    "question_type",
    "urgency",
    "queue_id",
    "previous_queue_id",
    "agent_id",
    "previous_agent_id",
    "agent_name",
    "queue_name",
    "status",
    "seq",
    "message_id",
    "outbox_id",
    "purpose",
    "channel",
    "kind",
    "due_at",
    "article_id",
    "permanent",
    "script_id",
    "from",
    "into",
    "via",
    "up_to_seq",
    "reason",
    "outcome",
    "attempt",
    "source",
)


def request(conn: sqlite3.Connection, customer_id: int, now: str) -> bool:
    """Record a pending request; False when one is pending already."""
    try:
        conn.execute(
            "INSERT INTO erasure_requests (customer_id, requested_at) VALUES (?, ?)",
            (customer_id, now),
        )
    except sqlite3.IntegrityError:
        return False
    return True


class ErasureRequest(TypedDict):
    """A customer's request to be erased, and the decision on it."""

    id: int
    customer_id: int
    status: str
    requested_at: str
    decided_at: str | None
    decided_by: int | None


class ErasureLine(ErasureRequest):
    """A request as the admins' list shows it: who asked, who decided, what there is to erase."""

    customer_name: str
    decided_by_name: str | None
    email: str | None
    conversations: int


async def pending_for(db: Database, customer_id: int) -> ErasureRequest | None:
    row = await db.fetch_one(
        "SELECT * FROM erasure_requests WHERE customer_id = ? AND status = 'pending'",
        (customer_id,),
    )
    return as_dict(ErasureRequest, row) if row else None


async def requests(db: Database) -> list[ErasureLine]:
    rows = await db.fetch_all(
        "SELECT r.*, cu.name AS customer_name, g.name AS decided_by_name,"
        " (SELECT value FROM customer_identities i WHERE i.customer_id = r.customer_id"
        "  AND i.kind = 'email') AS email,"
        " (SELECT count(*) FROM conversations c WHERE c.customer_id = r.customer_id)"
        "  AS conversations"
        " FROM erasure_requests r JOIN customers cu ON cu.id = r.customer_id"
        " LEFT JOIN agents g ON g.id = r.decided_by"
        " ORDER BY r.status = 'pending' DESC, r.requested_at DESC LIMIT 200"
    )
    return as_dicts(ErasureLine, rows)


async def pending_count(db: Database) -> int:
    row = await db.fetch_one("SELECT count(*) FROM erasure_requests WHERE status = 'pending'")
    assert row is not None  # an aggregate always yields one row
    pending: int = row[0]
    return pending


def decide(
    conn: sqlite3.Connection, request_id: int, status: str, agent_id: int, now: str
) -> int | None:
    """Mark a pending request decided; returns its customer, or None if it was not pending."""
    row = conn.execute(
        "UPDATE erasure_requests SET status = ?, decided_at = ?, decided_by = ?"
        " WHERE id = ? AND status = 'pending' RETURNING customer_id",
        (status, now, agent_id, request_id),
    ).fetchone()
    return row[0] if row else None


def anonymise(conn: sqlite3.Connection, customer_id: int, now: str) -> list[str]:
    """Remove what identifies the customer; returns the stored files to delete after commit."""
    conversations = "SELECT id FROM conversations WHERE customer_id = :c"
    messages = f"SELECT id FROM messages WHERE conversation_id IN ({conversations})"
    p = {"c": customer_id}
    files = [
        r[0]
        for r in conn.execute(
            f"SELECT storage_name FROM attachments WHERE message_id IN ({messages})", p
        )
    ]
    conn.execute(f"DELETE FROM attachments WHERE message_id IN ({messages})", p)
    conn.execute(f"DELETE FROM email_raw WHERE message_id IN ({messages})", p)
    conn.execute(
        f"UPDATE email_messages SET from_address = '', subject = '', refs = '',"
        f" html = '', warning = '' WHERE message_id IN ({messages})",
        p,
    )
    conn.execute(f"UPDATE messages SET body = '{ERASED}' WHERE id IN ({messages})", p)
    conn.execute(
        f"UPDATE email_threads SET reply_to = '', subject = ''"
        f" WHERE conversation_id IN ({conversations})",
        p,
    )
    conn.execute(
        f"DELETE FROM email_participants WHERE conversation_id IN ({conversations})"
        " OR address IN (SELECT value FROM customer_identities WHERE customer_id = :c"
        " AND kind = 'email')",
        p,
    )
    conn.execute(
        f"UPDATE outbox SET to_address = '', subject = '', body = '',"
        f" status = CASE WHEN status IN ('queued', 'sending') THEN 'failed'"
        f" ELSE status END,"
        f" last_error = CASE WHEN status IN ('queued', 'sending') THEN 'erased'"
        f" ELSE last_error END WHERE conversation_id IN ({conversations})",
        p,
    )
    conn.execute(f"UPDATE callbacks SET phone = '' WHERE conversation_id IN ({conversations})", p)
    conn.execute(
        f"UPDATE kb_deflections SET question = '' WHERE conversation_id IN ({conversations})", p
    )
    for event_id, data in conn.execute(
        f"SELECT id, data FROM events WHERE conversation_id IN ({conversations})", p
    ).fetchall():
        original = json.loads(data or "{}")
        kept = {k: v for k, v in original.items() if k in KEPT_EVENT_KEYS}
        conn.execute(
            "UPDATE events SET data = ? WHERE id = ?",
            (json.dumps({**kept, "erased": 1}, separators=(",", ":")), event_id),
        )
    conn.execute(
        f"UPDATE conversations SET subject = '', page_url = '', page_title = '',"
        f" page_referrer = '' WHERE id IN ({conversations})",
        p,
    )
    # Sign-in links mailed to the customer belong to no conversation: found by address.
    conn.execute(
        "DELETE FROM outbox WHERE conversation_id IS NULL AND to_address IN ("
        " SELECT value FROM customer_identities WHERE customer_id = :c"
        " AND kind = 'email')",
        p,
    )
    conn.execute("DELETE FROM customer_identities WHERE customer_id = :c", p)
    conn.execute("DELETE FROM customer_links WHERE customer_id = :c", p)
    conn.execute("DELETE FROM customer_sessions WHERE customer_id = :c", p)
    conn.execute(
        "UPDATE customers SET name = '', tags = '[]', erased_at = :now WHERE id = :c",
        {**p, "now": now},
    )
    webhooks_repo.erase_customer(conn, customer_id, json.dumps({"data": {"erased": True}}))
    return files


# A JSON document for the customer to download: its shape is the file's, not a query's.
async def export(db: Database, customer_id: int) -> dict[str, Any]:
    """What the customer gave us and was told: profile, conversations, messages (no internal
    notes), the names of files."""
    customer = await db.fetch_one(
        "SELECT id, name, tier, created_at FROM customers WHERE id = ?", (customer_id,)
    )
    assert customer is not None  # only the signed-in customer's own page exports
    identities = await db.fetch_all(
        "SELECT kind, value FROM customer_identities WHERE customer_id = ? AND kind <> 'visitor'",
        (customer_id,),
    )
    conversations = await db.fetch_all(
        "SELECT id, channel, subject, status, created_at, page_url FROM conversations"
        " WHERE customer_id = ? ORDER BY id",
        (customer_id,),
    )
    messages = await db.fetch_all(
        "SELECT m.id, m.conversation_id, m.author_type, m.body, m.created_at,"
        " coalesce(a.name, '') AS agent FROM messages m"
        " LEFT JOIN agents a ON a.id = m.author_id AND m.author_type = 'agent'"
        " WHERE m.kind = 'message' AND m.conversation_id IN"
        " (SELECT id FROM conversations WHERE customer_id = ?) ORDER BY m.conversation_id, m.seq",
        (customer_id,),
    )
    files = await db.fetch_all(
        "SELECT message_id, filename FROM attachments WHERE message_id IN (SELECT m.id FROM"
        " messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = ?)",
        (customer_id,),
    )
    by_message: dict[int, list[str]] = {}
    for f in files:
        by_message.setdefault(f["message_id"], []).append(f["filename"])
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        by_conversation.setdefault(m["conversation_id"], []).append(
            {
                "at": m["created_at"],
                "from": "you"
                if m["author_type"] == "customer"
                else (m["agent"] or m["author_type"]),
                "text": m["body"],
                "files": by_message.get(m["id"], []),
            }
        )
    return {
        "customer": {**dict(customer), "addresses": [dict(i) for i in identities]},
        "conversations": [
            {**dict(c), "messages": by_conversation.get(c["id"], [])} for c in conversations
        ],
    }
