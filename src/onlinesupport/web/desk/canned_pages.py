"""Canned replies: the page to manage them, and the list the reply box searches with `/`."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.web.auth import AGENT, form_data, has_role, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

_FIELDS = ("shortcut", "title", "body", "scope")


async def _page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    agent = request[AGENT]
    return render(
        request,
        "desk/canned.html",
        {
            "agent": agent,
            "may_share": has_role(agent, "manager"),
            "error": error,
            "replies": await request.app[SERVICES].canned.for_agent(agent["id"]),
            "values": values or dict.fromkeys(_FIELDS, ""),
        },
        status=status,
    )


@requires("agent")
async def canned_page(request: web.Request) -> web.Response:
    return await _page(request)


@requires("agent")
async def add_canned(request: web.Request) -> web.Response:
    form = await form_data(request)
    values = {k: form.get(k, "") for k in _FIELDS}
    agent = request[AGENT]
    try:
        await request.app[SERVICES].canned.add(
            agent["id"],
            has_role(agent, "manager"),
            shared=values["scope"] == "shared",
            shortcut=values["shortcut"],
            title=values["title"],
            body=values["body"],
        )
    except InvalidCommand as exc:
        return await _page(request, values=values, error=str(exc), status=400)
    return redirect("/canned")


@requires("agent")
async def delete_canned(request: web.Request) -> web.Response:
    agent = request[AGENT]
    await request.app[SERVICES].canned.remove(
        int_param(request.match_info["id"], "reply id", minimum=1),
        agent["id"],
        has_role(agent, "manager"),
    )
    return redirect("/canned")


@requires("agent")
async def canned_list(request: web.Request) -> web.Response:
    replies = await request.app[SERVICES].canned.for_agent(request[AGENT]["id"])
    return web.json_response({"replies": replies})
