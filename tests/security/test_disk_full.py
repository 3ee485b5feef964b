"""A full disk is said plainly, loses nothing, turns the health check red and is logged once
(issue 13, finding 16).

Agents got an HTTP 500, visitors "Something went wrong", /healthz stayed 200, and the log
filled with tracebacks. The server here runs on a 16 MB disk of its own (a tmpfs in its own
mount namespace) that the test fills up and then frees again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest
from playwright.async_api import expect

from conftest import Desk, free_port
from email_helpers import mailbox_form
from mail_servers import USER
from running_server import ADMIN, Running, start

FULL = "cannot store messages right now (disk full)"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def server(tmp_path: Path, smtp_port: int) -> Iterator[Running]:
    running = start(
        tmp_path,
        disk_mb=16,
        settings={"EMAIL_SMTP_PORT": str(smtp_port), "EMAIL_SMTP_HOST": "127.0.0.1"},
    )
    yield running
    running.stop()


def fill(folder: Path) -> Path:
    """Write a file until the disk has no room left."""
    filler = folder / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(bytes(256 * 1024))
        except OSError:
            pass
    return filler


async def health(http: aiohttp.ClientSession, server: Running) -> tuple[int, int]:
    statuses = []
    for url in (server.public_url, server.desk_url):
        async with http.get(url + "/healthz") as response:
            statuses.append(response.status)
    return statuses[0], statuses[1]


def mail_with_file() -> bytes:
    msg = EmailMessage()
    msg["From"] = "carla@customer.test"
    msg["To"] = USER
    msg["Subject"] = "Invoice"
    msg["Message-ID"] = "<invoice-1@customer.test>"
    msg.set_content("The invoice is attached.")
    msg.add_attachment(
        b"%PDF-1.4 " + bytes(300_000), maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    return msg.as_bytes()


async def test_a_full_disk_is_said_plainly_queued_in_the_widget_and_logged_once(
    server: Running, smtp_port: int
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        desk = Desk(http, server.desk_url)
        assert (await desk.signin(ADMIN)).status == 303
        assert (
            await desk.post("/admin/mailboxes", mailbox_form(None, None, smtp_receive="on"))
        ).status == 303
        # A visitor chats through the widget's socket (the public page is an allowed origin).
        ws = await http.ws_connect(server.public_url + "/widget/ws", origin=server.public_url)
        await ws.send_json({"type": "hello"})
        assert (await ws.receive_json())["type"] == "welcome"
        await ws.send_json({"type": "start", "client_id": "c1", "body": "Hello"})
        conversation_id = (await _frame(ws, "ack"))["conversation_id"]
        assert await health(http, server) == (200, 200)

        filler = fill(server.data_dir)
        # Agents write until the store refuses (what the WAL still had room for goes first).
        for n in range(500):
            response = await desk.post_json(
                f"/conversations/{conversation_id}/messages",
                {"body": f"note {n} " + "x" * 19_000, "kind": "note"},
            )
            if response.status != 200:
                break
        assert response.status == 503, await response.text()
        assert FULL in (await response.json())["error"]
        assert await health(http, server) == (503, 503)

        # The visitor's message is not refused: it waits, and the widget is told why.
        await ws.send_json({"type": "send", "client_id": "c2", "body": "Are you there?"})
        refused = await _frame(ws, "error")
        assert refused["retry"] is True and refused["client_id"] == "c2"
        assert FULL in refused["message"]

        # A mail is sent back to try later (451/452, never lost), and leaves no file behind.
        with pytest.raises(aiosmtplib.SMTPResponseException) as later:
            await aiosmtplib.send(
                mail_with_file(),
                sender="carla@customer.test",
                recipients=[USER],
                hostname="127.0.0.1",
                port=smtp_port,
            )
        assert later.value.code in (451, 452)
        attachments = server.data_dir / "attachments"
        assert not attachments.exists() or list(attachments.iterdir()) == []

        filler.unlink()
        # Room again: the widget's retry goes through, the health check is green again.
        await ws.send_json({"type": "send", "client_id": "c2", "body": "Are you there?"})
        assert (await _frame(ws, "ack"))["client_id"] == "c2"
        assert await health(http, server) == (200, 200)
        await ws.close()

    # Said once on the console (the journal), and in the log file if it had room for it.
    console, file = server.stderr.read_text(), server.log_file.read_text()
    assert len(re.findall(r"the disk .* is full", console)) == 1, console[-3000:]
    assert len(re.findall(r"the disk .* is full", file)) <= 1, file[-3000:]
    assert "Traceback" not in console + file, console[-3000:]
    assert server.log_bytes() < 50_000


async def _frame(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


@pytest.mark.browser
async def test_the_widget_keeps_messages_written_while_the_disk_is_full_and_sends_them_later(
    server: Running, new_page
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        desk = Desk(http, server.desk_url)
        assert (await desk.signin(ADMIN)).status == 303
        # An agent online, so the widget offers the chat.
        async with http.ws_connect(server.desk_url + "/api/ws"):
            page = await new_page()
            await page.goto(server.public_url + "/widget/test")
            widget = page.locator("[data-onlinesupport]")
            await widget.get_by_role("button", name="Open chat").click()
            form = widget.locator("form.pre")
            await form.get_by_label("Name").fill("Nora")
            await form.get_by_label("Your question").fill("Do you ship to Norway?")
            await form.get_by_role("button", name="Start chat").click()
            await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)

            filler = fill(server.data_dir)
            box = widget.locator(".chat textarea")
            sent = 0
            # What the database still had room for goes first; then the widget holds on.
            while not await widget.locator(".m.me.pending").count():
                sent += 1
                await box.fill(f"Message {sent}, {'and more ' * 2000}")
                await box.press("Enter")
                await page.wait_for_timeout(300)
                assert sent < 100, "the disk never filled up"
            await expect(widget.locator(".status")).to_contain_text(FULL)
            await expect(box).to_have_value("")  # not given back as refused
            kept = await widget.locator(".m.me.pending").count()

            filler.unlink()
            await expect(widget.locator(".m.me.pending")).to_have_count(0, timeout=20_000)
            await expect(widget.locator(".status")).to_be_hidden()
        async with http.get(server.desk_url + "/api/conversations/1") as response:
            stored = [m["body"] for m in (await response.json())["messages"]]
    assert len(stored) == 1 + sent and kept >= 1, "every message once, none lost"
