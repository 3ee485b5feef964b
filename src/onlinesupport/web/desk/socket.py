"""The agent websocket: live events, resumable from the last event id the desk saw.

On connect the desk sends `?since=<event id>`; it receives every event after that id from the
store, then live events from the hub, each exactly once and in id order. A socket that falls too
far behind catches up from the store again; a gap too large to replay is answered with `reset`,
and the desk reloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web
from yarl import URL

from onlinesupport.hub import SubscriberLagged
from onlinesupport.store import events as events_repo
from onlinesupport.web.auth import requires
from onlinesupport.web.keys import SERVICES, WEBSOCKETS
from onlinesupport.web.responses import int_param

log = logging.getLogger(__name__)
REPLAY_LIMIT = 1000


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser; the session cookie still has to be valid
    url = URL(origin)
    return url.host is not None and f"{url.host}:{url.port}" == \
        f"{request.url.host}:{request.url.port}"


async def _forward(request: web.Request, ws: web.WebSocketResponse, since: int) -> None:
    services = request.app[SERVICES]
    last = since
    while True:
        with services.hub.subscribe() as subscription:
            missed = await events_repo.after(services.db, last, REPLAY_LIMIT + 1)
            if len(missed) > REPLAY_LIMIT:
                await ws.send_json({"type": "reset"})
                return
            for event in missed:
                await ws.send_json({"type": "event", "event": event.to_json()})
                last = event.id
            try:
                while True:
                    event = await subscription.get()
                    if event.id <= last:
                        continue
                    await ws.send_json({"type": "event", "event": event.to_json()})
                    last = event.id
            except SubscriberLagged:
                log.info("desk socket fell behind at event %d; catching up from the store", last)


async def _forward_then_close(request: web.Request, ws: web.WebSocketResponse, since: int) -> None:
    try:
        await _forward(request, ws, since)
    except ConnectionError:
        pass
    except Exception:
        log.exception("desk socket failed")
    await ws.close()


@requires("agent")
async def desk_socket(request: web.Request) -> web.WebSocketResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="Cross-origin websocket refused.")
    since = request.query.get("since")
    services = request.app[SERVICES]
    start = int_param(since, "since") if since else await events_repo.latest_id(services.db)
    ws = web.WebSocketResponse(heartbeat=30, compress=False, max_msg_size=4096)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    await ws.send_json({"type": "hello", "since": start})
    forwarder = asyncio.create_task(_forward_then_close(request, ws, start))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT and message.data == "ping":
                await ws.send_str("pong")
    finally:
        forwarder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forwarder
        request.app[WEBSOCKETS].discard(ws)
    return ws
