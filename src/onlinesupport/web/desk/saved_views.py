"""Saved inbox views: keep the inbox's current filters under a name, or remove a saved view."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.core import inbox_views
from onlinesupport.web.auth import AGENT, form_data, has_role, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect


@requires("agent")
async def add_view(request: web.Request) -> web.Response:
    """Save the filters the form carries (the inbox's current ones) as a view."""
    form = await form_data(request)
    agent = request[AGENT]
    view_id = await request.app[SERVICES].saved_views.add(
        agent["id"],
        has_role(agent, "manager"),
        name=form.get("name", ""),
        shared=form.get("shared") == "on",
        query=inbox_views.parse(form),
    )
    return redirect(f"/inbox?saved={view_id}")


@requires("agent")
async def delete_view(request: web.Request) -> web.Response:
    agent = request[AGENT]
    await request.app[SERVICES].saved_views.delete(
        int_param(request.match_info["id"], "view id", minimum=1),
        agent["id"],
        has_role(agent, "manager"),
    )
    return redirect("/inbox")
