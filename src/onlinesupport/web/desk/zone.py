"""The business's time zone on every desk page, so times can say when they are in another.

It is the General queue's zone (set in the first-run wizard's company step). Desk pages put it
on <html data-business-zone>, where static/times.js reads it.
"""

from __future__ import annotations

import time

from aiohttp import web

from onlinesupport.core.conversations.service import DEFAULT_QUEUE
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.security import Handler
from onlinesupport.web.templates import BUSINESS_ZONE

FRESH_FOR = 10.0
CACHED = web.AppKey("business_zone_cache", list)


@web.middleware
async def business_zone(request: web.Request, handler: Handler) -> web.StreamResponse:
    cached = request.app[CACHED]
    if not cached or cached[1] < time.monotonic():
        queue = await request.app[SERVICES].queues.get(DEFAULT_QUEUE)
        cached[:] = [queue.timezone if queue else "UTC", time.monotonic() + FRESH_FOR]
    request[BUSINESS_ZONE] = cached[0]
    return await handler(request)


def setup(app: web.Application) -> None:
    app[CACHED] = []
    app.middlewares.append(business_zone)
