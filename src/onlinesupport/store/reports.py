"""Reports: the rollup of conversations' events, what visitors and agents did outside
conversations (page views, searches, presence), and the queries the report pages ask.

Writes take the writer's connection; reads are async and return dataclasses. Every period is
a range of the business's calendar days (`day`, YYYY-MM-DD) or of UTC moments.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from onlinesupport.store.database import Database
from onlinesupport.store.events import Event
from onlinesupport.store.events import from_row as event_from_row

SITE_KINDS = ("page_view", "kb_search", "article_view")


@dataclass(frozen=True)
class Filters:
    """Which values a figure counts: a range of days and the dimensions asked for."""

    first_day: str
    last_day: str
    queue_ids: tuple[int, ...] | None = None
    agent_id: int | None = None
    channel: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class RollupState:
    last_event_id: int
    calendars: str
    days_pending: bool


@dataclass(frozen=True)
class ConversationInput:
    id: int
    channel: str
    queue_id: int
    status: str
    tags: str
    page: str
    proactive_id: int | None
    deflected: bool


@dataclass(frozen=True)
class Count:
    metric: str
    detail: str
    count: int


@dataclass(frozen=True)
class Duration:
    seconds: float
    business: float


@dataclass(frozen=True)
class DrillRow:
    conversation_id: int
    metric: str
    at: str
    seconds: float | None
    business: float | None
    detail: str
    subject: str
    channel: str
    queue: str
    agent: str
    customer: str


@dataclass(frozen=True)
class ExportRow:
    conversation_id: int
    channel: str
    queue: str
    agent: str
    tags: str
    created_at: str
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
    page: str


@dataclass(frozen=True)
class PageCount:
    page: str
    count: int


@dataclass(frozen=True)
class CampaignCount:
    message_id: int
    text: str
    kind: str
    page: str
    count: int


@dataclass(frozen=True)
class PresenceChange:
    agent_id: int
    status: str
    at: str


@dataclass(frozen=True)
class Waiting:
    queue_id: int
    queue: str
    unattended: int
    oldest_waiting: str | None


@dataclass(frozen=True)
class Subscription:
    agent_id: int
    name: str
    email: str
    role: str
    frequency: str
    last_sent: str


# --- the rollup: written by the rollup worker, outside any conversation command ---------------

DURATION_METRICS = (
    "first_response",
    "next_response",
    "hold",
    "reaction",
    "resolution",
    "abandoned",
)
BUCKETS = 64
_DETAIL = "CASE metric WHEN 'rating' THEN CAST(CAST(seconds AS INTEGER) AS TEXT) ELSE detail END"
"""What a daily count is split by: a rating's score, or the value's detail (met, missed ...)."""
_SCOPES = {
    "q": ("queue_id", "NULL", "NULL"),
    "c": ("NULL", "channel", "NULL"),
    "a": ("queue_id", "NULL", "agent_id"),
}
_BUCKET_SUMS = ", ".join(f"sum({{column}} = {i})" for i in range(BUCKETS))
_COLUMNS = ", ".join(f"b{i}" for i in range(BUCKETS))
_SUMS = ", ".join(f"sum(b{i})" for i in range(BUCKETS))


def save_facts(
    conn: sqlite3.Connection,
    facts: Sequence[Any],
    old_days: Iterable[str],
    last_event_id: int,
    calendars: str,
    bucket: Any,
    rewrite: bool = True,
) -> None:
    """Replace the rollup rows of these conversations, rewrite the daily sums of every day
    they had or have values on (`old_days` were read before; unless not `rewrite`: then they
    are written all at once later), and move the read position. `bucket(seconds)` is the
    bucket of a duration."""
    ids = [(f.conversation_id,) for f in facts]
    conn.executemany("DELETE FROM report_values WHERE conversation_id = ?", ids)
    conn.executemany(
        "INSERT OR REPLACE INTO report_conversations (conversation_id, created_at, day, queue_id,"
        " channel, agent_id, tags, page, proactive_id, status, resolved_at, cycles, agent_replies,"
        " first_response_s, first_response_b, resolution_s, resolution_b, sla_met, rating,"
        " abandoned, fcr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.conversation_id,
                f.created_at,
                f.day,
                f.queue_id,
                f.channel,
                f.agent_id,
                f.tags,
                f.page,
                f.proactive_id,
                f.status,
                f.resolved_at,
                f.cycles,
                f.agent_replies,
                f.first_response_s,
                f.first_response_b,
                f.resolution_s,
                f.resolution_b,
                f.sla_met,
                f.rating,
                f.abandoned,
                f.fcr,
            )
            for f in facts
        ],
    )
    durations = set(DURATION_METRICS)
    conn.executemany(
        "INSERT INTO report_values (conversation_id, metric, at, day, hour, queue_id, channel,"
        " agent_id, seconds, business, bucket_s, bucket_b, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.conversation_id,
                v.metric,
                v.at,
                v.day,
                v.hour,
                v.queue_id,
                v.channel,
                v.agent_id,
                v.seconds,
                v.business,
                bucket(v.seconds) if v.metric in durations else None,
                bucket(v.business) if v.metric in durations else None,
                v.detail,
            )
            for f in facts
            for v in f.values
        ],
    )
    if rewrite:
        days = sorted({*old_days, *(v.day for f in facts for v in f.values)})
        for start in range(0, len(days), 200):
            rewrite_days(conn, days[start : start + 200])
    set_state(conn, last_event_id, calendars, not rewrite)


def set_state(
    conn: sqlite3.Connection, last_event_id: int, calendars: str, days_pending: bool
) -> None:
    conn.execute(
        "INSERT INTO report_state (id, last_event_id, calendars, days_pending)"
        " VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " last_event_id = excluded.last_event_id, calendars = excluded.calendars,"
        " days_pending = excluded.days_pending",
        (last_event_id, calendars, int(days_pending)),
    )


async def all_days(db: Database) -> list[str]:
    rows = await db.fetch_all("SELECT DISTINCT day FROM report_values ORDER BY day")
    return [r[0] for r in rows]


def rewrite_days(conn: sqlite3.Connection, days: Sequence[str]) -> None:
    """Write the daily sums of these days again from the values, then their months' sums."""
    marks = ", ".join("?" * len(days))
    conn.execute(f"DELETE FROM report_daily WHERE day IN ({marks})", days)
    conn.execute(f"DELETE FROM report_buckets WHERE day IN ({marks})", days)
    for scope, (queue, channel, agent) in _SCOPES.items():
        only = " AND agent_id IS NOT NULL" if scope == "a" else ""
        # Pages of inquiries are summed per queue only (the website report's one need).
        pages = "" if scope == "q" else " AND metric <> 'inquiry'"
        conn.execute(
            "INSERT INTO report_daily (day, scope, queue_id, channel, agent_id, metric, detail,"
            f" count) SELECT day, '{scope}', {queue}, {channel}, {agent}, metric, {_DETAIL},"
            f" count(*) FROM report_values WHERE day IN ({marks}){only}{pages}"
            " GROUP BY 1, 3, 4, 5, 6, 7",
            days,
        )
        # The hours conversations came in, as 'created' rows of the bucket table (b0-b23).
        conn.execute(
            "INSERT INTO report_buckets (day, scope, queue_id, channel, agent_id, metric, hours,"
            f" {', '.join(f'b{i}' for i in range(24))}) SELECT day, '{scope}', {queue},"
            f" {channel}, {agent}, 'created', 'wall',"
            f" {', '.join(f'sum(hour = {i})' for i in range(24))} FROM report_values"
            f" WHERE day IN ({marks}) AND metric = 'created'{only} GROUP BY 1, 3, 4, 5",
            days,
        )
        for hours, column in (("wall", "bucket_s"), ("business", "bucket_b")):
            conn.execute(
                "INSERT INTO report_buckets (day, scope, queue_id, channel, agent_id, metric,"
                f" hours, {_COLUMNS})"
                f" SELECT day, '{scope}', {queue}, {channel}, {agent}, metric, '{hours}',"
                f" {_BUCKET_SUMS.format(column=column)} FROM report_values"
                f" WHERE day IN ({marks}) AND {column} IS NOT NULL{only}"
                " GROUP BY 1, 3, 4, 5, 6",
                days,
            )
    for month in sorted({day[:7] for day in days}):
        span = (f"{month}-01", f"{month}-31")
        conn.execute(
            "DELETE FROM report_daily WHERE scope IN ('Q', 'C', 'A') AND day = ?", (month,)
        )
        conn.execute(
            "DELETE FROM report_buckets WHERE scope IN ('Q', 'C', 'A') AND day = ?", (month,)
        )
        conn.execute(
            "INSERT INTO report_daily (day, scope, queue_id, channel, agent_id, metric, detail,"
            " count) SELECT ?, upper(scope), queue_id, channel, agent_id, metric, detail,"
            " sum(count) FROM report_daily WHERE scope IN ('q', 'c', 'a')"
            " AND day BETWEEN ? AND ? GROUP BY 2, 3, 4, 5, 6, 7",
            (month, *span),
        )
        conn.execute(
            f"INSERT INTO report_buckets (day, scope, queue_id, channel, agent_id, metric, hours,"
            f" {_COLUMNS}) SELECT ?, upper(scope), queue_id, channel, agent_id, metric, hours,"
            f" {_SUMS} FROM report_buckets WHERE scope IN ('q', 'c', 'a')"
            " AND day BETWEEN ? AND ? GROUP BY 2, 3, 4, 5, 6, 7",
            (month, *span),
        )


async def days_of(db: Database, ids: Sequence[int]) -> set[str]:
    """The days the rollup has values of these conversations on."""
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    rows = await db.fetch_all(
        f"SELECT DISTINCT day FROM report_values WHERE conversation_id IN ({marks})", list(ids)
    )
    return {r[0] for r in rows}


def clear_rollup(conn: sqlite3.Connection) -> None:
    """Forget the rollup (it is written again from the events)."""
    conn.execute("DELETE FROM report_values")
    conn.execute("DELETE FROM report_daily")
    conn.execute("DELETE FROM report_buckets")
    conn.execute("DELETE FROM report_conversations")
    conn.execute("DELETE FROM report_state")


async def rollup_state(db: Database) -> RollupState | None:
    row = await db.fetch_one(
        "SELECT last_event_id, calendars, days_pending FROM report_state WHERE id = 1"
    )
    return RollupState(row[0], row[1], bool(row[2])) if row else None


async def changed_since(db: Database, after_id: int, limit: int) -> tuple[list[int], int]:
    """Conversations with events after `after_id` (up to `limit` events read), and the id of
    the last event read (`after_id` when there are none)."""
    rows = await db.fetch_all(
        "SELECT id, conversation_id FROM events WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    if not rows:
        return [], after_id
    ids = list(dict.fromkeys(r[1] for r in rows if r[1] is not None))
    return ids, rows[-1][0]


async def conversation_inputs(db: Database, ids: Sequence[int]) -> list[ConversationInput]:
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = await db.fetch_all(
        "SELECT c.id, c.channel, c.queue_id, c.status, c.tags, c.page_url,"
        " (SELECT json_extract(e.data, '$.message_id') FROM events e"
        "  WHERE e.conversation_id = c.id AND e.type = 'proactive.chat_started' LIMIT 1),"
        " EXISTS (SELECT 1 FROM kb_deflections d WHERE d.conversation_id = c.id) AS deflected"
        f" FROM conversations c WHERE c.id IN ({marks})",
        list(ids),
    )
    return [ConversationInput(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]


async def events_of(db: Database, ids: Sequence[int]) -> dict[int, list[Event]]:
    found: dict[int, list[Event]] = {i: [] for i in ids}
    if not ids:
        return found
    marks = ", ".join("?" * len(ids))
    for row in await db.fetch_all(
        f"SELECT * FROM events WHERE conversation_id IN ({marks}) ORDER BY id", list(ids)
    ):
        found[row["conversation_id"]].append(event_from_row(row))
    return found


async def latest_event_id(db: Database) -> int:
    row = await db.fetch_one("SELECT coalesce(max(id), 0) FROM events")
    return row[0] if row else 0


# --- what happens outside conversations ----------------------------------------------------


def add_site_counts(conn: sqlite3.Connection, counts: Iterable[tuple[str, str, str, int]]) -> None:
    """Add (day, kind, key, count) to the counters."""
    conn.executemany(
        "INSERT INTO site_counts (day, kind, key, count) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (kind, day, key) DO UPDATE SET count = count + excluded.count",
        list(counts),
    )


def add_presence(conn: sqlite3.Connection, changes: Iterable[tuple[int, str, str]]) -> None:
    """Record (agent id, status, moment) changes of presence."""
    conn.executemany(
        "INSERT INTO agent_presence (agent_id, status, created_at)"
        " SELECT id, ?, ? FROM agents WHERE id = ?",
        [(status, at, agent) for agent, status, at in changes],
    )


async def last_presence(db: Database) -> list[PresenceChange]:
    """Each agent's last recorded presence."""
    rows = await db.fetch_all(
        "SELECT p.agent_id, p.status, p.created_at FROM agent_presence p WHERE p.id = ("
        " SELECT max(id) FROM agent_presence q WHERE q.agent_id = p.agent_id)"
    )
    return [PresenceChange(r[0], r[1], r[2]) for r in rows]


async def presence_between(db: Database, start: str, end: str) -> list[PresenceChange]:
    """Presence changes in [start, end), with each agent's last change before `start` first."""
    rows = await db.fetch_all(
        "SELECT agent_id, status, created_at FROM agent_presence p WHERE p.id = ("
        " SELECT max(id) FROM agent_presence q WHERE q.agent_id = p.agent_id"
        " AND q.created_at < :start)"
        " UNION ALL SELECT agent_id, status, created_at FROM agent_presence"
        " WHERE created_at >= :start AND created_at < :end ORDER BY 3",
        {"start": start, "end": end},
    )
    return [PresenceChange(r[0], r[1], r[2]) for r in rows]


async def awaits_first_answer(db: Database, conversation_id: int) -> bool:
    """The conversation is open and no agent has answered it yet."""
    row = await db.fetch_one(
        "SELECT 1 FROM conversations WHERE id = ? AND first_response_at IS"
        " NULL AND status IN ('open', 'pending')",
        (conversation_id,),
    )
    return row is not None


# --- report mail subscriptions ---------------------------------------------------------------


def set_subscription(conn: sqlite3.Connection, agent_id: int, frequency: str) -> None:
    conn.execute(
        "INSERT INTO report_subscriptions (agent_id, frequency) VALUES (?, ?)"
        " ON CONFLICT (agent_id) DO UPDATE SET frequency = excluded.frequency",
        (agent_id, frequency),
    )


def mark_sent(conn: sqlite3.Connection, agent_id: int, frequency: str, period_key: str) -> bool:
    """Note that the mail for `period_key` went to the agent; False if it already had."""
    return (
        conn.execute(
            "INSERT INTO report_subscriptions (agent_id, frequency, last_sent) VALUES (?, ?, ?)"
            " ON CONFLICT (agent_id) DO UPDATE SET last_sent = excluded.last_sent"
            " WHERE last_sent <> excluded.last_sent",
            (agent_id, frequency, period_key),
        ).rowcount
        == 1
    )


async def subscriptions(db: Database) -> list[Subscription]:
    """Active managers and admins who chose a report mail, with it."""
    rows = await db.fetch_all(
        "SELECT a.id, a.name, a.email, a.role, s.frequency, s.last_sent FROM agents a"
        " JOIN report_subscriptions s ON s.agent_id = a.id WHERE a.active"
        " AND a.role IN ('manager', 'admin') AND s.frequency <> 'off' ORDER BY a.id"
    )
    return [Subscription(*r) for r in rows]


async def subscription(db: Database, agent_id: int) -> str:
    row = await db.fetch_one(
        "SELECT frequency FROM report_subscriptions WHERE agent_id = ?", (agent_id,)
    )
    return row[0] if row else "off"


# --- the figures -------------------------------------------------------------------------------


def _where(filters: Filters, alias: str = "v") -> tuple[str, dict[str, Any]]:
    """The WHERE clause (without the keyword) of the filters over the values (or conversations)
    table `alias`."""
    parts = [f"{alias}.day BETWEEN :first AND :last"]
    params: dict[str, Any] = {"first": filters.first_day, "last": filters.last_day}
    if filters.queue_ids is not None:
        marks = ", ".join(f":q{i}" for i in range(len(filters.queue_ids))) or "NULL"
        parts.append(f"{alias}.queue_id IN ({marks})")
        params.update({f"q{i}": q for i, q in enumerate(filters.queue_ids)})
    if filters.agent_id is not None:
        parts.append(f"{alias}.agent_id = :agent")
        params["agent"] = filters.agent_id
    if filters.channel is not None:
        parts.append(f"{alias}.channel = :channel")
        params["channel"] = filters.channel
    if filters.tag is not None:
        parts.append(
            f"{alias}.conversation_id IN (SELECT conversation_id FROM report_conversations"
            " t, json_each(t.tags) j WHERE j.value = :tag)"
        )
        params["tag"] = filters.tag
    return " AND ".join(parts), params


@dataclass(frozen=True)
class DayDetail:
    day: str
    metric: str
    detail: str
    count: int


@dataclass(frozen=True)
class AgentDuration:
    agent_id: int | None
    seconds: float
    business: float


@dataclass(frozen=True)
class AgentCount:
    agent_id: int | None
    metric: str
    detail: str
    count: int


def _daily_scope(filters: Filters) -> str | None:
    """Which daily sums answer these filters, or None when only the values can (a tag, or a
    channel together with a queue or an agent)."""
    if filters.tag is not None:
        return None
    if filters.agent_id is not None:
        return "a" if filters.channel is None else None
    if filters.channel is not None:
        return "c" if filters.queue_ids is None else None
    return "q"


def _daily_source(
    table: str, filters: Filters, scope: str, months: bool = True
) -> tuple[str, dict[str, Any]]:
    """The rows of a sums table over the filters, as a FROM clause: whole months from the
    monthly sums (unless not `months`), the days before and after them from the daily ones."""
    dims = []
    params: dict[str, Any] = {}
    if filters.queue_ids is not None:
        marks = ", ".join(f":q{i}" for i in range(len(filters.queue_ids))) or "NULL"
        dims.append(f" AND queue_id IN ({marks})")
        params.update({f"q{i}": q for i, q in enumerate(filters.queue_ids)})
    if filters.channel is not None:
        dims.append(" AND channel = :channel")
        params["channel"] = filters.channel
    if filters.agent_id is not None:
        dims.append(" AND agent_id = :agent")
        params["agent"] = filters.agent_id
    first, last = date.fromisoformat(filters.first_day), date.fromisoformat(filters.last_day)
    start = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    after_last = last + timedelta(days=1)
    end = after_last.replace(day=1)  # the first day after the last whole month
    ranges = [(scope, filters.first_day, filters.last_day)]
    if months and start < end:
        ranges = [
            (scope, filters.first_day, (start - timedelta(days=1)).isoformat()),
            (scope.upper(), start.isoformat()[:7], (end - timedelta(days=1)).isoformat()[:7]),
            (scope, end.isoformat(), filters.last_day),
        ]
    parts = []
    for i, (part_scope, low, high) in enumerate(ranges):
        params.update({f"s{i}": part_scope, f"low{i}": low, f"high{i}": high})
        parts.append(
            f"SELECT * FROM {table} WHERE scope = :s{i} AND day BETWEEN :low{i}"
            f" AND :high{i}{''.join(dims)}"
        )
    return "(" + " UNION ALL ".join(parts) + ")", params


async def totals(db: Database, filters: Filters) -> list[Count]:
    """Every metric's count per detail (a rating's score, met, missed ...) over the filters."""
    scope = _daily_scope(filters)
    if scope is not None:
        source, params = _daily_source("report_daily", filters, scope)
        rows = await db.fetch_all(
            f"SELECT metric, detail, sum(count) FROM {source}"
            " WHERE metric <> 'inquiry' GROUP BY 1, 2",
            params,
        )
    else:
        where, params = _where(filters)
        rows = await db.fetch_all(
            f"SELECT metric, {_DETAIL}, count(*) FROM report_values v"
            f" WHERE {where} AND metric <> 'inquiry' GROUP BY 1, 2",
            params,
        )
    return [Count(r[0], r[1], r[2]) for r in rows if r[0] != "inquiry"]


async def day_counts(
    db: Database, filters: Filters, metrics: Sequence[str], months: bool = False
) -> list[DayDetail]:
    """These metrics' counts per day and detail; with `months`, whole months come as one row
    each (their `day` is the month, YYYY-MM)."""
    scope = _daily_scope(filters)
    names = {f"m{i}": m for i, m in enumerate(metrics)}
    marks = ", ".join(f":{n}" for n in names)
    if scope is not None:
        source, params = _daily_source("report_daily", filters, scope, months=months)
        rows = await db.fetch_all(
            f"SELECT day, metric, detail, sum(count) FROM {source}"
            f" WHERE metric IN ({marks}) GROUP BY 1, 2, 3",
            {**params, **names},
        )
    else:
        where, params = _where(filters)
        rows = await db.fetch_all(
            f"SELECT day, metric, {_DETAIL}, count(*) FROM report_values v WHERE {where}"
            f" AND metric IN ({marks}) GROUP BY 1, 2, 3",
            {**params, **names},
        )
    return [DayDetail(*r) for r in rows]


async def created_by_weekday_hour(db: Database, filters: Filters) -> list[list[int]]:
    """Conversations created per day of the week (Monday first) and hour."""
    grid = [[0] * 24 for _ in range(7)]
    scope = _daily_scope(filters)
    if scope is not None:
        source, params = _daily_source("report_buckets", filters, scope, months=False)
        rows = await db.fetch_all(
            f"SELECT strftime('%w', day), {', '.join(f'sum(b{i})' for i in range(24))}"
            f" FROM {source} WHERE metric = 'created' GROUP BY 1",
            params,
        )
        for row in rows:
            grid[(int(row[0]) + 6) % 7] = [n or 0 for n in tuple(row)[1:]]
        return grid
    where, params = _where(filters)
    for weekday, hour, count in await db.fetch_all(
        f"SELECT strftime('%w', day), hour, count(*) FROM report_values v WHERE {where}"
        " AND metric = 'created' GROUP BY 1, 2",
        params,
    ):
        grid[(int(weekday) + 6) % 7][hour] = count
    return grid


async def channel_counts(db: Database, filters: Filters) -> list[Count]:
    """Conversations created per channel."""
    if filters.tag is None and filters.agent_id is None and filters.queue_ids is None:
        source, params = _daily_source("report_daily", filters, "c")
        rows = await db.fetch_all(
            f"SELECT channel, sum(count) FROM {source}"
            " WHERE metric = 'created' GROUP BY channel ORDER BY channel",
            params,
        )
    else:
        where, params = _where(filters)
        rows = await db.fetch_all(
            f"SELECT channel, count(*) FROM report_values v WHERE {where}"
            " AND metric = 'created' GROUP BY channel ORDER BY channel",
            params,
        )
    return [Count("created", r[0], r[1]) for r in rows]


async def agent_counts(db: Database, filters: Filters) -> list[AgentCount]:
    """Counts per agent, metric and detail."""
    if filters.tag is None and filters.channel is None:
        source, params = _daily_source("report_daily", filters, "a")
        rows = await db.fetch_all(
            f"SELECT agent_id, metric, detail, sum(count) FROM {source} GROUP BY 1, 2, 3", params
        )
    else:
        where, params = _where(filters)
        rows = await db.fetch_all(
            f"SELECT agent_id, metric, {_DETAIL}, count(*) FROM"
            f" report_values v WHERE {where} AND agent_id IS NOT NULL"
            " GROUP BY 1, 2, 3",
            params,
        )
    return [AgentCount(*r) for r in rows]


async def page_counts(db: Database, filters: Filters) -> list[PageCount]:
    """Chats and forms started per website page, most first."""
    if _daily_scope(filters) == "q":
        source, params = _daily_source("report_daily", filters, "q")
        rows = await db.fetch_all(
            f"SELECT detail, sum(count) FROM {source} WHERE metric ="
            " 'inquiry' GROUP BY detail ORDER BY 2 DESC, 1 LIMIT 50",
            params,
        )
    else:
        where, params = _where(filters)
        rows = await db.fetch_all(
            f"SELECT detail, count(*) FROM report_values v WHERE {where}"
            " AND metric = 'inquiry' GROUP BY detail ORDER BY 2 DESC, 1"
            " LIMIT 50",
            params,
        )
    return [PageCount(*r) for r in rows]


async def agent_names(db: Database) -> list[tuple[int, str]]:
    rows = await db.fetch_all("SELECT id, name FROM agents ORDER BY name")
    return [(r[0], r[1]) for r in rows]


async def bucket_counts(
    db: Database, metric: str, business: bool, filters: Filters
) -> list[int] | None:
    """How many values of a duration fell in each bucket, or None when only the values can
    say (see `_daily_scope`)."""
    scope = _daily_scope(filters)
    if scope is None:
        return None
    source, params = _daily_source("report_buckets", filters, scope)
    row = await db.fetch_one(
        f"SELECT {_SUMS} FROM {source} WHERE metric = :metric AND hours = :hours",
        {**params, "metric": metric, "hours": "business" if business else "wall"},
    )
    return [n or 0 for n in row] if row else [0] * BUCKETS


async def agent_bucket_counts(
    db: Database, metric: str, business: bool, filters: Filters
) -> dict[int, list[int]] | None:
    if filters.tag is not None or filters.channel is not None:
        return None
    source, params = _daily_source("report_buckets", filters, "a")
    rows = await db.fetch_all(
        f"SELECT agent_id, {_SUMS} FROM {source}"
        " WHERE metric = :metric AND hours = :hours GROUP BY agent_id",
        {**params, "metric": metric, "hours": "business" if business else "wall"},
    )
    return {r[0]: [n or 0 for n in tuple(r)[1:]] for r in rows}


async def ranked(
    db: Database,
    metric: str,
    business: bool,
    bucket: int,
    offset: int,
    count: int,
    filters: Filters,
) -> list[float]:
    """`count` values of a duration from the `offset`-th (0-based) on, in value order, among
    those of one bucket over the filters."""
    column, value = ("bucket_b", "business") if business else ("bucket_s", "seconds")
    index = "agent_rank" if filters.agent_id is not None else "rank"
    where, params = _where(filters)
    rows = await db.fetch_all(
        f"SELECT {value} FROM report_values v INDEXED BY report_values_{index}_{column[-1]}"
        f" WHERE v.metric = :metric AND {column} = :bucket AND {where} ORDER BY {value}"
        " LIMIT :count OFFSET :offset",
        {**params, "metric": metric, "bucket": bucket, "count": count, "offset": offset},
    )
    return [r[0] for r in rows]


async def durations(db: Database, metric: str, filters: Filters) -> list[Duration]:
    """Every value of a duration over the filters (where the daily sums cannot answer)."""
    where, params = _where(filters)
    rows = await db.fetch_all(
        f"SELECT seconds, business FROM report_values v WHERE {where}"
        " AND metric = :metric AND seconds IS NOT NULL",
        {**params, "metric": metric},
    )
    return [Duration(r[0], r[1] if r[1] is not None else r[0]) for r in rows]


async def agent_durations(db: Database, metric: str, filters: Filters) -> list[AgentDuration]:
    """Every value of a duration with its agent (where the daily sums cannot answer)."""
    where, params = _where(filters)
    rows = await db.fetch_all(
        f"SELECT agent_id, seconds, coalesce(business, seconds) FROM"
        f" report_values v WHERE {where} AND metric = :metric"
        " AND seconds IS NOT NULL",
        {**params, "metric": metric},
    )
    return [AgentDuration(*r) for r in rows]


async def durations_by_day(
    db: Database, metric: str, filters: Filters
) -> list[tuple[str, float, float]]:
    """(day, seconds, business seconds) of a duration metric."""
    where, params = _where(filters)
    rows = await db.fetch_all(
        f"SELECT day, seconds, coalesce(business, seconds) FROM report_values v WHERE {where}"
        " AND metric = :metric AND seconds IS NOT NULL",
        {**params, "metric": metric},
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def drill(
    db: Database, metric: str, filters: Filters, detail: str | None, limit: int
) -> list[DrillRow]:
    """The values behind a figure with their conversations, latest first."""
    where, params = _where(filters)
    if detail is not None:
        where += " AND v.detail = :detail"
        params["detail"] = detail
    rows = await db.fetch_all(
        "SELECT v.conversation_id, v.metric, v.at, v.seconds, v.business, v.detail,"
        " c.subject, c.channel, q.name, coalesce(a.name, ''), cu.name"
        f" FROM report_values v JOIN conversations c ON c.id = v.conversation_id"
        " JOIN customers cu ON cu.id = c.customer_id JOIN queues q ON q.id = v.queue_id"
        f" LEFT JOIN agents a ON a.id = v.agent_id WHERE {where} AND v.metric = :metric"
        " ORDER BY v.day DESC, v.at DESC, v.id DESC LIMIT :limit",
        {**params, "metric": metric, "limit": limit},
    )
    return [DrillRow(*r) for r in rows]


async def export_page(db: Database, filters: Filters, after_id: int, limit: int) -> list[ExportRow]:
    """One page of conversations created in the period, by id (for a streamed export)."""
    where, params = _where(filters, "r")
    # Walk the conversations by id (a page is the next 2,000 ids), never the day index.
    where = where.replace("r.day BETWEEN", "+r.day BETWEEN", 1)
    rows = await db.fetch_all(
        "SELECT r.conversation_id, r.channel, q.name, coalesce(a.name, ''), r.tags, r.created_at,"
        " r.status, r.resolved_at, r.cycles, r.agent_replies, r.first_response_s,"
        " r.first_response_b, r.resolution_s, r.resolution_b, r.sla_met, r.rating, r.abandoned,"
        " r.fcr, r.page FROM report_conversations r JOIN queues q ON q.id = r.queue_id"
        f" LEFT JOIN agents a ON a.id = r.agent_id WHERE {where} AND r.conversation_id > :after"
        " ORDER BY r.conversation_id LIMIT :limit",
        {**params, "after": after_id, "limit": limit},
    )
    return [ExportRow(*r) for r in rows]


async def site_counts(
    db: Database, kind: str, first_day: str, last_day: str, keys: Sequence[str] | None = None
) -> list[PageCount]:
    """Counters of one kind per key over the days (only `keys`, when given)."""
    params: list[Any] = [kind, first_day, last_day]
    only = ""
    if keys is not None:
        if not keys:
            return []
        only = f" AND key IN ({', '.join('?' * len(keys))})"
        params += list(keys)
    rows = await db.fetch_all(
        "SELECT key, sum(count) FROM site_counts WHERE kind = ?"
        f" AND day BETWEEN ? AND ?{only} GROUP BY key",
        params,
    )
    return [PageCount(r[0], r[1]) for r in rows]


async def site_total(db: Database, kind: str, first_day: str, last_day: str) -> int:
    row = await db.fetch_one(
        "SELECT coalesce(sum(count), 0) FROM site_counts WHERE kind = ? AND day BETWEEN ? AND ?",
        (kind, first_day, last_day),
    )
    return row[0] if row else 0


async def deflections(db: Database, start: str, end: str) -> list[PageCount]:
    """Questions answered by an article in [start, end), per article title."""
    rows = await db.fetch_all(
        "SELECT coalesce(a.title, '(deleted article)'), count(*) FROM kb_deflections d"
        " LEFT JOIN kb_articles a ON a.id = d.article_id WHERE d.created_at >= ?"
        " AND d.created_at < ? GROUP BY d.article_id ORDER BY count(*) DESC, 1 LIMIT 20",
        (start, end),
    )
    return [PageCount(*r) for r in rows]


async def deflection_total(db: Database, start: str, end: str) -> int:
    row = await db.fetch_one(
        "SELECT count(*) FROM kb_deflections WHERE created_at >= ? AND created_at < ?", (start, end)
    )
    return row[0] if row else 0


async def unanswered_searches(db: Database, start: str, end: str) -> list[PageCount]:
    rows = await db.fetch_all(
        "SELECT lower(query), count(*) FROM kb_unanswered_searches WHERE created_at >= ?"
        " AND created_at < ? GROUP BY lower(query) ORDER BY count(*) DESC, 1 LIMIT 20",
        (start, end),
    )
    return [PageCount(*r) for r in rows]


async def campaign_counts(db: Database, start: str, end: str) -> list[CampaignCount]:
    rows = await db.fetch_all(
        "SELECT m.id, m.text, e.kind, e.page, count(*) FROM proactive_events e"
        " JOIN proactive_messages m ON m.id = e.message_id WHERE e.created_at >= ?"
        " AND e.created_at < ? GROUP BY m.id, e.kind, e.page ORDER BY m.id",
        (start, end),
    )
    return [CampaignCount(*r) for r in rows]


async def campaign_chats(db: Database, filters: Filters) -> list[tuple[int, int, int]]:
    """(proactive message id, chats started, of them resolved) over the period."""
    where, params = _where(filters, "r")
    rows = await db.fetch_all(
        f"SELECT proactive_id, count(*), sum(resolved_at IS NOT NULL) FROM report_conversations r"
        f" WHERE {where} AND proactive_id IS NOT NULL GROUP BY proactive_id",
        params,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def chats_on_pages(
    db: Database, filters: Filters, pages: Sequence[str]
) -> list[tuple[str, int, int]]:
    """(page, chats started there, of them after a proactive message) over the period."""
    if not pages:
        return []
    where, params = _where(filters, "r")
    marks = ", ".join(f":p{i}" for i in range(len(pages)))
    rows = await db.fetch_all(
        f"SELECT page, count(*), sum(proactive_id IS NOT NULL) FROM report_conversations r"
        f" WHERE {where} AND channel = 'chat' AND page IN ({marks}) GROUP BY page",
        {**params, **{f"p{i}": p for i, p in enumerate(pages)}},
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def waiting_now(
    db: Database, queue_ids: Sequence[int] | None, channel: str | None = None
) -> list[Waiting]:
    """Per queue: open conversations nobody has taken, and the oldest customer still waiting
    for an answer (first or next); of one channel, when given."""
    queues = await db.fetch_all("SELECT id, name FROM queues ORDER BY name")
    rows = await db.fetch_all(
        "SELECT queue_id, sum(assignee_id IS NULL AND first_response_at IS NULL),"
        " min(CASE WHEN first_response_at IS NULL THEN created_at ELSE next_waiting_since END)"
        " FROM conversations WHERE status IN ('open', 'pending')"
        " AND (:channel IS NULL OR channel = :channel) GROUP BY queue_id",
        {"channel": channel},
    )
    found = {r[0]: (r[1] or 0, r[2]) for r in rows}
    wanted = set(queue_ids) if queue_ids is not None else None
    return [
        Waiting(q[0], q[1], *found.get(q[0], (0, None)))
        for q in queues
        if wanted is None or q[0] in wanted
    ]


async def managed_queues(db: Database, agent_id: int) -> list[int]:
    """The queues a manager answers for: those they manage, else those they are a member of."""
    rows = await db.fetch_all(
        "SELECT queue_id, manager FROM queue_members WHERE agent_id = ?", (agent_id,)
    )
    managed = [r[0] for r in rows if r[1]]
    return managed or [r[0] for r in rows]


def tags_of(raw: str) -> list[str]:
    try:
        tags = json.loads(raw)
    except ValueError:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


async def all_tags(db: Database, since_day: str) -> list[str]:
    """The tags of conversations created since that day."""
    rows = await db.fetch_all(
        "SELECT DISTINCT j.value FROM report_conversations r,"
        " json_each(r.tags) j WHERE r.day >= ? AND r.tags <> '[]'"
        " ORDER BY 1 LIMIT 200",
        (since_day,),
    )
    return [r[0] for r in rows]
