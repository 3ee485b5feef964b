"""An agent's own settings: which notifications and sounds they want; and the colleagues a
note can mention."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.accounts import notifications
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render


@requires("agent")
async def preferences_page(request: web.Request) -> web.Response:
    agent = request[AGENT]
    return render(
        request,
        "desk/preferences.html",
        {
            "agent": agent,
            "kinds": notifications.KINDS,
            "ways": notifications.WAYS,
            "choices": await request.app[SERVICES].notifications.choices(agent["id"]),
            "saved": request.query.get("saved") == "1",
        },
    )


@requires("agent")
async def save_preferences(request: web.Request) -> web.Response:
    choices = notifications.from_form(await form_data(request))
    await request.app[SERVICES].notifications.save(request[AGENT]["id"], choices)
    return redirect("/preferences?saved=1")


@requires("agent")
async def preferences_json(request: web.Request) -> web.Response:
    choices = await request.app[SERVICES].notifications.choices(request[AGENT]["id"])
    return web.json_response({"notifications": choices})


@requires("agent")
async def colleagues(request: web.Request) -> web.Response:
    """The active agents, for "@" in a note."""
    agents = await request.app[SERVICES].accounts.agents()
    return web.json_response({"agents": [{"id": a.id, "name": a.name} for a in agents if a.active]})
