"""Issue 13.6: the desk's `/signin?next=` goes only to a path of the desk itself."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from conftest import Personas, Server
from onlinesupport.web.responses import safe_next

HOSTILE = [
    "/\t/evil.example/phish",  # browsers drop tabs and newlines: "//evil.example/phish"
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    "//evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " /inbox",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "/\u2028/evil.example",
    "/\x0b/evil.example",
    "",
    "inbox",
]
FRIENDLY = [
    "/inbox",
    "/conversations/12?view=mine#reply",
    "/search?q=refund+order",
    "/%2F/still-this-host",
    "/kb/3",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_anything_but_a_plain_local_path_falls_back_to_the_inbox(target: str) -> None:
    assert safe_next(target) == "/inbox"


@pytest.mark.parametrize("target", FRIENDLY)
def test_a_plain_local_path_is_kept(target: str) -> None:
    assert safe_next(target) == target


def test_letters_outside_ascii_are_kept_percent_encoded() -> None:
    assert safe_next("/search?q=Müller") == "/search?q=M%C3%BCller"


async def test_signing_in_with_a_hostile_next_ends_on_the_desk(
    server: Server, personas: Personas, client_factory: Any
) -> None:
    for target in ("/\t/evil.example/phish", "//evil.example", "/\\evil.example"):
        desk = client_factory(server.desk_url)
        page = await (await desk.get("/signin?next=" + quote(target, safe="/"))).text()
        shown = re.search(r'name="next" value="([^"]*)"', page).group(1)
        assert shown == "/inbox", f"the form carries {shown!r} for {target!r}"
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = await desk.session.post(
            server.desk_url + "/signin",
            allow_redirects=False,
            data={
                "csrf_token": token,
                "email": "ada@example.com",
                "password": "correct horse battery",
                "next": target,
            },
        )
        assert response.status == 303
        assert response.headers["Location"] == "/inbox", target
