"""The website widget: its script, and the visitor websocket behind it."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from importlib import resources

from aiohttp import WSMsgType, web

from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.protocol import ChatContext, ProtocolError, VisitorSession
from onlinesupport.conversations import InvalidCommand
from onlinesupport.store import NotFound, StoreClosed
from onlinesupport.throttle import Throttle
from onlinesupport.web.keys import SERVICES, WEBSOCKETS

log = logging.getLogger(__name__)

CHAT = web.AppKey("chat", ChatContext)
WIDGET_SCRIPT = web.AppKey("widget_script", bytes)
MAX_FRAME = 64 * 1024
MESSAGES_PER_MINUTE = 30


def setup_chat(app: web.Application) -> None:
    services = app[SERVICES]
    app[CHAT] = ChatContext(
        db=services.db, hub=services.hub, clock=services.clock,
        conversations=services.conversations, presence=services.presence,
        secret_key=services.secret_key,
        message_limit=Throttle(services.clock, MESSAGES_PER_MINUTE, timedelta(minutes=1)))
    app[WIDGET_SCRIPT] = resources.files("onlinesupport").joinpath("static", "widget.js").read_bytes()


async def widget_script(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[WIDGET_SCRIPT], content_type="application/javascript",
                            charset="utf-8", headers={"Cache-Control": "public, max-age=300"})
    response.enable_compression()
    return response


async def visitor_socket(request: web.Request) -> web.WebSocketResponse:
    settings = await widget_settings.load(request.app[SERVICES].db)
    origin = request.headers.get("Origin")
    if not settings.allows(origin):
        log.warning("visitor websocket from %r refused: not an allowed website", origin)
        raise web.HTTPForbidden(text="This website is not allowed to use the chat. An admin adds "
                                     "it under Widget in the desk.")
    ws = web.WebSocketResponse(heartbeat=30, compress=False, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    session = VisitorSession(request.app[CHAT], settings, ws.send_json)
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except json.JSONDecodeError:
                await ws.send_json({"type": "error", "message": "frames must be JSON"})
                continue
            try:
                await session.handle(frame)
            except StoreClosed:
                break
            except Exception as exc:
                known = isinstance(exc, (ProtocolError, InvalidCommand, NotFound))
                if not known:
                    log.exception("visitor frame failed")
                # The refused frame's client_id lets the widget give that message back.
                await ws.send_json({
                    "type": "error",
                    "message": str(exc) if known else "Something went wrong; please try again.",
                    "client_id": frame.get("client_id") if isinstance(frame, dict) else None})
    except ConnectionError:
        pass
    finally:
        await session.close()
        request.app[WEBSOCKETS].discard(ws)
    return ws
