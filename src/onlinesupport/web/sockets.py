"""Websockets that cannot pin the server: a peer that stops reading is let go.

A client may send frames and never read what it is sent: its own frames keep the heartbeat
alive, so only the sending side notices. Every send on a visitor's or an agent's socket waits
at most `limits.unread_seconds` for the peer to take it; past that, the connection is closed
and counted on the health page. The widget and the desk resume by cursor when they come back,
so nothing is lost. (What waits to be sent is bounded in bytes by the hub subscription.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from onlinesupport.tally import Tally
from onlinesupport.web.connections import AddressCounts

NOT_READING = "closed a websocket whose peer stopped reading what it was sent"
SLOTS = web.AppKey("websocket_slots", AddressCounts)
"""The listener's websockets per address (`limits.*_websockets_per_address`)."""


def setup_slots(app: web.Application, per_address: int) -> None:
    app[SLOTS] = AddressCounts(per_address or None)


@contextlib.contextmanager
def slot(request: web.Request, tally: Tally, refusal: str) -> Iterator[None]:
    """Hold one of the address's websockets for the block; 429 with `refusal` when it has
    as many open as it may."""
    slots, address = request.app[SLOTS], request.remote or ""
    if not slots.take(address):
        tally.add(f"refused a websocket: more than {slots.cap} at once from one address",
                  address)
        raise web.HTTPTooManyRequests(text=refusal, headers={"Retry-After": "60"})
    try:
        yield
    finally:
        slots.give_back(address)


class PeerNotReading(ConnectionResetError):
    """The peer has not read for too long; its connection was closed."""


class Sender:
    """Sends on one websocket, giving up on a peer that does not read."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, unread_seconds: float,
                 tally: Tally) -> None:
        self._request = request
        self._ws = ws
        self._unread = unread_seconds
        self._tally = tally

    async def send_str(self, text: str) -> None:
        try:
            async with asyncio.timeout(self._unread):
                await self._ws.send_str(text)
        except TimeoutError:
            self._tally.add(NOT_READING, self._request.remote or "")
            transport = self._request.transport
            if transport is not None:
                transport.abort()  # a close frame would wait behind what it did not read
            raise PeerNotReading(f"the peer did not read for {self._unread:.0f} s") from None

    async def send_json(self, data: dict[str, Any]) -> None:
        await self.send_str(json.dumps(data))
