"""Issue 18, callback requests: a public write that puts work on agents' phones and mail into
customers' inboxes. One internet address gets ten requests an hour across the widget, the
contact page and the customer's page together; hostile widget frames are refused with a reason
and store nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conftest import Server, make_config, start_server
from email_helpers import scalar
from onlinesupport.lib.clock import ManualClock
from test_callbacks import REQUEST, enable
from test_chat_protocol import SITE, Visitor, allow


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        await enable(server.services)
        await allow(server, SITE)
        yield server, clock


async def _frame(visitor: Visitor, **fields: Any) -> dict[str, Any]:
    await visitor.send(type="callback", client_id=fields.pop("client_id", "cb"), **fields)
    while True:
        frame = await visitor.ws.receive_json(timeout=5)
        if frame["type"] in ("ack", "error"):
            return frame


async def test_ten_requests_an_hour_from_one_address_wherever_they_come_from(
    office, client_factory
) -> None:
    server, clock = office
    window = (await server.services.callbacks.options())["windows"][0]["key"]
    public = client_factory(server.public_url)
    for n in range(5):
        page = await (await public.get("/contact/callback")).text()
        clock.advance(seconds=5)
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
        sent = await public.session.post(
            server.public_url + "/contact/callback",
            allow_redirects=False,
            data={**REQUEST, "phone": f"030 123450{n}", "window": window, "token": token},
        )
        assert sent.status == 303
    async with aiohttp.ClientSession() as http:
        visitor = Visitor(http, server)
        await visitor.connect()
        for n in range(5):
            ack = await _frame(
                visitor,
                client_id=f"w{n}",
                **{**REQUEST, "phone": f"030 765430{n}", "window": window},
            )
            assert ack["type"] == "ack" and ack["callback"]["phone"].startswith("+49")
        refused = await _frame(visitor, client_id="w9", **REQUEST, window=window)
        assert refused == {
            "type": "error",
            "client_id": "w9",
            "message": "Too many callback requests from your network; please try again later.",
        }
        await visitor.close()
    page = await (await public.get("/contact/callback")).text()
    clock.advance(seconds=5)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    held = await public.session.post(
        server.public_url + "/contact/callback", data={**REQUEST, "window": window, "token": token}
    )
    assert held.status == 429 and 0 < int(held.headers["Retry-After"]) <= 3601
    assert "many requests from your network" in await held.text()
    assert await scalar(server.services, "SELECT count(*) FROM callbacks") == 10


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"phone": 4930123456}, "phone must be text"),
        ({"phone": ["030 1234567"]}, "phone must be text"),
        ({"about": "x" * 2001}, "about is longer than 2000 characters"),
        ({"window": {"$gt": ""}}, "window must be text"),
        ({"window": "2020-01-01T00:00:00.000Z"}, "choose one of the times offered"),
        ({"country": "ZZ"}, "choose the country of the number"),
        ({"phone": "+49 30 1234567; DROP TABLE callbacks"}, "no letters or extensions"),
        ({"client_id": ""}, "client_id is empty"),
    ],
)
async def test_hostile_widget_frames_are_refused_and_store_nothing(
    office, fields: dict[str, Any], says: str
) -> None:
    server, _ = office
    window = (await server.services.callbacks.options())["windows"][0]["key"]
    async with aiohttp.ClientSession() as http:
        visitor = Visitor(http, server)
        await visitor.connect()
        refused = await _frame(visitor, **{**REQUEST, "window": window, **fields})
        await visitor.close()
    assert refused["type"] == "error" and says in refused["message"]
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 0
