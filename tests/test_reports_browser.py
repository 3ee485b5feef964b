"""The report pages in Chromium at 1366x768: every page opens, filters change the figures,
a number leads to its conversations and on into the conversation, and the CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from conftest import Personas, Server, sign_in_page
from onlinesupport.core.conversations import Actor


@pytest.mark.browser
async def test_a_manager_reads_filters_drills_down_and_downloads(
    server: Server, personas: Personas, new_page: Any
) -> None:
    conversations = server.services.conversations
    amy = Actor.agent(personas.agent, "Amy Agent")
    chat = await conversations.open(
        channel="chat",
        customer_name="Dan",
        body="Where is it?",
        page_url="https://shop.test/delivery",
    )
    await conversations.post(chat.conversation_id, amy, "On its way!")
    await conversations.resolve(chat.conversation_id, amy)
    mail = await conversations.open(
        channel="email", customer_name="Eve", subject="Invoice", body="Wrong amount"
    )
    page = await new_page()
    await sign_in_page(page, server, "ada@example.com")
    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    await expect(page.locator("svg.chart").first).to_be_visible()
    created = page.get_by_role("link", name="2", exact=True).first
    await expect(created).to_be_visible()

    await page.get_by_label("Channel", exact=True).select_option("chat")
    await page.get_by_label("Period", exact=True).select_option("7d")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"period=7d.*channel=chat"))
    first = page.get_by_role("row", name="First response time")
    await expect(first.get_by_role("link", name="1", exact=True)).to_be_visible()
    await first.get_by_role("link", name="1", exact=True).click()
    await expect(page.get_by_role("heading", name="First response time")).to_be_visible()
    link = page.get_by_role("link", name=f"#{chat.conversation_id}")
    await expect(link).to_be_visible()
    await expect(page.get_by_role("link", name=f"#{mail.conversation_id}")).to_have_count(0)

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Conversations (CSV)").click()
    download = await download_info.value
    text = Path(await download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["conversation_id"], r["channel"]) for r in rows] == [
        (str(chat.conversation_id), "chat")
    ]

    await link.click()
    await expect(page.locator("#main")).to_contain_text("On its way!")

    for name in ("Agents", "Website and self-service"):
        await page.goto(server.desk_url + "/reports")
        await page.get_by_role("navigation", name="Reports").get_by_role("link", name=name).click()
        await expect(page.locator("h1")).to_contain_text(name.split(" ")[0])
    await expect(page.get_by_role("row", name="https://shop.test/delivery")).to_be_visible()
    await page.get_by_role("link", name="Report mail").click()
    await page.get_by_label("Every morning (yesterday)").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(page.get_by_label("Every morning (yesterday)")).to_be_checked()

    # Choosing dates means a custom period.
    await page.goto(server.desk_url + "/reports")
    await page.get_by_label("From", exact=True).fill("2020-01-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"period=custom&first=2020-01-01"))
    await expect(page.locator(".report-period")).to_contain_text("2020-01-01 –")
