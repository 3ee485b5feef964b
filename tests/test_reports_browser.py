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


CONTRASTS = """() => {
  // WCAG contrast of every chart text against the chart's background (the heatmap's counts
  // have a halo of that background, so it is what they are read on).
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const found = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    const back = lum(rgb(getComputedStyle(svg).backgroundColor));
    for (const text of svg.querySelectorAll("text")) {
      const ink = lum(rgb(getComputedStyle(text).fill));
      const ratio = (Math.max(ink, back) + 0.05) / (Math.min(ink, back) + 0.05);
      found.push([svg.getAttribute("aria-label") + ": " + text.textContent, ratio]);
    }
  }
  return found;
}"""


async def _busy_day(server: Server, personas: Personas) -> None:
    conversations = server.services.conversations
    amy = Actor.agent(personas.agent, "Amy Agent")
    for n, channel in enumerate(("chat", "chat", "email", "form", "chat")):
        opened = await conversations.open(
            channel=channel, customer_name=f"C{n}", body="Hi", page_url="https://shop.test/delivery"
        )
        await conversations.post(opened.conversation_id, amy, "Hello")
        await conversations.resolve(opened.conversation_id, amy)
        await conversations.rate(opened.conversation_id, Actor.customer(None), 1 + n % 5, "")


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["dark", "light"])
async def test_chart_labels_are_readable_in_the_theme(
    server: Server, personas: Personas, new_page: Any, scheme: str
) -> None:
    await _busy_day(server, personas)
    page = await new_page()
    await page.emulate_media(color_scheme=scheme)
    await sign_in_page(page, server, "ada@example.com")
    checked = 0
    for path in ("/reports?period=7d", "/reports/agents?period=7d", "/reports/website?period=7d"):
        await page.goto(server.desk_url + path)
        contrasts = await page.evaluate(CONTRASTS)
        checked += len(contrasts)
        poor = [(label, round(ratio, 2)) for label, ratio in contrasts if ratio < 4.5]
        assert not poor, (scheme, path, poor)
    assert checked >= 50, "channel, agent, heatmap and rating labels were all measured"


@pytest.mark.browser
async def test_the_agents_table_has_the_width_and_keeps_the_names_in_view(
    server: Server, personas: Personas, new_page: Any
) -> None:
    await _busy_day(server, personas)
    page = await new_page()
    await sign_in_page(page, server, "ada@example.com")
    await page.goto(server.desk_url + "/reports/agents?period=7d")
    table = page.locator(".reports table.figures").first
    box = await table.bounding_box()
    width = await page.evaluate("document.querySelector('.reports').clientWidth")
    assert box is not None and box["width"] > width * 0.85, "the table takes the page's width"
    assert await page.evaluate(
        "(() => { const s = document.querySelector('.table-scroll');"
        " return s.scrollWidth <= s.clientWidth; })()"
    ), "no sideways scroll at 1366 px"
    for name in ("Satisfaction", "Time online"):
        await expect(page.get_by_role("columnheader", name=name)).to_be_in_viewport()

    # Where the table must scroll (it fits in 390 px by wrapping; a long name or a narrow
    # window may still need it), the agent's name stays in view.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.evaluate("document.querySelector('.table-scroll').style.width = '120px'")
    name = page.get_by_role("rowheader", name="Amy Agent")
    before = await name.bounding_box()
    await page.evaluate("document.querySelector('.table-scroll').scrollLeft = 400")
    assert await page.evaluate("document.querySelector('.table-scroll').scrollLeft") > 0
    after = await name.bounding_box()
    assert before is not None and after is not None and abs(after["x"] - before["x"]) < 1, (
        "the agent's name stays while the figures scroll"
    )


@pytest.mark.browser
async def test_a_printout_names_its_period_and_filters(
    server: Server, personas: Personas, new_page: Any
) -> None:
    await _busy_day(server, personas)
    page = await new_page()
    await sign_in_page(page, server, "ada@example.com")
    await page.goto(f"{server.desk_url}/reports?period=7d&agent={personas.agent}&channel=chat")
    await page.emulate_media(media="print")
    await expect(page.locator(".report-filters")).to_be_hidden()
    scope = page.locator(".report-period")
    await expect(scope).to_be_visible()
    await expect(scope).to_contain_text(" – ")
    await expect(scope).to_contain_text("Agent: Amy Agent · Channel: chat · wall clock")
