"""The health check both listeners answer at /healthz, for monitors and load balancers."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.web.keys import SERVICES


def healthz(request: web.Request, listener: str) -> web.Response:
    """200 while the server can take messages; 503 while the disk is full, so a monitor
    raises the alarm although every page still loads."""
    if request.app[SERVICES].db.full:
        return web.json_response({"status": "disk full", "listener": listener}, status=503)
    return web.json_response({"status": "ok", "listener": listener})
