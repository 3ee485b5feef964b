"""Due times: when a new conversation's first answer is due, in its queue's business hours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import from_db, to_db
from onlinesupport.routing.hours import BusinessHours, InvalidHours
from onlinesupport.store import Transaction
from onlinesupport.store import callbacks as callbacks_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.queues import Queue


class Calendared(Protocol):
    """Whatever carries a queue's calendar: the queue, or a row read with its queue's hours."""

    @property
    def timezone(self) -> str: ...
    @property
    def hours(self) -> str: ...
    @property
    def holidays(self) -> str: ...


def calendar(queue: Calendared | Mapping[str, Any]) -> BusinessHours:
    """The queue's calendar (see `hours_of`)."""
    if isinstance(queue, Mapping):
        return hours_of(queue["timezone"], queue["hours"], queue["holidays"])
    return hours_of(queue.timezone, queue.hours, queue.holidays)


def hours_of(timezone: str, hours: str, holidays: str) -> BusinessHours:
    """A queue's calendar from its columns; one that no longer parses (edited by hand) counts
    as always open."""
    try:
        return BusinessHours.parse(timezone, hours, holidays)
    except InvalidHours:
        return BusinessHours()


def chat_calendar(queue: Queue) -> BusinessHours:
    """When the queue offers chat: its chat hours if set (chat may close before mail does)."""
    if not queue.chat_hours.strip():
        return calendar(queue)
    try:
        return BusinessHours.parse(queue.timezone, queue.chat_hours, queue.holidays)
    except InvalidHours:
        return calendar(queue)


def set_first_response_due(work: Work, conversation_id: int) -> None:
    """A `Conversations.opened` hook: stamp the first-response due time on a new conversation."""
    queue = queues_repo.of_conversation(work.conn, conversation_id)
    due = calendar(queue).add(from_db(work.now), queue.first_response_minutes)
    set_target(work, conversation_id, "first_response", to_db(due))


def set_target(
    work: Work,
    conversation_id: int,
    target: str,
    due: str,
    **more_columns: Any,
) -> None:
    """Stamp an answer target's due time on the conversation, and record it as an event (the
    reports count the targets that fell due, met or missed)."""
    column = "first_response_due_at" if target == "first_response" else "next_response_due_at"
    conversations_repo.update(work.conn, conversation_id, work.now, **{column: due}, **more_columns)
    work.emit(conversation_id, "sla.target", "system", None, {"target": target, "due_at": due})


def chosen_by_customer(conn: Transaction, conversation_id: int) -> bool:
    """Whether the first answer is due when the customer asked for it (a callback request's
    window), which neither a queue's target nor a rule moves."""
    return callbacks_repo.window_end(conn, conversation_id) is not None


def set_next_response_due(work: Work, conversation_id: int, message: Any, new: bool) -> None:
    """A `Conversations.received` hook: a customer writing again after an answer is owed the
    next answer within the queue's next-response time (the earliest unanswered message counts)."""
    row = conversations_repo.response_targets(work.conn, conversation_id)
    if new or not row.first_response_at or row.next_response_due_at:
        return
    # The conversation's own target (a rule's, e.g. for a tier) or its queue's.
    due = hours_of(row.timezone, row.hours, row.holidays).add(
        from_db(work.now), row.own or row.next_response_minutes
    )
    set_target(
        work,
        conversation_id,
        "next_response",
        to_db(due),
        next_waiting_since=work.now,
        next_warned_at=None,
        next_breached_at=None,
    )


def move_owed_answer(work: Work, source_id: int, target_id: int) -> None:
    """A `Conversations.merged` hook: the merged conversation owes nothing more (as when it is
    resolved); the one it went into owes the next answer from the earliest customer message,
    of its own or of those merged into it, written after the last answer in any of them, and
    no later than the merged one had promised."""
    merged = conversations_repo.lock(work.conn, source_id)
    promised = (
        merged.first_response_due_at if not merged.first_response_at else None
    ) or merged.next_response_due_at
    conversations_repo.update(
        work.conn,
        source_id,
        work.now,
        first_response_due_at=None,
        next_response_due_at=None,
        next_waiting_since=None,
    )
    if conversations_repo.lock(work.conn, target_id).status not in ("open", "pending"):
        return  # both were done with: nothing is owed (as after a resolution)
    row = conversations_repo.response_targets(work.conn, target_id)
    if not row.first_response_at or row.next_response_due_at:
        return  # its first answer, or a next one, is owed already
    held = [target_id, *(m.id for m in conversations_repo.merged_into(work.conn, target_id))]
    since = messages_repo.first_unanswered(work.conn, held)
    if since is None:
        return
    due = to_db(
        hours_of(row.timezone, row.hours, row.holidays).add(
            from_db(since), row.own or row.next_response_minutes
        )
    )
    if promised is not None:
        # What the customer was told on the merged conversation holds ("within 1 hour"),
        # even where the kept one's next-answer target is longer.
        due = min(due, promised)
    set_target(
        work,
        target_id,
        "next_response",
        due,
        next_waiting_since=since,
        next_warned_at=None,
        next_breached_at=None,
    )


def answered(work: Work, conversation_id: int, message: Any) -> None:
    """A `Conversations.outbound` hook: an agent's answer settles the next answer owed."""
    conversations_repo.settle_next_response(work.conn, conversation_id)


def within(minutes: int) -> str:
    """'within 2 hours' from a response target in minutes."""
    if minutes < 60:
        return f"within {minutes} minutes"
    if minutes < 24 * 60:
        hours = round(minutes / 60)
        return "within 1 hour" if hours == 1 else f"within {hours} hours"
    days = round(minutes / (24 * 60))
    return "within 1 day" if days == 1 else f"within {days} days"


def promise_for(conn: Transaction, conversation_id: int) -> str:
    """When the customer can expect the first answer, in words: counted in business hours."""
    row = conversations_repo.response_targets(conn, conversation_id)
    hours = hours_of(row.timezone, row.hours, row.holidays)
    if hours.always_open or not row.first_response_due_at:
        return within(row.first_response_minutes)
    due = from_db(row.first_response_due_at).astimezone(ZoneInfo(hours.zone))
    return f"by {due:%A} {due.day} {due:%B}, {due:%H:%M} ({hours.zone})"
