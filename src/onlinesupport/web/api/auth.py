"""Who calls the API: a bearer token, or (on the desk listener) a signed-in desk session that
sends its CSRF token with every request, so a page on another site cannot call it with the
agent's cookie. Each token is throttled; on the public listener, a request without a token
gets the same 404 as any unknown address there.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Middleware

from onlinesupport.integrations.tokens import Caller
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.signing import same
from onlinesupport.lib.throttle import Throttle
from onlinesupport.web.api.errors import ApiError, respond
from onlinesupport.web.auth import CSRF_HEADER, SESSION_COOKIE
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.security import Handler

CALLER = web.RequestKey("api_caller", Caller)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="onlinesupport"'}
SESSION_SCOPES = {"agent": "write", "manager": "write", "admin": "admin"}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers=CHALLENGE)


async def _session_caller(request: web.Request) -> Caller:
    services = request.app[SERVICES]
    agent = await services.accounts.session(request.cookies.get(SESSION_COOKIE, ""))
    if agent is None:
        raise _unauthorized("send an API token: Authorization: Bearer <token>")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not same(agent["csrf_token"], sent):
        raise ApiError(403, f"a desk session calls the API only with its {CSRF_HEADER} header")
    return Caller(
        f"{agent['name']} (desk)", SESSION_SCOPES[agent["role"]], agent["id"], agent["name"]
    )


def authenticate(
    clock: Clock, per_minute: int, *, tokens_only: bool, open_paths: tuple[str, ...] = ()
) -> Middleware:
    """The middleware: sets CALLER, or answers 401 / 403 / 429 (404 on a tokens-only door).
    `open_paths` need no caller, except on a tokens-only door."""
    throttle = Throttle(clock, per_minute, timedelta(minutes=1)) if per_minute else None

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        if header is None and tokens_only:
            raise web.HTTPNotFound()
        if header is None and request.path in open_paths:
            return await handler(request)
        try:
            if header is None:
                caller = await _session_caller(request)
            else:
                scheme, _, secret = header.strip().partition(" ")
                if scheme.lower() != "bearer" or not secret.strip():
                    raise _unauthorized("use Authorization: Bearer <token>")
                found, why = await request.app[SERVICES].api_tokens.caller(secret.strip())
                if found is None:
                    raise _unauthorized(why)
                caller = found
            if throttle is not None:
                key = f"t{caller.token_id}" if caller.token_id else f"a{caller.agent_id}"
                wait = throttle.retry_after(key)
                if wait:
                    raise ApiError(
                        429,
                        f"too many requests with this token; try again in {wait} s",
                        headers={"Retry-After": str(wait)},
                    )
                throttle.hit(key)
        except ApiError as error:
            return respond(error)
        request[CALLER] = caller
        return await handler(request)

    return middleware
