"""Smaller things a new user hit (issue 15, bug 9): each checked the way the user met it."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from conftest import PASSWORD, ROOT, Desk, Personas, Server, make_config, start_server
from onlinesupport.core.conversations import Actor


async def test_both_listeners_have_a_favicon_and_their_pages_name_it(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        for base, page in ((server.public_url, "/contact"), (server.desk_url, "/signin")):
            async with http.get(base + "/favicon.ico") as response:
                assert response.status == 200
                assert response.content_type == "image/x-icon"
            async with http.get(base + "/favicon.svg") as response:
                assert response.status == 200 and b"<svg" in await response.read()
            async with http.get(base + page) as response:
                assert '<link rel="icon" href="/favicon.svg"' in await response.text()


def test_the_readme_settings_commands_work_on_a_fresh_machine(tmp_path: Path) -> None:
    """The Settings section's shell lines, run as written in a home without ~/.config."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Settings") :]
    block = section[section.index("```sh") + 5 : section.index("```", section.index("```sh") + 5)]
    script = block.replace(".venv/bin/onlinesupport", f"{sys.executable} -m onlinesupport")
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("XDG_CONFIG_HOME", None)
    done = subprocess.run(
        ["sh", "-ec", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    written = tmp_path / ".config" / "onlinesupport" / "onlinesupport.toml"
    assert "[desk]" in written.read_text()


def test_the_package_description_promises_only_what_exists() -> None:
    control = (ROOT / "installer" / "linux" / "debian" / "control").read_text()
    routes = (ROOT / "src" / "onlinesupport" / "web" / "desk" / "routes.py").read_text()
    if '"/reports' not in routes:
        assert "report" not in control.lower()


async def test_replying_assigns_an_unassigned_conversation_to_the_one_who_replied(
    server: Server, personas: Personas, client_factory
) -> None:
    conversations = server.services.conversations
    opened = await conversations.open(channel="email", customer_name="Carla", body="Hello?")
    taken = await conversations.open(channel="email", customer_name="Dan", body="Hi")
    await conversations.assign(
        taken.conversation_id, personas.other_agent, Actor.agent(personas.other_agent, "Bob")
    )
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    for conversation, kind in ((opened, "note"), (opened, "message"), (taken, "message")):
        response = await amy.post_json(
            f"/conversations/{conversation.conversation_id}/messages",
            {"body": "On it", "kind": kind},
        )
        assert response.status == 200, await response.text()
    assignee = "SELECT assignee_id FROM conversations WHERE id = ?"
    db = server.services.db
    assert (await db.fetch_one(assignee, (opened.conversation_id,)))[0] == personas.agent
    assert (await db.fetch_one(assignee, (taken.conversation_id,)))[0] == personas.other_agent, (
        "someone else's conversation stays theirs"
    )


async def test_replying_leaves_the_assignment_alone_when_the_setting_is_off(
    tmp_path: Path, client_factory
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, make_config(tmp_path / "data", desk_assign_on_reply=False)
        )
        amy_id = await server.services.accounts.create_agent(
            "amy@example.com", "Amy", "admin", PASSWORD
        )
        opened = await server.services.conversations.open(channel="email", body="Hello?")
        amy: Desk = client_factory(server.desk_url)
        await amy.signin("amy@example.com")
        response = await amy.post_json(
            f"/conversations/{opened.conversation_id}/messages", {"body": "On it"}
        )
        assert response.status == 200
        row = await server.services.db.fetch_one(
            "SELECT assignee_id FROM conversations WHERE id = ?", (opened.conversation_id,)
        )
        assert row[0] is None and amy_id


async def test_the_board_shows_a_chat_by_its_first_message_like_the_inbox(
    server: Server, personas: Personas, client_factory
) -> None:
    await server.services.conversations.open(
        channel="chat", customer_name="Nora", body="My brakes squeal in the rain"
    )
    max_: Desk = client_factory(server.desk_url)
    await max_.signin("max@example.com")
    board = await (await max_.get("/board")).text()
    inbox = await (await max_.get("/inbox")).text()
    assert "My brakes squeal in the rain" in inbox
    assert "My brakes squeal in the rain" in board
    assert "(no subject)" not in board


@pytest.mark.browser
async def test_the_contact_form_shows_no_empty_suggestions_box(server: Server, new_page) -> None:
    await server.services.knowledge.save(
        None,
        {
            "title": "Returns and refunds",
            "status": "published",
            "visibility": "public",
            "body": "You can return any item within 30 days and get a full refund.",
        },
        None,
    )
    page = await new_page()
    await page.goto(server.public_url + "/contact")
    message = page.get_by_label("Your message")
    await message.fill("My parcel never arrived at the office")
    await page.wait_for_timeout(1200)
    await expect(page.locator("#suggestions")).to_have_count(0)
    await message.fill("Can I get a refund for a return?")
    await expect(page.locator("#suggestions")).to_contain_text("Returns and refunds")
    await message.fill("My parcel never arrived at the office, still")
    await expect(page.locator("#suggestions")).to_have_count(0)


async def test_the_widget_stays_small_on_the_wire(server: Server) -> None:
    """Every visitor of every customer's website downloads it: 8.4 + 1.9 KB gzipped today."""
    sizes = {}
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        for name in ("widget.js", "widget.css"):
            async with http.get(
                f"{server.public_url}/{name}", headers={"Accept-Encoding": "gzip"}
            ) as response:
                assert response.headers["Content-Encoding"] == "gzip"
                sizes[name] = len(await response.read())
    assert sizes["widget.js"] < 10_000 and sizes["widget.css"] < 2_500, sizes
