"""Desk authentication: who may reach each route, session cookies and CSRF tokens.

Every desk handler declares its access with `@public` or `@requires(role)`; the desk application
refuses to start with a handler that declares nothing (see `check_declared`). State-changing
requests carry a CSRF token: the session's when signed in, else a double-submit cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from onlinesupport.lib.signing import same
from onlinesupport.store.sessions import SignedInAgent
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.security import Handler, wants_json

ROLE_LEVEL = {"agent": 1, "manager": 2, "admin": 3}
SESSION_COOKIE = "os_session"
CSRF_COOKIE = "os_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

AGENT = web.RequestKey("agent", SignedInAgent)
NEW_CSRF = web.RequestKey("new_csrf", str)
_ACCESS = "_onlinesupport_access"
_PUBLIC = "public"
_OWN = "own"


def public(handler: Handler) -> Handler:
    """Reachable without signing in."""
    setattr(handler, _ACCESS, _PUBLIC)
    return handler


def authenticates_itself(handler: Handler) -> Handler:
    """Checks its callers on its own (the JSON API: tokens, or a session with its CSRF token);
    neither sessions nor CSRF are checked for it here."""
    setattr(handler, _ACCESS, _OWN)
    return handler


def requires(role: str) -> Callable[[Handler], Handler]:
    """Reachable by signed-in agents with at least `role` (agent < manager < admin)."""
    if role not in ROLE_LEVEL:
        raise ValueError(f"unknown role {role!r}")

    def mark(handler: Handler) -> Handler:
        setattr(handler, _ACCESS, role)
        return handler

    return mark


def check_declared(app: web.Application) -> None:
    """Fail at start-up if a route's handler does not say who may use it."""
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource):
            continue
        if not hasattr(route.handler, _ACCESS):
            where = route.resource.canonical if route.resource is not None else route.handler
            raise RuntimeError(f"desk route {route.method} {where} declares no access")


def has_role(agent: SignedInAgent | None, role: str) -> bool:
    return agent is not None and ROLE_LEVEL[agent["role"]] >= ROLE_LEVEL[role]


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def form_csrf(request: web.Request) -> str:
    """The CSRF token to put in a form on this page."""
    agent = request.get(AGENT)
    if agent is not None:
        return agent["csrf_token"]
    token = request.cookies.get(CSRF_COOKIE) or request.get(NEW_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request[NEW_CSRF] = token
    return token


def send_csrf_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Send the double-submit cookie whose token this page's form was given (if new)."""
    token = request.get(NEW_CSRF)
    if token and not response.prepared:
        set_cookie(request, response, CSRF_COOKIE, token)


def double_submit_ok(request: web.Request, sent: str | None) -> bool:
    """Whether a form sent before signing in carries the token of our own cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(sent and expected) and same(expected or "", sent or "")


@web.middleware
async def issue_csrf_cookie(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    send_csrf_cookie(request, response)
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        agent = await request.app[SERVICES].accounts.session(token)
        if agent is not None:
            request[AGENT] = agent
    route = request.match_info.route
    if request.match_info.http_exception is not None or isinstance(
        route.resource, web.StaticResource
    ):
        return await handler(request)
    access = getattr(route.handler, _ACCESS, None)
    if access in (_PUBLIC, _OWN):
        return await handler(request)
    agent = request.get(AGENT)
    if agent is None:
        if request.method == "GET" and not wants_json(request):
            raise web.HTTPSeeOther(f"/signin?next={quote(request.path_qs, safe='')}")
        raise web.HTTPUnauthorized(text="Sign in first.")
    if access is None or not has_role(agent, access):
        raise web.HTTPForbidden(text=f"This needs the {access or 'admin'} role.")
    return await handler(request)


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    own = getattr(request.match_info.route.handler, _ACCESS, None) == _OWN
    if request.method in ("GET", "HEAD", "OPTIONS") or own:
        return await handler(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type == "multipart/form-data":
        # Uploads are streamed, never parsed here: their token rides in the query string.
        sent = request.query.get(CSRF_FIELD)
    elif sent is None and request.content_type == "application/x-www-form-urlencoded":
        form = await posted_form(request)
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    agent = request.get(AGENT)
    expected = agent["csrf_token"] if agent is not None else request.cookies.get(CSRF_COOKIE)
    if not sent or not expected or not same(expected, sent):
        raise web.HTTPForbidden(
            text="This form has expired or did not come from this site. "
            "Reload the page and try again."
        )
    return await handler(request)


async def posted_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form, decoded strictly: one that is not valid UTF-8 is answered 400.

    (aiohttp raises UnicodeDecodeError, or LookupError for a charset it does not know, which
    would otherwise end as a 500 for anyone who posts a few stray bytes.)
    """
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError):
        raise web.HTTPBadRequest(
            text="The form could not be read: send it as UTF-8 text."
        ) from None


async def form_data(request: web.Request) -> dict[str, str]:
    """The request's form fields as text (file parts are ignored here)."""
    form = await posted_form(request)
    return {k: v for k, v in form.items() if isinstance(v, str)}
