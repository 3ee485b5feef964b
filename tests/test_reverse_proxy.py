"""Behind a reverse proxy: the visitor's address and scheme come from trusted proxies only."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from conftest import make_config, start_server


async def _first_frame(http: aiohttp.ClientSession, url: str, origin: str, **headers: str) -> str:
    async with http.ws_connect(url + "/widget/ws", origin=origin, headers=headers) as ws:
        await ws.send_json({"type": "hello"})
        return (await ws.receive_json(timeout=5))["type"]


async def _hellos(tmp_path: Path, trusted: tuple[str, ...], forwarded_for: list[str]) -> list[str]:
    """A new visitor per address in turn, from the same proxy; one visitor a minute each."""
    config = make_config(
        tmp_path / "data", public_visitor_messages_per_address=1, public_trusted_proxies=trusted
    )
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        async with aiohttp.ClientSession() as http:
            return [
                await _first_frame(
                    http, server.public_url, server.public_url, **{"X-Forwarded-For": hop}
                )
                for hop in forwarded_for
            ]


async def test_a_trusted_proxy_names_each_visitor(tmp_path: Path) -> None:
    # Rate limits count the visitor's address, read from the right past our own proxies;
    # what the visitor put in front ("198.51.100.7, ...") cannot make a new address.
    frames = await _hellos(
        tmp_path,
        ("127.0.0.1/32",),
        [
            "203.0.113.1",
            "203.0.113.2",
            "203.0.113.1",
            "198.51.100.7, 203.0.113.2",
            "203.0.113.3, 127.0.0.1",
        ],
    )
    assert frames == ["welcome", "welcome", "error", "error", "welcome"]


async def test_forwarded_headers_from_anyone_else_are_ignored(tmp_path: Path) -> None:
    frames = await _hellos(tmp_path, (), ["203.0.113.1", "203.0.113.2"])
    assert frames == ["welcome", "error"], "both counted against 127.0.0.1"


async def test_the_scheme_comes_from_the_proxy(tmp_path: Path) -> None:
    """The test page, served over HTTPS by the proxy, may open the chat on its own origin."""
    for trusted, expected in ((("127.0.0.1/32",), "welcome"), ((), None)):
        config = make_config(tmp_path / f"data{expected}", public_trusted_proxies=trusted)
        async with AsyncExitStack() as stack:
            server = await start_server(stack, config)
            https_origin = server.public_url.replace("http://", "https://")
            async with aiohttp.ClientSession() as http:
                try:
                    got = await _first_frame(
                        http, server.public_url, https_origin, **{"X-Forwarded-Proto": "https"}
                    )
                except aiohttp.WSServerHandshakeError as exc:
                    assert exc.status == 403
                    got = None
            assert got == expected
