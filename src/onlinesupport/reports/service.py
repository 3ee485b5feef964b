"""The reports service: the figures each report page, export, mail and JSON answer shows, for the
period and filters asked, within what the person asking may see.

Agents see their own line (values attributed to them), managers their queues (those they
manage, else those they are a member of; all when they have none), admins everything. Before
reading, the rollup is brought up to the latest event, so a report is never behind the desk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from onlinesupport.lib.clock import Clock, from_db, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.reports import metrics
from onlinesupport.reports.metrics import Summary
from onlinesupport.reports.periods import Period, bucket_of, bucket_size, buckets, resolve
from onlinesupport.reports.rollup import Rollup
from onlinesupport.store import Database
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store import reports as reports_repo
from onlinesupport.store.reports import DrillRow, ExportRow, Filters

CHANNELS = ("chat", "email", "form", "phone")
CATCH_UP_LIMIT = 20_000
DRILL_LIMIT = 500
TAG_DAYS = 90
"""The tag filter offers the tags of conversations of the last 90 days."""
EXPORT_PAGE = 2000
DRILL_METRICS = (
    *metrics.DURATIONS,
    "created",
    "reply",
    "resolved_once",
    "reopened",
    "rating",
    "asked",
    "sla_first",
    "sla_next",
    "merged",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ReportRefused(UserError):
    """The person asking may not see what they asked for; the message says why."""

    status = 403


class InvalidQuery(UserError):
    """A filter is not understood; the message (and `field`) says which."""


@dataclass(frozen=True)
class Viewer:
    id: int
    role: str


@dataclass(frozen=True)
class Query:
    """What a report page was asked for (already parsed from its address)."""

    preset: str = "30d"
    first: str = ""
    last: str = ""
    queue_id: int | None = None
    agent_id: int | None = None
    channel: str | None = None
    tag: str | None = None
    business: bool = False

    def params(self) -> dict[str, str]:
        """The query as address parameters (for links that keep the filters)."""
        found = {"period": self.preset}
        if self.preset == "custom":
            found.update(first=self.first, last=self.last)
        for name in ("queue_id", "agent_id", "channel", "tag"):
            value = getattr(self, name)
            if value is not None:
                found[name.removesuffix("_id")] = str(value)
        if self.business:
            found["hours"] = "business"
        return found


@dataclass(frozen=True)
class Scope:
    period: Period
    previous: Period
    now: Filters
    before: Filters
    zone: ZoneInfo
    current: bool
    """False while the rollup is still counting (after a calendar change)."""


@dataclass(frozen=True)
class Figure:
    key: str
    name: str
    definition: str
    now: Summary
    before: Summary

    @property
    def change(self) -> float | None:
        return metrics.change(self.now.median, self.before.median)


@dataclass(frozen=True)
class Rate:
    key: str
    name: str
    definition: str
    part: int
    whole: int
    before_part: int
    before_whole: int
    drill: str
    drill_detail: str | None = None

    @property
    def value(self) -> float | None:
        return metrics.share(self.part, self.whole)

    @property
    def before(self) -> float | None:
        return metrics.share(self.before_part, self.before_whole)


@dataclass(frozen=True)
class Bucket:
    label: str
    created: int
    resolved: int
    merged: int = 0
    """Conversations that ended open by being merged into another (resolved there, once)."""

    @property
    def backlog(self) -> int:
        return self.created - self.resolved - self.merged


@dataclass(frozen=True)
class QueueNow:
    queue_id: int
    queue: str
    unattended: int
    longest_wait_minutes: int | None


@dataclass(frozen=True)
class Overview:
    query: Query
    period: Period
    previous: Period
    current: bool
    business: bool
    durations: list[Figure]
    rates: list[Rate]
    created: int
    created_before: int
    resolved: int
    resolved_before: int
    merged: int
    merged_before: int
    bucket: str
    volume: list[Bucket]
    channels: list[tuple[str, int]]
    heatmap: list[list[int]]
    ratings: list[tuple[int, int]]
    comments: list[DrillRow]
    live: list[QueueNow]


@dataclass(frozen=True)
class AgentLine:
    agent_id: int | None
    name: str
    handled: int
    replies: int
    first_response: Summary
    resolution: Summary
    ratings: int
    good_ratings: int
    online_seconds: float

    @property
    def satisfaction(self) -> float | None:
        return metrics.share(self.good_ratings, self.ratings)


@dataclass(frozen=True)
class AgentsReport:
    query: Query
    period: Period
    current: bool
    business: bool
    lines: list[AgentLine]


@dataclass(frozen=True)
class PageLine:
    page: str
    inquiries: int
    views: int

    @property
    def per_thousand(self) -> float | None:
        return self.inquiries * 1000 / self.views if self.views else None


@dataclass(frozen=True)
class CampaignLine:
    message_id: int
    text: str
    shown: int
    clicked: int
    closed: int
    chats: int
    resolved: int
    pages: int
    page_views: int
    chats_without: int

    @property
    def with_share(self) -> float | None:
        return metrics.share(self.chats, self.shown)

    @property
    def without_share(self) -> float | None:
        return metrics.share(self.chats_without, max(self.page_views - self.shown, 0))


@dataclass(frozen=True)
class WebsiteReport:
    query: Query
    period: Period
    current: bool
    pages: list[PageLine]
    searches: int
    article_views: int
    deflected: int
    reached_agent: int
    unanswered: list[reports_repo.PageCount]
    deflecting: list[reports_repo.PageCount]
    campaigns: list[CampaignLine]

    @property
    def deflection(self) -> float | None:
        return metrics.share(self.deflected, self.deflected + self.reached_agent)

    @property
    def by_rate(self) -> list[PageLine]:
        """The pages with page views, most inquiries per 1,000 views first."""
        return sorted((p for p in self.pages if p.views), key=lambda p: -(p.per_thousand or 0))


@dataclass(frozen=True)
class Drill:
    query: Query
    period: Period
    metric: str
    detail: str | None
    rows: list[DrillRow]
    current: bool
    limit: int = DRILL_LIMIT


@dataclass(frozen=True)
class DayLine:
    day: str
    created: int
    resolved: int
    merged: int
    first_response: Summary
    resolution: Summary
    sla_met: int
    sla_missed: int
    ratings: int
    good_ratings: int


@dataclass
class Options:
    """What the filter bar offers the person asking."""

    queues: list[tuple[int, str]] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    fixed_agent: bool = False


class Reports:
    def __init__(self, db: Database, clock: Clock, rollup: Rollup) -> None:
        self._db = db
        self._clock = clock
        self._rollup = rollup

    # ---- who sees what -------------------------------------------------------------------

    async def _scope(self, viewer: Viewer, query: Query) -> Scope:
        if query.channel is not None and query.channel not in CHANNELS:
            raise InvalidQuery(f"channel must be one of {', '.join(CHANNELS)}", "channel")
        current = await self._rollup.catch_up(CATCH_UP_LIMIT)
        zone = self._rollup.calendars.zone()
        period = resolve(
            query.preset, self._clock.now().astimezone(zone).date(), query.first, query.last
        )
        queue_ids: tuple[int, ...] | None = None
        agent_id = query.agent_id
        if viewer.role == "agent":
            agent_id = viewer.id
        elif viewer.role == "manager":
            allowed = await reports_repo.managed_queues(self._db, viewer.id)
            if allowed:
                queue_ids = tuple(allowed)
        if query.queue_id is not None:
            if queue_ids is not None and query.queue_id not in queue_ids:
                raise ReportRefused("that queue is not one of yours", "queue")
            queue_ids = (query.queue_id,)
        now = Filters(
            period.first.isoformat(),
            period.last.isoformat(),
            queue_ids,
            agent_id,
            query.channel,
            query.tag,
        )
        previous = period.previous()
        before = replace(
            now, first_day=previous.first.isoformat(), last_day=previous.last.isoformat()
        )
        return Scope(period, previous, now, before, zone, current)

    async def viewer_of(self, agent_id: int | None) -> Viewer:
        """Who asks through the API: the agent a token acts as, with the role they have now;
        a token that acts as nobody sees what an admin sees (it reads every conversation)."""
        if agent_id is None:
            return Viewer(0, "admin")
        agent = await agents_repo.get(self._db, agent_id)
        return Viewer(agent_id, agent.role if agent else "agent")

    async def options(self, viewer: Viewer) -> Options:
        queues = await queues_repo.list_all(self._db)
        if viewer.role == "manager":
            allowed = set(await reports_repo.managed_queues(self._db, viewer.id))
            queues = [q for q in queues if not allowed or q.id in allowed]
        agents = await reports_repo.agent_names(self._db)
        if viewer.role == "agent":
            agents = [a for a in agents if a[0] == viewer.id]
        recent = (self._clock.now() - timedelta(days=TAG_DAYS)).date().isoformat()
        return Options(
            [(q.id, q.name) for q in queues],
            agents,
            await reports_repo.all_tags(self._db, recent),
            viewer.role == "agent",
        )

    # ---- the overview ----------------------------------------------------------------------

    async def overview(self, viewer: Viewer, query: Query) -> Overview:
        scope = await self._scope(viewer, query)
        counts_now = _counts(await reports_repo.totals(self._db, scope.now))
        counts_before = _counts(await reports_repo.totals(self._db, scope.before))
        durations = [
            Figure(
                key,
                name,
                definition,
                await self._summary(key, scope.now, query.business),
                await self._summary(key, scope.before, query.business),
            )
            for key, (name, definition) in metrics.DURATIONS.items()
        ]
        channels = await reports_repo.channel_counts(self._db, scope.now)
        chats_now = sum(c.count for c in channels if c.detail == "chat")
        chats_before = sum(
            c.count
            for c in await reports_repo.channel_counts(self._db, scope.before)
            if c.detail == "chat"
        )
        rates = _rates(counts_now, counts_before, chats_now, chats_before)
        size = bucket_size(scope.period)
        columns = ("created", "resolution", "merged")
        volume: dict[str, list[int]] = {b: [0, 0, 0] for b in buckets(scope.period, size)}
        for row in await reports_repo.day_counts(
            self._db, scope.now, columns, months=size == "month"
        ):
            volume[bucket_of(row.day, size)][columns.index(row.metric)] += row.count
        heatmap = await reports_repo.created_by_weekday_hour(self._db, scope.now)
        ratings = [(score, counts_now.get(("rating", str(score)), 0)) for score in range(1, 6)]
        comments = [
            r for r in await reports_repo.drill(self._db, "rating", scope.now, None, 50) if r.detail
        ][:10]
        return Overview(
            query=query,
            period=scope.period,
            previous=scope.previous,
            current=scope.current,
            business=query.business,
            durations=durations,
            rates=rates,
            created=_total(counts_now, "created"),
            created_before=_total(counts_before, "created"),
            resolved=_total(counts_now, "resolution"),
            resolved_before=_total(counts_before, "resolution"),
            merged=_total(counts_now, "merged"),
            merged_before=_total(counts_before, "merged"),
            bucket=size,
            volume=[Bucket(label, *numbers) for label, numbers in volume.items()],
            channels=[(c.detail, c.count) for c in channels],
            heatmap=heatmap,
            ratings=ratings,
            comments=comments,
            live=await self.live(viewer, scope.now),
        )

    async def _summary(self, metric: str, filters: Filters, business: bool) -> Summary:
        """Count, median and 90th percentile, exactly: from the daily bucket counts and the
        values of the one or two buckets that hold the ranks wanted (or from every value,
        where the daily sums do not have the filters' dimensions)."""
        counts = await reports_repo.bucket_counts(self._db, metric, business, filters)
        if counts is None:
            found = await reports_repo.durations(self._db, metric, filters)
            return metrics.summarize([d.business if business else d.seconds for d in found])
        return await metrics.summary_by_rank(
            counts,
            lambda bucket, offset, count: reports_repo.ranked(
                self._db, metric, business, bucket, offset, count, filters
            ),
        )

    async def live(self, viewer: Viewer, filters: Filters | None = None) -> list[QueueNow]:
        """Per queue now: conversations nobody has taken, and the longest wait for an answer;
        of the filters' queues and channel (the period, agent and tag do not apply to now)."""
        allowed = filters.queue_ids if filters is not None else None
        if allowed is None and viewer.role == "manager":
            allowed = tuple(await reports_repo.managed_queues(self._db, viewer.id)) or None
        now = self._clock.now()
        return [
            QueueNow(
                w.queue_id,
                w.queue,
                w.unattended,
                int((now - from_db(w.oldest_waiting)).total_seconds() // 60)
                if w.oldest_waiting
                else None,
            )
            for w in await reports_repo.waiting_now(
                self._db, allowed, filters.channel if filters is not None else None
            )
        ]

    # ---- per agent -------------------------------------------------------------------------

    async def agents(self, viewer: Viewer, query: Query) -> AgentsReport:
        scope = await self._scope(viewer, query)
        counts: dict[int | None, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        for row in await reports_repo.agent_counts(self._db, scope.now):
            counts[row.agent_id][(row.metric, row.detail)] += row.count
        summaries = {
            metric: await self._agent_summaries(metric, scope.now, query.business)
            for metric in ("first_response", "resolution")
        }
        online = await self._online(scope)
        names = dict((await self.options(viewer)).agents)
        ids = [a for a in names if scope.now.agent_id in (None, a)]
        ids += [a for a in counts if a not in names and a is not None]
        empty = Summary(0, None, None)
        lines = []
        for agent in ids:
            mine = counts.get(agent, {})
            ratings = {int(d): n for (m, d), n in mine.items() if m == "rating" and d.isdigit()}
            lines.append(
                AgentLine(
                    agent,
                    names.get(agent, f"Agent #{agent}"),
                    sum(n for (m, _), n in mine.items() if m == "hold"),
                    sum(n for (m, _), n in mine.items() if m == "reply"),
                    summaries["first_response"].get(agent, empty),
                    summaries["resolution"].get(agent, empty),
                    sum(ratings.values()),
                    ratings.get(4, 0) + ratings.get(5, 0),
                    online.get(agent, 0.0),
                )
            )
        lines.sort(key=lambda line: (-line.handled, line.name))
        return AgentsReport(query, scope.period, scope.current, query.business, lines)

    async def _agent_summaries(
        self, metric: str, filters: Filters, business: bool
    ) -> dict[int | None, Summary]:
        """Each agent's summary of a duration, exactly (as `_summary`)."""
        counts = await reports_repo.agent_bucket_counts(self._db, metric, business, filters)
        if counts is None:
            found: dict[int | None, list[float]] = defaultdict(list)
            for row in await reports_repo.agent_durations(self._db, metric, filters):
                found[row.agent_id].append(row.business if business else row.seconds)
            return {agent: metrics.summarize(v) for agent, v in found.items()}
        summaries: dict[int | None, Summary] = {}
        for agent, agent_counts in counts.items():
            mine = replace(filters, agent_id=agent)

            async def ranked(
                bucket: int, offset: int, count: int, mine: Filters = mine
            ) -> list[float]:
                return await reports_repo.ranked(
                    self._db, metric, business, bucket, offset, count, mine
                )

            summaries[agent] = await metrics.summary_by_rank(agent_counts, ranked, p90=False)
        return summaries

    async def _online(self, scope: Scope) -> dict[int, float]:
        """Seconds each agent was online (connected and not away) within the period."""
        start, end = scope.period.bounds(scope.zone)
        end = min(end, self._clock.now())
        since: dict[int, datetime] = {}
        total: dict[int, float] = defaultdict(float)
        for change in await reports_repo.presence_between(self._db, to_db(start), to_db(end)):
            moment = max(from_db(change.at), start)
            began = since.pop(change.agent_id, None)
            if began is not None:
                total[change.agent_id] += (moment - began).total_seconds()
            if change.status == "online":
                since[change.agent_id] = moment
        for agent, began in since.items():
            total[agent] += max(0.0, (end - began).total_seconds())
        return dict(total)

    # ---- the website: pages, self-service, campaigns ----------------------------------------

    async def website(self, viewer: Viewer, query: Query) -> WebsiteReport:
        scope = await self._scope(viewer, query)
        first, last = scope.now.first_day, scope.now.last_day
        start, end = (to_db(m) for m in scope.period.bounds(scope.zone))
        inquiries = await reports_repo.page_counts(self._db, scope.now)
        views = {
            p.page: p.count
            for p in await reports_repo.site_counts(
                self._db, "page_view", first, last, [p.page for p in inquiries]
            )
        }
        pages = [PageLine(p.page, p.count, views.get(p.page, 0)) for p in inquiries]
        return WebsiteReport(
            query=query,
            period=scope.period,
            current=scope.current,
            pages=pages,
            searches=await reports_repo.site_total(self._db, "kb_search", first, last),
            article_views=await reports_repo.site_total(self._db, "article_view", first, last),
            deflected=await reports_repo.deflection_total(self._db, start, end),
            reached_agent=_total(_counts(await reports_repo.totals(self._db, scope.now)), "hold"),
            unanswered=await reports_repo.unanswered_searches(self._db, start, end),
            deflecting=await reports_repo.deflections(self._db, start, end),
            campaigns=await self._campaigns(scope, start, end),
        )

    async def _campaigns(self, scope: Scope, start: str, end: str) -> list[CampaignLine]:
        kinds: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        shown_on: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        texts: dict[int, str] = {}
        for row in await reports_repo.campaign_counts(self._db, start, end):
            texts[row.message_id] = row.text
            kinds[row.message_id][row.kind] += row.count
            if row.kind == "shown" and row.page:
                shown_on[row.message_id][row.page] += row.count
        chats = {m: (n, r) for m, n, r in await reports_repo.campaign_chats(self._db, scope.now)}
        lines = []
        for message_id, text in texts.items():
            pages = list(shown_on[message_id])
            views = sum(
                p.count
                for p in await reports_repo.site_counts(
                    self._db, "page_view", scope.now.first_day, scope.now.last_day, pages
                )
            )
            on_pages = await reports_repo.chats_on_pages(self._db, scope.now, pages)
            started, resolved = chats.get(message_id, (0, 0))
            lines.append(
                CampaignLine(
                    message_id,
                    text,
                    kinds[message_id]["shown"],
                    kinds[message_id]["clicked"],
                    kinds[message_id]["dismissed"],
                    started,
                    resolved,
                    len(pages),
                    views,
                    sum(total - proactive for _, total, proactive in on_pages),
                )
            )
        return lines

    # ---- behind a number -------------------------------------------------------------------

    async def drill(self, viewer: Viewer, query: Query, metric: str, detail: str | None) -> Drill:
        if metric not in DRILL_METRICS:
            raise InvalidQuery(f"there is no figure called {metric!r}", "metric")
        scope = await self._scope(viewer, query)
        rows = await reports_repo.drill(self._db, metric, scope.now, detail, DRILL_LIMIT)
        return Drill(query, scope.period, metric, detail, rows, scope.current)

    # ---- exports ---------------------------------------------------------------------------

    async def export_conversations(
        self, viewer: Viewer, query: Query
    ) -> AsyncIterator[list[ExportRow]]:
        """Conversations created in the period, a page at a time (never all in memory). The
        filters are checked here, before the first page: a refusal comes before any byte."""
        return self._export_pages(await self._scope(viewer, query))

    async def _export_pages(self, scope: Scope) -> AsyncIterator[list[ExportRow]]:
        after = 0
        while True:
            page = await reports_repo.export_page(self._db, scope.now, after, EXPORT_PAGE)
            if not page:
                return
            yield page
            after = page[-1].conversation_id

    async def export_days(self, viewer: Viewer, query: Query) -> list[DayLine]:
        scope = await self._scope(viewer, query)
        counts: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        for row in await reports_repo.day_counts(
            self._db,
            scope.now,
            ("created", "resolution", "merged", "sla_first", "sla_next", "rating"),
        ):
            counts[row.day][(row.metric, row.detail)] += row.count
        values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for metric in ("first_response", "resolution"):
            for day_key, seconds, business in await reports_repo.durations_by_day(
                self._db, metric, scope.now
            ):
                values[day_key][metric].append(business if query.business else seconds)
        lines = []
        for day in scope.period.each_day():
            key = day.isoformat()
            found = counts.get(key, {})
            ratings = {int(d): n for (m, d), n in found.items() if m == "rating" and d.isdigit()}
            lines.append(
                DayLine(
                    key,
                    sum(n for (m, _), n in found.items() if m == "created"),
                    sum(n for (m, _), n in found.items() if m == "resolution"),
                    sum(n for (m, _), n in found.items() if m == "merged"),
                    metrics.summarize(values[key]["first_response"]),
                    metrics.summarize(values[key]["resolution"]),
                    sum(n for (m, d), n in found.items() if m.startswith("sla_") and d == "met"),
                    sum(n for (m, d), n in found.items() if m.startswith("sla_") and d == "missed"),
                    sum(ratings.values()),
                    ratings.get(4, 0) + ratings.get(5, 0),
                )
            )
        return lines

    async def rebuild(self) -> None:
        await self._rollup.rebuild()

    async def catch_up(self) -> None:
        """Count the events the rollup has not seen yet (the supervisor runs this every few
        seconds while the server runs)."""
        await self._rollup.catch_up()

    async def zone(self) -> ZoneInfo:
        """The business's time zone (the default queue's)."""
        return (await self._rollup.calendars.current()).zone


def _counts(rows: list[reports_repo.Count]) -> dict[tuple[str, str], int]:
    """Counts per (metric, detail)."""
    found: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        found[(row.metric, row.detail)] += row.count
    return dict(found)


def _total(counts: dict[tuple[str, str], int], metric: str) -> int:
    return sum(n for (m, _), n in counts.items() if m == metric)


def _rates(
    now: dict[tuple[str, str], int],
    before: dict[tuple[str, str], int],
    chats_now: int,
    chats_before: int,
) -> list[Rate]:
    def rate(
        key: str,
        part: str,
        part_details: tuple[str, ...] | None,
        whole: str,
        whole_details: tuple[str, ...] | None,
        drill: str,
        detail: str | None = None,
    ) -> Rate:
        def count(
            counts: dict[tuple[str, str], int], metric: str, details: tuple[str, ...] | None
        ) -> int:
            return sum(
                n
                for (m, d), n in counts.items()
                if m == metric and (details is None or d in details)
            )

        name, definition = metrics.RATES[key]
        return Rate(
            key,
            name,
            definition,
            count(now, part, part_details),
            count(now, whole, whole_details),
            count(before, part, part_details),
            count(before, whole, whole_details),
            drill,
            detail,
        )

    found = [
        rate("sla_first", "sla_first", ("met",), "sla_first", None, "sla_first", "missed"),
        rate("sla_next", "sla_next", ("met",), "sla_next", None, "sla_next", "missed"),
        rate(
            "reopen_rate",
            "resolved_once",
            ("reopened",),
            "resolved_once",
            None,
            "resolved_once",
            "reopened",
        ),
        rate("fcr", "resolved_once", ("fcr",), "resolved_once", None, "resolved_once", "fcr"),
        rate("satisfaction", "rating", ("4", "5"), "rating", None, "rating"),
        rate("response_rate", "rating", None, "asked", None, "rating"),
    ]
    name, definition = metrics.RATES["abandoned_share"]
    found.append(
        Rate(
            "abandoned_share",
            name,
            definition,
            sum(n for (m, _), n in now.items() if m == "abandoned"),
            chats_now,
            sum(n for (m, _), n in before.items() if m == "abandoned"),
            chats_before,
            "abandoned",
        )
    )
    return found
