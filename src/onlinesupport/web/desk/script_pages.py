"""Scripted question sequences: the library page, and running one in a conversation."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.store import scripts as scripts_repo
from onlinesupport.web.auth import AGENT, form_data, has_role, requires
from onlinesupport.web.desk.inbox import actor, conversation_id, payload, respond
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render


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
        "desk/scripts.html",
        {
            "agent": agent,
            "may_edit": has_role(agent, "manager"),
            "error": error,
            "scripts": await scripts_repo.list_all(request.app[SERVICES].db),
            "values": values or {"title": "", "questions": ""},
        },
        status=status,
    )


@requires("agent")
async def scripts_page(request: web.Request) -> web.Response:
    return await _page(request)


@requires("manager")
async def add_script(request: web.Request) -> web.Response:
    form = await form_data(request)
    values = {"title": form.get("title", ""), "questions": form.get("questions", "")}
    try:
        await request.app[SERVICES].scripts.add(values["title"], values["questions"])
    except InvalidCommand as exc:
        return await _page(request, values=values, error=str(exc), status=400)
    return redirect("/scripts")


@requires("manager")
async def delete_script(request: web.Request) -> web.Response:
    await request.app[SERVICES].scripts.remove(
        int_param(request.match_info["id"], "script id", minimum=1)
    )
    return redirect("/scripts")


@requires("agent")
async def run_script(request: web.Request) -> web.Response:
    """start / next / stop the script of a conversation."""
    cid = conversation_id(request)
    data = await payload(request)
    scripts = request.app[SERVICES].scripts
    step = request.match_info["step"]
    if step == "start":
        script_id = int_param(str(data.get("script_id", "")), "script_id", minimum=1)
        await scripts.start(cid, script_id, actor(request))
    elif step == "next":
        await scripts.skip(cid, actor(request))
    else:
        await scripts.stop(cid, actor(request))
    return respond(request, cid, {"step": step})
