"""Due times: when a new conversation's first answer is due, in its queue's business hours."""

from __future__ import annotations

import sqlite3
from typing import Any

from onlinesupport.clock import from_db, to_db
from onlinesupport.routing.hours import BusinessHours, InvalidHours
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.events import Event


def calendar(queue: sqlite3.Row | dict[str, Any]) -> BusinessHours:
    """The queue's calendar; one that no longer parses (edited by hand) counts as always open."""
    try:
        return BusinessHours.parse(queue["timezone"], queue["hours"], queue["holidays"])
    except InvalidHours:
        return BusinessHours()


def set_first_response_due(conn: sqlite3.Connection, now: str, events: list[Event],
                           conversation_id: int) -> None:
    """A `Conversations.opened` hook: stamp the first-response due time on a new conversation."""
    queue = conn.execute("SELECT q.* FROM queues q JOIN conversations c ON c.queue_id = q.id"
                         " WHERE c.id = ?", (conversation_id,)).fetchone()
    due = calendar(queue).add(from_db(now), queue["first_response_minutes"])
    queues_repo.set_due(conn, conversation_id, to_db(due))
