"""Concurrent wrong passwords cannot get past the sign-in throttle (issue 13, finding 3).

The failure used to be counted only after the password hash was computed in a thread, so 40
guesses sent at once were all checked before the first one counted.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp

from conftest import PASSWORD, Personas, Server
from onlinesupport.web.desk.signin import FAILURES_PER_ACCOUNT


async def _guess(session: aiohttp.ClientSession, base: str, token: str, password: str) -> int:
    async with session.post(base + "/signin", allow_redirects=False, data={
            "csrf_token": token, "email": "amy@example.com", "password": password}) as response:
        return response.status


async def test_forty_wrong_passwords_at_once_are_checked_no_more_often_than_the_limit(
        server: Server, personas: Personas) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.desk_url + "/signin") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
        statuses = await asyncio.gather(*(_guess(session, server.desk_url, token, f"guess {n}")
                                          for n in range(40)))
        assert statuses.count(401) == FAILURES_PER_ACCOUNT, statuses
        assert statuses.count(429) == 40 - FAILURES_PER_ACCOUNT
        assert await _guess(session, server.desk_url, token, PASSWORD) == 429


async def test_a_right_password_racing_wrong_ones_does_not_lock_the_address_out(
        server: Server, personas: Personas) -> None:
    """Reserving the attempt must not make good sign-ins count as failures of the address."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.desk_url + "/signin") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
        for _ in range(30):
            session.cookie_jar.clear_domain("127.0.0.1")
            session.cookie_jar.update_cookies({"os_csrf": token})
            async with session.post(server.desk_url + "/signin", allow_redirects=False, data={
                    "csrf_token": token, "email": "bob@example.com",
                    "password": PASSWORD}) as response:
                assert response.status == 303
