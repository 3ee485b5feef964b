"""Callback requests over HTTP: beside the contact form (with its spam checks), on the
customer's own page (with their session), in the desk (the call logged, "call back by") and
on the admin page (on/off, queue); the confirmation mail through a real SMTP relay."""

from __future__ import annotations

import re

from conftest import Personas, Server
from email_helpers import scalar
from mail_servers import Relay
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import queues as queues_repo
from test_callbacks import REQUEST, enable, set_hours
from test_my_page import shop  # noqa: F401  (the fixture: a moved clock, mail through the relay)

ADDRESS = "nora@kunde.test"


async def _form(public, clock: ManualClock) -> tuple[str, str]:
    """The callback page's form token and the first window it offers."""
    page = await (await public.get("/contact/callback")).text()
    clock.advance(seconds=5)
    return (
        re.search(r'name="token" value="([^"]+)"', page).group(1),
        re.search(r'<option value="(2026-[^"]+)"', page).group(1),
    )


async def test_the_contact_page_offers_a_call_with_the_forms_protection(
    shop, client_factory, relay: Relay
) -> None:
    server, clock = shop
    await set_hours(server.services)
    public = client_factory(server.public_url)
    assert "call you back" not in await (await public.get("/contact")).text()
    assert (await public.get("/contact/callback")).status == 404, "off until switched on"
    await enable(server.services)
    assert 'href="/contact/callback"' in await (await public.get("/contact")).text()
    page = await (await public.get("/contact/callback")).text()
    assert '<option value="DE" selected>Germany (+49)</option>' in page
    assert '<optgroup label="Today">' in page and "times in Europe/Berlin" in page
    await server.services.callbacks.save_settings({"enabled": "on", "queue_id": "1"})
    page = await (await public.get("/contact/callback")).text()
    assert '<option value="DE" selected>Germany (+49)</option>' in page, "from Europe/Berlin"
    await set_hours(server.services, zone="UTC")
    page = await (await public.get("/contact/callback")).text()
    assert '<option value="" selected>Choose…</option>' in page and " selected>Aus" not in page
    await set_hours(server.services)
    await enable(server.services)

    url = server.public_url + "/contact/callback"
    token, window = await _form(public, clock)
    good = {**REQUEST, "email": ADDRESS, "window": window, "token": token}
    fresh = re.search(
        r'name="token" value="([^"]+)"', await (await public.get("/contact/callback")).text()
    ).group(1)
    too_fast = await public.session.post(url, data={**good, "token": fresh})
    assert too_fast.status == 429 and "not sent yet" in await too_fast.text()
    forged = await public.session.post(url, data={**good, "token": "1700000000.abcdef"})
    assert forged.status == 429
    trapped = await public.session.post(url, data={**good, "website": "http://spam.example"})
    assert trapped.status == 429
    wrong = await public.session.post(url, data={**good, "phone": "030 12", "about": ""})
    assert wrong.status == 400
    text = await wrong.text()
    assert "not a phone number in Germany" in text and "what the call is about" in text
    assert 'value="Nora Kunde"' in text, "what was typed is kept"
    huge = await public.session.post(url, data={**good, "about": "x" * 300_000})
    assert huge.status == 413
    assert await scalar(server.services, "SELECT count(*) FROM conversations") == 0

    sent = await public.session.post(url, data=good, allow_redirects=False)
    assert sent.status == 303
    confirmation = await (await public.get(sent.headers["Location"])).text()
    assert (
        "+49 301234567" in confirmation
        and "Mon 5 Jan, 10:00–10:30 (Europe/Berlin)" in confirmation
        and "#1" in confirmation
    )
    assert (await public.get(sent.headers["Location"].replace("n=1", "n=2"))).status == 404
    mail = (await relay.wait_for(1))[0]
    assert mail["To"] == ADDRESS and mail["Auto-Submitted"] == "auto-replied"
    assert mail["Subject"] == "We will call you: Mon 5 Jan, 10:00–10:30 (Europe/Berlin) [#1]"
    text = mail.get_body(("plain",)).get_content()
    assert "We will call you at +49 301234567 on Mon 5 Jan" in text and "Invoice 77" in text


async def test_a_confirmation_goes_only_where_an_address_is_known_and_not_too_often(
    shop, relay: Relay
) -> None:
    server, _ = shop
    services = server.services
    await enable(services)
    options = await services.callbacks.options()

    async def ask(n: int, **fields: str) -> bool:
        done = await services.callbacks.request(
            {
                **REQUEST,
                "phone": f"030 765432{n}",
                "window": options["windows"][0]["key"],
                **fields,
            },
            source="form",
            address=f"198.51.100.{n}",
        )
        return done.mailed

    assert not await ask(1), "no address, no mail"
    assert [await ask(n, email=ADDRESS) for n in range(2, 6)] == [True, True, True, False]
    await relay.wait_for(3)
    assert await scalar(services, "SELECT count(*) FROM outbox") == 3


async def test_a_signed_in_customer_asks_from_their_own_page(
    shop, client_factory, relay: Relay
) -> None:
    server, _ = shop
    services = server.services
    await enable(services)
    first = await services.conversations.open(
        channel="form",
        customer_name="Lee",
        identity=("email", "lee@customer.test"),
        subject="Refund",
        body="Where is my refund?",
    )
    lee = client_factory(server.public_url)
    assert (await lee.get("/my/callback")).status == 303, "sign in first"
    await lee.session.post(server.public_url + "/my/signin", data={"email": "lee@customer.test"})
    link = re.search(
        r"(/my/link/[A-Za-z0-9_-]+)",
        (await relay.wait_for(1))[0].get_body(("plain",)).get_content(),
    ).group(1)
    confirm = await (await lee.get(link)).text()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    listing = await (
        await lee.session.post(
            server.public_url + "/my/link", data={"token": token, "csrf_token": csrf}
        )
    ).text()
    assert 'href="/my/callback"' in listing
    page = await (await lee.get("/my/callback")).text()
    assert 'name="name"' not in page and 'name="email"' not in page, "known already"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    window = re.search(r'<option value="(2026-[^"]+)"', page).group(1)
    fields = {
        "phone": "+44 20 7946 0958",
        "country": "DE",
        "about": "About my refund",
        "window": window,
    }
    forged = await lee.session.post(
        server.public_url + "/my/callback", data=fields, allow_redirects=False
    )
    assert forged.status == 403
    bad = await lee.session.post(
        server.public_url + "/my/callback", data={**fields, "csrf_token": csrf, "window": "soon"}
    )
    assert bad.status == 400 and "choose one of the times offered" in await bad.text()
    asked = await lee.session.post(
        server.public_url + "/my/callback",
        data={**fields, "csrf_token": csrf},
        allow_redirects=False,
    )
    assert asked.status == 303
    view = await (await lee.get(asked.headers["Location"])).text()
    assert "About my refund" in view and "+44 2079460958 (United Kingdom)" in view
    assert await scalar(services, "SELECT count(DISTINCT customer_id) FROM conversations") == 1
    assert await scalar(services, "SELECT source FROM callbacks") == "my-page"
    confirmation = (await relay.wait_for(2))[1]
    assert confirmation["To"] == "lee@customer.test"
    assert first.customer_id == await scalar(
        services, "SELECT customer_id FROM conversations WHERE channel = 'phone'"
    )


async def test_agents_call_back_by_the_time_shown_and_log_the_call(
    server: Server, personas: Personas, client_factory
) -> None:
    services = server.services
    await enable(services)
    options = await services.callbacks.options()
    done = await services.callbacks.request(
        {**REQUEST, "window": options["windows"][0]["key"]}, source="widget", address="203.0.113.9"
    )
    cid = done.conversation_id
    desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    inbox = await (await desk.get("/inbox")).text()
    by = re.search(r'class="callback-by">(call back by [^<]*)<', inbox)
    assert by and by.group(1).endswith(" (UTC)"), "the business's zone is named"
    listed = await (
        await desk.get("/api/conversations?view=open", headers={"Accept": "application/json"})
    ).json()
    assert listed["conversations"][0]["callback_by"] == by.group(1)
    page = await (await desk.get(f"/conversations/{cid}")).text()
    assert 'href="tel:+49301234567"' in page and "+49 301234567" in page
    assert "Log the call" in page and ">Send reply<" not in page, "the call is the answer"

    url = f"/conversations/{cid}/callback"
    no_csrf = await desk.session.post(
        desk.base + url, data={"outcome": "reached"}, allow_redirects=False
    )
    assert no_csrf.status == 403
    assert (await desk.post(url, {"outcome": "later"})).status == 400
    assert (await desk.post(url, {"outcome": "no_answer", "retry_at": "tomorrow"})).status == 400
    retry = await desk.post(url, {"outcome": "no_answer", "retry_at": "2099-01-01T10:00"})
    assert retry.status == 400, "within 14 days"
    logged = await desk.post_json(url, {"outcome": "wrong_number", "notes": "A fax machine."})
    assert logged.status == 200 and await logged.json() == {"attempt": 1}
    page = await (await desk.get(f"/conversations/{cid}")).text()
    assert "Wrong number." in page and "A fax machine." in page
    row = await services.db.fetch_one(
        "SELECT first_response_at IS NOT NULL, status FROM conversations WHERE id = ?", (cid,)
    )
    assert tuple(row) == (1, "open")
    missing = await desk.post("/conversations/999/callback", {"outcome": "reached"})
    assert missing.status == 400


async def test_admins_switch_callbacks_on_and_choose_their_queue(
    server: Server, personas: Personas, client_factory
) -> None:
    services = server.services
    now = "2026-01-05T09:00:00.000Z"
    phones = await services.db.write(lambda conn: queues_repo.insert(conn, "Phones", now))
    agent = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.post("/admin/widget/callbacks", {"enabled": "on"})).status == 403
    admin = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    page = await (await admin.get("/admin/widget")).text()
    assert "Offer callback requests" in page and 'id="identity-secret"' in page
    bad = await admin.post("/admin/widget/callbacks", {"enabled": "on", "queue_id": "77"})
    assert bad.status == 400 and "choose one of the queues" in await bad.text()
    saved = await admin.post(
        "/admin/widget/callbacks", {"enabled": "on", "queue_id": str(phones), "country": "AT"}
    )
    assert saved.status == 303
    settings = await services.callbacks.settings()
    assert (settings.enabled, settings.queue_id, settings.country) == (True, phones, "AT")
    options = await services.callbacks.options()
    done = await services.callbacks.request(
        {**REQUEST, "window": options["windows"][0]["key"]}, source="form", address="x"
    )
    assert (
        await scalar(
            services, "SELECT queue_id FROM conversations WHERE id = ?", (done.conversation_id,)
        )
        == phones
    )
