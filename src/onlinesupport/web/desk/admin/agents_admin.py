"""Admin pages: add agents, change their role, disable them, reset a password."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.accounts import ROLES, AccountError
from onlinesupport.lib.inputs import MAX_ID, whole_number
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render


async def _agents_page(
    request: web.Request,
    *,
    error: str = "",
    notice: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "admin/agents.html",
        {
            "agent": request[AGENT],
            "agents": await request.app[SERVICES].accounts.agents(),
            "no_password": {a.id for a in await request.app[SERVICES].first_run.without_password()},
            "roles": ROLES,
            "error": error,
            "notice": notice,
            "presence": request.app[SERVICES].presence.status,
            "values": values or {"email": "", "name": "", "role": "agent"},
        },
        status=status,
    )


@requires("admin")
async def agents_page(request: web.Request) -> web.Response:
    notice = {
        "added": "Agent added.",
        "saved": "Changes saved.",
        "password": "Password changed; that agent was signed out everywhere.",
    }
    return await _agents_page(request, notice=notice.get(request.query.get("done", ""), ""))


@requires("admin")
async def add_agent(request: web.Request) -> web.Response:
    form = await form_data(request)
    values = {k: form.get(k, "")[:320] for k in ("email", "name", "role")}
    try:
        await request.app[SERVICES].accounts.create_agent(
            values["email"], values["name"], values["role"], form.get("password", "")
        )
    except AccountError as exc:
        return await _agents_page(request, error=str(exc), values=values, status=400)
    return redirect("/admin/agents?done=added")


@requires("admin")
async def update_agent(request: web.Request) -> web.Response:
    agent_id = int_param(request.match_info["id"], "agent id", minimum=1)
    form = await form_data(request)
    try:
        text = form.get("capacity", "").strip()
        capacity = whole_number(text, 0, MAX_ID)
        if text and capacity is None:
            raise AccountError("capacity must be a whole number of chats")
        await request.app[SERVICES].accounts.update_agent(
            agent_id,
            role=form.get("role", ""),
            active=form.get("active") == "on",
            capacity=capacity,
        )
    except AccountError as exc:
        return await _agents_page(request, error=str(exc), status=400)
    return redirect("/admin/agents?done=saved")


@requires("admin")
async def reset_password(request: web.Request) -> web.Response:
    agent_id = int_param(request.match_info["id"], "agent id", minimum=1)
    form = await form_data(request)
    try:
        await request.app[SERVICES].accounts.set_password(agent_id, form.get("password", ""))
    except AccountError as exc:
        return await _agents_page(request, error=str(exc), status=400)
    return redirect("/admin/agents?done=password")
