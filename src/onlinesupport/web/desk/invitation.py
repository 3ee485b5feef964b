"""The page an invited colleague opens from their mail to choose a password and sign in."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.accounts import AccountError
from onlinesupport.accounts.invitations import USED_OR_EXPIRED
from onlinesupport.store.agents import Agent
from onlinesupport.web.auth import SESSION_COOKIE, form_csrf, form_data, public, set_cookie
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render


def _form(
    request: web.Request, token: str, agent: Agent, *, error: str = "", status: int = 200
) -> web.Response:
    return render(
        request,
        "desk/invitation.html",
        {"csrf": form_csrf(request), "token": token, "invited": agent, "error": error},
        status=status,
    )


def _refused(request: web.Request) -> web.Response:
    return render(request, "error.html", {"status": 410, "message": USED_OR_EXPIRED}, status=410)


@public
async def invitation_page(request: web.Request) -> web.Response:
    token = request.query.get("token", "")[:200]
    agent = await request.app[SERVICES].invitations.agent_for(token)
    return _form(request, token, agent) if agent else _refused(request)


@public
async def accept(request: web.Request) -> web.Response:
    form = await form_data(request)
    token = form.get("token", "")[:200]
    services = request.app[SERVICES]
    agent = await services.invitations.agent_for(token)
    if agent is None:
        return _refused(request)
    password = form.get("password", "")
    if password != form.get("password_again", ""):
        return _form(request, token, agent, error="The two passwords are not the same.", status=400)
    try:
        agent_id = await services.invitations.accept(token, password)
    except AccountError as exc:
        return _form(request, token, agent, error=str(exc), status=400)
    signed_in = await services.accounts.start_session(agent_id, request.remote or "")
    response = redirect("/inbox")
    set_cookie(request, response, SESSION_COOKIE, signed_in.token)
    return response
