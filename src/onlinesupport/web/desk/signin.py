"""Signing in and out, and the first-run page that creates the first admin."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web

from onlinesupport.accounts import AccountError
from onlinesupport.lib.throttle import Throttle
from onlinesupport.web.auth import (
    AGENT,
    SESSION_COOKIE,
    form_csrf,
    form_data,
    public,
    requires,
    set_cookie,
)
from onlinesupport.web.health import healthz
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect, safe_next
from onlinesupport.web.templates import render

log = logging.getLogger(__name__)

ACCOUNT_THROTTLE = web.AppKey("account_throttle", Throttle)
ADDRESS_THROTTLE = web.AppKey("address_throttle", Throttle)
THROTTLE_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20


def add_throttles(app: web.Application) -> None:
    clock = app[SERVICES].clock
    app[ACCOUNT_THROTTLE] = Throttle(clock, FAILURES_PER_ACCOUNT, THROTTLE_WINDOW)
    app[ADDRESS_THROTTLE] = Throttle(clock, FAILURES_PER_ADDRESS, THROTTLE_WINDOW)


def _signin_form(
    request: web.Request, *, email: str = "", error: str = "", status: int = 200
) -> web.Response:
    return render(
        request,
        "desk/signin.html",
        {
            "csrf": form_csrf(request),
            "email": email,
            "error": error,
            "next": safe_next(request.query.get("next")),
        },
        status=status,
    )


@public
async def signin_page(request: web.Request) -> web.Response:
    if request.get(AGENT) is not None:
        return redirect(safe_next(request.query.get("next")))
    if not await request.app[SERVICES].accounts.admin_exists():
        return render(request, "desk/setup_pending.html")
    return _signin_form(request)


@public
async def signin(request: web.Request) -> web.Response:
    form = await form_data(request)
    email = form.get("email", "").strip().lower()[:320]
    password = form.get("password", "")[:1024]
    address = request.remote or "unknown"
    by_account, by_address = request.app[ACCOUNT_THROTTLE], request.app[ADDRESS_THROTTLE]
    wait = max(by_account.retry_after(email), by_address.retry_after(address))
    if wait:
        response = _signin_form(
            request,
            email=email,
            status=429,
            error=f"Too many failed sign-ins. Try again in {(wait + 59) // 60} minute(s).",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    # Counted as a failure before the hash is checked: guesses sent at once all see it.
    by_account.hit(email)
    by_address.hit(address)
    services = request.app[SERVICES]
    agent = await services.accounts.authenticate(email, password)
    if agent is None:
        log.warning("failed sign-in for %r from %s", email, address)
        return _signin_form(
            request, email=email, status=401, error="Wrong email address or password."
        )
    by_account.clear(email)
    by_address.release(address)
    signed_in = await services.accounts.start_session(agent.id, address)
    target = safe_next(form.get("next"))
    response = redirect(target)
    set_cookie(request, response, SESSION_COOKIE, signed_in.token)
    log.info("%s signed in from %s", email, address)
    return response


@requires("agent")
async def signout(request: web.Request) -> web.Response:
    await request.app[SERVICES].accounts.end_session(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/signin")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _setup_form(
    request: web.Request,
    token: str,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "desk/setup.html",
        {
            "csrf": form_csrf(request),
            "token": token,
            "values": values or {"name": "", "email": ""},
            "error": error,
        },
        status=status,
    )


async def _setup_allowed(request: web.Request, token: str) -> web.Response | None:
    """None when the setup link may be used; otherwise the page to show instead."""
    services = request.app[SERVICES]
    if await services.accounts.admin_exists():
        return redirect("/signin")
    if not services.setup.matches(token):
        return render(
            request,
            "error.html",
            {
                "status": 403,
                "message": "This setup link is not valid. Use the link the server "
                "printed when it started (restart it to get a new one).",
            },
            status=403,
        )
    return None


@public
async def setup_page(request: web.Request) -> web.Response:
    token = request.query.get("token", "")[:100]
    return await _setup_allowed(request, token) or _setup_form(request, token)


@public
async def setup(request: web.Request) -> web.Response:
    form = await form_data(request)
    token = form.get("token", "")[:100]
    refused = await _setup_allowed(request, token)
    if refused is not None:
        return refused
    values = {"name": form.get("name", "")[:200], "email": form.get("email", "")[:320]}
    password = form.get("password", "")
    if password != form.get("password_again", ""):
        return _setup_form(
            request, token, values=values, status=400, error="The two passwords are not the same."
        )
    services = request.app[SERVICES]
    try:
        agent_id = await services.accounts.create_first_admin(
            values["email"], values["name"], password
        )
    except AccountError as exc:
        return _setup_form(request, token, values=values, error=str(exc), status=400)
    services.setup.spend()
    log.info("first admin %s created; the setup link is spent", values["email"])
    signed_in = await services.accounts.start_session(agent_id, request.remote or "")
    response = redirect("/welcome")
    set_cookie(request, response, SESSION_COOKIE, signed_in.token)
    return response


@public
async def health(request: web.Request) -> web.Response:
    return healthz(request, "desk")
