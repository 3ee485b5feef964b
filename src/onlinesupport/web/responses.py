"""Small response helpers shared by the handlers of both listeners."""

from __future__ import annotations

from aiohttp import web


def redirect(location: str) -> web.Response:
    """303 See Other: after a form post the browser loads `location` with GET."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(target: str | None, default: str = "/inbox") -> str:
    """A local path to go to after signing in; anything else falls back to `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


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
    if number < minimum or number > 2**62:
        raise web.HTTPBadRequest(text=f"{name} is out of range")
    return number
