"""The report rollup: each conversation's facts, recounted from its events whenever it has new
ones, so report pages add up rows instead of replaying years of events.

The rollup follows the events by id, reading with a reader and writing one small transaction
per batch (never inside a conversation's own transaction, so it adds nothing to storing a
message). Its position and the calendars it counted business hours in are stored with it; when
an admin changes a queue's hours or the business's time zone, it is counted again from the
first event. `onlinesupport reports rebuild` does the same on demand, with the same numbers.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from onlinesupport.core.conversations import DEFAULT_QUEUE
from onlinesupport.reports.facts import RULES, Facts, compute
from onlinesupport.reports.metrics import bucket_of
from onlinesupport.routing.due import calendar
from onlinesupport.routing.hours import BusinessHours
from onlinesupport.store import Database
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import reports as reports_repo

log = logging.getLogger(__name__)
BATCH_EVENTS = 5000
INTERVAL = 5.0
DAYS_PER_WRITE = 31


@dataclass(frozen=True)
class CalendarSet:
    """The business's time zone and each queue's business hours, as the rollup counts them."""

    zone: ZoneInfo
    by_queue: dict[int, BusinessHours]
    fingerprint: str

    def of(self, queue_id: int) -> BusinessHours:
        return self.by_queue.get(queue_id, BusinessHours(self.zone.key))


class Calendars:
    """The queues' calendars, read again on every use; the business's time zone (the default
    queue's) is also kept for code that cannot wait for a read."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._zone = ZoneInfo("UTC")

    def zone(self) -> ZoneInfo:
        """The business's time zone as last read."""
        return self._zone

    async def current(self) -> CalendarSet:
        queues = await queues_repo.list_all(self._db)
        name = next((q.timezone for q in queues if q.id == DEFAULT_QUEUE), "UTC")
        try:
            self._zone = ZoneInfo(name or "UTC")
        except (KeyError, ValueError):
            self._zone = ZoneInfo("UTC")
        fingerprint = json.dumps(
            [
                RULES,
                self._zone.key,
                *[
                    (q.id, q.timezone, q.hours, q.holidays)
                    for q in sorted(queues, key=lambda q: q.id)
                ],
            ]
        )
        return CalendarSet(self._zone, {q.id: calendar(q) for q in queues}, fingerprint)


class Rollup:
    def __init__(self, db: Database, calendars: Calendars) -> None:
        self._db = db
        self.calendars = calendars
        self._lock = asyncio.Lock()

    async def catch_up(self, limit: int | None = None) -> bool:
        """Bring the rollup up to the latest event (at most `limit` events read); True when it
        is up to date.

        Counting from the first event (a rebuild, changed calendars), the daily sums are
        written once at the end instead of after every batch: a batch of old events touches
        days all over the years.
        """
        async with self._lock:
            calendars = await self.calendars.current()
            state = await reports_repo.rollup_state(self._db)
            if state is not None and state.calendars != calendars.fingerprint:
                log.info(
                    "queue calendars or counting rules changed: report figures are counted again"
                )
                await self._db.write(reports_repo.clear_rollup)
                state = None
            last = state.last_event_id if state is not None else 0
            pending = state.days_pending if state is not None else True
            read = 0
            while limit is None or read < limit:
                ids, upto = await reports_repo.changed_since(self._db, last, BATCH_EVENTS)
                if upto == last:
                    if pending:
                        await self._write_all_days(last, calendars.fingerprint)
                    return True
                read += BATCH_EVENTS
                facts = await self._facts(ids, calendars)
                old_days = await reports_repo.days_of(self._db, ids)
                await self._db.write(
                    functools.partial(
                        reports_repo.save_facts,
                        facts=facts,
                        old_days=old_days,
                        last_event_id=upto,
                        calendars=calendars.fingerprint,
                        bucket=bucket_of,
                        rewrite=not pending,
                    )
                )
                last = upto
            return False

    async def _write_all_days(self, last: int, fingerprint: str) -> None:
        days = await reports_repo.all_days(self._db)
        for start in range(0, len(days), DAYS_PER_WRITE):
            chunk = days[start : start + DAYS_PER_WRITE]
            await self._db.write(functools.partial(reports_repo.rewrite_days, days=chunk))
        await self._db.write(lambda conn: reports_repo.set_state(conn, last, fingerprint, False))

    async def _facts(self, ids: list[int], calendars: CalendarSet) -> list[Facts]:
        inputs = await reports_repo.conversation_inputs(self._db, ids)
        events = await reports_repo.events_of(self._db, ids)
        found = []
        for conversation in inputs:
            facts = compute(
                conversation, events.get(conversation.id, []), calendars.of, calendars.zone
            )
            if facts is not None:
                found.append(facts)
        return found

    async def rebuild(self) -> None:
        """Forget the rollup and count everything again from the events."""
        async with self._lock:
            await self._db.write(reports_repo.clear_rollup)
        await self.catch_up()
