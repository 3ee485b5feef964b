"""Watches answer targets (the first answer, and the next one after a customer writes again):
a warning when one is close, a breach when it has passed.

Each is an event on the conversation, recorded once, so the desk shows it live and reports can
count breaches. Escalation: the queue's managers are alerted (named in the event, so their
desks notify them, and by mail); a breach raises the conversation's priority, so it sorts up,
and moves it to the queue's breach queue when one is set. The watch runs on the instance's
clock, every `interval` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from onlinesupport.core.conversations import SYSTEM, Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.store import Database
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.conversations import OwedAnswer
from onlinesupport.store.queues import Manager

log = logging.getLogger(__name__)
WARN_AT = 0.8
"""Warn when this share of the time between arrival and due time has gone."""
ESCALATED_PRIORITY = 1
LOOKAHEAD = timedelta(days=7)


Alert = Callable[[str, str, str], Awaitable[None]]
"""Send a mail: (to, subject, body)."""


class SlaWatch:
    def __init__(
        self,
        db: Database,
        conversations: Conversations,
        clock: Clock,
        interval: float = 30.0,
        alert: Alert | None = None,
        desk_url: str = "",
    ) -> None:
        self._db = db
        self._conversations = conversations
        self._clock = clock
        self.interval = interval
        """Seconds between two runs of `check` (the supervisor runs it as 'sla-watch')."""
        self._alert = alert
        self._desk_url = desk_url

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

        mails: list[tuple[str, str, str]] = []

        def command(work: Work) -> int:
            recorded = 0
            for row in conversations_repo.waiting_for_answer(work.conn, cutoff):
                mark = _mark(row, from_db(work.now))
                if mark is None:
                    continue
                breached = mark == "breached"
                column = MARKS[row.target][breached]
                changes: dict[str, str | int] = {column: work.now}
                if breached and row.priority < ESCALATED_PRIORITY:
                    changes["priority"] = ESCALATED_PRIORITY
                conversations_repo.update(work.conn, row.id, work.now, **changes)
                managers = queues_repo.managers_of(work.conn, row.queue_id)
                work.emit(
                    row.id,
                    "sla.breached" if breached else "sla.warning",
                    "system",
                    None,
                    {
                        "target": row.target,
                        "due_at": row.due_at,
                        "notify": [m.id for m in managers],
                    },
                )
                if breached:
                    self._move_late(work, row)
                mails.extend(self._alert_mail(m, row, breached) for m in managers)
                recorded += 1
            return recorded

        recorded = await self._conversations.run(command)
        for to, subject, body in mails:
            await self._send(to, subject, body)
        return recorded

    def _move_late(self, work: Work, row: OwedAnswer) -> None:
        target = queues_repo.breach_queue(work.conn, row.queue_id)
        if target is not None:
            conversation = conversations_repo.lock(work.conn, row.id)
            self._conversations.move_in(work, conversation, target, SYSTEM, reason="late")

    def _alert_mail(
        self, manager: Manager, row: OwedAnswer, breached: bool
    ) -> tuple[str, str, str]:
        what = "first answer" if row.target == "first_response" else "next answer"
        state = "is late" if breached else "is due soon"
        subject = f"#{row.id}: the {what} {state}"
        body = (
            f"Hello {manager.name},\n\nthe {what} to conversation #{row.id} "
            f"({row.subject or 'no subject'}) {state}: it was due {row.due_at[:16]} UTC."
            f"\n\n{self._desk_url}/conversations/{row.id}\n"
        )
        return manager.email, subject, body

    async def _send(self, to: str, subject: str, body: str) -> None:
        if self._alert is None:
            return
        try:
            await self._alert(to, subject, body)
        except Exception as exc:  # noqa: BLE001 - the desk shows the alert anyway; mail is extra
            log.warning("alert to %s not mailed: %s", to, exc)


MARKS = {
    "first_response": ("sla_warned_at", "sla_breached_at"),
    "next_response": ("next_warned_at", "next_breached_at"),
}
"""The conversation columns of each target's (warning, breach) marks."""


def _mark(row: OwedAnswer, moment: datetime) -> str | None:
    """Which mark a waiting answer needs now: breached, warned, or none."""
    due, since = from_db(row.due_at), from_db(row.since)
    if moment >= due:
        return "breached"
    if not row.warned_at and moment >= since + (due - since) * WARN_AT:
        return "warned"
    return None
