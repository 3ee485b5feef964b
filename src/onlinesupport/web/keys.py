"""Typed application keys shared by both listeners."""

from __future__ import annotations

import weakref

from aiohttp import web

from onlinesupport.services import Services

SERVICES = web.AppKey("services", Services)
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
