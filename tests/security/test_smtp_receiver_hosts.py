"""Issue 13, finding 12 (mail part): the SMTP receiver binds every address when it is on, so who
may hand it mail must be explicit: the LAN by default, plus the mail servers an admin names
(Admin → Mailboxes, or the first-run wizard); nobody else on the internet."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import aiosmtplib
import pytest

from conftest import PASSWORD, free_port, make_config, start_server
from email_helpers import add_mailbox, mail, mailbox_form, scalar, smtp_send
from onlinesupport.config import PRIVATE_NETWORKS, Config


def test_the_default_takes_mail_from_the_lan_only() -> None:
    assert Config().email_smtp_allowed_hosts == PRIVATE_NETWORKS
    assert not {"0.0.0.0/0", "::/0"} & set(Config().email_smtp_allowed_hosts)


async def test_only_the_mail_servers_an_admin_named_may_hand_over_mail(
    tmp_path: Path, client_factory
) -> None:
    # An installation whose settings allow no network itself: the admin's list decides.
    config = make_config(
        tmp_path / "data",
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_smtp_allowed_hosts=(),
    )
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        services = server.services
        await add_mailbox(services, mailbox_form(None, None, smtp_receive="on"))
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await smtp_send(services.email.smtp_port, mail(), "carla@customer.test")
        assert refused.value.code == 550
        await services.accounts.create_agent("ada@shop.test", "Ada", "admin", PASSWORD)
        admin = client_factory(server.desk_url)
        await admin.signin("ada@shop.test")
        page = await (await admin.get("/welcome/mailbox")).text()
        assert "Your mail server's address" in page and 'name="mail_servers"' in page
        wrong = await admin.post("/welcome/mailbox", {"mail_servers": "mail.example.com"})
        assert wrong.status == 400 and "not an IP address" in await wrong.text()
        anyone = await admin.post("/admin/mailboxes/mail-servers", {"mail_servers": "0.0.0.0/0"})
        assert anyone.status == 400 and "anyone on the internet" in await anyone.text()
        saved = await admin.post("/welcome/mailbox", {"mail_servers": "127.0.0.1\n192.0.2.7"})
        assert saved.status == 303
        await smtp_send(services.email.smtp_port, mail(), "carla@customer.test")
        assert await scalar(services, "SELECT count(*) FROM conversations") == 1
        listed = await (await admin.get("/admin/mailboxes")).text()
        assert "192.0.2.7" in listed
