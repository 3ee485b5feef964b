"""An agent's websocket ends with their right to it (issue 13, finding 4).

A desk socket kept receiving live events (page views with full addresses, ratings, new
conversations) and accepting writes after its agent signed out or was disabled.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from aiohttp import WSMsgType
from playwright.async_api import expect

from conftest import PASSWORD, Desk, Personas, Server, sign_in_page
from onlinesupport.web.desk import socket as desk_socket


async def _live_socket(
    client_factory, server: Server, email: str
) -> tuple[Desk, aiohttp.ClientWebSocketResponse]:
    desk: Desk = client_factory(server.desk_url)
    assert (await desk.signin(email, PASSWORD)).status == 303
    ws = await desk.session.ws_connect(server.desk_url + "/api/ws")
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    return desk, ws


async def _closed_soon(ws: aiohttp.ClientWebSocketResponse, within: float = 3.0) -> None:
    """Nothing but the close arrives (no event of anyone's chat on the way out)."""
    message = await ws.receive(timeout=within)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED), message


async def _admin(client_factory, server: Server) -> Desk:
    admin: Desk = client_factory(server.desk_url)
    assert (await admin.signin("ada@example.com")).status == 303
    return admin


async def test_signing_out_closes_the_sessions_sockets(
    server: Server, personas: Personas, client_factory
) -> None:
    desk, ws = await _live_socket(client_factory, server, "amy@example.com")
    _, other_tab_of_bob = await _live_socket(client_factory, server, "bob@example.com")
    assert (await desk.post("/signout")).status == 303
    await _closed_soon(ws)
    await server.services.conversations.open(channel="phone", customer_name="Carla", body="Hi")
    event = await other_tab_of_bob.receive_json(timeout=5)
    assert event["type"] == "event", "other agents' sockets stay live"


@pytest.mark.parametrize("change", [{"role": "agent"}, {"role": "manager", "active": "on"}])
async def test_disabling_an_agent_or_changing_their_role_closes_their_sockets(
    server: Server, personas: Personas, client_factory, change: dict[str, str]
) -> None:
    _, ws = await _live_socket(client_factory, server, "amy@example.com")
    admin = await _admin(client_factory, server)
    response = await admin.post(f"/admin/agents/{personas.agent}", {"capacity": "3", **change})
    assert response.status == 303
    await _closed_soon(ws)


async def test_a_capacity_change_keeps_the_socket(
    server: Server, personas: Personas, client_factory
) -> None:
    _, ws = await _live_socket(client_factory, server, "amy@example.com")
    admin = await _admin(client_factory, server)
    response = await admin.post(
        f"/admin/agents/{personas.agent}", {"role": "agent", "active": "on", "capacity": "4"}
    )
    assert response.status == 303
    await server.services.conversations.open(channel="phone", customer_name="Carla", body="Hi")
    assert (await ws.receive_json(timeout=5))["type"] == "event"


async def test_a_session_ended_elsewhere_is_noticed_by_the_periodic_check(
    server: Server, personas: Personas, client_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions can end where no hook sees it: expiry, or the `user` command of another process."""
    monkeypatch.setattr(desk_socket, "SESSION_CHECK_SECONDS", 0.5)
    _, ws = await _live_socket(client_factory, server, "amy@example.com")
    await server.services.db.write(lambda conn: conn.execute("DELETE FROM sessions"))
    await _closed_soon(ws)


async def test_a_closed_socket_takes_no_more_writes(
    server: Server, personas: Personas, client_factory
) -> None:
    desk, ws = await _live_socket(client_factory, server, "amy@example.com")
    opened = await server.services.conversations.open(
        channel="phone", customer_name="Carla", body="Hi"
    )
    assert (await ws.receive_json(timeout=5))["type"] == "event"
    with pytest.raises(asyncio.TimeoutError):
        while True:  # the rest of the conversation's opening events
            await ws.receive_json(timeout=0.5)
    await desk.post("/signout")
    await _closed_soon(ws)
    with pytest.raises(ConnectionError):
        for _ in range(5):
            await ws.send_json(
                {"type": "read", "conversation_id": opened.conversation_id, "seq": 1}
            )
            await asyncio.sleep(0.1)
    row = await server.services.db.fetch_one(
        "SELECT agent_read_seq FROM conversations WHERE id = ?", (opened.conversation_id,)
    )
    assert row[0] == 0


@pytest.mark.browser
async def test_a_desk_left_open_follows_a_sign_out_in_another_tab(
    server: Server, personas: Personas, new_page
) -> None:
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    other_tab = await page.context.new_page()
    await other_tab.goto(server.desk_url + "/inbox")
    await other_tab.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/signin"))
