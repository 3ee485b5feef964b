"""The widget's panel on real pages: it fits and scrolls inside itself, renders under the
product's CSP and a strict CSP on a hostile website (refused messages: tests/security/)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from conftest import Personas, Server, free_port, sign_in_page
from onlinesupport.channels.chat import widget_settings

pytestmark = pytest.mark.browser

# A website that fights back: global rules on every element, on divs, on buttons and forms,
# in a stylesheet of its own (a strict CSP forbids inline styles on the site itself).
HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; line-height: 3 !important;
    box-sizing: content-box !important; font-weight: 900 !important; }
div { border: 6px dashed #c00; padding: 30px; margin: 20px; position: relative; }
button, input, select, textarea { all: unset; background: yellow !important; }
form { display: grid !important; }
"""
PAGE = """<!doctype html><html lang="en"><head><title>Hostile shop</title>
<link rel="stylesheet" href="/site.css"></head>
<body><h1>Hostile shop</h1><div>A box</div>
<script src="{support}/widget.js" async></script></body></html>"""
# What docs/website-chat.md tells a website with a Content-Security-Policy to allow.
STRICT_CSP = (
    "default-src 'none'; script-src 'self' {support}; style-src 'self' {support}; "
    "connect-src {support} {socket}; img-src 'self' {support}; base-uri 'none'"
)
# Records CSP violations and console errors of every frame, from before any script runs.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
window.__sounds = 0;
const Real = window.AudioContext;
if (Real) window.AudioContext = class extends Real {
  constructor(...a) { super(...a); window.__sounds += 1; }
};
"""


async def no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def start_hostile_site(stack: AsyncExitStack, support_url: str, *, strict: bool) -> str:
    """A company website on its own origin with hostile global CSS (and a strict CSP)."""
    socket = support_url.replace("http://", "ws://")

    async def page(request: web.Request) -> web.Response:
        headers = (
            {"Content-Security-Policy": STRICT_CSP.format(support=support_url, socket=socket)}
            if strict
            else {}
        )
        return web.Response(
            text=PAGE.format(support=support_url), content_type="text/html", headers=headers
        )

    async def css(request: web.Request) -> web.Response:
        return web.Response(text=HOSTILE_CSS, content_type="text/css")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/site.css", css)
    app.router.add_get("/favicon.ico", no_icon)
    runner = web.AppRunner(app)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}"


async def allow(server: Server, origin: str) -> None:
    current = await widget_settings.load(server.services.db)
    await widget_settings.save(
        server.services.db,
        server.services.clock,
        dataclasses.replace(current, allowed_origins=(origin,)),
    )


@pytest.fixture
async def hostile(server: Server) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        url = await start_hostile_site(stack, server.public_url, strict=True)
        await allow(server, url)
        yield url


@pytest.fixture
async def hostile_lax(server: Server) -> AsyncIterator[str]:
    """The same website without a Content-Security-Policy."""
    async with AsyncExitStack() as stack:
        url = await start_hostile_site(stack, server.public_url, strict=False)
        await allow(server, url)
        yield url


async def watched_page(
    new_page: Any, width: int = 1366, height: int = 768
) -> tuple[Any, list[str]]:
    page = await new_page()
    await page.set_viewport_size({"width": width, "height": height})
    await page.add_init_script(WATCH)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


async def box(locator: Any) -> dict[str, float]:
    found = await locator.bounding_box()
    assert found is not None, f"{locator} has no box"
    return found


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


async def on_top(widget: Any, locator: Any) -> bool:
    """Is `locator` what a click at its centre would hit (inside the widget's shadow root)?"""
    return await locator.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " const hit = el.getRootNode().elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        " return hit === el || el.contains(hit); }"
    )


@pytest.mark.parametrize("width,height", [(1280, 720), (1366, 768), (1920, 1080), (320, 480)])
async def test_the_leave_a_message_form_is_sent_with_the_mouse_at_every_size(
    server: Server, hostile_lax: str, new_page, width: int, height: int
) -> None:
    page, errors = await watched_page(new_page, width, height)
    await page.goto(hostile_lax + "/")
    await page.get_by_role("button", name="Open chat").click()
    widget = page.locator("[data-onlinesupport]")
    panel, header = widget.locator(".panel"), widget.locator(".panel header")
    form = widget.locator("form.off")
    await expect(form).to_be_visible()
    viewport = {"x": 0, "y": 0, "width": width, "height": height}
    assert inside(await box(panel), viewport), "the panel fits the window"
    greeting = widget.locator(".log .note").first
    await expect(greeting).to_have_text("Hi! How can we help you today?")
    assert await on_top(widget, greeting), "the greeting is not cut off"

    await form.get_by_label("Email").fill("lee@example.com")
    await form.get_by_label("Message").fill("Please call me back")
    send = form.get_by_role("button", name="Send message")
    # The mouse wheel over the panel scrolls the panel's own content to the button.
    await page.mouse.move((await box(panel))["x"] + 40, (await box(panel))["y"] + 200)
    for _ in range(6):
        await page.mouse.wheel(0, 400)
    await page.wait_for_timeout(300)
    assert inside(await box(send), await box(panel)), "Send is inside the panel after scrolling"
    assert inside(await box(send), viewport)
    assert await on_top(widget, send)
    assert inside(await box(header), await box(panel)), "the header stays"
    assert (await box(header))["y"] == pytest.approx((await box(panel))["y"], abs=1)
    sent = await box(send)
    await page.mouse.click(sent["x"] + sent["width"] / 2, sent["y"] + sent["height"] / 2)
    await expect(widget.locator(".log")).to_contain_text("We will answer you by email")
    assert await page.evaluate("window.__violations") == []
    assert errors == []


async def test_the_widget_is_styled_under_the_products_own_csp(server: Server, new_page) -> None:
    page, errors = await watched_page(new_page)
    await page.goto(server.public_url + "/widget/test")
    launch = page.get_by_role("button", name="Open chat")
    await expect(launch).to_be_visible()
    size = await box(launch)
    assert (size["width"], size["height"]) == (56, 56), "the launcher is the round button"
    await launch.click()
    panel = page.locator("[data-onlinesupport] .panel")
    await expect(panel).to_be_visible()
    style = await panel.evaluate(
        "e => { const s = getComputedStyle(e);"
        " return [s.position, s.borderTopLeftRadius, s.backgroundColor]; }"
    )
    assert style == ["fixed", "12px", "rgb(255, 255, 255)"]
    assert await page.evaluate("window.__violations") == []
    assert errors == []


async def test_a_strict_csp_and_hostile_css_on_the_website_do_not_break_the_chat(
    server: Server, personas: Personas, hostile: str, new_page
) -> None:
    agent = await new_page()
    await sign_in_page(agent, server, "amy@example.com")
    page, errors = await watched_page(new_page)
    await page.goto(hostile + "/")
    host = page.locator("[data-onlinesupport]")
    launch = page.get_by_role("button", name="Open chat")
    await expect(launch).to_be_visible()
    assert await host.evaluate("e => getComputedStyle(e).borderTopWidth") == "0px", (
        "the page's div rules do not reach the widget's wrapper"
    )
    size = await box(launch)
    assert (size["width"], size["height"]) == (56, 56)
    await launch.click()
    form = host.locator("form.pre")
    await form.get_by_label("Your question").fill("Do you ship to Iceland?")
    field = await form.get_by_label("Your question").evaluate(
        "e => { const s = getComputedStyle(e); return [s.fontSize, s.fontWeight, s.color]; }"
    )
    assert field == ["15px", "400", "rgb(29, 35, 48)"], "the page's CSS does not reach inside"
    await form.get_by_role("button", name="Start chat").click()
    await expect(host.locator(".m.me:not(.pending)")).to_have_text(["Do you ship to Iceland?"])
    await expect(agent.locator("#conversation-list")).to_contain_text("Do you ship to Iceland?")
    assert await page.evaluate("window.__violations") == []
    assert errors == []


async def test_drop_downs_are_styled_and_the_topic_asks_for_a_choice(
    server: Server, hostile: str, new_page
) -> None:
    page, _ = await watched_page(new_page)
    await page.goto(hostile + "/")
    await page.get_by_role("button", name="Open chat").click()
    form = page.locator("[data-onlinesupport] form.off")
    topic = form.get_by_label("What is it about?")
    await expect(topic).to_be_visible()
    assert await topic.evaluate("e => e.options[e.selectedIndex].text") == "Choose…"
    looks = (
        "e => { const s = getComputedStyle(e);"
        " return [s.borderTopLeftRadius, s.paddingLeft, s.height]; }"
    )
    assert await topic.evaluate(looks) == await form.get_by_label("Subject").evaluate(looks)


async def test_no_sound_for_a_replayed_chat_or_before_the_visitor_used_the_page(
    server: Server, personas: Personas, hostile: str, new_page, browser
) -> None:
    agent = await new_page()
    await sign_in_page(agent, server, "amy@example.com")
    page, errors = await watched_page(new_page)
    await page.goto(hostile + "/")
    await page.get_by_role("button", name="Open chat").click()
    widget = page.locator("[data-onlinesupport]")
    await widget.locator("form.pre").get_by_label("Your question").fill("Hello there")
    await widget.get_by_role("button", name="Start chat").click()
    await agent.locator("#conversation-list a", has_text="Hello there").click()
    await agent.get_by_label("Reply").fill("Hi! How can I help?")
    await agent.get_by_role("button", name="Send reply").click()
    await expect(widget.locator(".m:not(.me)")).to_have_count(1)
    assert await page.evaluate("window.__sounds") == 1, "a new answer to a visitor who asked"

    # A reload replays the chat: nothing in it is new. (Playwright's evaluate counts as a user
    # gesture for the browser, so what is checked is the widget's own "used on this page".)
    await page.reload()
    await expect(widget.locator(".m")).to_have_count(2)
    await page.wait_for_timeout(300)
    assert await page.evaluate("window.__sounds") == 0

    # The same visitor in a fresh window nobody has clicked yet: an answer comes, silently.
    context = await browser.new_context(storage_state=await page.context.storage_state())
    try:
        fresh = await context.new_page()
        await fresh.add_init_script(WATCH)
        await fresh.goto(hostile + "/")
        chat = fresh.locator("[data-onlinesupport]")
        await expect(chat.locator(".m")).to_have_count(2)
        await agent.get_by_label("Reply").fill("Are you still there?")
        await agent.get_by_role("button", name="Send reply").click()
        await expect(chat.locator(".m:not(.me)")).to_have_count(2)
        await fresh.wait_for_timeout(300)
        assert await fresh.evaluate("window.__sounds") == 0
    finally:
        await context.close()
    assert errors == []


async def test_the_place_in_line_goes_when_the_chat_ends_and_after_rating(
    server: Server, personas: Personas, hostile: str, new_page
) -> None:
    agent = await new_page()
    await sign_in_page(agent, server, "amy@example.com")
    page, _ = await watched_page(new_page)
    await page.goto(hostile + "/")
    await page.get_by_role("button", name="Open chat").click()
    widget = page.locator("[data-onlinesupport]")
    await widget.locator("form.pre").get_by_label("Your question").fill("Where is my parcel?")
    await widget.get_by_role("button", name="Start chat").click()
    queue = widget.locator(".queue")
    await expect(queue).to_have_text("You are number 1 in line. Expected wait: about 2 min.")
    await widget.get_by_role("button", name="End chat").click()
    await expect(widget.locator("form.rate")).to_be_visible()
    await expect(queue).to_be_hidden()
    await widget.get_by_role("button", name="5 of 5").click()
    await widget.get_by_role("button", name="Send rating").click()
    await expect(widget.locator(".log")).to_contain_text("Thank you for your feedback!")
    await page.reload()
    await expect(widget.locator(".m.me")).to_have_count(1)
    await page.wait_for_timeout(500)
    await expect(queue).to_be_hidden()
