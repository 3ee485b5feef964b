"""Watches first-answer targets: a warning when one is close, a breach when it has passed.

Each is an event on the conversation, recorded once, so the desk shows it live and reports can
count breaches. A breach also raises the conversation's priority (escalation), so it sorts up.
The watch runs on the instance's clock, every `interval` seconds.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from onlinesupport.clock import Clock, from_db, to_db
from onlinesupport.conversations import Conversations
from onlinesupport.periodic import every
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.events import Event

WARN_AT = 0.8
"""Warn when this share of the time between arrival and due time has gone."""
ESCALATED_PRIORITY = 1
LOOKAHEAD = timedelta(days=7)


class SlaWatch:
    def __init__(self, conversations: Conversations, clock: Clock, interval: float = 30.0) -> None:
        self._conversations = conversations
        self._clock = clock
        self._interval = interval

    async def check(self) -> int:
        """Record the warnings and breaches that are due now; returns how many were recorded."""
        def command(conn: sqlite3.Connection, now: str, events: list[Event]) -> int:
            moment = from_db(now)
            recorded = 0
            for row in queues_repo.waiting_for_answer(conn, to_db(moment + LOOKAHEAD)):
                due, created = from_db(row["first_response_due_at"]), from_db(row["created_at"])
                data = {"target": "first_response", "due_at": row["first_response_due_at"]}
                if moment >= due:
                    queues_repo.mark_sla(conn, row["id"], "sla_breached_at", now)
                    if row["priority"] < ESCALATED_PRIORITY:
                        conversations_repo.update(conn, row["id"], now,
                                                  priority=ESCALATED_PRIORITY)
                    events.append(events_repo.append(conn, row["id"], "sla.breached", "system",
                                                     None, now, data))
                    recorded += 1
                elif not row["sla_warned_at"] and moment >= created + (due - created) * WARN_AT:
                    queues_repo.mark_sla(conn, row["id"], "sla_warned_at", now)
                    events.append(events_repo.append(conn, row["id"], "sla.warning", "system",
                                                     None, now, data))
                    recorded += 1
            return recorded

        return await self._conversations.run(command)

    def running(self) -> AbstractAsyncContextManager[None]:
        return every(self._interval, self.check, "sla-watch")
