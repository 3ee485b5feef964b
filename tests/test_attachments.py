"""Files in conversations: checked by content, size-limited, reachable only by participants."""

from __future__ import annotations

import base64
import re

import aiohttp
import pytest
from playwright.async_api import expect

from conftest import Desk, Personas, Server
from onlinesupport.core.attachments import MAX_SIZE, clean_filename, sniff
from test_chat_protocol import SITE, Visitor, allow

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize(
    "head, expected",
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        ("Grüße, order 17\n".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00", None),
        (b"\x7fELF\x02\x01\x01\x00", None),
    ],
)
def test_the_type_is_what_the_bytes_say(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


def test_file_names_lose_paths_and_odd_characters() -> None:
    assert clean_filename('C:\\Users\\x\\..\\invoice".pdf') == "invoice.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("\x00\n") == "file"


def _form(data: bytes, name: str, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def test_agents_send_and_open_files(
    server: Server, personas: Personas, client_factory
) -> None:
    opened = await server.services.conversations.open(channel="chat", body="Hi")
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    url = (
        f"{server.desk_url}/conversations/{opened.conversation_id}/attachments"
        f"?csrf_token={desk.csrf}"
    )
    response = await desk.session.post(
        url, data=_form(PNG, "pixel.png", client_id="f1"), headers={"Accept": "application/json"}
    )
    assert response.status == 200, await response.text()
    message = (await response.json())["message"]
    assert message["body"] == "pixel.png"
    [attachment] = message["attachments"]
    assert (attachment["content_type"], attachment["size"]) == ("image/png", len(PNG))
    got = await desk.get(f"/attachments/{attachment['id']}")
    assert got.status == 200 and await got.read() == PNG
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"].startswith("inline")
    again = await desk.session.post(
        url, data=_form(PNG, "pixel.png", client_id="f1"), headers={"Accept": "application/json"}
    )
    assert (await again.json())["duplicate"] is True
    folder = server.services.files.folder
    assert len(list(folder.iterdir())) == 1, "a retried upload leaves no second file behind"
    refused = await desk.session.post(url, data=_form(b"MZ\x90\x00program", "setup.exe"))
    assert refused.status == 400 and "can be sent" in await refused.text()
    too_big = await desk.session.post(url, data=_form(b"a" * (MAX_SIZE + 1), "big.txt"))
    assert too_big.status == 400 and "at most 10 MB" in await too_big.text()
    assert len(list(folder.iterdir())) == 1, "refused files are not kept"
    no_token = await desk.session.post(url.split("?")[0], data=_form(PNG, "x.png"))
    assert no_token.status == 403
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(
            f"{server.desk_url}/attachments/{attachment['id']}", allow_redirects=False
        ) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/signin")


async def test_visitors_send_files_only_into_their_own_chat(server: Server) -> None:
    await allow(server, SITE)
    async with aiohttp.ClientSession() as http:
        v, other = Visitor(http, server), Visitor(http, server)
        await v.connect()
        await v.send(type="start", client_id="c1", body="Here is the damage")
        v.conversation_id = (await v.receive("ack"))["conversation_id"]
        await other.connect()
        upload = server.public_url + "/widget/upload"
        headers = {"Origin": SITE, "Accept": "application/json"}
        fields = {"token": v.token, "conversation_id": str(v.conversation_id), "client_id": "f1"}
        async with http.post(upload, data=_form(PNG, "damage.png", **fields), headers=headers) as r:
            assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == SITE
            assert (await r.json())["seq"] == 2
        frame = await v.receive("message")
        while frame["seq"] != 2:
            frame = await v.receive("message")
        [attachment] = frame["attachments"]
        assert re.fullmatch(r"/widget/files/\d+/\d+/[0-9a-f]{32}", attachment["url"])
        async with http.get(server.public_url + attachment["url"]) as r:
            assert r.status == 200 and await r.read() == PNG
        forged = re.sub(r"[0-9a-f]{32}$", "0" * 32, attachment["url"])
        async with http.get(server.public_url + forged) as r:
            assert r.status == 404
        theirs = {**fields, "token": other.token}
        async with http.post(upload, data=_form(PNG, "x.png", **theirs), headers=headers) as r:
            assert r.status == 403 and r.headers["Access-Control-Allow-Origin"] == SITE
            assert "Start a chat" in (await r.json())["error"]
        async with http.post(
            upload,
            data=_form(PNG, "x.png", **fields),
            headers={"Origin": "https://evil.example.com"},
        ) as r:
            assert r.status == 403
        await v.close()
        await other.close()
    assert len(list(server.services.files.folder.iterdir())) == 1


@pytest.mark.browser
async def test_files_both_ways_in_the_browser(
    server: Server, personas: Personas, tmp_path, new_page
) -> None:
    from contextlib import AsyncExitStack

    from test_widget_browser import desk_page, start_chat, start_website

    async with AsyncExitStack() as stack:
        website = await start_website(stack, server.public_url)
        await allow(server, website)
        agent = await desk_page(new_page, server)
        visitor, widget = await start_chat(new_page, website, "The box arrived crushed")
        photo = tmp_path / "crushed.png"
        photo.write_bytes(PNG)
        await widget.locator("input.pick").set_input_files(str(photo))
        await expect(widget.locator(".m.me img")).to_have_attribute("alt", "crushed.png")
        await agent.locator("#conversation-list a", has_text="Nora").click()
        await expect(agent.locator("#messages img.thumb")).to_have_attribute("alt", "crushed.png")
        label = tmp_path / "return-label.pdf"
        label.write_bytes(b"%PDF-1.4\n% a return label\n")
        await agent.get_by_label("Attach a file").set_input_files(str(label))
        await agent.get_by_role("button", name="Send file").click()
        await expect(agent.locator("#messages .msg-agent .file")).to_contain_text(
            "return-label.pdf"
        )
        await expect(widget.locator(".m:not(.me) a")).to_have_text("return-label.pdf")
