"""The customer's own page: a mailed single-use link, their conversations only, replies join in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from conftest import Server, make_config, start_server
from email_helpers import add_mailbox, eventually, mailbox_form, scalar
from mail_servers import Relay
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock


async def _link(relay: Relay, count: int) -> str:
    mails = await relay.wait_for(count)
    text = mails[count - 1].get_body(("plain",)).get_content()
    return re.search(r"(/my/link/[A-Za-z0-9_-]+)", text).group(1)


@pytest.fixture
async def shop(tmp_path: Path, relay: Relay) -> AsyncIterator[tuple[Server, ManualClock]]:
    """A server on a clock the test moves, with a mailbox that sends through the relay."""
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        await add_mailbox(
            server.services, mailbox_form(None, relay, smtp_receive="on", ack_enabled="")
        )
        yield server, clock


async def test_a_customer_signs_in_by_mail_reads_and_replies(
    shop, relay: Relay, client_factory
) -> None:
    server, _ = shop
    services = server.services
    mine = await services.conversations.open(
        channel="form",
        customer_name="Lee",
        identity=("email", "lee@customer.test"),
        subject="Refund",
        body="Where is my refund?",
    )
    theirs = await services.conversations.open(
        channel="form",
        customer_name="Kim",
        identity=("email", "kim@customer.test"),
        subject="Secret",
        body="Private matter",
    )
    lee = client_factory(server.public_url)
    page = await lee.session.post(
        server.public_url + "/my/signin", data={"email": "Lee@Customer.test"}
    )
    assert "Check your mail" in await page.text()
    unknown = await lee.session.post(
        server.public_url + "/my/signin", data={"email": "nobody@customer.test"}
    )
    assert await unknown.text() == await page.text(), "no hint whether an address is known"
    link = await _link(relay, 1)
    assert relay.received[0]["Auto-Submitted"] == "auto-generated"
    assert len(relay.received) == 1, "no mail for an unknown address"

    confirm = await (await lee.get(link)).text()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    assert await scalar(services, "SELECT used_at FROM customer_links") is None, (
        "opening the link (a mail scanner) does not spend it"
    )
    signed_in = await lee.session.post(
        server.public_url + "/my/link", data={"token": token, "csrf_token": csrf}
    )
    listing = await signed_in.text()
    assert "#1 Refund" in listing and "Secret" not in listing
    again = await lee.session.post(
        server.public_url + "/my/link",
        data={"token": token, "csrf_token": csrf},
        allow_redirects=False,
    )
    assert again.status == 400, "a link works once"

    assert (await lee.get(f"/my/conversations/{theirs.conversation_id}")).status == 404
    view = await (await lee.get(f"/my/conversations/{mine.conversation_id}")).text()
    assert "Where is my refund?" in view
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', view).group(1)
    forged = await lee.session.post(
        server.public_url + f"/my/conversations/{mine.conversation_id}",
        data={"body": "x", "csrf_token": "nope"},
        allow_redirects=False,
    )
    assert forged.status == 403
    sent = await lee.session.post(
        server.public_url + f"/my/conversations/{mine.conversation_id}",
        data={"body": "Any news?", "csrf_token": csrf, "client_id": "c1"},
    )
    assert "Any news?" in await sent.text()
    assert (
        await scalar(
            services,
            "SELECT count(*) FROM messages WHERE conversation_id = ?",
            (mine.conversation_id,),
        )
        == 2
    )

    await lee.session.post(server.public_url + "/my/signout", data={"csrf_token": csrf})
    assert "Enter the email address" in await (await lee.get("/my")).text()


async def test_links_expire_and_requests_are_limited(shop, relay: Relay, client_factory) -> None:
    server, clock = shop
    services = server.services
    await services.conversations.open(
        channel="form", customer_name="Lee", identity=("email", "lee@customer.test"), body="Hi"
    )
    lee = client_factory(server.public_url)
    for _ in range(7):
        await lee.session.post(
            server.public_url + "/my/signin", data={"email": "lee@customer.test"}
        )
    link = await _link(relay, 1)
    await relay.wait_for(5)
    assert len(relay.received) == 5, "five an hour"
    clock.advance(minutes=31)
    confirm = await (await lee.get(link)).text()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    late = await lee.session.post(
        server.public_url + "/my/link", data={"token": token, "csrf_token": csrf}
    )
    assert late.status == 400 and "too old" in await late.text()


async def _signed_in(server: Server, relay: Relay, client_factory, email: str):  # type: ignore[no-untyped-def]
    customer = client_factory(server.public_url)
    await customer.session.post(server.public_url + "/my/signin", data={"email": email})
    link = await _link(relay, len(relay.received) + 1)
    confirm = await (await customer.get(link)).text()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    listing = await (
        await customer.session.post(
            server.public_url + "/my/link", data={"token": token, "csrf_token": csrf}
        )
    ).text()
    return customer, re.search(r'name="csrf_token" value="([^"]+)"', listing).group(1)


async def test_a_customer_downloads_their_data_and_an_admin_erases_it(
    shop, relay: Relay, client_factory, personas
) -> None:
    server, _ = shop
    services = server.services
    opened = await services.conversations.open(
        channel="chat",
        customer_name="Lee Person",
        identity=("email", "lee@customer.test"),
        subject="Refund for order 77",
        body="My address is 1 Main Street",
        page_url="https://shop.example.com/orders/77",
    )
    amy = Actor.agent(personas.agent, "Amy Agent")
    await services.conversations.post(opened.conversation_id, amy, "Refunded, Lee.")
    await services.conversations.note(opened.conversation_id, amy, "Lee is a VIP")
    await services.conversations.rate(
        opened.conversation_id, Actor.customer(opened.customer_id), 5, "Lovely, thanks Amy"
    )
    other = await services.conversations.open(
        channel="form",
        customer_name="Kim",
        identity=("email", "kim@customer.test"),
        body="Kim's question",
    )

    lee, csrf = await _signed_in(server, relay, client_factory, "lee@customer.test")
    data = await (await lee.get("/my/data")).json()
    assert data["customer"]["name"] == "Lee Person"
    assert data["customer"]["addresses"] == [{"kind": "email", "value": "lee@customer.test"}]
    [conversation] = data["conversations"]
    assert [(m["from"], m["text"]) for m in conversation["messages"]] == [
        ("you", "My address is 1 Main Street"),
        ("Amy Agent", "Refunded, Lee."),
    ], "no internal notes, nobody else's data"
    asked = await lee.post("/my/erase", {"csrf_token": csrf})
    assert asked.status == 303
    assert "You asked on" in await (await lee.get("/my")).text()

    admin = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    inbox = await (await admin.get("/inbox")).text()
    assert "asked for their data to be erased" in inbox
    page = await (await admin.get("/admin/privacy")).text()
    assert "lee@customer.test" in page
    request_id = await scalar(services, "SELECT id FROM erasure_requests")
    erased = await admin.post(f"/admin/privacy/{request_id}", {"decision": "erase"})
    assert erased.status == 303
    again = await admin.post(f"/admin/privacy/{request_id}", {"decision": "erase"})
    assert again.status == 409

    db = services.db
    assert (
        await scalar(services, "SELECT name FROM customers WHERE id = ?", (opened.customer_id,))
        == ""
    )
    bodies = [
        r[0]
        for r in await db.fetch_all(
            "SELECT body FROM messages WHERE conversation_id = ?", (opened.conversation_id,)
        )
    ]
    assert set(bodies) == {"(erased)"} and len(bodies) == 3, "messages and notes, still counted"
    row = await db.fetch_one(
        "SELECT subject, page_url, status, channel FROM conversations WHERE id = ?",
        (opened.conversation_id,),
    )
    assert tuple(row) == ("", "", "open", "chat")
    rated = await scalar(services, "SELECT data FROM events WHERE type = 'conversation.rated'")
    assert "Lovely" not in rated and '"score":5' in rated, "the rating counts, its words go"
    view = await admin.get(f"/conversations/{opened.conversation_id}")
    assert view.status == 200 and "rated 5/5" in await view.text(), "the desk still opens it"
    assert await db.fetch_all("SELECT 1 FROM messages_fts WHERE messages_fts MATCH 'Main'") == []
    assert (
        await db.fetch_one(
            "SELECT 1 FROM customer_identities WHERE value = ?", ("lee@customer.test",)
        )
        is None
    )
    assert (
        await db.fetch_one("SELECT 1 FROM outbox WHERE to_address = ?", ("lee@customer.test",))
        is None
    ), "nor the sign-in link's mail"
    assert (await lee.get("/my/data")).status == 303, "signed out"
    assert (
        await scalar(
            services,
            "SELECT body FROM messages WHERE conversation_id = ?",
            (other.conversation_id,),
        )
        == "Kim's question"
    )


async def test_a_link_goes_through_the_outbox_and_is_not_kept_after_it_is_sent(
    shop, relay: Relay, client_factory
) -> None:
    server, _ = shop
    services = server.services
    await services.conversations.open(
        channel="form", customer_name="Lee", identity=("email", "lee@customer.test"), body="Hi"
    )
    lee = client_factory(server.public_url)
    page = await lee.session.post(
        server.public_url + "/my/signin", data={"email": "lee@customer.test"}
    )
    assert "a link to them is on its way" in await page.text()
    await _link(relay, 1)
    # The relay has it a moment before the sender records it as sent.
    await eventually(lambda: scalar(services, "SELECT status = 'sent' FROM outbox"))
    row = await services.db.fetch_one("SELECT purpose, to_address, status, body FROM outbox")
    assert tuple(row[:3]) == ("signin", "lee@customer.test", "sent")
    assert "/my/link/" not in row["body"], "a sent link is not kept in the database"


async def test_without_mail_the_customer_is_told_and_the_admin_sees_it(
    tmp_path: Path, client_factory
) -> None:
    from onlinesupport.ops.health import report

    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        services = server.services
        await services.conversations.open(
            channel="form", customer_name="Lee", identity=("email", "lee@customer.test"), body="Hi"
        )
        lee = client_factory(server.public_url)
        answers = []
        for email in ("lee@customer.test", "nobody@customer.test"):
            page = await lee.session.post(server.public_url + "/my/signin", data={"email": email})
            answers.append(await page.text())
        assert answers[0] == answers[1], "still no hint whether an address is known"
        assert "on its way" not in answers[0]
        assert "cannot send mail" in answers[0] and 'href="/contact"' in answers[0]
        await eventually(lambda: scalar(services, "SELECT last_error != '' FROM outbox"))
        row = await services.db.fetch_one(
            "SELECT purpose, to_address, status, last_error FROM outbox"
        )
        assert tuple(row) == (
            "signin",
            "lee@customer.test",
            "queued",
            "no mailbox is set up to send mail yet (Admin → Mailboxes)",
        ), "queued like any mail, retried"
        assert (await report(services))["outbox"].get("queued") == 1

        # Nobody set up mail within the link's 30 minutes: it fails, and the admin is told.
        clock.advance(minutes=31)
        await services.email.sender.send_due()
        row = await services.db.fetch_one("SELECT status, last_error, body FROM outbox")
        assert row["status"] == "failed" and "expired" in row["last_error"]
        assert "/my/link/" not in row["body"]
        assert any("could not be delivered" in w for w in (await report(services))["warnings"])
