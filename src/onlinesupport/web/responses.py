"""Small response helpers shared by the handlers of both listeners."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from urllib.parse import quote, urlsplit

from aiohttp import web

from onlinesupport.lib.inputs import MAX_ID

# Printable ASCII but space and backslash: a browser reads such a path the way we do. It drops
# tabs and newlines anywhere in an address ("/\t/evil" becomes "//evil", another host) and reads
# a backslash as a slash, so a path with either is refused rather than repaired.
_PATH_CHARACTERS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "\\")


def static_file(name: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler serving one file of the package's static folder (read once, here): for the
    public listener, which has no /static."""
    body = resources.files("onlinesupport").joinpath("static", name).read_bytes()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=body, content_type=content_type, headers={"Cache-Control": "public, max-age=3600"}
        )

    return serve


def redirect(location: str) -> web.Response:
    """303 See Other: after a form post the browser loads `location` with GET."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(target: str | None, default: str = "/inbox") -> str:
    """A path of this site to go to after signing in; anything else falls back to `default`.

    Letters outside ASCII are percent-encoded; control characters, spaces, backslashes and
    anything that names another host or scheme are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(not ch.isprintable() or ch.isspace() or ch == "\\" for ch in target):
        return default
    local = quote(target, safe=_PATH_CHARACTERS)
    parts = urlsplit(local)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    return local


def int_param(value: str | None, name: str, default: int | None = None, minimum: int = 0) -> int:
    """Parse a whole-number parameter or answer 400 naming it."""
    if value is None or value == "":
        if default is None:
            raise web.HTTPBadRequest(text=f"{name} is missing")
        return default
    try:
        number = int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None
    if number < minimum or number > MAX_ID:
        raise web.HTTPBadRequest(text=f"{name} is out of range")
    return number
