"""Conversations: the thread of one customer's request, its status, queue and assignee."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, fields
from typing import Any, TypedDict

from onlinesupport.store.customers import first_email_of
from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound
from onlinesupport.store.rows import as_dict, as_dicts, new_id, one, only, record, records

VIEWS = ("open", "mine", "unassigned", "snoozed", "mentions", "resolved")

# Snoozed conversations leave the working views until they wake; mentions are the open
# conversations where an internal note named the agent.
_AWAKE = "c.status IN ('open', 'pending') AND c.snoozed_at IS NULL"
_VIEW_FILTERS = {
    "open": _AWAKE,
    "mine": f"{_AWAKE} AND (c.assignee_id = :agent_id OR EXISTS ("
    "SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id"
    " AND p.agent_id = :agent_id))",
    "unassigned": f"{_AWAKE} AND c.assignee_id IS NULL",
    "snoozed": "c.status IN ('open', 'pending') AND c.snoozed_at IS NOT NULL",
    "mentions": "c.status IN ('open', 'pending') AND c.id IN ("
    "SELECT conversation_id FROM mentions WHERE agent_id = :agent_id)",
    "resolved": "c.status IN ('resolved', 'closed')",
}

_LIST_COLUMNS = f"""
    c.id, c.channel, c.subject, c.status, c.priority, c.assignee_id, c.queue_id,
    c.created_at, c.last_message_at, c.last_seq, c.customer_id, c.tags, c.merged_into,
    c.snoozed_at, c.snoozed_until,
    coalesce(c.next_response_due_at, CASE WHEN c.first_response_at IS NULL
             THEN c.first_response_due_at END) AS answer_due_at,
    (c.sla_breached_at IS NOT NULL AND c.first_response_at IS NULL)
     OR (c.next_breached_at IS NOT NULL AND c.next_response_due_at IS NOT NULL) AS overdue,
    cu.name AS customer_name, {first_email_of("c.customer_id")} AS customer_email,
    a.name AS assignee_name, (SELECT name FROM queues WHERE id = c.queue_id) AS queue,
    (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'message'
     ORDER BY m.seq DESC LIMIT 1) AS preview
"""


def insert(
    conn: sqlite3.Connection,
    *,
    customer_id: int,
    channel: str,
    subject: str,
    queue_id: int,
    now: str,
    page_url: str = "",
    page_title: str = "",
    page_referrer: str = "",
    language: str = "",
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO conversations (customer_id, channel, subject, queue_id, page_url,"
            " page_title,"
            " page_referrer, language, created_at, updated_at, last_message_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                customer_id,
                channel,
                subject,
                queue_id,
                page_url,
                page_title,
                page_referrer,
                language,
                now,
                now,
                now,
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation's row: its thread's state, queue, assignee and answer targets."""

    id: int
    customer_id: int
    channel: str
    subject: str
    status: str
    queue_id: int
    assignee_id: int | None
    priority: int
    last_seq: int
    page_url: str
    page_title: str
    page_referrer: str
    first_response_at: str | None
    created_at: str
    updated_at: str
    last_message_at: str
    agent_read_seq: int
    first_response_due_at: str | None
    sla_warned_at: str | None
    sla_breached_at: str | None
    tags: str
    """A JSON list of the conversation's tags."""
    next_response_due_at: str | None
    next_waiting_since: str | None
    next_warned_at: str | None
    next_breached_at: str | None
    next_response_minutes: int | None
    """The conversation's own next-answer target (a rule's); None: its queue's."""
    language: str
    merged_into: int | None
    snoozed_at: str | None
    snoozed_until: str | None


# Every command locks its conversation, so the row is read in `Conversation`'s field order and
# built by position: 30 lookups by column name (`rows.record`) cost more than the query.
_LOCK = (
    f"SELECT {', '.join(field.name for field in fields(Conversation))} FROM conversations"
    " WHERE id = ?"
)


def lock(conn: sqlite3.Connection, conversation_id: int) -> Conversation:
    """The conversation as it is inside the current write transaction."""
    row = one(conn.execute(_LOCK, (conversation_id,)))
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return Conversation(*row)


def exists(conn: sqlite3.Connection, conversation_id: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        is not None
    )


def customer_of(conn: sqlite3.Connection, conversation_id: int) -> int | None:
    """The conversation's customer (None: there is no such conversation)."""
    row = conn.execute(
        "SELECT customer_id FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    return row[0] if row else None


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing rules look at of a conversation, its customer and its mail thread."""

    channel: str
    subject: str
    page_url: str
    tags: str
    queue_id: int
    language: str
    tier: str
    """The customer's tier."""
    ctags: str
    """The customer's tags (a JSON list, like `tags`)."""
    sender: str | None
    """The customer's first email address."""
    mailbox: str | None
    """The address of the mailbox the thread came in at."""


def routing_facts(conn: sqlite3.Connection, conversation_id: int) -> RoutingFacts:
    """What routing rules look at (one lookup by key per table)."""
    row = only(
        conn.execute(
            "SELECT c.channel, c.subject, c.page_url, c.tags, c.queue_id, c.language, cu.tier,"
            " cu.tags AS ctags,"
            " (SELECT value FROM customer_identities i WHERE i.customer_id = c.customer_id"
            "  AND i.kind = 'email' ORDER BY i.id LIMIT 1) AS sender,"
            " (SELECT m.address FROM email_threads t JOIN mailboxes m ON m.id = t.mailbox_id"
            "  WHERE t.conversation_id = c.id) AS mailbox"
            " FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?",
            (conversation_id,),
        )
    )
    return record(RoutingFacts, row)


@dataclass(frozen=True, slots=True)
class ResponseTargets:
    """A conversation's answer targets, with its queue's targets and business hours."""

    first_response_at: str | None
    first_response_due_at: str | None
    next_response_due_at: str | None
    own: int | None
    """The conversation's own next-response minutes (a rule's); None: its queue's."""
    first_response_minutes: int
    """The queue's."""
    next_response_minutes: int
    """The queue's."""
    timezone: str
    hours: str
    holidays: str


def response_targets(conn: sqlite3.Connection, conversation_id: int) -> ResponseTargets:
    """What the answer targets of a conversation are computed from."""
    row = only(
        conn.execute(
            "SELECT c.first_response_at, c.first_response_due_at, c.next_response_due_at,"
            " c.next_response_minutes AS own, q.first_response_minutes, q.next_response_minutes,"
            " q.timezone, q.hours, q.holidays"
            " FROM conversations c JOIN queues q ON q.id = c.queue_id WHERE c.id = ?",
            (conversation_id,),
        )
    )
    return record(ResponseTargets, row)


def settle_next_response(conn: sqlite3.Connection, conversation_id: int) -> None:
    """An answer was given: no next answer is owed (nor waited for) until the customer writes."""
    conn.execute(
        "UPDATE conversations SET next_response_due_at = NULL, next_waiting_since = NULL"
        " WHERE id = ? AND next_response_due_at IS NOT NULL",
        (conversation_id,),
    )


@dataclass(frozen=True, slots=True)
class ChatToOffer:
    """A waiting chat, with how its queue offers chats."""

    id: int
    queue_id: int
    offer_seconds: int
    assignment: str
    customer_name: str


async def chats_to_offer(db: Database) -> list[ChatToOffer]:
    """Open, unassigned chats in queues that offer chats, oldest first."""
    rows = await db.fetch_all(
        "SELECT c.id, c.queue_id, q.offer_seconds, q.assignment, cu.name AS customer_name"
        " FROM conversations c"
        " JOIN queues q ON q.id = c.queue_id JOIN customers cu ON cu.id = c.customer_id"
        " WHERE q.chat_offers AND c.channel = 'chat' AND c.status = 'open'"
        " AND c.assignee_id IS NULL ORDER BY c.created_at"
    )
    return records(ChatToOffer, rows)


async def chats_released_offline(db: Database, agent_id: int) -> list[int]:
    """The agent's open chats in queues that take chats back when their agent goes offline."""
    rows = await db.fetch_all(
        "SELECT c.id FROM conversations c JOIN queues q ON q.id = c.queue_id"
        " WHERE c.assignee_id = ? AND c.channel = 'chat' AND c.status IN ('open', 'pending')"
        " AND q.release_offline",
        (agent_id,),
    )
    return [r[0] for r in rows]


@dataclass(frozen=True, slots=True)
class TakenSeq:
    """A message number just taken (`last_seq`), with what a post checks of its conversation."""

    last_seq: int
    status: str
    first_response_at: str | None
    merged_into: int | None
    snoozed_at: str | None


def take_seq(conn: sqlite3.Connection, conversation_id: int, now: str) -> TakenSeq:
    """Take the conversation's next message number (gap-free: only the writer calls this),
    with the columns a post checks: one statement, not a read and a write."""
    row = one(
        conn.execute(
            "UPDATE conversations SET last_seq = last_seq + 1, last_message_at = ?, updated_at = ?"
            " WHERE id = ? RETURNING last_seq, status, first_response_at, merged_into, snoozed_at",
            (now, now, conversation_id),
        )
    )
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return record(TakenSeq, row)


def update(conn: sqlite3.Connection, conversation_id: int, now: str, **columns: Any) -> None:
    allowed = {
        "status",
        "assignee_id",
        "first_response_at",
        "queue_id",
        "priority",
        "first_response_due_at",
        "sla_warned_at",
        "sla_breached_at",
        "tags",
        "next_response_due_at",
        "next_waiting_since",
        "next_warned_at",
        "next_breached_at",
        "next_response_minutes",
        "merged_into",
        "snoozed_at",
        "snoozed_until",
    }
    unknown = set(columns) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in columns)
    conn.execute(
        f"UPDATE conversations SET {assignments}, updated_at = ? WHERE id = ?",
        (*columns.values(), now, conversation_id),
    )


# One row per answer a customer waits for: the first (since the conversation arrived) or the
# next (since they wrote again after an answer), with the columns of its marks. The next
# answer's waiting time is set with its due time; the coalesce only keeps `since` a time.
_WAITING = (
    "SELECT id, priority, queue_id, subject, 'first_response' AS target, created_at AS since,"
    " first_response_due_at AS due_at, sla_warned_at AS warned_at FROM conversations"
    " WHERE first_response_at IS NULL AND sla_breached_at IS NULL"
    " AND first_response_due_at IS NOT NULL AND status IN ('open', 'pending')"
    " AND first_response_due_at <= :before"
    " UNION ALL SELECT id, priority, queue_id, subject, 'next_response',"
    " coalesce(next_waiting_since, next_response_due_at),"
    " next_response_due_at,"
    " next_warned_at FROM conversations WHERE next_response_due_at IS NOT NULL"
    " AND next_breached_at IS NULL AND status IN ('open', 'pending')"
    " AND next_response_due_at <= :before"
)


@dataclass(frozen=True, slots=True)
class OwedAnswer:
    """An answer a customer waits for, and the marks the watch has set on it."""

    id: int
    """The conversation's."""
    priority: int
    queue_id: int
    subject: str
    target: str
    """"first_response" or "next_response"."""
    since: str
    due_at: str
    warned_at: str | None


def waiting_for_answer(conn: sqlite3.Connection, due_before: str) -> list[OwedAnswer]:
    """Answers customers wait for (first or next), due before `due_before`, not yet breached."""
    return records(OwedAnswer, conn.execute(_WAITING, {"before": due_before}).fetchall())


async def waiting_for_answer_now(db: Database, due_before: str) -> list[OwedAnswer]:
    """The same, read outside the writer (to see whether anything needs writing at all)."""
    return records(OwedAnswer, await db.fetch_all(_WAITING, {"before": due_before}))


def mark_read(conn: sqlite3.Connection, conversation_id: int, seq: int) -> int | None:
    """Move the agents' read position forward (never back, never past the last message)."""
    row = conn.execute(
        "UPDATE conversations SET agent_read_seq = ? WHERE id = ? AND agent_read_seq < ?"
        " AND ? <= last_seq RETURNING agent_read_seq",
        (seq, conversation_id, seq, seq),
    ).fetchone()
    return row[0] if row else None


def add_participant(
    conn: sqlite3.Connection, conversation_id: int, agent_id: int, invited_by: int | None, now: str
) -> bool:
    """False when the agent takes part already."""
    return (
        conn.execute(
            "INSERT INTO conversation_participants (conversation_id, agent_id, invited_by,"
            " joined_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (conversation_id, agent_id, invited_by, now),
        ).rowcount
        == 1
    )


class Participant(TypedDict):
    """An agent invited into a conversation besides its assignee."""

    id: int
    name: str


async def participants(db: Database, conversation_id: int) -> list[Participant]:
    rows = await db.fetch_all(
        "SELECT a.id, a.name FROM conversation_participants p JOIN agents a ON a.id = p.agent_id"
        " WHERE p.conversation_id = ? ORDER BY p.joined_at",
        (conversation_id,),
    )
    return as_dicts(Participant, rows)


class InboxLine(TypedDict):
    """A conversation as an inbox lists it (`_LIST_COLUMNS`)."""

    id: int
    channel: str
    subject: str
    status: str
    priority: int
    assignee_id: int | None
    queue_id: int
    created_at: str
    last_message_at: str
    last_seq: int
    customer_id: int
    tags: str
    merged_into: int | None
    snoozed_at: str | None
    snoozed_until: str | None
    answer_due_at: str | None
    overdue: int
    customer_name: str
    assignee_name: str | None
    queue: str
    preview: str | None


class ConversationView(InboxLine):
    """A conversation as the desk opens it: its line, page context and answer targets."""

    page_url: str
    page_title: str
    page_referrer: str
    first_response_at: str | None
    agent_read_seq: int
    first_response_due_at: str | None
    sla_breached_at: str | None
    next_response_due_at: str | None
    next_breached_at: str | None
    queue_name: str


async def get(db: Database, conversation_id: int) -> ConversationView | None:
    row = await db.fetch_one(
        f"SELECT {_LIST_COLUMNS}, c.page_url, c.page_title, c.page_referrer, c.first_response_at,"
        " c.agent_read_seq, c.first_response_due_at, c.sla_breached_at, c.tags,"
        " c.next_response_due_at, c.next_breached_at,"
        " q.name AS queue_name FROM conversations c"
        " JOIN customers cu ON cu.id = c.customer_id"
        " JOIN queues q ON q.id = c.queue_id"
        " LEFT JOIN agents a ON a.id = c.assignee_id WHERE c.id = ?",
        (conversation_id,),
    )
    return as_dict(ConversationView, row) if row else None


SORTS = {
    "recent": "c.last_message_at DESC, c.id DESC",
    # The answer owed soonest first; conversations owing none after them, newest first.
    "due": "coalesce(c.next_response_due_at, CASE WHEN c.first_response_at IS NULL"
    " THEN c.first_response_due_at END) IS NULL, coalesce(c.next_response_due_at,"
    " CASE WHEN c.first_response_at IS NULL THEN c.first_response_due_at END),"
    " c.last_message_at DESC",
}


_DUE = (
    "coalesce(c.next_response_due_at, CASE WHEN c.first_response_at IS NULL"
    " THEN c.first_response_due_at END)"
)
_OVERDUE = (
    "((c.sla_breached_at IS NOT NULL AND c.first_response_at IS NULL)"
    " OR (c.next_breached_at IS NOT NULL AND c.next_response_due_at IS NOT NULL))"
)


@dataclass(frozen=True)
class InboxFilter:
    """What narrows an inbox view beyond its status; None leaves a field out."""

    queue_id: int | None = None
    channel: str | None = None
    tag: str | None = None
    assignee: str | None = None
    """"me", "none", or an agent's id (as text)."""
    priority: int | None = None
    """At least this priority."""
    due: str | None = None
    """"overdue", or "1h" / "24h": an answer is owed within that time (or is late)."""

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


DUE_WITHIN = {"1h": 1 / 24, "24h": 1.0}


def _filter_sql(narrow: InboxFilter) -> str:
    clauses = []
    if narrow.queue_id is not None:
        clauses.append("c.queue_id = :f_queue_id")
    if narrow.channel is not None:
        clauses.append("c.channel = :f_channel")
    if narrow.tag is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE lower(value) = :f_tag)")
    if narrow.assignee == "me":
        clauses.append("c.assignee_id = :agent_id")
    elif narrow.assignee == "none":
        clauses.append("c.assignee_id IS NULL")
    elif narrow.assignee is not None:
        clauses.append("c.assignee_id = :f_assignee")
    if narrow.priority is not None:
        clauses.append("c.priority >= :f_priority")
    if narrow.due == "overdue":
        clauses.append(_OVERDUE)
    elif narrow.due is not None:
        clauses.append(f"(julianday({_DUE}) <= julianday(:now) + :f_within OR {_OVERDUE})")
    return "".join(f" AND {c}" for c in clauses)


def _filter_params(narrow: InboxFilter) -> dict[str, Any]:
    return {
        "f_queue_id": narrow.queue_id,
        "f_channel": narrow.channel,
        "f_tag": (narrow.tag or "").lower(),
        "f_assignee": narrow.assignee,
        "f_priority": narrow.priority,
        "f_within": DUE_WITHIN.get(narrow.due or "", 0),
    }


async def inbox(
    db: Database,
    view: str,
    agent_id: int,
    limit: int = 200,
    sort: str = "recent",
    narrow: InboxFilter = InboxFilter(),
    now: str = "",
) -> list[InboxLine]:
    """Conversations of one inbox view, narrowed by `narrow`, most recent activity (or soonest
    due answer) first. `now` is needed by the due filters."""
    where = _VIEW_FILTERS[view] + _filter_sql(narrow)
    rows = await db.fetch_all(
        f"SELECT {_LIST_COLUMNS} FROM conversations c"
        " JOIN customers cu ON cu.id = c.customer_id"
        f" LEFT JOIN agents a ON a.id = c.assignee_id WHERE {where}"
        f" ORDER BY {SORTS[sort]} LIMIT :limit",
        {"agent_id": agent_id, "limit": limit, "now": now, **_filter_params(narrow)},
    )
    return as_dicts(InboxLine, rows)


async def view_counts(db: Database, agent_id: int) -> dict[str, int]:
    row = await db.fetch_one(
        "SELECT "
        + ", ".join(f"sum({_VIEW_FILTERS[view]})" for view in VIEWS)
        + " FROM conversations c",
        {"agent_id": agent_id},
    )
    return {view: (row[i] or 0) if row else 0 for i, view in enumerate(VIEWS)}


async def queue_position(
    db: Database, conversation_id: int, waiting_since: str = ""
) -> tuple[int, list[float]] | None:
    """Where a waiting chat stands among waiting chats of its queue (1 = next), and the first
    response times of chats in the 24 hours before it, in minutes.

    None once the chat has an agent's answer or an assignee. Chats whose customer has said
    nothing since `waiting_since` have been given up on and are not counted ahead of anyone.
    """
    row = await db.fetch_one(
        "SELECT (SELECT count(*) FROM conversations w WHERE w.channel = 'chat'"
        "   AND w.status = 'open' AND w.assignee_id IS NULL AND w.first_response_at IS NULL"
        "   AND w.queue_id = c.queue_id AND (w.id = c.id OR w.last_message_at >= ?)"
        "   AND (w.created_at < c.created_at OR (w.created_at = c.created_at AND w.id <= c.id))),"
        " c.assignee_id IS NULL AND c.first_response_at IS NULL AND c.status = 'open'"
        " FROM conversations c WHERE c.id = ?",
        (waiting_since, conversation_id),
    )
    if row is None or not row[1]:
        return None
    waits = await db.fetch_all(
        "SELECT (julianday(r.first_response_at) - julianday(r.created_at)) * 1440"
        " FROM conversations r, conversations c WHERE c.id = ? AND r.channel = 'chat'"
        " AND r.first_response_at IS NOT NULL"
        " AND r.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', c.created_at, '-1 day')",
        (conversation_id,),
    )
    return row[0], [w[0] for w in waits]


def merge_target(conn: sqlite3.Connection, conversation_id: int) -> int:
    """Where the conversation's new messages belong: itself, or the one it was merged into."""
    for _ in range(10):  # merges re-point earlier merges, so this is one step; the cap is a guard
        row = conn.execute(
            "SELECT merged_into FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return conversation_id
        conversation_id = row[0]
    return conversation_id


@dataclass(frozen=True, slots=True)
class MergedConversation:
    """A conversation merged into another, with its last message's seq."""

    id: int
    last_seq: int


def merged_into(conn: sqlite3.Connection, target_id: int) -> list[MergedConversation]:
    """The conversations merged into `target_id`."""
    rows = conn.execute(
        "SELECT id, last_seq FROM conversations WHERE merged_into = ? ORDER BY id", (target_id,)
    ).fetchall()
    return records(MergedConversation, rows)


_SNOOZE_OVER = (
    "SELECT id FROM conversations WHERE snoozed_at IS NOT NULL"
    " AND snoozed_until <= :now ORDER BY snoozed_until LIMIT 500"
)


def snooze_over(conn: sqlite3.Connection, now: str) -> list[int]:
    """Snoozed conversations whose time has come (at most 500 at a time)."""
    return [r[0] for r in conn.execute(_SNOOZE_OVER, {"now": now}).fetchall()]


async def snooze_over_now(db: Database, now: str) -> bool:
    """Whether any snooze is over, read outside the writer."""
    return bool(await db.fetch_all(_SNOOZE_OVER, {"now": now}))
