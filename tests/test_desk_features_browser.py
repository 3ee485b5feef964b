"""The desk's working tools in Chromium, used the way an agent uses them: who else is here,
merge and split, snooze, actions on several rows and saved views, mentions and alerts, the
keyboard, dark mode and the desk on a phone."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, QUIET, Personas, Server, make_config, sign_in_page, start_server
from email_helpers import add_mailbox, mail, mailbox_form
from onlinesupport.channels.email.intake import Incoming
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import events as events_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import queues as queues_repo

pytestmark = pytest.mark.browser

# Pages drawn during these tests are saved here when the variable names a folder.
SHOTS = os.environ.get("ONLINESUPPORT_TEST_SCREENSHOTS", "")

# Stand-ins for the browser's notifications and a record of the sounds played, so the test
# can see what an agent would see and hear. A desk "elsewhere" (another window has the focus).
SPIES = """
window.__notifications = [];
window.__tones = 0;
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options && options.body }); }
  addEventListener() {}
};
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return createOscillator.call(this); };
document.hasFocus = () => false;
"""


async def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def desk(
    new_page: Any, server: Server, email: str = "amy@example.com", spies: bool = False
) -> Any:
    page = await new_page()
    if spies:
        await page.add_init_script(SPIES)
    await sign_in_page(page, server, email)
    return page


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    """A server on the test clock, with the usual people."""
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, make_config(tmp_path / "data"), clock, loops=(*QUIET, "chat-offers")
        )
        accounts = server.services.accounts
        await accounts.create_first_admin("ada@example.com", "Ada Admin", PASSWORD)
        await accounts.create_agent("amy@example.com", "Amy Agent", "agent", PASSWORD)
        await accounts.create_agent("max@example.com", "Max Manager", "manager", PASSWORD)
        yield server, clock


async def _open(server: Server, name: str, body: str, channel: str = "chat", **more: Any) -> int:
    opened = await server.services.conversations.open(
        channel=channel, customer_name=name, body=body, **more
    )
    return opened.conversation_id


async def _types(server: Server, cid: int) -> list[str]:
    return [e.type for e in await events_repo.for_conversation(server.services.db, cid)]


async def test_agents_see_who_else_views_a_conversation_and_who_is_typing_a_reply(
    server: Server, personas: Personas, new_page: Any
) -> None:
    cid = await _open(server, "Carla", "Where is order 1042?")
    amy, bob = await desk(new_page, server), await desk(new_page, server, "bob@example.com")
    manager = await desk(new_page, server, "max@example.com")
    await amy.goto(f"{server.desk_url}/conversations/{cid}")
    await bob.goto(f"{server.desk_url}/conversations/{cid}")
    await expect(bob.locator("#collision")).to_have_text("Amy Agent is viewing this conversation")
    await expect(amy.locator("#collision")).to_have_text("Bob Agent is viewing this conversation")
    row = manager.locator("#conversation-list li", has_text="Carla")
    await expect(row.locator(".viewing")).to_have_text("viewing: Amy Agent, Bob Agent")

    await amy.get_by_label("Reply").press_sequentially("It ships today")
    await expect(bob.locator("#collision")).to_have_text("Amy Agent is typing a reply…")
    await expect(bob.locator("#typing")).to_have_count(0)  # not "the customer is typing"
    await shot(bob, "collision")

    # Sent: Amy is no longer typing at once, not when the typing line times out (5 s).
    await amy.get_by_role("button", name="Send reply").click()
    await expect(bob.locator(".msg-body", has_text="It ships today")).to_be_visible()
    await expect(bob.locator("#collision")).to_have_text(
        "Amy Agent is viewing this conversation", timeout=2_000
    )

    await amy.goto(f"{server.desk_url}/inbox")
    await expect(bob.locator("#collision")).to_be_hidden()
    await expect(row.locator(".viewing")).to_have_text("viewing: Bob Agent")
    await bob.close()
    await expect(row.locator(".viewing")).to_have_count(0)


async def test_an_agent_merges_a_mail_into_the_chat_and_splits_a_question_out(
    server: Server, personas: Personas, new_page: Any
) -> None:
    services = server.services
    mailbox_id = await add_mailbox(
        services, mailbox_form(None, None, ack_enabled="", smtp_receive="on")
    )
    mailbox = await mailboxes_repo.get(services.db, mailbox_id)
    chat = await _open(
        server, "Carla", "My order 1234 has not arrived.", identity=("visitor", "visitor-1")
    )
    first_mail = mail(subject="Order 1234", body="I also wrote in the chat: order 1234?")
    by_mail = (await services.email.intake.receive(mailbox, Incoming(first_mail))).conversation_id

    amy = await desk(new_page, server)
    await amy.goto(f"{server.desk_url}/conversations/{by_mail}")
    await amy.get_by_text("Merge or split…").click()
    await amy.get_by_label("Merge this conversation into").fill(str(chat))
    await amy.get_by_role("button", name="Merge", exact=True).click()
    await expect(amy).to_have_url(f"{server.desk_url}/conversations/{chat}?view=open")
    messages = amy.locator("#messages li.msg")
    await expect(messages).to_have_count(2)
    await expect(messages.nth(1)).to_contain_text("I also wrote in the chat")
    await expect(messages.nth(1).locator(".merged-from")).to_have_text(f"from #{by_mail} email")
    await expect(amy.locator("#conversation-list")).not_to_contain_text("Order 1234")

    # Carla answers the old mail thread: it shows up in the chat the agent has open.
    reply = mail(
        subject="Re: Order 1234",
        body="Any news? And my invoice 77 is wrong.",
        In_Reply_To=_message_id(first_mail),
    )
    await services.email.intake.receive(mailbox, Incoming(reply))
    await expect(messages.last).to_contain_text("Any news? And my invoice 77 is wrong.")
    await shot(amy, "merged")

    await amy.get_by_text("Merge or split…").click()
    await amy.get_by_label("Split this message into a new conversation").select_option(
        label="Any news? And my invoice 77 is wrong."
    )
    await amy.get_by_label("Subject").fill("Invoice 77")
    await amy.get_by_role("button", name="Split out").click()
    await expect(amy.locator(".conversation-head h1")).to_have_text("Invoice 77")
    await expect(amy.locator(".conversation-head")).to_contain_text(f"Split from #{chat}")
    await expect(amy.locator("#messages .msg-customer .msg-body")).to_have_text(
        "Any news? And my invoice 77 is wrong."
    )
    new_id = int(amy.url.split("/conversations/")[1].split("?")[0])

    await amy.goto(f"{server.desk_url}/conversations/{chat}")
    await expect(amy.locator(".split-into")).to_have_text(f"split into #{new_id}")
    await amy.goto(f"{server.desk_url}/conversations/{by_mail}")
    await expect(amy.locator(".merged-banner").first).to_contain_text(f"Merged into #{chat}")
    await expect(amy.locator("#status")).to_have_text("closed")
    assert "conversation.merged" in await _types(server, by_mail)
    assert {"conversation.merged_in", "conversation.split"} <= set(await _types(server, chat))
    assert "conversation.split_from" in await _types(server, new_id)


def _message_id(raw: bytes) -> str:
    from email import message_from_bytes

    return message_from_bytes(raw)["Message-ID"]


async def test_a_snoozed_conversation_comes_back_at_its_time_or_when_the_customer_answers(
    clocked: tuple[Server, ManualClock], new_page: Any
) -> None:
    server, clock = clocked
    later = await _open(server, "Lena Later", "Call me back next week")
    waiting = await _open(server, "Will Wait", "I will send the photo")
    amy = await desk(new_page, server)
    await amy.goto(f"{server.desk_url}/conversations/{later}?view=open")
    await amy.get_by_text("Snooze…").click()
    await amy.get_by_role("button", name="For an hour").click()
    await expect(amy.locator("#snoozed")).to_contain_text("Snoozed until")
    open_list = amy.locator("#conversation-list")
    await expect(open_list).not_to_contain_text("Lena Later")

    await amy.goto(f"{server.desk_url}/conversations/{waiting}?view=open")
    await amy.keyboard.press("s")
    await amy.get_by_role("button", name="Until the customer answers").click()
    await expect(amy.locator("#snoozed")).to_have_text("Snoozed until the customer answers.")
    await amy.get_by_role("link", name="Snoozed").first.click()
    await expect(amy.locator("#conversation-list li")).to_have_count(2)
    await expect(amy.locator("#conversation-list .tag.snoozed")).to_have_count(2)
    await shot(amy, "snoozed")

    await amy.goto(f"{server.desk_url}/inbox?view=open")
    await expect(open_list).to_contain_text("No conversations here.")
    clock.advance(minutes=61)
    assert await server.services.snoozes.wake_due() == 1
    await expect(open_list).to_contain_text("Lena Later")
    await expect(open_list).not_to_contain_text("Will Wait")
    customer = (
        await server.services.db.fetch_one(
            "SELECT customer_id FROM conversations WHERE id = ?", (waiting,)
        )
    )[0]
    await server.services.conversations.post(waiting, Actor.customer(customer), "Here it is")
    await expect(open_list).to_contain_text("Will Wait")
    assert (await _types(server, later))[-1] == "conversation.woke"

    # A time of the agent's choosing, picked in the form.
    await amy.goto(f"{server.desk_url}/conversations/{later}?view=open")
    await amy.get_by_text("Snooze…").click()
    await amy.get_by_label("Until").fill("2026-01-08T09:30")
    await amy.get_by_role("button", name="Snooze until then").click()
    await expect(amy.locator("#snoozed")).to_contain_text("Snoozed until")
    until = (
        await server.services.db.fetch_one(
            "SELECT snoozed_until FROM conversations WHERE id = ?", (later,)
        )
    )[0]
    assert until.startswith("2026-01-08T09:30")  # the browser's time zone here is UTC


async def test_a_manager_tags_and_resolves_selected_rows_and_shares_a_saved_view(
    server: Server, personas: Personas, new_page: Any
) -> None:
    ann = await _open(server, "Ann", "Refund please", channel="email")
    ben = await _open(server, "Ben", "Refund too", channel="email")
    await _open(server, "Cem", "Just a chat")
    manager = await desk(new_page, server, "max@example.com")
    rows = manager.locator("#conversation-list li")
    await expect(rows).to_have_count(3)
    await manager.get_by_label("Select Ann").check()
    await manager.get_by_label("Select Ben").check()
    await expect(manager.locator("#bulk-count")).to_have_text("2 selected")
    await manager.get_by_label("Action for the selected conversations").select_option("tag")
    await manager.locator("#bulk").get_by_label("Tag").fill("refund")
    await manager.get_by_role("button", name="Apply to selected").click()
    await expect(manager.locator("#bulk output")).to_have_text("2 of 2 changed")
    await manager.get_by_label("Select Ann").check()
    await manager.get_by_label("Action for the selected conversations").select_option("assign")
    await manager.get_by_label("Assign to").select_option(label="to Bob Agent")
    await manager.get_by_role("button", name="Apply to selected").click()
    await expect(rows.filter(has_text="Ann").locator(".assignee")).to_have_text("Bob Agent")

    await manager.get_by_text("Filters").click()
    await manager.locator("#filter-form").get_by_label("Channel").select_option("email")
    await manager.locator("#filter-form").get_by_label("Tag").fill("refund")
    await manager.locator("#filter-form").get_by_role("button", name="Apply").click()
    await expect(rows).to_have_count(2)
    await manager.get_by_label("Save what is shown as a view").fill("Refunds by mail")
    await manager.get_by_label("for everyone").check()
    await manager.get_by_role("button", name="Save view").click()
    await expect(manager.get_by_role("link", name="Refunds by mail")).to_have_attribute(
        "aria-current", "page"
    )
    await shot(manager, "saved-view")

    amy = await desk(new_page, server)
    await amy.get_by_role("link", name="Refunds by mail").click()
    await expect(amy.locator("#conversation-list li")).to_have_count(2)
    await expect(amy.get_by_label("for everyone")).to_have_count(0)  # only managers share
    # A new conversation that fits arrives live, and the filter holds.
    dora = await _open(server, "Dora", "Refund for order 9", channel="email")
    await _open(server, "Eve", "Another chat")
    await manager.goto(f"{server.desk_url}/inbox")
    await manager.get_by_label("Select Dora").check()
    await manager.get_by_label("Action for the selected conversations").select_option("tag")
    await manager.locator("#bulk").get_by_label("Tag").fill("refund")
    await manager.get_by_role("button", name="Apply to selected").click()
    await expect(amy.locator("#conversation-list li")).to_have_count(3)
    await expect(amy.locator("#conversation-list")).not_to_contain_text("Eve")

    await amy.locator("#select-all").check()
    await expect(amy.locator("#bulk-count")).to_have_text("3 selected")
    await amy.get_by_label("Action for the selected conversations").select_option("resolve")
    await amy.get_by_role("button", name="Apply to selected").click()
    await expect(amy.locator("#conversation-list")).to_contain_text("No conversations here.")
    for cid in (ann, ben, dora):
        assert (await _types(server, cid))[-1] == "conversation.resolved"


async def test_a_colleague_mentioned_in_a_note_is_alerted_with_a_notification_and_a_sound(
    server: Server, personas: Personas, new_page: Any
) -> None:
    cid = await _open(server, "Carla", "The invoice is wrong")
    bob = await desk(new_page, server, "bob@example.com", spies=True)
    amy = await desk(new_page, server)
    await amy.goto(f"{server.desk_url}/conversations/{cid}")
    box = amy.get_by_label("Reply")
    await box.press_sequentially("@Bo")
    await expect(amy.locator("#mention-menu")).to_have_text("Bob Agent")
    await box.press("Enter")
    await expect(box).to_have_value("@Bob Agent ")
    await expect(amy.locator("#composer-mode")).to_contain_text("Internal note")
    await box.press_sequentially("can you check invoice 77?")
    await box.press("Control+Enter")
    await expect(amy.locator("#messages .msg-note .msg-body")).to_have_text(
        "@Bob Agent can you check invoice 77?"
    )

    alert = bob.locator("#alerts .alert")
    await expect(alert).to_contain_text("Amy Agent mentioned you")
    assert await bob.evaluate("window.__notifications") == [
        {"title": "Amy Agent mentioned you", "body": f"In a note on #{cid}"}
    ]
    assert await bob.evaluate("window.__tones") == 0, "no sound before Bob used the page"
    await expect(bob.locator('[data-count="mentions"]')).to_have_text("1")
    await bob.get_by_role("link", name="Mentions").first.click()
    await expect(bob.locator("#conversation-list li")).to_have_count(1)
    await expect(bob.locator("#conversation-list")).to_contain_text("Carla")

    # Bob has used the page: the next alert is heard. A new chat arrives.
    await bob.locator("main").click(position={"x": 5, "y": 5})
    await _open(server, "Nina New", "Hello, anyone there?")
    await expect(alert.filter(has_text="New chat")).to_be_visible()
    assert await bob.evaluate("window.__tones") == 2  # two short notes
    assert (await bob.evaluate("window.__notifications"))[-1]["title"] == "New chat"
    await expect(bob).to_have_title("(1) Inbox · OnlineSupport")


async def test_each_agent_switches_the_alerts_they_want(
    server: Server, personas: Personas, new_page: Any
) -> None:
    bob = await desk(new_page, server, "bob@example.com", spies=True)
    await bob.get_by_role("link", name="Alerts").click()
    await bob.get_by_label("A new chat arrives: sound").uncheck()
    await bob.get_by_label("A new chat arrives: desktop notification").uncheck()
    await bob.get_by_role("button", name="Save").click()
    await expect(bob.locator(".notice")).to_have_text("Saved.")
    await expect(bob.get_by_label("A new chat arrives: sound")).not_to_be_checked()
    await expect(bob.get_by_label("A chat is offered to me: sound")).to_be_checked()
    await expect(bob.locator("#permission-state")).to_have_text(
        "Desktop notifications are allowed in this browser."
    )
    await bob.get_by_role("button", name="Play the sound").click()
    await expect(bob.get_by_role("button", name="Played")).to_be_visible()
    await shot(bob, "alerts")

    await bob.get_by_role("link", name="Inbox").click()
    await expect(bob.locator("#live")).to_have_text("● Live")
    await bob.locator("main").click(position={"x": 5, "y": 5})
    await _open(server, "Nina New", "Hello?")
    await expect(bob.locator("#alerts .alert")).to_contain_text("New chat")
    assert await bob.evaluate("window.__tones") == 0
    assert await bob.evaluate("window.__notifications") == []


async def test_a_manager_hears_of_late_answers_and_an_agent_of_chats_offered_to_them(
    clocked: tuple[Server, ManualClock], new_page: Any
) -> None:
    server, clock = clocked
    services = server.services
    amy_id, max_id = 2, 3

    def configure(conn: sqlite3.Connection) -> None:
        queues_repo.set_members(conn, 1, [amy_id], [max_id])
        queues_repo.set_offers(conn, 1, True, 60)

    await services.db.write(configure)
    manager = await desk(new_page, server, "max@example.com", spies=True)
    await manager.get_by_role("link", name="Alerts").click()
    await manager.get_by_label("An answer I manage is due soon or late: sound").uncheck()
    await manager.get_by_role("button", name="Save").click()
    await manager.get_by_role("link", name="Inbox").click()
    await expect(manager.locator("#live")).to_have_text("● Live")
    amy = await desk(new_page, server, spies=True)
    for page in (manager, amy):
        await page.locator("main").click(position={"x": 5, "y": 5})

    cid = await _open(server, "Olga", "Can someone help me choose a size?")
    offer = amy.locator("#alerts .alert", has_text="A chat is offered to you")
    await expect(offer).to_contain_text("Olga")
    await expect(amy.locator("#offer")).to_be_visible()
    assert {"title": "A chat is offered to you", "body": "Olga"} in await amy.evaluate(
        "window.__notifications"
    )
    assert await amy.evaluate("window.__tones") >= 2

    clock.advance(minutes=49)  # 80% of the general queue's hour for a first answer
    assert await services.sla.check() == 1
    late = f"#{cid}: the first answer is due soon"
    await expect(manager.locator("#alerts .alert", has_text=late)).to_be_visible()
    assert (await manager.evaluate("window.__notifications"))[-1]["title"] == late
    tones = await manager.evaluate("window.__tones")
    await expect(amy.locator("#alerts .alert", has_text=late)).to_have_count(0)
    clock.advance(minutes=11)
    assert await services.sla.check() == 1
    await expect(manager.locator("#alerts .alert", has_text="is late")).to_be_visible()
    assert await manager.evaluate("window.__tones") == tones, "the manager switched this sound off"


async def test_the_keyboard_moves_through_the_inbox_and_does_the_daily_work(
    server: Server, personas: Personas, new_page: Any
) -> None:
    ids = [await _open(server, name, f"Question from {name}") for name in ("Ann", "Ben", "Cem")]
    amy = await desk(new_page, server)
    await amy.keyboard.press("?")
    sheet = amy.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(sheet).to_be_visible()
    for key in ("?", "j", "k", "r", "n", "Ctrl+Enter", "e", "a", "s", "x", "/", "Esc"):
        await expect(sheet.locator("dt kbd", has_text=key).first).to_be_visible()
    await shot(amy, "shortcuts")
    await amy.keyboard.press("Escape")
    await expect(sheet).to_be_hidden()

    newest_first = list(reversed(ids))
    await amy.keyboard.press("j")
    await expect(amy).to_have_url(f"{server.desk_url}/conversations/{newest_first[0]}?view=open")
    await expect(amy.locator("#live")).to_have_text("● Live")
    await amy.keyboard.press("j")
    await expect(amy).to_have_url(f"{server.desk_url}/conversations/{newest_first[1]}?view=open")
    await expect(amy.locator("#live")).to_have_text("● Live")
    await amy.keyboard.press("k")
    await expect(amy).to_have_url(f"{server.desk_url}/conversations/{newest_first[0]}?view=open")
    await expect(amy.locator("#live")).to_have_text("● Live")

    await amy.keyboard.press("a")
    await expect(amy.locator("#assignee")).to_have_text("Amy Agent")
    await amy.keyboard.press("n")
    await expect(amy.get_by_label("Reply")).to_be_focused()
    await amy.keyboard.type("Checked the stock.")
    await amy.keyboard.press("Control+Enter")
    await expect(amy.locator("#messages .msg-note .msg-body")).to_have_text("Checked the stock.")
    await amy.keyboard.press("Escape")
    await expect(amy.get_by_label("Reply")).not_to_be_focused()
    await amy.keyboard.press("r")
    await expect(amy.get_by_label("Reply")).to_be_focused()
    await expect(amy.locator("#composer-mode")).to_be_hidden()
    await amy.keyboard.type("It is on its way.")
    await amy.keyboard.press("Control+Enter")
    await expect(amy.locator("#messages .msg-agent.msg-message .msg-body")).to_have_text(
        "It is on its way."
    )
    await amy.keyboard.press("Escape")

    await amy.keyboard.press("x")
    await expect(amy.locator("#bulk-count")).to_have_text("1 selected")
    await amy.keyboard.press("s")
    await expect(amy.get_by_role("button", name="For an hour")).to_be_focused()
    await amy.keyboard.press("Escape")
    await expect(amy.locator("#snooze-menu")).not_to_have_attribute("open", "")
    await amy.keyboard.press("e")
    await expect(amy).to_have_url(f"{server.desk_url}/conversations/{newest_first[1]}?view=open")
    assert (await _types(server, newest_first[0]))[-1] == "conversation.resolved"
    await expect(amy.locator("#live")).to_have_text("● Live")
    await amy.keyboard.press("/")
    await expect(amy.locator("#topsearch")).to_be_focused()


async def _colours(page: Any) -> dict[str, float]:
    """Contrast ratios of the desk's text against what is behind it."""
    return await page.evaluate("""() => {
      const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      const bg = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; if (!c.endsWith(", 0)") && c !== "transparent") return c; } return "rgb(255, 255, 255)"; };
      const of = (sel) => { const el = document.querySelector(sel); return ratio(getComputedStyle(el).color, bg(el)); };
      return { page: lum(getComputedStyle(document.body).backgroundColor), text: of(".msg-body"),
               subject: of(".conversation-list .subject"), link: of(".views a:not([aria-current])"),
               topbar: of(".topbar .brand"), meta: of(".conversation-head .meta"), input: of("#reply-body") };
    }""")


async def test_the_desk_follows_the_systems_dark_mode_with_readable_text(
    server: Server, personas: Personas, browser: Any
) -> None:
    cid = await _open(server, "Carla", "Is the desk dark at night?")
    for scheme in ("dark", "light"):
        context = await browser.new_context(
            viewport={"width": 1366, "height": 768}, color_scheme=scheme
        )
        try:
            page = await context.new_page()
            await sign_in_page(page, server, "amy@example.com")
            await page.goto(f"{server.desk_url}/conversations/{cid}")
            colours = await _colours(page)
            await shot(page, f"conversation-{scheme}")
        finally:
            await context.close()
        if scheme == "dark":
            assert colours["page"] < 0.05, colours
        else:
            assert colours["page"] > 0.8, colours
        assert min(colours["text"], colours["input"], colours["topbar"]) >= 7, (scheme, colours)
        assert min(colours["subject"], colours["link"], colours["meta"]) >= 4.5, (scheme, colours)


async def test_a_manager_on_a_phone_reads_the_list_then_one_conversation_and_answers(
    server: Server, personas: Personas, browser: Any
) -> None:
    cid = await _open(server, "Carla", "Is anyone there? " * 8)
    await _open(server, "Dan", "A second question")
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = await context.new_page()
        page.set_default_timeout(10_000)
        await sign_in_page(page, server, "max@example.com")
        # A phone widens the page to fit what overflows: compare with the phone's own width.
        no_overflow = "document.documentElement.scrollWidth <= 390 && window.innerWidth === 390"
        await expect(page.locator("#conversation-list li")).to_have_count(2)
        await expect(page.get_by_text("Select a conversation from the list.")).to_be_hidden()
        assert await page.evaluate(no_overflow)
        await shot(page, "phone-inbox")

        await page.locator(f'a[data-conversation-id="{cid}"]').click()
        await expect(page.locator("#conversation-list")).to_be_hidden()
        await expect(page.locator("#messages")).to_contain_text("Is anyone there?")
        await expect(page.locator("#live")).to_have_text("● Live")
        assert await page.evaluate(no_overflow)
        await page.get_by_label("Reply").fill("Yes, I am looking at it from my phone.")
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.locator("#messages .msg-agent .msg-body")).to_have_text(
            "Yes, I am looking at it from my phone."
        )
        await page.get_by_text("Snooze…").click()
        await expect(page.get_by_role("button", name="For an hour")).to_be_in_viewport()
        assert await page.evaluate(no_overflow)
        await shot(page, "phone-conversation")
        await page.get_by_role("link", name="← All conversations").click()
        await expect(page.locator("#conversation-list li")).to_have_count(2)
    finally:
        await context.close()
