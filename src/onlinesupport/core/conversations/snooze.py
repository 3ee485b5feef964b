"""Snooze: a conversation leaves the working views until a time, or until the customer writes.

A customer's message always wakes it (see `Conversations.post_in`); a time snooze also wakes
when its time comes, by the watch here running on the instance's clock. Snoozing and waking
are events on the conversation. Presets are computed in the business's time zone (the
general queue's), so "tomorrow morning" is the company's morning.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onlinesupport.core.conversations.service import (
    SYSTEM,
    Actor,
    Conversations,
    InvalidCommand,
)
from onlinesupport.core.conversations.work import Work
from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.store import Database
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store.conversations import Conversation

PRESETS = {
    "1h": "For an hour",
    "3h": "For 3 hours",
    "tomorrow": "Until tomorrow morning",
    "next-week": "Until Monday morning",
    "reply": "Until the customer answers",
}
MORNING = time(9, 0)
LONGEST = timedelta(days=366)


def _tz(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def preset_until(preset: str, moment: datetime, zone: str) -> datetime | None:
    """When a preset snooze ends (None: when the customer answers)."""
    if preset == "reply":
        return None
    if preset == "1h":
        return moment + timedelta(hours=1)
    if preset == "3h":
        return moment + timedelta(hours=3)
    tz = _tz(zone)
    local = moment.astimezone(tz)
    if preset == "tomorrow":
        day = local.date() + timedelta(days=1)
    elif preset == "next-week":
        day = local.date() + timedelta(days=7 - local.weekday())
    else:
        raise InvalidCommand(f"the snooze must be one of {', '.join(PRESETS)} or a time")
    return datetime.combine(day, MORNING, tzinfo=tz)


def parse_until(text: str, zone: str) -> datetime:
    """A time typed or picked by the agent: ISO 8601, in `zone` when it names no offset."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCommand("the snooze time is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=_tz(zone))


def snooze_in(
    work: Work,
    conversation: Conversation,
    until: datetime | None,
    actor: Actor,
) -> bool:
    """Inside a command: snooze an open conversation; False if it is not open."""
    if conversation.status not in ("open", "pending") or conversation.merged_into:
        return False
    moment = from_db(work.now)
    if until is not None and not moment < until <= moment + LONGEST:
        raise InvalidCommand("snooze until a time in the coming year")
    until_text = to_db(until) if until is not None else None
    conversations_repo.update(
        work.conn, conversation.id, work.now, snoozed_at=work.now, snoozed_until=until_text
    )
    work.emit(conversation.id, "conversation.snoozed", actor.type, actor.id, {"until": until_text})
    return True


async def snooze(
    conversations: Conversations, conversation_id: int, until: datetime | None, actor: Actor
) -> bool:
    def command(work: Work) -> bool:
        return snooze_in(work, conversations_repo.lock(work.conn, conversation_id), until, actor)

    return await conversations.run(command)


async def wake(conversations: Conversations, conversation_id: int, actor: Actor) -> bool:
    """An agent ends the snooze early; False if it was not snoozed."""

    def command(work: Work) -> bool:
        if not conversations_repo.lock(work.conn, conversation_id).snoozed_at:
            return False
        conversations.wake_in(work, conversation_id, "agent", actor)
        return True

    return await conversations.run(command)


class SnoozeWatch:
    """Wakes snoozed conversations whose time has come, every `interval` seconds."""

    def __init__(
        self, db: Database, conversations: Conversations, clock: Clock, interval: float = 15.0
    ) -> None:
        self._db = db
        self._conversations = conversations
        self._clock = clock
        self.interval = interval
        """Seconds between two runs of `wake_due` (the supervisor runs it as 'snooze-watch')."""

    async def wake_due(self) -> int:
        """Wake what is due now; returns how many. Looks with a reader first, so the writer
        is only asked for a transaction when something is due."""
        if not await conversations_repo.snooze_over_now(self._db, to_db(self._clock.now())):
            return 0

        def command(work: Work) -> int:
            due = conversations_repo.snooze_over(work.conn, work.now)
            for conversation_id in due:
                self._conversations.wake_in(work, conversation_id, "time", SYSTEM)
            return len(due)

        return await self._conversations.run(command)
