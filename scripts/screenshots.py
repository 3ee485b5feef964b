"""Screenshots of the desk and the widget at 1366x768, for docs/screenshots/ and the README.

    .venv/bin/python scripts/screenshots.py docs/screenshots after

starts a throwaway instance on free local ports with a few conversations, a company website of
another origin (with the widget's script tag), signs in as an admin in Debian's Chromium and
saves PREFIX-inbox.png, -conversation.png, -board.png, -widget.png, -widget-offline.png and
-wizard.png into FOLDER. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from aiohttp import web
from playwright.async_api import async_playwright, expect

from onlinesupport import app
from onlinesupport.channels.chat import widget_settings
from onlinesupport.config import Config
from onlinesupport.core.conversations import Actor

PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]
SIZE = {"width": 1366, "height": 768}
WEBSITE = """<!doctype html><html lang="en"><head><title>Brakes &amp; Bikes</title>
<style>body{font:18px Georgia,serif;margin:0;background:#fbf7ef}
header{background:#33261a;color:#fff;padding:24px}
main{padding:24px;max-width:700px} div{border:2px dashed #c00;padding:12px}</style></head>
<body><header><h1>Brakes &amp; Bikes</h1></header><main><h2>Spring service</h2>
<p>Bring your bike in for a full check of brakes, gears and tyres.</p></main>
<script src="{support}/widget.js" async></script></body></html>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def website(stack: AsyncExitStack, support: str) -> str:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=WEBSITE.replace("{support}", support), content_type="text/html")

    site = web.Application()
    site.router.add_get("/", page)
    runner = web.AppRunner(site)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}"


async def demo_data(services) -> int:
    conversations = services.conversations
    await services.accounts.create_agent("ada@example.com", "Ada Admin", "admin", PASSWORD)
    amy = await services.accounts.create_agent("amy@example.com", "Amy Agent", "agent", PASSWORD)
    await services.branding.save("Brakes & Bikes", None)
    await conversations.open(
        channel="email",
        customer_name="Dan Doe",
        identity=("email", "dan@example.com"),
        subject="Refund for order 981",
        body="The saddle I ordered was the wrong size. Can I get a refund?",
    )
    await conversations.open(
        channel="form",
        customer_name="Lee Park",
        identity=("email", "lee@example.com"),
        subject="Opening hours at Easter",
        body="Are you open on Easter Monday?",
    )
    opened = await conversations.open(
        channel="chat",
        customer_name="Carla Customer",
        identity=("email", "carla@example.com"),
        body="Hello, my disc brakes squeal when it rains. Is that normal?",
        page_url="https://brakes.example.com/service",
        page_title="Spring service",
    )
    await conversations.assign(opened.conversation_id, amy, Actor.agent(amy, "Amy Agent"))
    await conversations.post(
        opened.conversation_id,
        Actor.agent(amy, "Amy Agent"),
        "Hi Carla! A little noise in the wet is common. Do they squeal when dry too?",
    )
    await conversations.post(
        opened.conversation_id,
        Actor.customer(opened.customer_id, "Carla"),
        "Only when wet, and only the front one.",
    )
    return opened.conversation_id


async def main(folder: Path, prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onlinesupport-shots-") as data:
        config = Config(
            storage_data_dir=data,
            public_host="127.0.0.1",
            public_port=0,
            desk_host="127.0.0.1",
            desk_port=0,
            storage_backups_keep=0,
        )
        async with AsyncExitStack() as stack:
            services, listening = await app.start(stack, config)
            desk = listening.desk_url.replace("localhost", "127.0.0.1")
            public = listening.public_url.replace("localhost", "127.0.0.1")
            chat_id = await demo_data(services)
            site = await website(stack, public)
            current = await widget_settings.load(services.db)
            await widget_settings.save(
                services.db,
                services.clock,
                dataclasses.replace(
                    current, allowed_origins=(site,), title="Chat with Brakes & Bikes"
                ),
            )
            playwright = await stack.enter_async_context(async_playwright())
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            stack.push_async_callback(browser.close)

            async def shot(page, name: str) -> None:
                await page.wait_for_timeout(400)
                await page.screenshot(path=str(folder / f"{prefix}-{name}.png"))

            visitor_context = await browser.new_context(viewport=SIZE)
            stack.push_async_callback(visitor_context.close)
            visitor = await visitor_context.new_page()
            await visitor.goto(site + "/")
            await visitor.get_by_role("button", name="Open chat").click()
            await expect(visitor.locator("[data-onlinesupport] form.off")).to_be_visible()
            await shot(visitor, "widget-offline")

            context = await browser.new_context(viewport=SIZE)
            stack.push_async_callback(context.close)
            page = await context.new_page()
            await page.goto(desk + "/signin")
            await page.get_by_label("Email address").fill("ada@example.com")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.locator("#live")).to_have_text("● Live")
            await shot(page, "inbox")
            await page.goto(f"{desk}/conversations/{chat_id}")
            await expect(page.locator("#live")).to_have_text("● Live")
            await shot(page, "conversation")

            await visitor.reload()
            widget = visitor.locator("[data-onlinesupport]")
            await widget.locator("form.pre textarea").fill("Do you fit tubeless tyres?")
            await widget.locator("form.pre button[type=submit]").click()
            await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)
            await page.goto(desk + "/inbox")
            await page.locator("#conversation-list a", has_text="Do you fit").first.click()
            await page.get_by_label("Reply").fill("Yes, while you wait: about 20 minutes a wheel.")
            await page.get_by_role("button", name="Send reply").click()
            await expect(widget.locator(".m:not(.me)")).to_have_count(1)
            await shot(visitor, "widget")

            await page.goto(desk + "/board")
            await shot(page, "board")
            await page.goto(desk + "/welcome/company")
            await shot(page, "wizard")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
