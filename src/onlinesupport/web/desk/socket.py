"""The agent websocket: live events, resumable from the last event id the desk saw.

On connect the desk sends `?since=<event id>` (and `&viewing=<conversation id>` when its page
shows one, for collision detection); it receives who views what now, every event after that
id from the store, then live events from the hub, each exactly once and in id order. A socket
that falls too far behind catches up from the store again; a gap too large to replay is
answered with `reset`, and the desk reloads.

A socket lives no longer than the right to it: signing out, being disabled or given another
role closes it at once (code 4401, the desk reloads), and the session is checked again every
minute for what no hook of this process sees (expiry, the `user` command of another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterator

from aiohttp import WSMsgType, web
from yarl import URL

from onlinesupport.accounts.service import Revoked
from onlinesupport.channels.chat.presence import STATUSES
from onlinesupport.core.hub import Notice, SubscriberLagged
from onlinesupport.lib.inputs import parse_json, row_id
from onlinesupport.store import StorageFull
from onlinesupport.store import events as events_repo
from onlinesupport.store.events import Event
from onlinesupport.web.auth import AGENT, SESSION_COOKIE, requires
from onlinesupport.web.keys import SERVICES, WEBSOCKETS
from onlinesupport.web.responses import int_param
from onlinesupport.web.sockets import UNREAD, Sender, slot

log = logging.getLogger(__name__)
REPLAY_LIMIT = 1000
_ENCODED_KEEP = 1024
SESSION_CHECK_SECONDS = 60.0
SESSION_ENDED = 4401
"""Close code of a socket whose session ended or whose agent lost the role: the desk reloads."""


class EncodedEvents:
    """Recent events as sent to desks: encoded once, however many desks are connected."""

    def __init__(self) -> None:
        self._texts: OrderedDict[int, str] = OrderedDict()

    def __call__(self, event: Event) -> str:
        text = self._texts.get(event.id)
        if text is None:
            text = json.dumps({"type": "event", "event": event.to_json()})
            self._texts[event.id] = text
            if len(self._texts) > _ENCODED_KEEP:
                self._texts.popitem(last=False)
        return text


ENCODED = web.AppKey("encoded_events", EncodedEvents)


def _notice(notice: Notice) -> dict:
    return {
        "type": "notice",
        "conversation_id": notice.conversation_id,
        "notice": notice.type,
        "data": notice.data,
    }


class LiveSockets:
    """The desk's open sockets by agent and session, so that the end of either ends them."""

    def __init__(self) -> None:
        self._open: dict[asyncio.Event, tuple[int, str]] = {}

    @contextlib.contextmanager
    def opened(self, agent_id: int, session_id: str) -> Iterator[asyncio.Event]:
        """While the socket is open: an event set when it must close."""
        ended = asyncio.Event()
        self._open[ended] = (agent_id, session_id)
        try:
            yield ended
        finally:
            del self._open[ended]

    def revoke(self, revoked: Revoked) -> None:
        for ended, (agent_id, session_id) in self._open.items():
            if agent_id == revoked.agent_id or session_id == revoked.session_id:
                ended.set()


LIVE_SOCKETS = web.AppKey("live_sockets", LiveSockets)


def setup_sockets(app: web.Application) -> None:
    app[ENCODED] = EncodedEvents()
    live = app[LIVE_SOCKETS] = LiveSockets()
    accounts = app[SERVICES].accounts
    accounts.revoked.append(live.revoke)

    async def forget(app: web.Application) -> None:
        accounts.revoked.remove(live.revoke)

    app.on_cleanup.append(forget)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser; the session cookie still has to be valid
    try:
        url = URL(origin)
    except ValueError:  # "http://[::1": not an address at all
        return False
    return (
        url.host is not None
        and f"{url.host}:{url.port}" == f"{request.url.host}:{request.url.port}"
    )


async def _forward(request: web.Request, ws: Sender, since: int, ended: asyncio.Event) -> None:
    services = request.app[SERVICES]
    me = request[AGENT]["id"]
    encode = request.app[ENCODED]
    last = since
    told_viewers = False
    budget = services.config.limits_socket_buffer_kb * 1024
    while True:
        with services.hub.subscribe(max_bytes=budget) as subscription:
            if not told_viewers:  # who views what now; changes come as notices from here on
                for notice in services.viewers.notices():
                    await ws.send_json(_notice(notice))
                told_viewers = True
            missed = await events_repo.after(services.db, last, REPLAY_LIMIT + 1)
            if len(missed) > REPLAY_LIMIT:
                await ws.send_json({"type": "reset"})
                return
            for event in missed:
                if ended.is_set():
                    return
                await ws.send_str(encode(event))
                last = event.id
            try:
                while True:
                    event = await subscription.get()
                    if ended.is_set():
                        return
                    if isinstance(event, Notice):
                        if event.data.get("agent_id") != me:
                            await ws.send_json(_notice(event))
                        continue
                    if event.id <= last:
                        continue
                    await ws.send_str(encode(event))
                    last = event.id
            except SubscriberLagged:
                log.info("desk socket fell behind at event %d; catching up from the store", last)


async def _forward_then_close(
    request: web.Request,
    ws: web.WebSocketResponse,
    sender: Sender,
    since: int,
    ended: asyncio.Event,
) -> None:
    try:
        await _forward(request, sender, since, ended)
    except ConnectionError:
        pass
    except Exception:
        log.exception("desk socket failed")
    if not ended.is_set():
        await ws.close()


async def _watch(request: web.Request, ws: web.WebSocketResponse, ended: asyncio.Event) -> None:
    """Close the socket when its session ends: at once when this process ends it, else at
    the next check (expired, disabled or changed by another process)."""
    accounts = request.app[SERVICES].accounts
    token = request.cookies.get(SESSION_COOKIE, "")
    role = request[AGENT]["role"]
    while not ended.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ended.wait(), SESSION_CHECK_SECONDS)
        if not ended.is_set():
            current = await accounts.session(token, renew=False)
            if current is None or current["role"] != role:
                ended.set()
    await ws.close(code=SESSION_ENDED, message=b"session ended")


async def _on_frame(request: web.Request, ws: Sender, data: str) -> None:
    """Frames from the desk: keep-alive, typing in a conversation, the agent's presence."""
    if data == "ping":
        await ws.send_str("pong")
        return
    try:
        frame = parse_json(data)
    except ValueError:
        return
    if not isinstance(frame, dict):
        return
    services, agent = request.app[SERVICES], request[AGENT]
    conversation_id, seq = row_id(frame.get("conversation_id")), row_id(frame.get("seq"))
    if frame.get("type") == "typing" and conversation_id is not None:
        services.hub.publish(
            [
                Notice(
                    conversation_id,
                    "typing",
                    {"author_type": "agent", "agent_id": agent["id"], "name": agent["name"]},
                )
            ]
        )
    elif frame.get("type") == "read" and conversation_id is not None and seq is not None:
        with contextlib.suppress(StorageFull):  # a read mark can wait for a disk with room
            await services.conversations.mark_read(conversation_id, seq)
    elif (
        frame.get("type") == "presence"
        and isinstance(frame.get("status"), str)
        and frame["status"] in STATUSES
    ):
        services.presence.set_status(agent["id"], frame["status"])


@requires("agent")
async def desk_socket(request: web.Request) -> web.WebSocketResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="Cross-origin websocket refused.")
    since = request.query.get("since")
    services = request.app[SERVICES]
    start = int_param(since, "since") if since else await events_repo.latest_id(services.db)
    viewing = request.query.get("viewing")
    viewed = int_param(viewing, "viewing", minimum=1) if viewing else None
    with slot(
        request,
        services.tally,
        "Too many desk tabs are open from your computer; close one and reload this one.",
    ):
        return await _desk_session(request, start, viewed)


async def _desk_session(
    request: web.Request, start: int, viewed: int | None
) -> web.WebSocketResponse:
    services = request.app[SERVICES]
    ws = web.WebSocketResponse(heartbeat=30, compress=False, max_msg_size=4096)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    agent = request[AGENT]
    sender = request.app[UNREAD].sender(request, ws)
    with request.app[LIVE_SOCKETS].opened(agent["id"], agent["session_id"]) as ended:
        await sender.send_json({"type": "hello", "since": start})
        tasks = [
            asyncio.create_task(_forward_then_close(request, ws, sender, start, ended)),
            asyncio.create_task(_watch(request, ws, ended)),
        ]
        services.presence.connected(agent["id"])
        if viewed is not None:
            services.viewers.open(ws, viewed, agent["id"], agent["name"])
        try:
            async for message in ws:
                if ended.is_set():
                    break  # no more writes from a session that has ended
                if message.type == WSMsgType.TEXT:
                    await _on_frame(request, sender, message.data)
        except ConnectionError:
            log.debug("desk socket of agent %d closed while answering a frame", agent["id"])
        finally:
            services.viewers.close(ws)
            services.presence.disconnected(agent["id"])
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
            request.app[WEBSOCKETS].discard(ws)
    return ws
