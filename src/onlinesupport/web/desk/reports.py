"""The report pages, their exports and JSON: each parses the filters from the address, asks
the reports service once, and renders. Who sees what is the service's business (agents their
own line, managers their queues, admins everything)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from onlinesupport.reports import charts, metrics
from onlinesupport.reports.export import conversations_csv, days_csv
from onlinesupport.reports.mail import FREQUENCIES, InvalidFrequency
from onlinesupport.reports.periods import PRESETS, InvalidPeriod
from onlinesupport.reports.service import (
    CHANNELS,
    WEEKDAYS,
    InvalidQuery,
    Options,
    Query,
    ReportRefused,
    Viewer,
)
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

METRIC_NAMES = {
    **{k: v[0] for k, v in metrics.DURATIONS.items()},
    "created": "Conversations created",
    "reply": "Replies",
    "resolved_once": "Conversations resolved for the first time",
    "reopened": "Reopened",
    "rating": "Ratings",
    "asked": "Chats asked for a rating",
    "sla_first": "First-answer targets",
    "sla_next": "Next-answer targets",
    "merged": "Merged into another conversation",
}


HOURS = {"": False, "wall": False, "business": True}
"""The business-hours switch's values (`?hours=`); anything else is refused, not guessed."""


def query_of(request: web.Request) -> Query:
    """The filters in the address (?period=&first=&last=&queue=&agent=&channel=&tag=&hours=)."""
    q = request.query
    preset = q.get("period", "30d")
    if preset not in PRESETS:
        raise web.HTTPBadRequest(text=f"period must be one of {', '.join(PRESETS)}")

    def number(name: str) -> int | None:
        raw = q.get(name, "")
        return int_param(raw, name, minimum=1) if raw else None

    channel = q.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise web.HTTPBadRequest(text=f"channel must be one of {', '.join(CHANNELS)}")
    tag = (q.get("tag") or "").strip()[:100] or None
    hours = q.get("hours", "")
    if hours not in HOURS:
        raise web.HTTPBadRequest(text="hours must be business or wall (or left out)")
    return Query(
        preset=preset,
        first=q.get("first", "")[:10],
        last=q.get("last", "")[:10],
        queue_id=number("queue"),
        agent_id=number("agent"),
        channel=channel,
        tag=tag,
        business=HOURS[hours],
    )


def viewer(request: web.Request) -> Viewer:
    agent = request[AGENT]
    return Viewer(agent["id"], agent["role"])


def _refusal(exc: Exception) -> web.HTTPException:
    """What the service refused, as a 4xx with its reason."""
    if isinstance(exc, ReportRefused):
        return web.HTTPForbidden(text=str(exc))
    return web.HTTPBadRequest(text=str(exc))


async def _ask(call: Any) -> Any:
    """Run a service call; what the service refuses becomes a 4xx with its reason."""
    try:
        return await call
    except (InvalidQuery, InvalidPeriod, ReportRefused) as exc:
        raise _refusal(exc) from None


def link(query: Query, path: str, **extra: str) -> str:
    """An address on the reports with the same filters (and `extra`)."""
    return f"{path}?{urlencode({**query.params(), **extra})}"


@dataclasses.dataclass(frozen=True)
class _Refused:
    """What a report page shows in place of a report whose period was refused: the filters."""

    query: Query
    metric: str = ""
    detail: str | None = None
    period: None = None
    current: bool = True


async def _report(request: web.Request, tab: str, call: Any) -> Any:
    """The report a page asked for, or (a period refused) the page with its filter form, the
    values as typed and the reason next to the dates, as a 400."""
    try:
        return await call
    except InvalidPeriod as exc:
        refused = _Refused(
            query_of(request), request.query.get("metric", ""), request.query.get("detail") or None
        )
        return await _page(
            request, "desk/reports_base.html", refused, tab, status=400, period_error=str(exc)
        )
    except (InvalidQuery, ReportRefused) as exc:
        raise _refusal(exc) from None


def active_filters(query: Query, options: Options) -> list[str]:
    """The filters a report was made with, in words (so a printout says whose figures)."""
    found = []
    if query.queue_id is not None:
        found.append(f"Queue: {dict(options.queues).get(query.queue_id, query.queue_id)}")
    if query.agent_id is not None and not options.fixed_agent:
        found.append(f"Agent: {dict(options.agents).get(query.agent_id, query.agent_id)}")
    if query.channel is not None:
        found.append(f"Channel: {query.channel}")
    if query.tag is not None:
        found.append(f"Tag: {query.tag}")
    return found or ["All queues, agents and channels"]


async def _page(
    request: web.Request, template: str, report: Any, tab: str, status: int = 200, **context: Any
) -> web.Response:
    services = request.app[SERVICES]
    query = report.query
    options = await services.reports.options(viewer(request))
    return render(
        request,
        template,
        status=status,
        context={
            "agent": request[AGENT],
            "report": report,
            "query": query,
            "tab": tab,
            "options": options,
            "active_filters": active_filters(query, options),
            "presets": PRESETS,
            "channels": CHANNELS,
            "link": lambda path, **extra: link(query, path, **extra),
            "duration": metrics.duration_text,
            "percent": metrics.percent_text,
            "definitions": metrics,
            "charts": charts,
            "weekdays": WEEKDAYS,
            "metric_names": METRIC_NAMES,
            "period_error": "",
            **context,
        },
    )


@requires("agent")
async def overview_page(request: web.Request) -> web.Response:
    report = await _report(
        request,
        "overview",
        request.app[SERVICES].reports.overview(viewer(request), query_of(request)),
    )
    if isinstance(report, web.Response):
        return report
    # Days and weeks read as 10-01 on the axis (the table beside it has the whole date).
    labels = [b.label[5:] if report.bucket != "month" else b.label for b in report.volume]
    return await _page(request, "desk/reports.html", report, "overview", chart_labels=labels)


@requires("agent")
async def agents_page(request: web.Request) -> web.Response:
    report = await _report(
        request, "agents", request.app[SERVICES].reports.agents(viewer(request), query_of(request))
    )
    if isinstance(report, web.Response):
        return report
    return await _page(
        request,
        "desk/reports_agents.html",
        report,
        "agents",
        agent_bars=[(line.name, line.handled) for line in report.lines],
    )


@requires("agent")
async def website_page(request: web.Request) -> web.Response:
    report = await _report(
        request,
        "website",
        request.app[SERVICES].reports.website(viewer(request), query_of(request)),
    )
    if isinstance(report, web.Response):
        return report
    return await _page(
        request,
        "desk/reports_website.html",
        report,
        "website",
        page_bars=[(page.page.split("//", 1)[-1], page.inquiries) for page in report.pages[:15]],
    )


@requires("agent")
async def drill_page(request: web.Request) -> web.Response:
    """The conversations behind a number (?metric=, and ?detail= such as missed)."""
    metric = request.query.get("metric", "")
    detail = request.query.get("detail") or None
    report = await _report(
        request,
        "drill",
        request.app[SERVICES].reports.drill(viewer(request), query_of(request), metric, detail),
    )
    if isinstance(report, web.Response):
        return report
    return await _page(request, "desk/reports_drill.html", report, "drill")


@requires("agent")
async def conversations_csv_file(request: web.Request) -> web.StreamResponse:
    """One row per conversation created in the period, streamed."""
    services = request.app[SERVICES]
    # Every filter is checked before the response starts: a refusal is a clean 400, never
    # a download cut off after its header row.
    pages = await _ask(services.reports.export_conversations(viewer(request), query_of(request)))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="conversations.csv"',
        }
    )
    await response.prepare(request)
    async for chunk in conversations_csv(pages):
        await response.write(chunk)
    await response.write_eof()
    return response


@requires("agent")
async def days_csv_file(request: web.Request) -> web.Response:
    lines = await _ask(
        request.app[SERVICES].reports.export_days(viewer(request), query_of(request))
    )
    return web.Response(
        body=days_csv(lines),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="days.csv"',
        },
    )


def _plain(value: Any) -> Any:
    """Report dataclasses as JSON-ready values (dates as ISO text, figures with their shares)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in (
            "value",
            "before",
            "change",
            "backlog",
            "satisfaction",
            "per_thousand",
            "with_share",
            "without_share",
            "deflection",
        ):
            attribute = getattr(type(value), name, None)
            if isinstance(attribute, property):
                found[name] = _plain(getattr(value, name))
        return found
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@requires("agent")
async def api_reports(request: web.Request) -> web.Response:
    """The same figures as JSON: ?part=overview (default), agents or website."""
    reports = request.app[SERVICES].reports
    part = request.query.get("part", "overview")
    calls = {"overview": reports.overview, "agents": reports.agents, "website": reports.website}
    if part not in calls:
        raise web.HTTPBadRequest(text="part must be overview, agents or website")
    report = await _ask(calls[part](viewer(request), query_of(request)))
    return web.Response(text=json.dumps(_plain(report)), content_type="application/json")


@requires("manager")
async def mail_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "desk/reports_mail.html",
        {
            "agent": request[AGENT],
            "frequencies": FREQUENCIES,
            "tab": "mail",
            "frequency": await services.report_mail.frequency(request[AGENT]["id"]),
            "saved": request.query.get("saved") == "1",
        },
    )


@requires("manager")
async def save_mail(request: web.Request) -> web.Response:
    form = await form_data(request)
    try:
        await request.app[SERVICES].report_mail.set_frequency(
            request[AGENT]["id"], form.get("frequency", "")
        )
    except InvalidFrequency as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return redirect("/reports/mail?saved=1")
