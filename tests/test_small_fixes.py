"""Smaller things a new user hit (issue 15, bug 9): each checked the way the user met it."""

from __future__ import annotations

import aiohttp

from conftest import Server


async def test_both_listeners_have_a_favicon_and_their_pages_name_it(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        for base, page in ((server.public_url, "/contact"), (server.desk_url, "/signin")):
            async with http.get(base + "/favicon.ico") as response:
                assert response.status == 200
                assert response.content_type == "image/x-icon"
            async with http.get(base + "/favicon.svg") as response:
                assert response.status == 200 and b"<svg" in await response.read()
            async with http.get(base + page) as response:
                assert '<link rel="icon" href="/favicon.svg"' in await response.text()
