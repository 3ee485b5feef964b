"""Every URL of the public listener on one screen. Desk and admin routes are never mounted here."""

from __future__ import annotations

from aiohttp import web


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "listener": "public"})


def setup_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/healthz", health, name="health"),
    ])
