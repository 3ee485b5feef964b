"""What one conversation's events say for the reports: every measured value, with its moment.

A pure function of the conversation's events (and the queue calendars), so the rollup can be
written again from the events at any time with the same numbers. The rules, in the words the
report pages show (see `definitions`):

- A *human reply* is an agent's public message written by a person: not an internal note, not
  a rule's automatic reply (recorded with the rule's firing), not a script's next question
  (sent by the system when the customer answers), not a mailed acknowledgement (never a
  message at all). A reply through the API by a token that acts as nobody reaches the
  customer like any other: it is a human reply of the conversation, credited to no agent.
- A *call* logged on a callback request (reached, no answer, wrong number) is a human reply:
  the customer asked to be called, not written to.
- A conversation's *cycle* starts when it is created and again whenever it is reopened; the
  first response is measured per cycle.
- A conversation *merged* into another ends there without a resolution: its work goes on in
  the other one, which is resolved once.
- A conversation's *agent* is the one it is assigned to, else the last person who replied. Its
  creation (and the page it started on) is counted for that agent, so filtering by an agent
  counts the same conversations as the export's `agent` column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from onlinesupport.routing.hours import BusinessHours
from onlinesupport.store.events import Event
from onlinesupport.store.reports import ConversationInput

Calendars = Callable[[int], BusinessHours]
"""The business-hours calendar of a queue, by id."""
RULES = 3
"""The version of the rules below: a rollup counted by other rules is counted again."""


@dataclass(frozen=True)
class Value:
    """One measured thing: a duration (seconds wall clock and in business hours) or a count."""

    metric: str
    at: str
    day: str
    hour: int
    queue_id: int
    channel: str
    agent_id: int | None
    seconds: float | None = None
    business: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Facts:
    conversation_id: int
    created_at: str
    day: str
    queue_id: int
    channel: str
    agent_id: int | None
    tags: str
    page: str
    proactive_id: int | None
    status: str
    resolved_at: str | None
    cycles: int
    agent_replies: int
    first_response_s: float | None
    first_response_b: float | None
    resolution_s: float | None
    resolution_b: float | None
    sla_met: int | None
    rating: int | None
    abandoned: int
    fcr: int
    values: tuple[Value, ...] = field(default=())


@lru_cache(maxsize=16384)
def moment(at: str) -> datetime:
    """A stored UTC timestamp as a moment (the rollup reads millions: strptime is too slow)."""
    return datetime.fromisoformat(at[:-1]).replace(tzinfo=UTC)


@lru_cache(maxsize=16384)
def local_day_hour(at: str, zone: ZoneInfo) -> tuple[str, int]:
    """The business's calendar day (YYYY-MM-DD) and hour of a stored UTC moment."""
    local = moment(at).astimezone(zone)
    return local.date().isoformat(), local.hour


def page_key(url: str) -> str:
    """A page address without query, fragment or trailing slash, so visits of one page count
    together."""
    url = url.split("#", 1)[0].split("?", 1)[0].strip()
    return url[:-1] if url.endswith("/") and url.count("/") > 3 else url


def _sent_by(events: Sequence[Event], index: int, types: tuple[str, ...]) -> bool:
    """The message's command also recorded one of these events (a running script's
    `script.advanced`, a rule's `rule.fired`): it was sent by the system."""
    moment = events[index].created_at
    for later in events[index + 1 :]:
        if later.created_at != moment or later.type == "message.posted":
            return False
        if later.type in types:
            return True
    return False


def human_reply(events: Sequence[Event], index: int) -> bool:
    event = events[index]
    if (
        event.type != "message.posted"
        or event.actor_type != "agent"
        or event.data.get("kind") != "message"
    ):
        return False
    if event.actor_id is None:  # a rule's automatic reply, or an API token acting as nobody
        return not _sent_by(events, index, ("rule.fired", "script.advanced"))
    return not _sent_by(events, index, ("script.advanced",))


def is_call(event: Event) -> bool:
    """An agent's call logged on a callback request: the answer the customer asked for."""
    return (
        event.type == "callback.outcome"
        and event.actor_type == "agent"
        and event.actor_id is not None
    )


@dataclass
class _Target:
    kind: str
    due_at: str
    settled_at: str | None = None
    breached: bool = False


def compute(
    conversation: ConversationInput, events: Sequence[Event], calendars: Calendars, zone: ZoneInfo
) -> Facts | None:
    """The conversation's facts, or None when its creation is not among the events."""
    if not events or events[0].type != "conversation.created":
        return None
    created = events[0].created_at
    moves = [e for e in events if e.type == "conversation.moved"]
    queue: int = (
        moves[0].data.get("previous_queue_id") if moves else None
    ) or conversation.queue_id
    for move in moves:
        if move.created_at == created:  # routed as it arrived: it arrived in that queue
            queue = move.data.get("queue_id", queue)
    channel = conversation.channel
    values: list[Value] = []
    assignee: int | None = None
    last_replier: int | None = None

    def add(
        metric: str,
        at: str,
        start: str | None = None,
        agent: int | None = None,
        seconds: float | None = None,
        detail: str = "",
    ) -> Value:
        business = None
        if start is not None:
            begin, end = moment(start), moment(at)
            seconds = (end - begin).total_seconds()
            business = calendars(queue).open_seconds(begin, end)
        day, hour = local_day_hour(at, zone)
        value = Value(metric, at, day, hour, queue, channel, agent, seconds, business, detail)
        values.append(value)
        return value

    add("created", created)
    if channel in ("chat", "form") and conversation.page:
        add("inquiry", created, detail=page_key(conversation.page)[:500])
    cycle_start, cycle, first_reply_at = created, 0, None
    taken = False  # first cycle: an agent took it (assignment or first reply)
    assigned_at: str | None = None
    waiting_since: str | None = None
    resolved_once: Value | None = None
    first_response: Value | None = None
    first_resolution: Value | None = None
    replies = 0
    left_at: str | None = None
    abandoned = False
    open_ = True
    rating: Value | None = None
    targets: list[_Target] = []
    resolved_at: str | None = None

    def settle(moment: str, kinds: tuple[str, ...]) -> None:
        for target in targets:
            if target.settled_at is None and target.kind in kinds:
                target.settled_at = moment

    for index, event in enumerate(events[1:], start=1):
        at, kind = event.created_at, event.type
        if kind == "conversation.moved":
            queue = event.data.get("queue_id", queue)
        elif kind in ("conversation.assigned", "conversation.transferred"):
            assignee = event.data.get("agent_id")
            if assignee is not None and cycle == 0 and not taken:
                taken = True
                assigned_at = at
                add("hold", at, created, assignee)
        elif (
            kind == "message.posted"
            and event.actor_type == "customer"
            and event.data.get("kind") == "message"
        ):
            left_at = None
            if first_reply_at is not None and waiting_since is None and open_:
                waiting_since = at
        elif kind in ("page.viewed", "chat.returned"):
            left_at = None
        elif kind == "chat.left":
            if open_ and first_reply_at is None and cycle == 0 and channel == "chat":
                left_at = at
        elif (
            kind == "message.posted"
            and event.actor_type == "agent"
            and event.data.get("kind") == "message"
        ) or is_call(event):
            settle(at, ("next_response",))
            if not (human_reply(events, index) or is_call(event)):
                continue
            agent = event.actor_id  # None: through the API, by nobody on the team
            last_replier = agent if agent is not None else last_replier
            replies += 1
            add("reply", at, agent=agent)
            if cycle == 0 and left_at is not None and not abandoned:
                abandoned = True
                add("abandoned", left_at, created)
            if first_reply_at is None:
                first_reply_at = at
                value = add("first_response", at, cycle_start, agent)
                first_response = first_response or value
                settle(at, ("first_response",))
                if cycle == 0 and not taken:
                    taken = True
                    add("hold", at, created, agent)
                elif cycle == 0 and assigned_at is not None:
                    add("reaction", at, assigned_at, agent)
            elif waiting_since is not None:
                add("next_response", at, waiting_since, agent)
            waiting_since = None
        elif kind == "conversation.merged":
            if not open_:
                continue  # resolved before, or re-pointed after an earlier merge
            # It goes on in the conversation it was merged into: not resolved here, a promise
            # still running is kept (or not) there, and a chat whose visitor had left is not
            # abandoned.
            open_ = False
            targets[:] = [t for t in targets if t.settled_at is not None or t.breached]
            waiting_since = left_at = None
            if "via" in event.data:
                # Re-pointed by a later merge of the one it went into (it had been reopened
                # since): it was merged once, and is counted once.
                continue
            add("merged", at, agent=assignee or last_replier)
        elif kind in ("conversation.resolved", "conversation.closed"):
            if not open_:
                continue
            open_ = False
            settle(at, ("first_response", "next_response"))
            waiting_since = None
            resolved_at = at
            if kind == "conversation.closed":
                continue  # spam: no resolution to measure
            by_customer = event.actor_type == "customer"
            if (
                cycle == 0
                and first_reply_at is None
                and channel == "chat"
                and not abandoned
                and (by_customer or left_at is not None)
                and not conversation.deflected
            ):
                abandoned = True
                add("abandoned", left_at or at, created)
            agent = assignee or last_replier
            value = add("resolution", at, cycle_start, agent)
            first_resolution = first_resolution or value
            if resolved_once is None:
                resolved_once = add("resolved_once", at, agent=agent)
                if channel == "chat":
                    add("asked", at, agent=agent)
        elif kind == "conversation.reopened":
            if open_:
                continue
            open_ = True
            resolved_at = None
            cycle += 1
            cycle_start, first_reply_at, waiting_since = at, None, None
            add("reopened", at, agent=assignee or last_replier)
        elif kind == "conversation.rated":
            if rating is not None:
                continue  # the first rating stands (a second is refused; older data had some)
            score = event.data.get("score")
            rating = add(
                "rating",
                at,
                agent=assignee or last_replier,
                seconds=float(score) if isinstance(score, int) else None,
                detail=str(event.data.get("comment", "")),
            )
        elif kind == "sla.target":
            # routing.due.set_target, the only writer of these events, always sets both.
            target_kind, due = event.data["target"], event.data["due_at"]
            if target_kind == "first_response":
                # A later target (a rule, a move) replaces the one not yet settled.
                targets[:] = [t for t in targets if t.kind != "first_response" or t.settled_at]
                if first_reply_at is None and not any(t.kind == target_kind for t in targets):
                    targets.append(_Target(target_kind, due))
            elif target_kind == "next_response" and due:
                targets.append(_Target(target_kind, due))
        elif kind == "sla.breached":
            for target in targets:
                if target.kind == event.data.get("target") and target.settled_at is None:
                    target.breached = True
    if left_at is not None and not abandoned and first_reply_at is None and cycle == 0:
        abandoned = True
        add("abandoned", left_at, created)

    sla_results = []
    for target in targets:
        late = target.breached or (
            target.settled_at is not None and target.settled_at > target.due_at
        )
        if not late and target.settled_at is None:
            continue  # still running: counted once it is answered, resolved or breached
        met = not late
        sla_results.append(met)
        add(
            "sla_first" if target.kind == "first_response" else "sla_next",
            target.due_at,
            agent=assignee or last_replier,
            detail="met" if met else "missed",
        )
    owner = assignee or last_replier
    values[:] = [
        replace(v, agent_id=owner) if v.metric in ("created", "inquiry") else v for v in values
    ]
    reopened = cycle > 0
    fcr = int(resolved_once is not None and replies == 1 and not reopened)
    if resolved_once is not None:
        detail = "fcr" if fcr else ("reopened" if reopened else "")
        values[values.index(resolved_once)] = Value(
            resolved_once.metric,
            resolved_once.at,
            resolved_once.day,
            resolved_once.hour,
            resolved_once.queue_id,
            resolved_once.channel,
            resolved_once.agent_id,
            detail=detail,
        )
    return Facts(
        conversation_id=conversation.id,
        created_at=created,
        day=local_day_hour(created, zone)[0],
        queue_id=queue,
        channel=channel,
        agent_id=owner,
        tags=conversation.tags,
        page=page_key(conversation.page),
        proactive_id=conversation.proactive_id,
        status=conversation.status,
        resolved_at=resolved_at,
        cycles=cycle + 1,
        agent_replies=replies,
        first_response_s=first_response.seconds if first_response else None,
        first_response_b=first_response.business if first_response else None,
        resolution_s=first_resolution.seconds if first_resolution else None,
        resolution_b=first_resolution.business if first_resolution else None,
        sla_met=int(all(sla_results)) if sla_results else None,
        rating=int(rating.seconds) if rating and rating.seconds is not None else None,
        abandoned=int(abandoned),
        fcr=fcr,
        values=tuple(values),
    )
