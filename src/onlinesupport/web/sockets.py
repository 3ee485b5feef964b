"""Websockets that cannot pin the server: a peer that stops reading is let go, and one address
holds only so many.

A client may send frames and never read what it is sent: its own frames keep the heartbeat
alive, so only the sending side notices. A send on a visitor's or an agent's socket may wait
at most `limits.unread_seconds` for the peer to take it; past that, the connection is closed
and counted on the health page. The widget and the desk resume by cursor when they come back,
so nothing is lost. (What waits to be sent is bounded in bytes by the hub subscription.)

The wait is watched by one sweep a listener every few seconds, not by a timer for each send:
a desk socket sends every event of the day, and a timer each cost ~10% of the chat's capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web

from onlinesupport.lib.tally import Tally
from onlinesupport.web.connections import AddressCounts

NOT_READING = "closed a websocket whose peer stopped reading what it was sent"
SLOTS = web.AppKey("websocket_slots", AddressCounts)
"""The listener's websockets per address (`limits.*_websockets_per_address`)."""


class Sender:
    """Sends on one websocket; the listener's `UnreadWatch` sees how long a send has waited."""

    __slots__ = ("_ws", "_loop", "transport", "address", "waiting_since", "__weakref__")

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._loop = asyncio.get_running_loop()
        self.transport = request.transport
        self.address = request.remote or ""
        self.waiting_since: float | None = None

    async def send_str(self, text: str) -> None:
        self.waiting_since = self._loop.time()
        try:
            await self._ws.send_str(text)
        finally:
            self.waiting_since = None

    async def send_json(self, data: dict[str, Any]) -> None:
        await self.send_str(json.dumps(data))


class UnreadWatch:
    """Closes the connections whose send has waited longer than `unread_seconds`."""

    def __init__(self, unread_seconds: float, tally: Tally) -> None:
        self._unread = unread_seconds
        self._tally = tally
        self._senders: weakref.WeakSet[Sender] = weakref.WeakSet()

    def sender(self, request: web.Request, ws: web.WebSocketResponse) -> Sender:
        sender = Sender(request, ws)
        self._senders.add(sender)
        return sender

    def sweep(self, now: float) -> None:
        for sender in list(self._senders):
            since = sender.waiting_since
            if since is not None and now - since > self._unread and sender.transport is not None:
                self._senders.discard(sender)
                self._tally.add(NOT_READING, sender.address)
                # A close frame would wait behind what it did not read: the connection goes.
                sender.transport.abort()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(5.0, self._unread / 4))
            self.sweep(loop.time())


UNREAD = web.AppKey("unread_watch", UnreadWatch)


def setup(app: web.Application, *, unread_seconds: float, per_address: int, tally: Tally) -> None:
    """The listener's watch over unread sends and its websockets per address."""
    app[UNREAD] = UnreadWatch(unread_seconds, tally)
    app[SLOTS] = AddressCounts(per_address or None)

    async def watching(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(app[UNREAD].run(), name="unread-watch")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(watching)


@contextlib.contextmanager
def slot(request: web.Request, tally: Tally, refusal: str) -> Iterator[None]:
    """Hold one of the address's websockets for the block; 429 with `refusal` when it has
    as many open as it may."""
    slots, address = request.app[SLOTS], request.remote or ""
    if not slots.take(address):
        tally.add(f"refused a websocket: more than {slots.cap} at once from one address", address)
        raise web.HTTPTooManyRequests(text=refusal, headers={"Retry-After": "60"})
    try:
        yield
    finally:
        slots.give_back(address)
