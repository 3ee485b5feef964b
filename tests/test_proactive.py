"""Proactive messages: chosen by the server (tier, hours), shown by the widget on matching pages."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from conftest import Desk, Personas, Server
from onlinesupport.store import queues as queues_repo
from test_chat_protocol import SITE, Visitor, allow
from test_widget_browser import website  # noqa: F401 (fixture)

OFFER = {
    "text": "Questions about shipping? Ask us!",
    "button": "Ask us",
    "url_pattern": "*/second",
    "seconds_on_page": "0",
    "audience": "all",
    "active": "on",
}


async def test_the_welcome_offers_what_fits_the_visitor(server: Server) -> None:
    proactive = server.services.proactive
    everyone = await proactive.save(None, OFFER)
    await proactive.save(None, {**OFFER, "text": "For our best customers", "tier": "preferred"})
    await proactive.save(None, {**OFFER, "text": "Off", "active": ""})
    await proactive.save(None, {**OFFER, "text": "Open now", "business_hours_only": "on"})
    await server.services.db.write(
        lambda conn: queues_repo.update(
            conn,
            1,
            first_response_minutes=60,
            next_response_minutes=240,
            timezone="UTC",
            hours="mon 00:00-00:01",
            holidays="",
        )
    )
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        visitor = Visitor(http, server)
        welcome = await visitor.connect()
        offered = {m["text"] for m in welcome["proactive"]}
        assert offered == {OFFER["text"]}, (
            "not the preferred tier's, not the inactive one, not outside business hours"
        )
        [first] = welcome["proactive"]
        assert first == {
            "id": everyone,
            "url": "*/second",
            "seconds": 0,
            "audience": "all",
            "text": OFFER["text"],
            "button": "Ask us",
        }
        for event in ("shown", "clicked", "chat_started"):
            await visitor.send(type="proactive", message_id=everyone, event=event)
        await visitor.send(type="proactive", message_id=everyone, event="exploded")
        assert "unknown event" in (await visitor.receive("error"))["message"]
        await visitor.close()
    rows = await server.services.db.fetch_all(
        "SELECT kind FROM proactive_events WHERE message_id = ? ORDER BY id", (everyone,)
    )
    assert [r["kind"] for r in rows] == ["shown", "clicked", "chat_started"]


async def test_admins_edit_proactive_messages(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    refused = await admin.post("/admin/proactive", {**OFFER, "seconds_on_page": "soon"})
    assert refused.status == 400 and "0 to 3600 seconds" in await refused.text()
    assert (await admin.post("/admin/proactive", OFFER)).status == 303
    page = await (await admin.get("/admin/proactive")).text()
    assert "Questions about shipping?" in page and "shown 0" in page
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/admin/proactive")).status == 403


@pytest.mark.browser
async def test_the_balloon_shows_on_the_matching_page_only(
    server: Server, personas: Personas, website: str, new_page: Any
) -> None:
    message_id = await server.services.proactive.save(None, OFFER)
    visitor = await new_page()
    await visitor.goto(website + "/")
    balloon = visitor.locator("[data-onlinesupport] .bal")
    await expect(visitor.get_by_role("button", name="Open chat")).to_be_visible()
    await asyncio.sleep(1)
    await expect(balloon).to_be_hidden()

    await visitor.get_by_role("link", name="Shipping").click()
    await expect(balloon).to_contain_text("Questions about shipping?")
    await balloon.get_by_role("button", name="Ask us").click()
    await expect(balloon).to_be_hidden()
    await expect(visitor.locator("[data-onlinesupport] .panel")).to_be_visible()
    rows = await server.services.db.fetch_all(
        "SELECT kind FROM proactive_events WHERE message_id = ? ORDER BY id", (message_id,)
    )
    assert [r["kind"] for r in rows] == ["shown", "clicked"]

    other = await new_page()
    await other.goto(website + "/second")
    balloon = other.locator("[data-onlinesupport] .bal")
    await expect(balloon).to_be_visible()
    await balloon.get_by_role("button", name="Dismiss").click()
    await other.reload()
    await expect(other.get_by_role("button", name="Open chat")).to_be_visible()
    await asyncio.sleep(1)
    await expect(balloon).to_be_hidden()
