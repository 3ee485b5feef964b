"""An API client for tests: a token of a scope, JSON in and out, over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass
class Api:
    http: aiohttp.ClientSession
    base: str
    token: str

    async def call(
        self, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(kwargs.pop("headers", {}))
        async with self.http.request(
            method,
            f"{self.base}/api/v1{path}",
            json=body,
            headers=headers,
            allow_redirects=False,
            **kwargs,
        ) as r:
            text = await r.text()
            data = await r.json(content_type=None) if text else None
            return r.status, data

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body, **kwargs)


async def make_token(services: Any, scope: str, agent_id: int | None = None, **kwargs: Any) -> str:
    _, secret = await services.api_tokens.create(
        name=f"{scope} token",
        scope=scope,
        agent_id=agent_id,
        created_by=None,
        expires_at=kwargs.get("expires_at"),
    )
    return secret
