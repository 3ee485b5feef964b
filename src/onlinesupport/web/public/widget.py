"""The website widget: its script, and the visitor websocket behind it."""

from __future__ import annotations

import gzip
import json
import logging
import re
from datetime import timedelta
from importlib import resources
from typing import TypeVar

from aiohttp import WSMsgType, web

from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.access import VisitorAccess
from onlinesupport.channels.chat.protocol import (
    PAGE_VIEWS_PER_MINUTE,
    ChatContext,
    VisitorSession,
)
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import parse_json, row_id
from onlinesupport.lib.throttle import Throttle
from onlinesupport.store import NotFound, StorageFull, StoreClosed
from onlinesupport.store import attachments as attachments_repo
from onlinesupport.web import uploads
from onlinesupport.web.keys import SERVICES, WEBSOCKETS
from onlinesupport.web.sockets import UNREAD, slot
from onlinesupport.web.templates import render

log = logging.getLogger(__name__)

CHAT = web.AppKey("chat", ChatContext)
WIDGET_SCRIPT = web.AppKey("widget_script", bytes)
WIDGET_GZIP = web.AppKey("widget_gzip", bytes)
WIDGET_CSS = web.AppKey("widget_css", bytes)
WIDGET_CSS_GZIP = web.AppKey("widget_css_gzip", bytes)
CALL_SCRIPT: web.AppKey[tuple[bytes, bytes]] = web.AppKey("widget_call_script")
WORDS_SCRIPTS: web.AppKey[dict[str, tuple[bytes, bytes]]] = web.AppKey("widget_words_scripts")
"""Per language, a script handing the widget its words (plain, gzipped); English is built in."""
"""The callback form's script (compacted, gzipped), fetched by the widget when wanted."""
MAX_FRAME = 64 * 1024


def setup_chat(app: web.Application) -> None:
    services = app[SERVICES]
    app[CHAT] = ChatContext(
        db=services.db,
        hub=services.hub,
        clock=services.clock,
        conversations=services.conversations,
        presence=services.presence,
        files=services.files,
        knowledge=services.knowledge,
        proactive=services.proactive,
        contact=services.contact,
        identity=services.identity,
        callbacks=services.callbacks,
        recorder=services.recorder,
        access=VisitorAccess(
            services.db,
            services.clock,
            services.secret_key,
            messages_per_address=services.config.public_visitor_messages_per_address or 10**12,
        ),
        page_views=Throttle(services.clock, PAGE_VIEWS_PER_MINUTE, timedelta(minutes=1)),
        socket_buffer=services.config.limits_socket_buffer_kb * 1024,
    )
    static = resources.files("onlinesupport").joinpath("static")
    app[WIDGET_SCRIPT] = compact(static.joinpath("widget.js").read_text("utf-8")).encode("utf-8")
    app[WIDGET_GZIP] = gzip.compress(app[WIDGET_SCRIPT], compresslevel=9, mtime=0)
    css = re.sub(r"/\*.*?\*/\s*", "", static.joinpath("widget.css").read_text("utf-8"), flags=re.S)
    app[WIDGET_CSS] = css.encode("utf-8")
    app[WIDGET_CSS_GZIP] = gzip.compress(app[WIDGET_CSS], compresslevel=9, mtime=0)
    call = compact(static.joinpath("widget-call.js").read_text("utf-8")).encode("utf-8")
    app[CALL_SCRIPT] = (call, gzip.compress(call, compresslevel=9, mtime=0))
    app[WORDS_SCRIPTS] = {}
    every_language = json.loads(static.joinpath("widget-words.json").read_text("utf-8"))
    for language, words in every_language.items():
        script = f"window.__onlineSupportWords({json.dumps(words, ensure_ascii=False)});\n"
        plain = script.encode("utf-8")
        app[WORDS_SCRIPTS][language] = (plain, gzip.compress(plain, compresslevel=9, mtime=0))


def compact(source: str) -> str:
    """The widget as served: without comment lines and indentation (every website's visitors
    download it, so every byte counts; the source keeps its comments)."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def _asset(request: web.Request, plain: bytes, gzipped: bytes, content_type: str) -> web.Response:
    headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return web.Response(
            body=gzipped,
            content_type=content_type,
            charset="utf-8",
            headers={**headers, "Content-Encoding": "gzip"},
        )
    return web.Response(body=plain, content_type=content_type, charset="utf-8", headers=headers)


async def widget_script(request: web.Request) -> web.Response:
    return _asset(
        request, request.app[WIDGET_SCRIPT], request.app[WIDGET_GZIP], "application/javascript"
    )


async def call_script(request: web.Request) -> web.Response:
    """The callback form, fetched by the widget only when a visitor asks for a call."""
    return _asset(request, *request.app[CALL_SCRIPT], "application/javascript")


async def words_script(request: web.Request) -> web.Response:
    """The widget's words in one language, fetched by the widget only for its readers."""
    found = request.app[WORDS_SCRIPTS].get(request.match_info["lang"])
    if found is None:
        raise web.HTTPNotFound(text="The chat does not speak that language.")
    return _asset(request, *found, "application/javascript")


async def widget_stylesheet(request: web.Request) -> web.Response:
    """The widget's look, linked from inside its shadow root (no inline styles: see widget.js)."""
    return _asset(request, request.app[WIDGET_CSS], request.app[WIDGET_CSS_GZIP], "text/css")


async def test_page(request: web.Request) -> web.Response:
    """A page that shows the chat as the website will (the first-run wizard links here)."""
    return render(request, "public/widget_test.html")


def allowed_origin(
    request: web.Request, settings: widget_settings.WidgetSettings, origin: str | None
) -> bool:
    """An allowed website, or this listener's own pages (the test page)."""
    return settings.allows(origin) or origin == f"{request.scheme}://{request.host}"


R = TypeVar("R", bound=web.StreamResponse)
_REFUSALS: dict[int, type[web.HTTPException]] = {
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    413: web.HTTPRequestEntityTooLarge,
    429: web.HTTPTooManyRequests,
}


def with_cors(origin: str, response: R) -> R:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response


async def visitor_upload(request: web.Request) -> web.StreamResponse:
    """A file from the widget into the visitor's own conversation (token and origin checked)."""
    services = request.app[SERVICES]
    settings = await widget_settings.load(services.db)
    origin = request.headers.get("Origin")
    if not allowed_origin(request, settings, origin):
        raise web.HTTPForbidden(text="This website is not allowed to use the chat.")
    assert origin is not None
    access = request.app[CHAT].access
    owner: dict[str, int] = {}

    async def visitors_own_conversation(fields: dict[str, str]) -> None:
        customer_id, conversation_id = await access.sender(
            fields.get("token"), row_id(fields.get("conversation_id", "")), request.remote or ""
        )
        owner.update(customer_id=customer_id, conversation_id=conversation_id)

    try:
        fields, stored = await uploads.receive(request, services.files, visitors_own_conversation)
        posted = await uploads.post_file(
            services.conversations,
            services.files,
            owner["conversation_id"],
            Actor.customer(owner["customer_id"]),
            stored,
            client_id=fields.get("client_id") or None,
        )
    # Refusals carry the CORS header too, so the widget can show the visitor why.
    except web.HTTPException as exc:
        raise with_cors(origin, exc) from None
    except UserError as exc:
        refusal = _REFUSALS.get(exc.status, web.HTTPBadRequest)
        raise with_cors(origin, refusal(text=exc.message)) from None
    except StorageFull as exc:
        raise with_cors(origin, web.HTTPServiceUnavailable(text=str(exc))) from None
    return with_cors(
        origin,
        web.json_response({"client_id": posted.message.client_id, "seq": posted.message.seq}),
    )


async def visitor_file(request: web.Request) -> web.StreamResponse:
    """A file of a visitor's conversation, by its signed address (while it lasts)."""
    services = request.app[SERVICES]
    attachment_id, expires = row_id(request.match_info["id"]), row_id(request.match_info["expires"])
    if (
        attachment_id is None
        or expires is None
        or not services.files.link_ok(attachment_id, expires, request.match_info["signature"])
    ):
        raise web.HTTPNotFound(text="that file does not exist")
    if expires <= services.clock.now().timestamp():
        raise web.HTTPNotFound(
            text="This file's address has expired; reload the page to see the file again."
        )
    attachment = await attachments_repo.get(services.db, attachment_id)
    if attachment is None:
        raise web.HTTPNotFound(text="that file does not exist")
    return uploads.serve(services.files, attachment, "private, max-age=86400")


async def visitor_socket(request: web.Request) -> web.WebSocketResponse:
    settings = await widget_settings.load(request.app[SERVICES].db)
    origin = request.headers.get("Origin")
    if not allowed_origin(request, settings, origin):
        log.warning("visitor websocket from %r refused: not an allowed website", origin)
        raise web.HTTPForbidden(
            text="This website is not allowed to use the chat. An admin adds "
            "it under Widget in the desk."
        )
    with slot(
        request,
        request.app[SERVICES].tally,
        "Too many chats are open from your network; close one and try again.",
    ):
        return await _visitor_session(request, settings)


async def _visitor_session(
    request: web.Request, settings: widget_settings.WidgetSettings
) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30, compress=False, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    sender = request.app[UNREAD].sender(request, ws)
    session = VisitorSession(request.app[CHAT], settings, sender.send_json, request.remote or "")
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                frame = parse_json(message.data)
            except ValueError:
                await sender.send_json({"type": "error", "message": "frames must be JSON"})
                continue
            try:
                await session.handle(frame)
            except StoreClosed:
                break
            except StorageFull as exc:
                # Not refused: the widget keeps the message and sends it again in a while.
                await sender.send_json(
                    {
                        "type": "error",
                        "retry": True,
                        "message": f"{exc} Your message is kept and sent as soon as it can be.",
                        "client_id": frame.get("client_id") if isinstance(frame, dict) else None,
                    }
                )
            except ConnectionError:
                # The visitor went away while we answered: ordinary, and they resume by seq.
                log.debug(
                    "visitor at %s left before the answer to a %r frame",
                    request.remote,
                    frame.get("type") if isinstance(frame, dict) else None,
                )
                break
            except Exception as exc:
                known = isinstance(exc, (UserError, NotFound))
                if not known:
                    log.exception("visitor frame failed")
                # The refused frame's client_id lets the widget give that message back.
                await sender.send_json(
                    {
                        "type": "error",
                        "message": str(exc) if known else "Something went wrong; please try again.",
                        "client_id": frame.get("client_id") if isinstance(frame, dict) else None,
                    }
                )
    except ConnectionError:
        pass
    finally:
        await session.close()
        request.app[WEBSOCKETS].discard(ws)
    return ws
