"""The public contact form: validation, spam checks, a routed conversation, the promise."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from conftest import PASSWORD, Server, make_config, start_server
from email_helpers import scalar
from onlinesupport.lib.clock import ManualClock

GOOD = {
    "name": "Lee Customer",
    "email": "Lee@Customer.test",
    "question_type": "Billing",
    "subject": "Double charge",
    "message": "I was charged twice for order 77.",
    "urgency": "today",
    "page": "https://shop.example.com/orders/77",
}


@pytest.fixture
async def form_server(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        yield await start_server(stack, make_config(tmp_path / "data"), clock), clock


async def _token(public, clock: ManualClock, wait: float = 5) -> str:
    page = await (await public.get("/contact")).text()
    clock.advance(seconds=wait)  # people take a moment to fill in a form
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


async def test_a_customer_sends_the_form_and_is_told_when_the_answer_comes(
    form_server, client_factory
) -> None:
    server, clock = form_server
    public = client_factory(server.public_url)
    page = await public.get("/contact")
    assert page.status == 200 and "Billing" in await page.text()
    response = await public.session.post(
        server.public_url + "/contact",
        allow_redirects=False,
        data={**GOOD, "token": await _token(public, clock)},
    )
    assert response.status == 303
    sent = await public.session.get(server.public_url + response.headers["Location"])
    text = await sent.text()
    assert "#1" in text and "within 1 hour" in text
    row = await server.services.db.fetch_one(
        "SELECT c.channel, c.subject, c.page_url, i.value FROM conversations c"
        " JOIN customer_identities i ON i.customer_id = c.customer_id"
    )
    assert tuple(row) == ("form", "Double charge", GOOD["page"], "lee@customer.test")
    body = await scalar(server.services, "SELECT body FROM messages")
    assert body.startswith(GOOD["message"]) and "Billing" in body and "Today" in body
    assert (
        await scalar(server.services, "SELECT data FROM events WHERE type = 'form.submitted'")
        == '{"question_type":"Billing","urgency":"today"}'
    )
    tampered = response.headers["Location"].replace("within", "never")
    assert (await public.get(tampered)).status == 404


async def test_mistakes_are_shown_next_to_their_fields_and_nothing_is_lost(
    form_server, client_factory
) -> None:
    server, clock = form_server
    public = client_factory(server.public_url)
    bad = {**GOOD, "email": "not an address", "message": "", "question_type": "Astrology"}
    response = await public.session.post(
        server.public_url + "/contact", data={**bad, "token": await _token(public, clock)}
    )
    assert response.status == 400
    page = await response.text()
    assert "does not look like an email address" in page
    assert "write your question" in page and "choose what your question is about" in page
    assert 'value="Lee Customer"' in page, "what was typed is kept"
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 0


async def test_robots_are_refused_without_a_hint(form_server, client_factory) -> None:
    server, clock = form_server
    public = client_factory(server.public_url)
    url = server.public_url + "/contact"
    too_fast = await public.session.post(
        url, data={**GOOD, "token": await _token(public, clock, 0)}
    )
    honeypot = await public.session.post(
        url, data={**GOOD, "website": "http://spam.example", "token": await _token(public, clock)}
    )
    forged = await public.session.post(url, data={**GOOD, "token": "1700000000.abcdef"})
    stale = await _token(public, clock, 0)
    clock.advance(days=2)
    old = await public.session.post(url, data={**GOOD, "token": stale})
    assert [r.status for r in (too_fast, honeypot, forged, old)] == [429] * 4
    assert (
        "press Send again" in await too_fast.text()
        and 'value="Lee Customer"' in await too_fast.text()
    ), "a person who was quick gets the form back, filled in"
    for _ in range(10):
        ok = await public.session.post(
            url, data={**GOOD, "token": await _token(public, clock)}, allow_redirects=False
        )
        assert ok.status == 303
    flood = await public.session.post(url, data={**GOOD, "token": await _token(public, clock)})
    assert flood.status == 429, "ten an hour from one address"
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 10


async def test_the_admin_edits_the_question_types(form_server, client_factory) -> None:
    server, _ = form_server
    await server.services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    desk = client_factory(server.desk_url)
    await desk.signin("ada@example.com")
    assert (await desk.post("/admin/contact-form", {"question_types": "  \n"})).status == 400
    saved = await desk.post("/admin/contact-form", {"question_types": "Returns\nWarranty\n"})
    assert saved.status == 303
    public = client_factory(server.public_url)
    page = await (await public.get("/contact")).text()
    assert "<option>Returns</option>" in page and "Billing" not in page
    assert (await public.get("/admin/queues")).status == 404


async def test_a_file_comes_with_the_form_only_when_the_form_is_good(
    form_server, client_factory
) -> None:
    import aiohttp

    server, clock = form_server
    public = client_factory(server.public_url)
    attachments = server.services.files.folder

    async def send(extra: dict[str, str], filename: str, data: bytes) -> aiohttp.ClientResponse:
        form = aiohttp.FormData(default_to_multipart=True)
        for name, value in {**GOOD, "token": await _token(public, clock), **extra}.items():
            form.add_field(name, value)
        form.add_field("file", data, filename=filename, content_type="application/octet-stream")
        return await public.session.post(
            server.public_url + "/contact", data=form, allow_redirects=False
        )

    robot = await send({"website": "http://spam.example"}, "a.txt", b"hello")
    assert robot.status == 429
    mistaken = await send({"email": "nope"}, "a.txt", b"hello")
    assert mistaken.status == 400 and "does not look like an email" in await mistaken.text()
    wrong_type = await send({}, "tool.exe", b"MZ\x90\x00" + b"\x00" * 100)
    assert wrong_type.status == 400 and "can be sent" in await wrong_type.text()
    assert not attachments.exists() or list(attachments.iterdir()) == [], "nothing kept"
    sent = await send({"suggested": "1"}, "receipt.txt", b"Order 77, paid twice")
    assert sent.status == 303
    row = await server.services.db.fetch_one(
        "SELECT a.filename, a.content_type FROM attachments a"
        " JOIN messages m ON m.id = a.message_id"
    )
    assert tuple(row) == ("receipt.txt", "text/plain")
