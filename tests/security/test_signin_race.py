"""Concurrent wrong passwords cannot get past the sign-in throttle (issue 13, finding 3).

The failure used to be counted only after the password hash was computed in a thread, so 40
guesses sent at once were all checked before the first one counted.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from conftest import PASSWORD, Personas, Server
from onlinesupport.web.desk.signin import FAILURES_PER_ACCOUNT


async def _token(session: aiohttp.ClientSession, base: str) -> str:
    async with session.get(base + "/signin") as page:
        return re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)


async def _sign_in(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    password: str,
    email: str = "amy@example.com",
) -> int:
    async with session.post(
        base + "/signin",
        allow_redirects=False,
        data={"csrf_token": token, "email": email, "password": password},
    ) as response:
        return response.status


@pytest.mark.slow
async def test_forty_wrong_passwords_at_once_are_checked_no_more_often_than_the_limit(
    production_password_cost: None, server: Server, personas: Personas
) -> None:
    # At production cost: the hash's time in a thread is the window the guesses raced through.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        token = await _token(session, server.desk_url)
        statuses = await asyncio.gather(
            *(_sign_in(session, server.desk_url, token, f"guess {n}") for n in range(40))
        )
        assert statuses.count(401) == FAILURES_PER_ACCOUNT, statuses
        assert statuses.count(429) == 40 - FAILURES_PER_ACCOUNT
        assert await _sign_in(session, server.desk_url, token, PASSWORD) == 429


async def test_good_sign_ins_do_not_count_against_the_address(
    server: Server, personas: Personas
) -> None:
    """Reserving the attempt must not make good sign-ins count as failures of the address."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        token = await _token(session, server.desk_url)
        for _ in range(30):  # more than the 20 failures that block an address
            session.cookie_jar.clear_domain("127.0.0.1")
            session.cookie_jar.update_cookies({"os_csrf": token})
            assert (
                await _sign_in(session, server.desk_url, token, PASSWORD, "bob@example.com") == 303
            )
