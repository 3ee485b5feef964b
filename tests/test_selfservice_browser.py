"""Self-service in Chromium: the widget suggests an article and an answered question never
reaches the desk; "still need help" goes on to the chat; the help center without JavaScript."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from conftest import Personas, Server
from email_helpers import scalar
from onlinesupport.lib.clock import to_db
from onlinesupport.selfservice.access import _hash
from onlinesupport.store import customer_access as access_repo
from test_widget_browser import desk_page, website  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

REFUNDS = {
    "title": "Returns and refunds",
    "status": "published",
    "visibility": "public",
    "body": "You can **return** any item within 30 days and get a full refund.",
}


async def _visitor_types(new_page: Any, website: str, question: str) -> tuple[Any, Any]:
    visitor = await new_page()
    await visitor.goto(website + "/")
    await visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("[data-onlinesupport]")
    form = widget.locator("form.pre")
    await form.get_by_label("Name").fill("Nora")
    await form.get_by_label("Your question").fill(question)
    await expect(form.locator(".kb")).to_contain_text("Returns and refunds")
    return visitor, widget


async def test_an_answered_question_never_reaches_the_desk_and_another_chat_goes_on(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    await server.services.knowledge.save(None, REFUNDS, None)
    agent = await desk_page(new_page, server)

    _, widget = await _visitor_types(new_page, website, "Can I get a refund for my order?")
    await widget.get_by_role("button", name="This answered my question").click()
    await expect(widget.locator(".log")).to_contain_text("Glad that helped!")
    assert await scalar(server.services, "SELECT count(*) FROM kb_deflections") == 1
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 0
    await expect(agent.locator("#empty-inbox")).to_be_visible()

    _, widget = await _visitor_types(new_page, website, "I need a refund, the box was broken")
    await widget.locator("form.pre").get_by_role("button", name="Start chat").click()
    await expect(agent.locator("#conversation-list")).to_contain_text("Nora")
    # While it waits, the same answer stays offered above the chat.
    await expect(widget.locator(".kb.waiting")).to_contain_text("Returns and refunds")
    assert await scalar(server.services, "SELECT count(*) FROM kb_deflections") == 1


async def test_the_help_center_works_with_javascript_off(server: Server, browser: Any) -> None:
    await server.services.knowledge.save(None, REFUNDS, None)
    context = await browser.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(server.public_url + "/help")
        await page.get_by_label("Search the help center").fill("refund")
        await page.get_by_role("button", name="Search").click()
        await page.get_by_role("link", name="Returns and refunds").click()
        await expect(page.locator("article strong")).to_have_text("return")
        await page.get_by_role("button", name="Yes").click()
        await expect(page.locator("#feedback")).to_contain_text("Thank you for telling us")
    finally:
        await context.close()


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)])
async def test_the_customers_own_page_shows_times_in_their_zone_and_names_it(
    server: Server, browser: Any, size: tuple[int, int]
) -> None:
    services = server.services
    opened = await services.conversations.open(
        channel="email",
        identity=("email", "lee@customer.test"),
        subject="Refund",
        body="Where is my refund?",
    )
    token, now = "a-sign-in-link-token-for-lee", services.clock.now()
    await services.db.write(
        lambda conn: access_repo.add_link(
            conn, _hash(token), opened.customer_id, to_db(now), to_db(now + timedelta(hours=1))
        )
    )
    width, height = size
    context = await browser.new_context(
        viewport={"width": width, "height": height}, timezone_id="Asia/Tokyo", locale="en-US"
    )
    try:
        page = await context.new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Policy" in m.text else None)
        await page.goto(f"{server.public_url}/my/link/{token}")
        await page.get_by_role("button").first.click()
        await expect(page.get_by_role("heading", name="Your conversations with us")).to_be_visible()
        times = page.locator(".my-list time")
        await expect(times.first).to_contain_text("GMT+9")  # the zone is named
        tokyo = (now + timedelta(hours=9)).strftime("%-m/%-d/%Y")
        await expect(times.first).to_contain_text(tokyo)
        assert "UTC" not in await page.locator(".my-list").inner_text()
        assert "(Asia/Tokyo)" in (await times.first.get_attribute("title") or "")

        await page.get_by_role("link", name="#1 Refund").click()
        message_time = page.locator(".my-messages time").first
        await expect(message_time).to_contain_text("GMT+9")
        box = await message_time.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        assert refused == [], "nothing refused by the page's CSP"
    finally:
        await context.close()
