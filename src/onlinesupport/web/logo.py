"""The company logo, served on both listeners (the customer pages and the desk show it)."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.web.auth import public
from onlinesupport.web.keys import SERVICES


@public
async def logo(request: web.Request) -> web.Response:
    branding = request.app[SERVICES].branding
    data = branding.logo()
    if data is None:
        raise web.HTTPNotFound(text="no logo has been set")
    # The URL carries the logo's hash (?v=), so it can be cached for long.
    return web.Response(
        body=data,
        content_type=branding.current.logo_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
