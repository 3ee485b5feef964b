"""Issue 13, item 14: several queued messages refused at once (rate limit, or any server error
while the widget flushes its offline queue) were written into one textarea, all but the last
lost. Each must stay in the conversation as "not sent", in localStorage until it is sent or
discarded by the visitor."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, make_config, sign_in_page, start_server
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import messages as messages_repo
from test_widget_panel import allow, start_hostile_site, watched_page

pytestmark = pytest.mark.browser


async def test_messages_refused_while_flushing_stay_visible_to_retry_edit_or_discard(
    tmp_path: Path, new_page
) -> None:
    clock = ManualClock()
    config = make_config(tmp_path / "data", public_visitor_messages_per_address=4)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config, clock)
        await server.services.accounts.create_agent("amy@example.com", "Amy", "admin", PASSWORD)
        site = await start_hostile_site(stack, server.public_url, strict=True)
        await allow(server, site)
        agent = await new_page()
        await sign_in_page(agent, server, "amy@example.com")
        page, _ = await watched_page(new_page)
        await page.goto(site + "/")
        await page.get_by_role("button", name="Open chat").click()
        widget = page.locator("[data-onlinesupport]")
        await widget.locator("form.pre").get_by_label("Your question").fill("First")
        await widget.get_by_role("button", name="Start chat").click()
        await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)

        await page.context.set_offline(True)
        await expect(widget.locator(".status")).to_have_text("Reconnecting…")
        box_ = widget.locator(".chat textarea")
        for text in ("two", "three", "four", "five"):
            await box_.fill(text)
            await box_.press("Enter")
        await page.context.set_offline(False)
        # Two got through (four a minute from one address: the visit, the start, two
        # messages); the other two were refused.
        failed = widget.locator(".m.me.failed")
        await expect(failed).to_have_count(2, timeout=20_000)
        await expect(failed.first).to_contain_text("four")
        await expect(failed.first).to_contain_text("Not sent")
        await expect(failed.nth(1)).to_contain_text("five")
        await expect(box_).to_have_value("")

        # Kept across a reload, in the order written.
        await page.reload()
        await expect(failed).to_have_count(2)
        texts = await widget.locator(".m.me .text").all_inner_texts()
        assert texts[:3] == ["First", "two", "three"] and texts[3:] == ["four", "five"]

        clock.advance(seconds=61)
        await failed.first.get_by_role("button", name="Retry").click()
        await expect(failed).to_have_count(1)
        await failed.first.get_by_role("button", name="Edit").click()
        await expect(failed).to_have_count(0)
        await expect(box_).to_have_value("five")
        await box_.fill("five, edited")
        await box_.press("Enter")
        await expect(widget.locator(".m.me.pending")).to_have_count(0)
        conversation_id = (await server.services.db.fetch_one("SELECT max(id) FROM conversations"))[
            0
        ]
        bodies = [m.body for m in await messages_repo.after(server.services.db, conversation_id)]
        assert bodies == ["First", "two", "three", "four", "five, edited"]

        # Discard: gone from the page and from the browser's storage.
        await page.context.set_offline(True)
        await expect(widget.locator(".status")).to_have_text("Reconnecting…")
        for text in ("six", "seven", "eight", "nine"):
            await box_.fill(text)
            await box_.press("Enter")
        await page.context.set_offline(False)
        await expect(failed).to_have_count(2, timeout=20_000)
        for _ in range(2):
            await failed.first.get_by_role("button", name="Discard").click()
        await expect(failed).to_have_count(0)
        await page.reload()
        await expect(widget.locator(".m.me")).to_have_count(7)
        stored = await page.evaluate("JSON.stringify(localStorage)")
        assert "eight" not in stored and "nine" not in stored
        for context in page.context.browser.contexts:
            await context.close()
