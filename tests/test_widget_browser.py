"""The website widget in a real browser, the desk on another origin: nothing lost, nothing twice."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from conftest import (
    PASSWORD,
    Personas,
    Server,
    free_port,
    make_config,
    sign_in_page,
    start_server,
)
from onlinesupport.channels.chat import widget_settings
from onlinesupport.store import messages as messages_repo

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><title>{title}</title>
<style>* {{ color: red !important; font-size: 40px !important; }}</style></head>
<body><h1>{title}</h1><a href="/second">Shipping</a>
<script src="{support}/widget.js" async></script></body></html>"""


async def start_website(stack: AsyncExitStack, support_url: str) -> str:
    """A company website on its own origin, with the one script tag on every page."""

    async def page(request: web.Request) -> web.Response:
        title = "Our shop" if request.path == "/" else "Shipping"
        return web.Response(
            text=PAGE.format(title=title, support=support_url), content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/second", page)
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
async def website(server: Server) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        url = await start_website(stack, server.public_url)
        await allow(server, url)
        yield url


async def desk_page(new_page: Any, server: Server, email: str = "amy@example.com") -> Any:
    page = await new_page()
    await sign_in_page(page, server, email)
    return page


async def start_chat(new_page: Any, website: str, question: str) -> tuple[Any, Any]:
    """A visitor opens the website and starts a chat; returns once the server has the question."""
    visitor = await new_page()
    await visitor.goto(website + "/")
    await visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("[data-onlinesupport]")
    form = widget.locator("form.pre")
    await form.get_by_label("Name").fill("Nora")
    await form.get_by_label("Your question").fill(question)
    await form.get_by_role("button", name="Start chat").click()
    await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)
    return visitor, widget


async def stored_bodies(server: Server, conversation_id: int) -> list[str]:
    return [m.body for m in await messages_repo.after(server.services.db, conversation_id)]


async def test_a_visitor_chats_with_an_agent_across_reload_and_navigation(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    agent = await desk_page(new_page, server)
    visitor, widget = await start_chat(new_page, website, "Do you ship to Norway?")
    log = visitor.locator("[data-onlinesupport] .log")
    await expect(log.locator(".m.me")).to_have_text(["Do you ship to Norway?"])
    await expect(log.locator(".m.me.pending")).to_have_count(0)
    queue = visitor.locator("[data-onlinesupport] .queue")
    await expect(queue).to_contain_text("You are number 1 in line.")
    # The page's own CSS cannot reach into the widget.
    assert await log.locator(".m.me").evaluate("e => getComputedStyle(e).fontSize") == "15px"

    # The agent sees the new chat live, with the page it came from, and answers.
    await expect(agent.locator("#conversation-list")).to_contain_text("Nora")
    await agent.locator("#conversation-list a", has_text="Nora").click()
    await expect(agent.locator(".customer")).to_contain_text(website + "/")
    await agent.get_by_label("Reply").fill("Yes, in 3 days.")
    await expect(
        visitor.locator("[data-onlinesupport] .note", has_text="Amy Agent is typing")
    ).to_be_visible()
    await agent.get_by_role("button", name="Send reply").click()
    await expect(log.locator(".m:not(.me)")).to_have_text(["Amy AgentYes, in 3 days."])
    await expect(queue).to_be_hidden()
    await visitor.locator("[data-onlinesupport] .chat textarea").fill("Great")
    await expect(agent.locator("#typing")).to_have_text("The customer is typing…")
    await visitor.locator("[data-onlinesupport] .chat textarea").press("Enter")
    await expect(agent.locator("#messages .msg-customer .msg-body")).to_have_text(
        ["Do you ship to Norway?", "Great"]
    )

    # Reload, then move to another page of the site: the same history, nothing twice.
    for step in ("reload", "navigate"):
        if step == "reload":
            await visitor.reload()
        else:
            await visitor.get_by_role("link", name="Shipping").click()
            await expect(visitor).to_have_title("Shipping")
        await expect(log.locator(".m")).to_have_text(
            ["Do you ship to Norway?", "Amy AgentYes, in 3 days.", "Great"]
        )
    await expect(agent.locator(".trail")).to_contain_text("Shipping")


async def test_messages_written_offline_are_delivered_exactly_once(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    await desk_page(new_page, server)
    visitor, widget = await start_chat(new_page, website, "First question")
    log = visitor.locator("[data-onlinesupport] .log")
    await visitor.context.set_offline(True)
    await expect(visitor.locator("[data-onlinesupport] .status")).to_have_text("Reconnecting…")
    box = visitor.locator("[data-onlinesupport] .chat textarea")
    for text in ("written offline 1", "written offline 2"):
        await box.fill(text)
        await box.press("Enter")
    await expect(log.locator(".m.me.pending")).to_have_count(2)
    await visitor.context.set_offline(False)
    await expect(log.locator(".m.me.pending")).to_have_count(0, timeout=20_000)
    await expect(log.locator(".m.me")).to_have_text(
        ["First question", "written offline 1", "written offline 2"]
    )
    conversation_id = (await server.services.db.fetch_one("SELECT max(id) FROM conversations"))[0]
    assert await stored_bodies(server, conversation_id) == [
        "First question",
        "written offline 1",
        "written offline 2",
    ]


async def test_both_sides_resume_after_a_server_restart(
    tmp_path: Path, browser: Any, new_page
) -> None:
    config = make_config(tmp_path / "data", public_port=free_port(), desk_port=free_port())
    outer = AsyncExitStack()
    async with outer:
        stack = AsyncExitStack()
        server = await start_server(stack, config)
        await server.services.accounts.create_agent(
            "amy@example.com", "Amy Agent", "admin", PASSWORD
        )
        website = await start_website(outer, server.public_url)
        await allow(server, website)
        agent = await desk_page(new_page, server)
        visitor, widget = await start_chat(new_page, website, "Before the restart")
        log = visitor.locator("[data-onlinesupport] .log")
        await agent.locator("#conversation-list a", has_text="Nora").click()

        await stack.aclose()
        await expect(visitor.locator("[data-onlinesupport] .status")).to_have_text("Reconnecting…")
        await expect(agent.locator("#live")).to_have_text("Reconnecting…")
        async with AsyncExitStack() as again:
            server = await start_server(again, config)
            await expect(agent.locator("#live")).to_have_text("● Live", timeout=20_000)
            await expect(visitor.locator("[data-onlinesupport] .status")).to_be_hidden(
                timeout=20_000
            )
            box = visitor.locator("[data-onlinesupport] .chat textarea")
            await box.fill("After the restart")
            await box.press("Enter")
            await expect(agent.locator("#messages .msg-customer .msg-body")).to_have_text(
                ["Before the restart", "After the restart"]
            )
            await agent.get_by_label("Reply").fill("Welcome back")
            await agent.get_by_role("button", name="Send reply").click()
            await expect(log.locator(".m")).to_have_text(
                ["Before the restart", "After the restart", "Amy AgentWelcome back"]
            )
            for context in browser.contexts:
                await context.close()


async def test_the_leave_a_message_form_when_nobody_is_online(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    visitor = await new_page()
    await visitor.goto(website + "/")
    await visitor.get_by_role("button", name="Open chat").click()
    form = visitor.locator("[data-onlinesupport] form.off")
    await expect(form).to_contain_text("We are not online right now")
    await form.get_by_label("Name").fill("Lee")
    await form.get_by_label("Email").fill("lee@example.com")
    await form.get_by_label("What is it about?").select_option("Billing")
    await form.get_by_label("Subject").fill("Invoice 7")
    await form.get_by_label("Message").fill("Please call me back tomorrow")
    await form.get_by_label("How soon do you need an answer?").select_option("today")
    await form.get_by_role("button", name="Send message").click()
    await expect(visitor.locator("[data-onlinesupport] .log")).to_contain_text(
        "We will answer you by email"
    )
    row = await server.services.db.fetch_one(
        "SELECT c.channel, c.subject, c.page_url, e.data FROM conversations c"
        " JOIN events e ON e.conversation_id = c.id AND e.type = 'form.submitted'"
    )
    assert tuple(row) == (
        "form",
        "Invoice 7",
        website + "/",
        '{"question_type":"Billing","urgency":"today"}',
    ), "routed like the page's contact form"


async def test_a_website_not_on_the_list_gets_no_chat(server: Server, new_page) -> None:
    async with AsyncExitStack() as stack:
        website = await start_website(stack, server.public_url)
        await allow(server, "https://somewhere-else.example.com")
        visitor = await new_page()
        await visitor.goto(website + "/")
        await visitor.get_by_role("button", name="Open chat").click()
        await expect(visitor.locator("[data-onlinesupport] .status")).to_have_text("Reconnecting…")
        await expect(visitor.locator("[data-onlinesupport] form.pre")).to_be_hidden()
        assert await server.services.db.fetch_one("SELECT 1 FROM customers") is None


async def test_the_visitor_ends_the_chat_and_rates_it(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    agent = await desk_page(new_page, server)
    visitor, widget = await start_chat(new_page, website, "Can I return a jacket?")
    await agent.locator("#conversation-list a", has_text="Nora").click()
    await expect(agent.locator("#messages")).to_contain_text("Can I return a jacket?")
    await widget.get_by_role("button", name="End chat").click()
    await expect(widget.locator(".log")).to_contain_text("The chat has ended.")
    await expect(agent.locator("#status")).to_have_text("resolved")
    rate = widget.locator("form.rate")
    await rate.get_by_role("button", name="Send rating").click()
    await expect(rate.locator(".err")).to_have_text("Choose from 1 to 5 stars.")
    await rate.get_by_role("button", name="4 of 5").click()
    await rate.get_by_label("Anything to add?").fill("Quick answer, thanks")
    await rate.get_by_role("button", name="Send rating").click()
    await expect(widget.locator(".log")).to_contain_text("Thank you for your feedback!")
    await expect(agent.locator("#rating")).to_have_text(" · rated 4/5: “Quick answer, thanks”")
    await rate.get_by_role("button", name="Start a new chat").click()
    await expect(widget.locator("form.pre")).to_be_visible()
    await expect(widget.locator(".log .m")).to_have_count(0)


async def test_two_agents_in_one_chat_and_a_transfer(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    amy = await desk_page(new_page, server)
    bob = await desk_page(new_page, server, "bob@example.com")
    visitor, widget = await start_chat(new_page, website, "My order arrived damaged")
    await amy.locator("#conversation-list a", has_text="Nora").click()
    await amy.get_by_role("button", name="Assign to me").click()
    await expect(amy.locator("#assignee")).to_have_text("Amy Agent")

    # Amy invites Bob: it lands in his Mine view live, the visitor sees him join.
    await bob.get_by_role("link", name="Mine").click()
    await expect(bob.locator("#conversation-list")).to_contain_text("No conversations here.")
    await amy.get_by_text("Invite…").click()
    await amy.locator("form[action*=invite]").get_by_label("Agent").select_option(label="Bob Agent")
    await amy.get_by_role("button", name="Invite to this conversation").click()
    await expect(amy.locator("#participants")).to_have_text(" with Bob Agent")
    await expect(
        widget.locator(".log .note", has_text="Bob Agent joined the chat.")
    ).to_be_visible()
    await expect(bob.locator("#conversation-list")).to_contain_text("Nora")
    await bob.locator("#conversation-list a", has_text="Nora").click()
    await bob.get_by_label("Reply").fill("I'm from the warehouse team.")
    await bob.get_by_role("button", name="Send reply").click()
    await expect(widget.locator(".log .m:not(.me)")).to_have_text(
        ["Bob AgentI'm from the warehouse team."]
    )
    await expect(amy.locator("#messages .msg-agent .msg-body")).to_have_text(
        ["I'm from the warehouse team."]
    )

    # Amy transfers the chat to Max with a note the visitor never sees.
    await amy.get_by_text("Transfer…").click()
    form = amy.locator("form[action*=transfer]")
    await form.get_by_label("To").select_option(label="Max Manager")
    await form.get_by_label("Note for them").fill("Replacement approved, please ship")
    await form.get_by_role("button", name="Transfer").click()
    await expect(amy.locator("#assignee")).to_have_text("Max Manager")
    await expect(amy.locator("#messages .msg-note .msg-body")).to_have_text(
        ["Replacement approved, please ship"]
    )
    await expect(
        widget.locator(".log .note", has_text="Max Manager has taken over the chat.")
    ).to_be_visible()
    await expect(widget.locator(".log")).not_to_contain_text("Replacement approved")


async def test_an_agent_runs_a_scripted_question_sequence(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    await server.services.scripts.add(
        "Warranty", "What is the serial number?\nWhen did you buy it?"
    )
    agent = await desk_page(new_page, server)
    visitor, widget = await start_chat(new_page, website, "My kettle stopped working")
    await agent.locator("#conversation-list a", has_text="Nora").click()
    await agent.get_by_text("Script…").click()
    await agent.get_by_role("button", name="Start script").click()
    await expect(agent.locator("#script-progress")).to_have_text(
        "Script “Warranty”: 1 of 2 questions sent"
    )
    answers = widget.locator(".log .m:not(.me)")
    await expect(answers).to_have_text(["Amy AgentWhat is the serial number?"])
    box = widget.locator(".chat textarea")
    await box.fill("SN-778")
    await box.press("Enter")
    await expect(answers).to_have_text(
        ["Amy AgentWhat is the serial number?", "Amy AgentWhen did you buy it?"]
    )
    await expect(agent.locator("#script-progress")).to_have_text(
        "Script “Warranty”: 2 of 2 questions sent"
    )
    await box.fill("In March")
    await box.press("Enter")
    await expect(agent.locator("#script-bar")).to_be_hidden()
    await expect(agent.locator("#messages .msg-customer .msg-body")).to_have_text(
        ["My kettle stopped working", "SN-778", "In March"]
    )


async def test_the_visitor_sees_when_an_agent_has_read_their_messages(
    server: Server, personas: Personas, website: str, new_page
) -> None:
    agent = await desk_page(new_page, server)
    visitor, widget = await start_chat(new_page, website, "Is anyone there?")
    await expect(agent.locator("#conversation-list")).to_contain_text("Nora")
    await expect(widget.locator(".readmark")).to_have_count(0)
    await agent.locator("#conversation-list a", has_text="Nora").click()
    await expect(widget.locator(".readmark")).to_have_text("Read")
    await visitor.reload()
    await expect(widget.locator(".readmark")).to_have_text("Read")
    box = widget.locator(".chat textarea")
    await box.fill("Hello?")
    await box.press("Enter")
    await expect(
        widget.locator(".m.me").last.locator("xpath=following-sibling::li[1]")
    ).to_have_text("Read")


async def test_the_widget_speaks_the_language_asked_for(
    server: Server, personas: Personas, new_page
) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(
            content_type="text/html",
            text=(
                f'<!doctype html><html lang="fr"><body><script src="{server.public_url}/widget.js" '
                f'data-lang="{request.query.get("lang", "")}" '
                'data-position="left" data-open="true" '
                "async></script></body></html>"
            ),
        )

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await allow(server, f"http://127.0.0.1:{port}")
        visitor = await new_page()
        await visitor.goto(f"http://127.0.0.1:{port}/?lang=de")
        widget = visitor.locator("[data-onlinesupport]")
        await expect(widget.locator("form.off")).to_be_visible()
        await expect(widget.get_by_role("button", name="Nachricht senden")).to_be_visible()
        box = widget.locator(".launch")
        assert await box.evaluate("e => getComputedStyle(e).left") == "20px"
        await visitor.goto(f"http://127.0.0.1:{port}/")
        await expect(widget.get_by_role("button", name="Envoyer le message")).to_be_visible()
    finally:
        await runner.cleanup()
