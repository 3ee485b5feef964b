"""Canned replies: who manages which, and inserting one with `/` in the desk."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, Desk, Personas, Server


async def test_shared_replies_are_for_managers_personal_ones_for_everyone(
    server: Server, personas: Personas, client_factory
) -> None:
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    denied = await amy.post(
        "/canned", {"shortcut": "hi", "title": "Hi", "body": "Hello!", "scope": "shared"}
    )
    assert denied.status == 403
    assert (
        await amy.post("/canned", {"shortcut": "/Mine", "title": "Mine", "body": "Amy's own"})
    ).status == 303
    max_: Desk = client_factory(server.desk_url)
    await max_.signin("max@example.com")
    assert (
        await max_.post(
            "/canned",
            {
                "shortcut": "ship",
                "title": "Shipping times",
                "body": "Hi {customer.first_name}, 3 days.",
                "scope": "shared",
            },
        )
    ).status == 303
    again = await max_.post(
        "/canned", {"shortcut": "ship", "title": "x", "body": "y", "scope": "shared"}
    )
    assert again.status == 400 and "/ship exists already" in await again.text()
    bad = await amy.post("/canned", {"shortcut": "no spaces", "title": "x", "body": "y"})
    assert bad.status == 400 and "shortcut" in await bad.text()
    listed = await (await amy.get("/api/canned")).json()
    assert [(r["shortcut"], r["owner_id"]) for r in listed["replies"]] == [
        ("mine", personas.agent),
        ("ship", None),
    ]
    assert [r["shortcut"] for r in (await (await max_.get("/api/canned")).json())["replies"]] == [
        "ship"
    ]
    shared_id = listed["replies"][1]["id"]
    assert (await amy.post(f"/canned/{shared_id}/delete")).status == 403
    bob: Desk = client_factory(server.desk_url)
    await bob.signin("bob@example.com")
    assert (await bob.post(f"/canned/{listed['replies'][0]['id']}/delete")).status == 403
    assert (await max_.post(f"/canned/{shared_id}/delete")).status == 303


@pytest.mark.browser
async def test_an_agent_inserts_a_canned_reply_with_slash(
    server: Server, personas: Personas, new_page
) -> None:
    await server.services.canned.add(
        personas.manager,
        True,
        shared=True,
        shortcut="ship",
        title="Shipping times",
        body="Hi {customer.first_name}, it ships in 3 days. {agent.name}",
    )
    await server.services.canned.add(
        personas.manager,
        True,
        shared=True,
        shortcut="refund",
        title="Refunds",
        body="Refunds take a week.",
    )
    opened = await server.services.conversations.open(
        channel="chat", customer_name="Carla Diaz", body="When will it ship?"
    )
    page = await new_page()
    await page.goto(server.desk_url + "/signin")
    await page.get_by_label("Email address").fill("amy@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"{server.desk_url}/conversations/{opened.conversation_id}")
    box = page.get_by_label("Reply")
    await box.press_sequentially("/")
    menu = page.get_by_role("listbox", name="Canned replies")
    await expect(menu.get_by_role("option")).to_have_count(2)
    await box.press_sequentially("sh")
    await expect(menu.get_by_role("option")).to_have_text(["/ship Shipping times"])
    await box.press("Enter")
    await expect(box).to_have_value("Hi Carla, it ships in 3 days. Amy Agent")
    await expect(menu).to_be_hidden()
    await box.press("Control+Enter")
    await expect(page.locator("#messages .msg-agent .msg-body")).to_have_text(
        ["Hi Carla, it ships in 3 days. Amy Agent"]
    )
