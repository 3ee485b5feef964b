"""Admins set up a support mailbox in the desk: validated, passwords sealed, connection tested."""

from __future__ import annotations

import html
import re

from conftest import Personas, Server, free_port
from email_helpers import eventually, mailbox_form, scalar
from mail_servers import PASSWORD, Dovecot, Relay


async def _admin(client_factory, server: Server):
    desk = client_factory(server.desk_url)
    assert (await desk.signin("ada@example.com")).status == 303
    return desk


async def test_an_admin_adds_a_mailbox_and_its_password_is_never_shown_or_stored_plain(
    server: Server, personas: Personas, client_factory, dovecot: Dovecot, relay: Relay
) -> None:
    desk = await _admin(client_factory, server)
    response = await desk.post("/admin/mailboxes", mailbox_form(dovecot, relay))
    assert response.status == 303
    location = response.headers["Location"]
    page = await (await desk.get(location.split("?")[0])).text()
    assert PASSWORD not in page
    assert "saved; type to change" in page
    stored = await scalar(server.services, "SELECT imap_password FROM mailboxes")
    assert stored.startswith("v1:") and PASSWORD not in stored
    # The poller starts with the saved settings and shows it is connected.
    await eventually(lambda: _connected(desk, location), what="connected state")

    # Saving without typing the password keeps it.
    form = mailbox_form(dovecot, relay, imap_password="", display_name="Shop Help")
    assert (await desk.post("/admin/mailboxes/1", form)).status == 303
    assert await scalar(server.services, "SELECT imap_password FROM mailboxes") == stored
    tested = await (await desk.post("/admin/mailboxes/1/test")).text()
    assert "IMAP:</strong> works" in tested and "SMTP:</strong> works" in tested


async def _connected(desk, location: str) -> bool:
    page = await (await desk.get(location.split("?")[0])).text()
    return bool(re.search(r'id="mailbox-state">connected', page))


async def test_the_connection_test_names_what_failed(
    server: Server, personas: Personas, client_factory, dovecot: Dovecot
) -> None:
    desk = await _admin(client_factory, server)
    cases = [
        (dict(imap_password="wrong password"), "login refused"),
        (dict(imap_port=str(free_port())), "refused: nothing accepts connections"),
        (dict(imap_host="imap.nowhere.invalid"), "DNS: the name of imap.nowhere.invalid"),
        (dict(imap_folder="Archive/Missing"), "folder 'Archive/Missing' does not exist"),
        (dict(imap_security="tls"), "TLS:"),
    ]
    for number, (change, expected) in enumerate(cases, start=1):
        form = mailbox_form(dovecot, None, address=f"help{number}@shop.test", active="", **change)
        response = await desk.post("/admin/mailboxes", form)
        assert response.status == 303, await response.text()
        tested = html.unescape(await (await desk.post(f"/admin/mailboxes/{number}/test")).text())
        assert "IMAP:</strong> failed" in tested and expected in tested, (expected, tested[-800:])


async def test_bad_input_gets_a_clear_error_and_only_admins_get_in(
    server: Server, personas: Personas, client_factory
) -> None:
    desk = await _admin(client_factory, server)
    bad = [
        (dict(address="not an address"), "must be an email address"),
        (dict(imap_port="99999"), "port from 1 to 65535"),
        (dict(imap_host="", smtp_receive=""), "choose how mail comes in"),
        (dict(imap_after="move", imap_move_to=""), "name the folder"),
        (dict(imap_security="ssl3"), "must be one of"),
    ]
    for change, expected in bad:
        form = mailbox_form(None, None, **{"imap_host": "imap.shop.test", **change})
        response = await desk.post("/admin/mailboxes", form)
        assert response.status == 400
        assert expected in await response.text()
    assert await scalar(server.services, "SELECT count(*) FROM mailboxes") == 0
    form = mailbox_form(None, None, imap_host="imap.shop.test")
    assert (await desk.post("/admin/mailboxes", form)).status == 303
    again = await desk.post("/admin/mailboxes", form)
    assert again.status == 400 and "set up already" in await again.text()

    agent = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/admin/mailboxes")).status == 403
    assert (await agent.post("/admin/mailboxes", form)).status == 403
    assert (await agent.post("/admin/mailboxes/1/test")).status == 403
    public = client_factory(server.public_url)
    assert (await public.get("/admin/mailboxes")).status == 404
