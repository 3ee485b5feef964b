"""The admins' health page: the health report (onlinesupport.ops.health), rendered."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.ops import health
from onlinesupport.web.auth import AGENT, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.templates import render


@requires("admin")
async def health_page(request: web.Request) -> web.Response:
    return render(
        request,
        "admin/health.html",
        {"agent": request[AGENT], **await health.report(request.app[SERVICES])},
    )
