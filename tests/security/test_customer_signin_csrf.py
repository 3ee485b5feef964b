"""Issue 13.8: a foreign page cannot sign a customer's browser in as someone else.

Login CSRF: the attacker asks for a sign-in link to their own address, then makes the victim's
browser post it to /my/link; the victim, signed in as the attacker, writes into the attacker's
account. The form carries a double-submit token that only a page of ours hands out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import aiohttp

from conftest import Server
from onlinesupport.lib.clock import to_db
from onlinesupport.store import customer_access as access_repo


async def _link(server: Server, email: str) -> str:
    """A mailed sign-in link's token for `email` (as if the mail had been read)."""
    services = server.services
    opened = await services.conversations.open(
        channel="form", customer_name="Mallory", identity=("email", email), body="Hi"
    )
    token = secrets.token_urlsafe(32)
    now = services.clock.now()
    await services.db.write(
        lambda conn: access_repo.add_link(
            conn,
            hashlib.sha256(token.encode()).hexdigest(),
            opened.customer_id,
            to_db(now),
            to_db(now + timedelta(minutes=30)),
        )
    )
    return token


async def test_a_sign_in_posted_from_another_site_is_refused(server: Server) -> None:
    token = await _link(server, "mallory@attacker.example")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as victim:
        # What a hidden form on the attacker's page sends: the token, no cookie of ours.
        for forged in ({"token": token}, {"token": token, "csrf_token": "guessed"}):
            async with victim.post(
                server.public_url + "/my/link",
                data=forged,
                headers={"Origin": "https://attacker.example"},
                allow_redirects=False,
            ) as response:
                assert response.status == 403
                assert "os_customer" not in response.cookies
        assert not [c for c in victim.cookie_jar if c.key == "os_customer"]
        assert (
            await server.services.db.fetch_one(
                "SELECT 1 FROM customer_links WHERE used_at IS NOT NULL"
            )
            is None
        ), "a refused post does not spend the link"


async def test_the_link_page_hands_out_the_token_its_form_needs(server: Server) -> None:
    token = await _link(server, "lee@customer.test")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as lee:
        async with lee.get(server.public_url + f"/my/link/{token}") as response:
            page = await response.text()
            assert response.cookies["os_csrf"]["samesite"] == "Strict"
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        async with lee.post(
            server.public_url + "/my/link",
            allow_redirects=False,
            data={"token": token, "csrf_token": csrf},
        ) as response:
            assert response.status == 303 and response.headers["Location"] == "/my"
        async with lee.get(server.public_url + "/my") as response:
            assert "Sign out" in await response.text()
