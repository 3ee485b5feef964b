"""Watches answer targets (the first answer, and the next one after a customer writes again):
a warning when one is close, a breach when it has passed.

Each is an event on the conversation, recorded once, so the desk shows it live and reports can
count breaches. A breach also raises the conversation's priority (escalation), so it sorts up.
The watch runs on the instance's clock, every `interval` seconds.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from onlinesupport.clock import Clock, from_db, to_db
from onlinesupport.conversations import Conversations
from onlinesupport.periodic import every
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import Database
from onlinesupport.store.events import Event

WARN_AT = 0.8
"""Warn when this share of the time between arrival and due time has gone."""
ESCALATED_PRIORITY = 1
LOOKAHEAD = timedelta(days=7)


class SlaWatch:
    def __init__(self, db: Database, conversations: Conversations, clock: Clock,
                 interval: float = 30.0) -> None:
        self._db = db
        self._conversations = conversations
        self._clock = clock
        self._interval = interval

    async def check(self) -> int:
        """Record the warnings and breaches that are due now; returns how many were recorded.

        Looks first with a reader, so the writer is only asked for a transaction when there is
        something to record (the watch runs every 30 s, mostly finding nothing).
        """
        moment = self._clock.now()
        cutoff = to_db(moment + LOOKAHEAD)
        waiting = await conversations_repo.waiting_for_answer_now(self._db, cutoff)
        if not any(_mark(row, moment) for row in waiting):
            return 0

        def command(conn: sqlite3.Connection, now: str, events: list[Event]) -> int:
            recorded = 0
            for row in conversations_repo.waiting_for_answer(conn, cutoff):
                mark = _mark(row, from_db(now))
                if mark is None:
                    continue
                breached = mark == "breached"
                column = MARKS[row["target"]][breached]
                changes = {column: now}
                if breached and row["priority"] < ESCALATED_PRIORITY:
                    changes["priority"] = ESCALATED_PRIORITY
                conversations_repo.update(conn, row["id"], now, **changes)
                events.append(events_repo.append(
                    conn, row["id"], "sla.breached" if breached else "sla.warning",
                    "system", None, now, {"target": row["target"], "due_at": row["due_at"]}))
                recorded += 1
            return recorded

        return await self._conversations.run(command)

    def running(self) -> AbstractAsyncContextManager[None]:
        return every(self._interval, self.check, "sla-watch")


MARKS = {"first_response": ("sla_warned_at", "sla_breached_at"),
         "next_response": ("next_warned_at", "next_breached_at")}
"""The conversation columns of each target's (warning, breach) marks."""


def _mark(row: sqlite3.Row, moment: datetime) -> str | None:
    """Which mark a waiting answer needs now: breached, warned, or none."""
    due, since = from_db(row["due_at"]), from_db(row["since"])
    if moment >= due:
        return "breached"
    if not row["warned_at"] and moment >= since + (due - since) * WARN_AT:
        return "warned"
    return None
