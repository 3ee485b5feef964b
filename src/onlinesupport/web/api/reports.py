"""API handlers for the reports' figures: the filters of the desk's report pages, one call to
the reports service, its answer as JSON. What a token sees is the service's rule (the agent it
acts as: an agent their own line, a manager their queues, an admin everything)."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.integrations import objects
from onlinesupport.reports.service import Query, Reports, Viewer
from onlinesupport.web.api.conversations import caller
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES


def _query(call: Call) -> Query:
    """The filters asked for; a first or last day alone means a custom period."""
    q = call.query
    custom = "first" in q or "last" in q
    return Query(
        preset=q.get("period", "custom" if custom else "30d"),
        first=q.get("first", ""),
        last=q.get("last", ""),
        queue_id=q.get("queue"),
        agent_id=q.get("agent"),
        channel=q.get("channel"),
        tag=q.get("tag"),
        business=q.get("hours") == "business",
    )


async def _asking(call: Call) -> tuple[Reports, Viewer, Query]:
    reports = call.request.app[SERVICES].reports
    return reports, await reports.viewer_of(caller(call).agent_id), _query(call)


async def overview(call: Call) -> web.Response:
    reports, viewer, query = await _asking(call)
    return web.json_response(objects.report_overview(await reports.overview(viewer, query)))


async def agents(call: Call) -> web.Response:
    reports, viewer, query = await _asking(call)
    return web.json_response(objects.report_agents(await reports.agents(viewer, query)))


async def website(call: Call) -> web.Response:
    reports, viewer, query = await _asking(call)
    return web.json_response(objects.report_website(await reports.website(viewer, query)))


async def days(call: Call) -> web.Response:
    reports, viewer, query = await _asking(call)
    return web.json_response(
        objects.report_days(await reports.export_days(viewer, query), query.business)
    )
