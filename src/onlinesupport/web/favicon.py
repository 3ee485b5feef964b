"""The program's icon for browser tabs, served on both listeners (desk, help center, forms)."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from onlinesupport.web.auth import public

TYPES = {"favicon.ico": "image/x-icon", "favicon.svg": "image/svg+xml"}


@public
async def favicon(request: web.Request) -> web.Response:
    name = request.path.lstrip("/")
    data = resources.files("onlinesupport").joinpath("static", name).read_bytes()
    return web.Response(
        body=data, content_type=TYPES[name], headers={"Cache-Control": "public, max-age=86400"}
    )


def add_routes(app: web.Application) -> None:
    for name in TYPES:
        app.router.add_get(f"/{name}", favicon)
