"""Plumbing both listeners share: security headers, clean error responses, the desk's guard."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypedDict

from aiohttp import web, web_response
from aiohttp.http_exceptions import HttpProcessingError

from onlinesupport.lib.errors import UserError
from onlinesupport.store import NotFound, StorageFull, StoreClosed
from onlinesupport.web.templates import TEMPLATES, render

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SERVER = "OnlineSupport"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def name_no_versions() -> None:
    """Make every Server header say only "OnlineSupport".

    aiohttp's default names its own and Python's versions (which known flaws to try). There is
    no setting for it, and the 400s aiohttp sends for requests it cannot parse never reach an
    application's hooks, so the default itself is replaced.
    """
    web_response.SERVER_SOFTWARE = SERVER


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def error_response(
    request: web.Request, status: int, message: str, field: str | None = None
) -> web.Response:
    """A readable error: JSON for API callers, a small page for browsers; never a traceback."""
    if wants_json(request):
        return web.json_response(
            {"error": message, **({"field": field} if field else {})}, status=status
        )
    if TEMPLATES not in request.app:
        return web.Response(text=message, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def _message(exc: web.HTTPException) -> str:
    text = exc.text or ""
    # aiohttp's own exceptions carry "404: Not Found"; ours carry a sentence.
    if text.startswith(f"{exc.status}: "):
        return exc.reason
    if exc.status == 413:
        return f"The request is too large. {text}"
    return text or exc.reason


MAX_NAME_BYTES = 255
"""No file system has longer names; a longer path part names nothing (and made the static
file route fail with "File name too long")."""


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if any(
            len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
            for part in request.path.split("/")
        ):
            raise web.HTTPNotFound()
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(request, exc.status, _message(exc))
        for name in ("Retry-After", "Allow", "Access-Control-Allow-Origin", "Vary"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except UserError as exc:
        return error_response(request, exc.status, exc.message, exc.field)
    except NotFound as exc:
        return error_response(request, 404, str(exc))
    except StoreClosed:
        return error_response(request, 503, "The server is shutting down; try again in a moment.")
    except StorageFull as exc:
        # Logged once by the store, not once a request; nothing was stored, so try again later.
        response = error_response(request, 503, str(exc))
        response.headers["Retry-After"] = "60"
        return response
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(request, 500, "Something went wrong on the server; it was logged.")


class ServerLog(logging.LoggerAdapter):
    """aiohttp's server log, with a client's malformed request as one debug line.

    A request line too long to read or bytes that are not HTTP are the client's doing, answered
    400 by aiohttp; logged as errors with a traceback each, anyone could fill the log with them.
    """

    def exception(
        self, msg: object, *args: object, exc_info: object = True, **kwargs: object
    ) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.debug("%s: %s", str(msg) % args, exc_info.message)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)  # type: ignore[arg-type]


class _Forwarded(TypedDict, total=False):
    """What a trusted proxy's headers change in the request."""

    remote: str
    scheme: str


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().split("%")[0])
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def forwarded_by(proxies: Iterable[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Behind a trusted reverse proxy: the visitor's address and scheme from its headers.

    X-Forwarded-For is read from the right: the first address that is not one of our proxies
    is the visitor (anything left of it was sent by the visitor and proves nothing).
    """
    trusted = [ipaddress.ip_network(n) for n in proxies]

    def is_proxy(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in net for net in trusted)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_proxy(_address(request.remote or "")):
            return await handler(request)
        changes: _Forwarded = {}
        hops = [h for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        for hop in reversed(hops[-20:]):
            address = _address(hop)
            if address is None:
                break
            changes["remote"] = str(address)
            if not is_proxy(address):
                break
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            changes["scheme"] = proto
        return await handler(request.clone(**changes) if changes else request)

    return middleware


def network_guard(networks: Iterable[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Refuse clients outside the allowed networks (the desk is for the company's LAN)."""
    allowed = [ipaddress.ip_network(n) for n in networks]

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            address = ipaddress.ip_address((request.remote or "").split("%")[0])
        except ValueError:
            address = None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address is None or not any(address in net for net in allowed):
            raise web.HTTPForbidden(text="The desk is not reachable from your network.")
        return await handler(request)

    return guard
