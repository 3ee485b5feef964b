"""What the JSON API and the webhooks read of conversations and customers: one row shape for
both, read inside a write (a webhook's payload is the state its event committed) or outside
(an API request), and the API's filtered, cursor-paged listings."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from onlinesupport.store.database import Database


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    status: str
    channel: str
    subject: str
    priority: int
    tags: tuple[str, ...]
    queue_id: int
    queue_name: str
    assignee_id: int | None
    assignee_name: str | None
    customer_id: int
    customer_name: str
    created_at: str
    updated_at: str
    last_message_at: str
    last_seq: int
    first_response_at: str | None
    answer_due_at: str | None
    snoozed_until: str | None
    snoozed: bool
    merged_into: int | None
    language: str
    page_url: str


@dataclass(frozen=True)
class CustomerRecord:
    id: int
    name: str
    tier: str
    tags: tuple[str, ...]
    email: str
    phone: str
    external_id: str | None
    created_at: str
    erased: bool


@dataclass(frozen=True)
class ConversationFilter:
    """What narrows a listing; None leaves a field out."""

    status: str | None = None
    queue_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    channel: str | None = None
    tag: str | None = None
    customer_id: int | None = None
    updated_since: str | None = None


_CONVERSATION = (
    "SELECT c.id, c.status, c.channel, c.subject, c.priority, c.tags, c.queue_id,"
    " q.name AS queue_name, c.assignee_id, a.name AS assignee_name, c.customer_id,"
    " cu.name AS customer_name, c.created_at, c.updated_at, c.last_message_at, c.last_seq,"
    " c.first_response_at, coalesce(c.next_response_due_at, CASE WHEN c.first_response_at"
    " IS NULL THEN c.first_response_due_at END) AS answer_due_at, c.snoozed_until,"
    " c.snoozed_at IS NOT NULL AS snoozed, c.merged_into, c.language, c.page_url"
    " FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
    " JOIN queues q ON q.id = c.queue_id LEFT JOIN agents a ON a.id = c.assignee_id"
)

_CUSTOMER = (
    "SELECT cu.id, cu.name, cu.tier, cu.tags, cu.created_at,"
    " cu.erased_at IS NOT NULL AS erased,"
    " (SELECT value FROM customer_identities i WHERE i.customer_id = cu.id AND i.kind = 'email'"
    "  ORDER BY i.id LIMIT 1) AS email,"
    " (SELECT coalesce(shown, value) FROM customer_identities i WHERE i.customer_id = cu.id"
    "  AND i.kind = 'phone' ORDER BY i.id LIMIT 1) AS phone,"
    " (SELECT value FROM customer_identities i WHERE i.customer_id = cu.id"
    "  AND i.kind = 'external') AS external_id FROM customers cu"
)


def _conversation(row: sqlite3.Row) -> ConversationRecord:
    return ConversationRecord(
        row["id"],
        row["status"],
        row["channel"],
        row["subject"],
        row["priority"],
        tuple(json.loads(row["tags"])),
        row["queue_id"],
        row["queue_name"],
        row["assignee_id"],
        row["assignee_name"],
        row["customer_id"],
        row["customer_name"],
        row["created_at"],
        row["updated_at"],
        row["last_message_at"],
        row["last_seq"],
        row["first_response_at"],
        row["answer_due_at"],
        row["snoozed_until"],
        bool(row["snoozed"]),
        row["merged_into"],
        row["language"],
        row["page_url"],
    )


def _customer(row: sqlite3.Row) -> CustomerRecord:
    return CustomerRecord(
        row["id"],
        row["name"],
        row["tier"],
        tuple(json.loads(row["tags"])),
        row["email"] or "",
        row["phone"] or "",
        row["external_id"],
        row["created_at"],
        bool(row["erased"]),
    )


def conversation_in(conn: sqlite3.Connection, conversation_id: int) -> ConversationRecord | None:
    """Inside a write: the conversation as the transaction leaves it."""
    row = conn.execute(f"{_CONVERSATION} WHERE c.id = ?", (conversation_id,)).fetchone()
    return _conversation(row) if row else None


def customer_in(conn: sqlite3.Connection, customer_id: int) -> CustomerRecord | None:
    row = conn.execute(f"{_CUSTOMER} WHERE cu.id = ?", (customer_id,)).fetchone()
    return _customer(row) if row else None


async def conversation(db: Database, conversation_id: int) -> ConversationRecord | None:
    row = await db.fetch_one(f"{_CONVERSATION} WHERE c.id = ?", (conversation_id,))
    return _conversation(row) if row else None


async def customer(db: Database, customer_id: int) -> CustomerRecord | None:
    row = await db.fetch_one(f"{_CUSTOMER} WHERE cu.id = ?", (customer_id,))
    return _customer(row) if row else None


def _where(narrow: ConversationFilter) -> tuple[list[str], dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    for column in ("status", "queue_id", "assignee_id", "channel", "customer_id"):
        value = getattr(narrow, column)
        if value is not None:
            clauses.append(f"c.{column} = :{column}")
            params[column] = value
    if narrow.unassigned:
        clauses.append("c.assignee_id IS NULL")
    if narrow.tag is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE lower(value) = :tag)")
        params["tag"] = narrow.tag.lower()
    if narrow.updated_since is not None:
        clauses.append("c.updated_at >= :updated_since")
        params["updated_since"] = narrow.updated_since
    return clauses, params


async def conversations_newest(
    db: Database, narrow: ConversationFilter, before_id: int | None, limit: int
) -> list[ConversationRecord]:
    """Newest first, below `before_id` (the cursor): pages stay put while new ones arrive."""
    clauses, params = _where(narrow)
    if before_id is not None:
        clauses.append("c.id < :before_id")
        params["before_id"] = before_id
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = await db.fetch_all(
        f"{_CONVERSATION}{where} ORDER BY c.id DESC LIMIT :limit", {**params, "limit": limit}
    )
    return [_conversation(r) for r in rows]


async def conversations_updated(
    db: Database, narrow: ConversationFilter, after: tuple[str, int] | None, limit: int
) -> list[ConversationRecord]:
    """Least recently changed first, after `after` (updated_at, id): a sync reads on until the
    end; a conversation that changes meanwhile comes again later, with its change."""
    clauses, params = _where(narrow)
    if after is not None:
        clauses.append("(c.updated_at, c.id) > (:after_at, :after_id)")
        params.update(after_at=after[0], after_id=after[1])
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = await db.fetch_all(
        f"{_CONVERSATION}{where} ORDER BY c.updated_at, c.id LIMIT :limit",
        {**params, "limit": limit},
    )
    return [_conversation(r) for r in rows]


async def customers_by(
    db: Database,
    *,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> list[CustomerRecord]:
    """Customers found by an identity (the external id is the identity a website's signed
    users have too), or all of them by id after `after_id`."""
    given = [
        (kind, value)
        for kind, value in (("email", email), ("phone", phone), ("external", external_id))
        if value is not None
    ]
    if given:
        kind, value = given[0]
        rows = await db.fetch_all(
            f"{_CUSTOMER} WHERE cu.id IN (SELECT customer_id FROM customer_identities"
            " WHERE kind = ? AND value = ?) AND cu.id > ? ORDER BY cu.id LIMIT ?",
            (kind, value, after_id, limit),
        )
    else:
        rows = await db.fetch_all(
            f"{_CUSTOMER} WHERE cu.id > ? ORDER BY cu.id LIMIT ?", (after_id, limit)
        )
    return [_customer(r) for r in rows]


def customers_of(conn: sqlite3.Connection, conversation_ids: Sequence[int]) -> dict[int, int]:
    """Inside a write: the customer of each conversation."""
    if not conversation_ids:
        return {}
    marks = ",".join("?" * len(conversation_ids))
    return {
        r[0]: r[1]
        for r in conn.execute(
            f"SELECT id, customer_id FROM conversations WHERE id IN ({marks})",
            list(conversation_ids),
        )
    }
