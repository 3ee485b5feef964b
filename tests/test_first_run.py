"""The first-run wizard, the company's name and logo, the test page and the desk's checklist."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack

import aiohttp

from conftest import PASSWORD, Desk, Personas, Server, make_config, start_server
from email_helpers import add_mailbox, mailbox_form
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import queues as queues_repo

# The smallest valid PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


async def _upload(desk: Desk, data: dict[str, object]) -> aiohttp.ClientResponse:
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in data.items():
        if isinstance(value, bytes):
            form.add_field(name, value, filename="logo.png", content_type="image/png")
        else:
            form.add_field(name, str(value))
    return await desk.session.post(
        f"{desk.base}/welcome/company?csrf_token={desk.csrf}", data=form, allow_redirects=False
    )


async def test_the_wizard_sets_company_hours_website_and_team(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    assert (await admin.get("/welcome")).headers["Location"] == "/welcome/company"
    page = await (await admin.get("/welcome/company")).text()
    assert "mon-fri 09:00-17:00" in page, "suggested opening hours"

    refused = await _upload(admin, {"name": "Acme", "timezone": "Mars/Olympus", "hours": ""})
    assert refused.status == 400 and "Mars/Olympus" in await refused.text()
    refused = await _upload(
        admin, {"name": "Acme", "timezone": "UTC", "hours": "", "logo": b"<svg onload=alert(1)>"}
    )
    assert refused.status == 400 and "PNG, JPEG, GIF or WebP" in await refused.text()
    saved = await _upload(
        admin,
        {
            "name": "Acme  Tools",
            "timezone": "Europe/Berlin",
            "hours": "mon-fri 08:00-18:00",
            "logo": PNG,
        },
    )
    assert saved.status == 303 and saved.headers["Location"] == "/welcome/website"
    general = await queues_repo.get(server.services.db, 1)
    assert general is not None
    assert (general.timezone, general.hours) == ("Europe/Berlin", "mon-fri 08:00-18:00")

    async with aiohttp.ClientSession() as http:
        async with http.get(server.public_url + "/contact") as response:
            contact = await response.text()
        assert "Acme Tools" in contact
        logo_url = server.services.branding.current.logo_url
        assert f'src="{logo_url}"' in contact
        async with http.get(server.public_url + logo_url) as response:
            assert response.content_type == "image/png" and await response.read() == PNG

    website = await admin.post("/welcome/website", {"website": "mailto:x", "title": "Chat"})
    assert website.status == 400 and "not a website address" in await website.text()
    # Typed as people do: no scheme, a page on the site.
    website = await admin.post(
        "/welcome/website", {"website": "Shop.example.com/contact", "title": "Chat with Acme"}
    )
    assert website.status == 303
    page = await (await admin.get("/welcome/website?done=saved")).text()
    assert "https://shop.example.com" in page
    assert f"{server.public_url.split(':')[0]}:" in page and "/widget.js" in page
    async with aiohttp.ClientSession() as http:
        # The allowed website may open the chat; so may the test page on the public listener.
        for origin in ("https://shop.example.com", server.public_url):
            ws = await http.ws_connect(server.public_url + "/widget/ws", origin=origin)
            await ws.send_json({"type": "hello"})
            assert (await ws.receive_json())["type"] == "welcome"
            await ws.close()
        async with http.get(server.public_url + "/widget/test") as response:
            assert response.status == 200 and '<script src="/widget.js"' in await response.text()

    team = await admin.post(
        "/welcome/team",
        {"name": "Cleo", "email": "cleo@example.com", "role": "agent", "password": "short"},
    )
    assert team.status == 400
    team = await admin.post(
        "/welcome/team",
        {"name": "Cleo", "email": "cleo@example.com", "role": "agent", "password": PASSWORD},
    )
    assert team.status == 303
    cleo: Desk = client_factory(server.desk_url)
    assert (await cleo.signin("cleo@example.com")).status == 303
    assert (await cleo.get("/welcome/company")).status == 403, "admins only"

    done = await (await admin.get("/welcome/done")).text()
    assert "Connect your support mailbox" in done
    assert "Add the chat to your website" not in done and "name and logo" not in done
    assert (await admin.post("/welcome/finish")).headers["Location"] == "/inbox"


async def test_the_inbox_checklist_follows_what_is_set_up(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    inbox = await (await admin.get("/inbox")).text()
    assert "Finish setting up" in inbox and "Continue the setup steps" in inbox
    assert "Add the chat to your website" in inbox and "Add your colleagues" not in inbox
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert "Finish setting up" not in await (await agent.get("/inbox")).text()

    await admin.post("/welcome/website", {"website": "https://shop.example.com", "title": "Chat"})
    inbox = await (await admin.get("/inbox")).text()
    assert "Add the chat to your website" not in inbox
    await admin.post("/welcome/hide-checklist")
    assert "Finish setting up" not in await (await admin.get("/inbox")).text()


async def test_a_colleague_is_invited_by_mail_and_chooses_a_password(
    server: Server, personas: Personas, client_factory, relay
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    # No mailbox yet (the mailbox step skipped): the account is made all the same, and the
    # panel gives the link to pass on and a way to set a password, with the reason.
    dora = {"name": "Dora", "email": "dora@example.com", "role": "agent", "password": ""}
    unmailed = await admin.post("/welcome/team", dora)
    page = await unmailed.text()
    assert unmailed.status == 200 and "The invitation could not be mailed" in page, page
    assert "Dora &lt;dora@example.com&gt; has an account (agent)" in page
    assert "could not be sent: no mailbox is set up yet." in page
    dora_link = re.search(r'id="invitation-link" value="([^"]+)"', page).group(1)
    assert dora_link.startswith(server.desk_url + "/invitation?token=")
    dora_id = re.search(r'name="agent_id" value="(\d+)"', page).group(1)
    short = await admin.post("/welcome/team", {**dora, "agent_id": dora_id, "password": "short"})
    text = await short.text()
    assert short.status == 400 and "at least" in text, text
    assert "could not be sent: no mailbox is set up yet." in text, "the reason is kept"
    # Reloaded, the step still offers the way out; the Agents page marks her.
    again = await (await admin.get("/welcome/team")).text()
    assert "Dora has no password yet: invitation not mailed" in again
    assert "could not be sent: no mailbox is set up yet." in again
    assert f'name="agent_id" value="{dora_id}"' in again and "/invitation?token=" in again
    agents = await (await admin.get("/admin/agents")).text()
    assert "No password yet: invitation not mailed" in agents
    set_dora = await admin.post("/welcome/team", {"agent_id": dora_id, "password": PASSWORD})
    assert set_dora.status == 303
    assert "has no password yet" not in await (await admin.get("/welcome/team")).text()
    assert "No password yet" not in await (await admin.get("/admin/agents")).text()

    fields = {"name": "Cleo", "email": "cleo@example.com", "role": "agent", "password": ""}
    await add_mailbox(server.services, mailbox_form(None, relay, smtp_receive="on", ack_enabled=""))
    invited = await admin.post("/welcome/team", fields)
    assert invited.headers["Location"] == "/welcome/team?done=invited"
    [mail] = await relay.wait_for(1)
    assert mail["To"] == "cleo@example.com" and "Ada Admin invited you" in mail["Subject"]
    link = re.search(r"(/invitation\?token=[\w.-]+)", mail.get_body(("plain",)).get_content())
    assert link

    cleo: Desk = client_factory(server.desk_url)
    assert (await cleo.signin("cleo@example.com", "")).status == 401, "no usable password yet"
    page = await cleo.get(link.group(1))
    assert page.status == 200 and "Welcome, Cleo" in await page.text()
    token = link.group(1).split("=", 1)[1]
    csrf = await cleo.form_token(link.group(1))
    mismatch = await cleo.session.post(
        server.desk_url + "/invitation",
        allow_redirects=False,
        data={
            "csrf_token": csrf,
            "token": token,
            "password": PASSWORD,
            "password_again": "other one!",
        },
    )
    assert mismatch.status == 400
    accepted = await cleo.session.post(
        server.desk_url + "/invitation",
        allow_redirects=False,
        data={"csrf_token": csrf, "token": token, "password": PASSWORD, "password_again": PASSWORD},
    )
    assert accepted.status == 303 and accepted.headers["Location"] == "/inbox"
    assert (await cleo.get("/inbox")).status == 200

    again: Desk = client_factory(server.desk_url)
    assert (await again.get(link.group(1))).status == 410, "the link works once"
    assert (await again.get("/invitation?token=1.99999999999.abc")).status == 410
    assert (await again.signin("cleo@example.com")).status == 303


async def test_an_invitation_expires_after_a_week(tmp_path, client_factory) -> None:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, make_config(tmp_path / "data"), clock)
        _, token = await server.services.invitations.invite("dan@example.com", "Dan", "agent")
        assert await server.services.invitations.agent_for(token) is not None
        clock.advance(days=7, seconds=1)
        assert await server.services.invitations.agent_for(token) is None
        tampered = token.replace(token.split(".")[1], str(int(token.split(".")[1]) + 86400))
        assert await server.services.invitations.agent_for(tampered) is None


async def test_health_warnings_show_in_the_admins_inbox(tmp_path, client_factory) -> None:
    config = make_config(tmp_path / "data", storage_backups_keep=0)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        await server.services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
        await server.services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
        admin: Desk = client_factory(server.desk_url)
        await admin.signin("ada@example.com")
        await admin.post("/welcome/hide-checklist")
        inbox = await (await admin.get("/inbox")).text()
        assert "Needs attention" in inbox and "Daily backups are off" in inbox
        assert "Finish setting up" not in inbox
        agent: Desk = client_factory(server.desk_url)
        await agent.signin("amy@example.com")
        assert "Needs attention" not in await (await agent.get("/inbox")).text()


async def test_the_last_step_tells_the_truth_and_the_mailbox_step_has_a_way_back(
    server: Server, personas: Personas, client_factory
) -> None:
    from conftest import free_port
    from email_helpers import eventually

    services = server.services
    await services.branding.save("Acme", None)
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    await admin.post("/welcome/website", {"website": "https://shop.example.com", "title": "Chat"})
    await services.db.write(
        lambda conn: queues_repo.update(
            conn,
            1,
            first_response_minutes=60,
            next_response_minutes=0,
            timezone="UTC",
            hours="mon-fri 09:00-17:00",
            holidays="",
        )
    )

    # From the wizard to the mailbox pages and back.
    step = await (await admin.get("/welcome/mailbox")).text()
    add = re.search(r'class="button" href="(/admin/mailboxes[^"]*)"', step).group(1)
    page = await (await admin.get(add)).text()
    assert 'href="/welcome/mailbox"' in page, "the mailbox page leads back to the setup steps"
    assert 'action="/admin/mailboxes/mail-servers?from=welcome"' in page, (
        "saving the mail servers keeps the way back too"
    )
    action = re.search(r'<form method="post" action="(/admin/mailboxes(?:\?[^"]*)?)"', page).group(
        1
    )
    closed = str(free_port())
    added = await admin.post(
        action.replace("&amp;", "&"),
        mailbox_form(
            None,
            None,
            imap_host="127.0.0.1",
            imap_port=closed,
            smtp_host="127.0.0.1",
            smtp_port=closed,
            address="help@acme.test",
        ),
    )
    assert added.status == 303
    mailbox_page = await (await admin.get(added.headers["Location"])).text()
    assert 'href="/welcome/mailbox"' in mailbox_page

    await eventually(lambda: _imap_failed(services), what="the IMAP login to fail")
    step = await admin.get("/welcome/mailbox")
    assert step.status == 200, (
        "the mailbox step with a mailbox (it read a column that is not there)"
    )
    assert "help@acme.test" in await step.text()
    invited = await admin.post(
        "/welcome/team",
        {"name": "Cleo", "email": "cleo@example.com", "role": "agent", "password": ""},
    )
    page = await invited.text()
    assert invited.status == 200 and "The invitation could not be mailed" in page, page
    assert "Cleo &lt;cleo@example.com&gt; has an account (agent)" in page, "nothing typed lost"
    assert "could not be sent: refused: nothing accepts connections at the outgoing" in page
    link = re.search(r'id="invitation-link" value="([^"]+)"', page).group(1)
    assert link.startswith(server.desk_url + "/invitation?token=")
    chooser = client_factory(server.desk_url)
    assert "Cleo" in await (await chooser.get(link.removeprefix(server.desk_url))).text(), (
        "the link to pass on works"
    )
    cleo_id = re.search(r'name="agent_id" value="(\d+)"', page).group(1)
    short = await admin.post("/welcome/team", {"agent_id": cleo_id, "password": "short"})
    text = await short.text()
    assert short.status == 400 and "at least" in text and 'id="invitation-link"' in text
    assert "could not be sent: refused: nothing accepts connections at the outgoing" in text

    done = await (await admin.get("/welcome/done")).text()
    assert "Everything is set up" not in done
    assert "help@acme.test" in done, "the refused mailbox is named"
    assert "Cleo" in done and "invitation" in done, "so is the colleague who has no password"
    inbox = await (await admin.get("/inbox")).text()
    assert "help@acme.test" in inbox and "Cleo" in inbox, "and the inbox keeps them listed"

    # Cleo's password is set by the admin in the wizard: that item goes, and Cleo signs in.
    chosen = await admin.post("/welcome/team", {"agent_id": cleo_id, "password": PASSWORD})
    assert chosen.status == 303 and chosen.headers["Location"] == "/welcome/team?done=password"
    said = await (await admin.get(chosen.headers["Location"])).text()
    assert "Password set" in said and "Account added" not in said
    assert "Cleo" not in await (await admin.get("/welcome/done")).text()
    assert (await chooser.signin("cleo@example.com")).status == 303
    again = await admin.post("/welcome/team", {"agent_id": cleo_id, "password": PASSWORD})
    assert again.status == 400 and "change it under Agents" in await again.text(), (
        "the wizard sets only a password nobody knows"
    )


async def _imap_failed(services) -> bool:  # type: ignore[no-untyped-def]
    return any(state.last_error for state in services.email.states.values())
