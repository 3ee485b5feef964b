"""The desk as a new user met it: a top bar that fits, a phone-sized window, times that agree
and say their zone, form fields that do not look filled in."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, Personas, Server
from onlinesupport.lib.clock import from_db
from onlinesupport.store import queues as queues_repo

pytestmark = pytest.mark.browser


async def signed_in(
    browser: Any,
    server: Server,
    email: str,
    *,
    width: int = 1366,
    height: int = 768,
    zone: str = "Europe/Berlin",
) -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, timezone_id=zone, locale="en-GB"
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(server.desk_url + "/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#live")).to_have_text("● Live")
    return page


@pytest.mark.parametrize("email", ["ada@example.com", "max@example.com"])
@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
async def test_every_top_bar_control_is_on_screen_for_admins_and_managers(
    server: Server, personas: Personas, browser: Any, email: str, width: int, height: int
) -> None:
    page = await signed_in(browser, server, email, width=width, height=height)
    try:
        controls = page.locator(
            ".topbar a:visible, .topbar button:visible, .topbar select:visible,"
            " .topbar input:visible"
        )
        assert await controls.count() >= 8
        for control in await controls.all():
            box = await control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (
                f"{await control.inner_text() or await control.get_attribute('name')} is off screen"
            )
        await expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        await page.context.close()


async def test_the_desk_on_a_phone_is_as_wide_as_the_phone(
    server: Server, personas: Personas, browser: Any
) -> None:
    opened = await server.services.conversations.open(
        channel="chat",
        customer_name="Carla Customer",
        body="A long question " * 20,
        page_url="https://shop.example.com/a/very/long/path/that/does/not/wrap/" + "x" * 80,
    )
    page = await signed_in(browser, server, "ada@example.com", width=390, height=844)
    try:
        for path in (
            "/inbox",
            f"/conversations/{opened.conversation_id}",
            "/board",
            "/admin/agents",
            "/admin/mailboxes",
            "/welcome/company",
        ):
            await page.goto(server.desk_url + path)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide"
    finally:
        await page.context.close()


async def _due_times(server: Server, page: Any, conversation_id: int) -> tuple[str, str, str]:
    await page.goto(server.desk_url + "/board")
    board = page.locator(f'[data-conversation="{conversation_id}"] time')
    await expect(board).not_to_have_text("")
    board_text, title = await board.inner_text(), await board.get_attribute("title") or ""
    await page.goto(f"{server.desk_url}/conversations/{conversation_id}")
    conversation = page.locator(".conversation-head .due time")
    await expect(conversation).not_to_have_text("")
    return board_text, await conversation.inner_text(), title


async def test_times_on_the_board_and_the_conversation_agree_and_name_their_zone(
    server: Server, personas: Personas, browser: Any
) -> None:
    await server.services.db.write(
        lambda conn: queues_repo.update(
            conn,
            1,
            first_response_minutes=60,
            next_response_minutes=0,
            timezone="Europe/Berlin",
            hours="",
            holidays="",
        )
    )
    opened = await server.services.conversations.open(
        channel="chat", customer_name="Nora", body="When will you answer?"
    )
    row = await server.services.db.fetch_one(
        "SELECT first_response_due_at FROM conversations WHERE id = ?", (opened.conversation_id,)
    )
    due = from_db(row[0])

    def clock(zone: str) -> str:
        local = due.astimezone(ZoneInfo(zone))
        return f"{local.hour:02d}:{local.minute:02d}"

    # In the business's own zone: the promised time, no label needed.
    berlin = await signed_in(browser, server, "max@example.com", zone="Europe/Berlin")
    try:
        board, conversation, _ = await _due_times(server, berlin, opened.conversation_id)
    finally:
        await berlin.context.close()
    assert clock("Europe/Berlin") in board and board == conversation
    assert not any(c.isalpha() for c in board), f"no zone label needed: {board}"

    # A manager working from New York sees their own time, labelled, and the business's on hover.
    away = await signed_in(browser, server, "max@example.com", zone="America/New_York")
    try:
        board, conversation, title = await _due_times(server, away, opened.conversation_id)
    finally:
        await away.context.close()
    assert clock("America/New_York") in board and board == conversation
    assert "EST" in board or "GMT-5" in board, board
    assert clock("Europe/Berlin") in title and "Europe/Berlin" in title


async def test_form_fields_are_not_bold_and_labels_are_not_either(
    server: Server, personas: Personas, browser: Any
) -> None:
    page = await signed_in(browser, server, "ada@example.com")
    try:
        await page.goto(server.desk_url + "/welcome/company")
        field = page.get_by_label("Company name")
        await field.fill("Acme")
        weights = await page.evaluate("""() => {
            const w = (el) => Number(getComputedStyle(el).fontWeight);
            return { input: w(document.querySelector('input[name=name]')),
                     label: w(document.querySelector('input[name=name]').closest('label')) };
        }""")
        assert weights["input"] == 400 and weights["label"] < 600, weights
    finally:
        await page.context.close()
    public = await browser.new_context()
    try:
        contact = await public.new_page()
        await contact.goto(server.public_url + "/contact")
        weight = await contact.get_by_label("Your name").evaluate(
            "e => Number(getComputedStyle(e).fontWeight)"
        )
        label = await contact.get_by_label("Your name").evaluate(
            "e => Number(getComputedStyle(e.closest('label')).fontWeight)"
        )
        assert weight == 400 and label < 600
    finally:
        await public.close()


async def test_a_long_name_without_spaces_stays_inside_its_board_card_on_a_phone(
    server: Server, personas: Personas, browser: Any
) -> None:
    name = "Maximiliane" * 18  # 198 characters, no place to break a line
    opened = await server.services.conversations.open(
        channel="chat", customer_name=name, body="Where is my order?"
    )
    page = await signed_in(browser, server, "max@example.com", width=390, height=844)
    try:
        await page.goto(server.desk_url + "/board")
        card = page.locator(f'.card-item[data-conversation="{opened.conversation_id}"]')
        await expect(card.get_by_role("link")).to_contain_text(name[:40])
        # The text as drawn, not the link's box: an unbroken word paints past its box.
        text_right, card_right = await card.evaluate(
            """card => {
                const words = document.createRange();
                words.selectNodeContents(card.querySelector("a"));
                return [words.getBoundingClientRect().right, card.getBoundingClientRect().right];
            }"""
        )
        assert text_right <= card_right, f"the name runs out of its card: {text_right}"
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        await page.context.close()
