"""A real HTTP receiver for webhooks on 127.0.0.1 that verifies every request with the reference
`standardwebhooks` library and records what it accepted; it can answer with any status, stall,
or go down and come back up on the same port."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    type: str
    data: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    port: int
    secrets: list[str] = field(default_factory=list)
    """Secrets a request may be signed with; empty: accept without verifying."""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    """Requests answered 2xx, in arrival order."""
    refused: list[str] = field(default_factory=list)
    """Why requests failed verification."""
    attempts: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.secrets:
            errors = []
            for secret in self.secrets:
                try:
                    Webhook(secret).verify(body, headers)
                    break
                except WebhookVerificationError as exc:
                    errors.append(str(exc))
            else:
                self.refused.append("; ".join(errors))
                return web.Response(status=400, text="bad signature")
        if self.delay:
            await asyncio.sleep(self.delay)
        if 200 <= self.status < 300:
            payload = json.loads(body)
            self.received.append(
                Received(headers["webhook-id"], payload["type"], payload["data"], headers)
            )
        return web.Response(status=self.status, headers=self.headers, text="thanks")

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Wait until `count` requests were accepted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.received) < count:
            assert loop.time() < deadline, (
                f"{len(self.received)} of {count} webhooks arrived; refused: {self.refused[:3]}"
            )
            await asyncio.sleep(0.02)
        return self.received
