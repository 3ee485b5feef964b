"""In Chromium, on a company website of another origin with hostile CSS: a signed-in customer
chats as themselves (history in the desk, nothing asked twice), a tampered signature chats
anonymously, and a visitor asks to be called back, which is routed, called and counted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from html import escape
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from conftest import Personas, Server, free_port, sign_in_page
from email_helpers import scalar
from onlinesupport.channels.chat.identity import Claim, WebsiteUser, signature
from onlinesupport.core.conversations import SYSTEM
from onlinesupport.lib.clock import to_db
from onlinesupport.store import queues as queues_repo
from test_callbacks import set_hours
from test_widget_browser import allow

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="en"><head><title>Our shop</title>
<style>* {{ color: red !important; font-size: 40px !important; }}</style></head>
<body><h1>Our shop</h1>{user}
<script src="{support}/widget.js" async{attributes}></script></body></html>"""
NORA = WebsiteUser("42", "nora@kunde.test", "Nora Kunde")


async def start_shop(stack: AsyncExitStack, server: Server) -> str:
    """The company's website: its own server signs the user it has signed in."""

    async def page(request: web.Request) -> web.Response:
        user = {"/signed": NORA, "/tampered": NORA}.get(request.path)
        attributes = ""
        if user is not None:
            digest = signature(server.services.identity.secret, user.id)
            shown_id = "43" if request.path == "/tampered" else user.id
            attributes = (
                f' data-user-id="{shown_id}" data-user-email="{escape(user.email)}"'
                f' data-user-name="{escape(user.name)}" data-user-hash="{digest}"'
            )
        return web.Response(
            text=PAGE.format(
                support=server.public_url,
                attributes=attributes,
                user=f"<p>Signed in as {escape(user.name)}</p>" if user else "",
            ),
            content_type="text/html",
        )

    app = web.Application()
    for path in ("/", "/signed", "/tampered"):
        app.router.add_get(path, page)
    runner = web.AppRunner(app)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def shop(server: Server) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        url = await start_shop(stack, server)
        await allow(server, url)
        yield url


async def desk_page(new_page: Any, server: Server) -> Any:
    page = await new_page()
    await sign_in_page(page, server, "amy@example.com")
    return page


async def open_widget(new_page: Any, url: str) -> tuple[Any, Any, list[str]]:
    visitor = await new_page()
    warnings: list[str] = []
    visitor.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    await visitor.goto(url)
    await visitor.get_by_role("button", name="Open chat").click()
    return visitor, visitor.locator("[data-onlinesupport]"), warnings


async def test_a_signed_in_customer_chats_as_themselves_with_their_history(
    server: Server, personas: Personas, shop: str, new_page
) -> None:
    services = server.services
    earlier = await services.identity.open_chat(
        Claim(NORA, NORA.id),
        "an-earlier-browser",
        name="",
        email="",
        body="Where is order 77?",
        client_id="e1",
        page_url="",
        page_title="",
        page_referrer="",
        language="en",
    )
    await services.conversations.resolve(earlier.conversation_id, SYSTEM)
    agent = await desk_page(new_page, server)
    visitor, widget, warnings = await open_widget(new_page, shop + "/signed")
    form = widget.locator("form.pre")
    await expect(form.get_by_label("Your question")).to_be_visible()
    await expect(form.get_by_label("Name")).to_be_hidden()
    await expect(form.get_by_label("Email")).to_be_hidden()
    await form.get_by_label("Your question").fill("And where is order 78?")
    await form.get_by_role("button", name="Start chat").click()
    await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)
    assert not warnings

    await agent.locator("#conversation-list a", has_text="Nora Kunde").first.click()
    customer = agent.locator(".customer")
    await expect(customer).to_contain_text("✓ Verified by your website (account 42)")
    await expect(customer.locator(".history")).to_contain_text(f"#{earlier.conversation_id} chat")
    latest = await scalar(services, "SELECT max(id) FROM conversations")
    assert (
        await scalar(services, "SELECT customer_id FROM conversations WHERE id = ?", (latest,))
        == earlier.customer_id
    )

    # Signed out on the website: the next person at this computer does not see the chat.
    await visitor.goto(shop + "/")  # the chat stays open across pages
    await expect(widget.locator("form.pre").get_by_label("Name")).to_be_visible()
    await expect(widget.locator(".m.me")).to_have_count(0)


async def test_a_tampered_signature_chats_as_an_anonymous_visitor(
    server: Server, personas: Personas, shop: str, new_page
) -> None:
    agent = await desk_page(new_page, server)
    visitor, widget, warnings = await open_widget(new_page, shop + "/tampered")
    form = widget.locator("form.pre")
    await form.get_by_label("Name").fill("Mallory")
    await form.get_by_label("Your question").fill("Show me Nora's orders")
    await form.get_by_role("button", name="Start chat").click()
    await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)
    assert any("wrong user hash" in w for w in warnings)
    await agent.locator("#conversation-list a", has_text="Mallory").click()
    await expect(agent.locator("#verification")).to_have_text(
        "Not verified: the page named account “43”, but without a correct signature"
    )
    assert (
        await scalar(
            server.services, "SELECT count(*) FROM customer_identities WHERE kind = 'external'"
        )
        == 0
    )


async def test_a_visitor_asks_for_a_call_which_is_routed_answered_and_counted(
    server: Server, personas: Personas, shop: str, new_page
) -> None:
    services = server.services
    now = to_db(services.clock.now())
    team = await services.db.write(lambda conn: queues_repo.insert(conn, "Phone team", now))
    await services.rules.save(
        None,
        {
            "name": "Calls to the phone team",
            "active": "on",
            "trigger": "new",
            "conditions": "channel is phone",
            "actions": "queue Phone team",
        },
    )
    await services.callbacks.save_settings({"enabled": "on", "queue_id": "1", "country": "DE"})
    agent = await desk_page(new_page, server)
    visitor, widget, _ = await open_widget(new_page, shop + "/")
    await widget.get_by_role("button", name="Call me back instead").first.click()
    call = widget.locator("form.call")
    await call.get_by_label("Name").fill("Nora Kunde")
    await call.get_by_label("Country").select_option("DE")
    await call.get_by_label("Phone number").fill("030 1234567")
    await call.get_by_label("What should the call be about?").fill("My invoice is wrong")
    # Half hours of the queue's business hours (always open here), grouped by day.
    await expect(call.locator("optgroup").first).to_have_attribute(
        "label", re.compile("Today|Tomorrow")
    )
    await call.get_by_role("button", name="Request a call").click()
    await expect(widget.locator(".note", has_text="We will call +49 301234567")).to_be_visible()
    await expect(call).to_be_hidden()

    item = agent.locator("#conversation-list a", has_text="Nora Kunde")
    await expect(item.locator(".callback-by")).to_contain_text("call back by")
    await item.click()
    await expect(agent.locator(".meta")).to_contain_text("queue Phone team")
    panel = agent.locator("#callback")
    await expect(panel.get_by_role("link", name="+49 301234567")).to_have_attribute(
        "href", "tel:+49301234567"
    )
    await panel.get_by_role("radio", name="Reached").check()
    await panel.get_by_label("Notes").fill("Credit note sent.")
    await panel.get_by_role("button", name="Log the call").click()
    await expect(agent.locator("#callback")).to_contain_text("Reached.")
    await expect(agent.locator("#status")).to_have_text("resolved")
    row = await services.db.fetch_one(
        "SELECT queue_id, first_response_at IS NOT NULL, channel FROM conversations"
    )
    assert tuple(row) == (team, 1, "phone")
    assert (
        await scalar(services, "SELECT data FROM events WHERE type = 'conversation.first_response'")
        == '{"via":"callback"}'
    )


async def test_the_widgets_callback_form_starts_at_the_businesss_country_or_at_none(
    server: Server, shop: str, new_page
) -> None:
    services = server.services
    await services.callbacks.save_settings({"enabled": "on", "queue_id": "1"})
    await set_hours(services, weekly="", zone="Europe/Vienna")
    visitor, widget, _ = await open_widget(new_page, shop + "/")
    await widget.get_by_role("button", name="Call me back instead").first.click()
    await expect(widget.locator("form.call").get_by_label("Country")).to_have_value("AT")

    # A zone that names no country, and a visitor whose browser names none we call: no guess.
    await set_hours(services, weekly="", zone="UTC")
    visitor = await new_page()
    await visitor.add_init_script(
        "Object.defineProperty(navigator, 'language', { get: () => 'pt-BR' })"
    )
    await visitor.goto(shop + "/")
    await visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("[data-onlinesupport]")
    await widget.get_by_role("button", name="Call me back instead").first.click()
    call = widget.locator("form.call")
    await expect(call.get_by_label("Country")).to_have_value("")
    await expect(call.get_by_label("Country").locator("option").first).to_have_text("—")
    await call.get_by_label("Name").fill("Nora Kunde")
    await call.get_by_label("Phone number").fill("+43 1 5321234")
    await call.get_by_label("What should the call be about?").fill("My invoice is wrong")
    await call.get_by_role("button", name="Request a call").click()
    await expect(widget.locator(".note", has_text="We will call +43 15321234")).to_be_visible()


async def test_a_refused_call_request_shows_why_beside_the_form_and_keeps_what_was_typed(
    server: Server, shop: str, new_page
) -> None:
    services = server.services
    await services.callbacks.save_settings({"enabled": "on", "queue_id": "1", "country": "DE"})
    await set_hours(services, weekly="", zone="Europe/Berlin")
    visitor, widget, _ = await open_widget(new_page, shop + "/")
    await widget.get_by_role("button", name="Call me back instead").first.click()
    call = widget.locator("form.call")
    await expect(call.get_by_text("(times in Europe/Berlin)")).to_be_visible()
    await call.get_by_label("Name").fill("Nora Kunde")
    await call.get_by_label("Phone number").fill("12ab")
    await call.get_by_label("What should the call be about?").fill("My invoice is wrong")
    await call.get_by_role("button", name="Request a call").click()
    # The reason stays (the options asked for again on the way back do not wipe it), announced.
    error = call.get_by_role("alert")
    await expect(error).to_contain_text(re.compile(r"\w"))
    await visitor.wait_for_timeout(300)
    await expect(error).not_to_be_empty()
    await expect(call.get_by_label("Phone number")).to_have_value("12ab")
    await expect(call.get_by_label("Name")).to_have_value("Nora Kunde")
    await expect(call.get_by_label("What should the call be about?")).to_have_value(
        "My invoice is wrong"
    )
    assert await scalar(services, "SELECT count(*) FROM conversations") == 0

    # Corrected: the confirmation names the zone of the times, as the form did.
    await call.get_by_label("Phone number").fill("030 1234567")
    await call.get_by_role("button", name="Request a call").click()
    note = widget.locator(".note", has_text="We will call +49 301234567")
    await expect(note).to_contain_text("(Europe/Berlin).")
    await expect(call.locator(".err")).to_be_empty()
