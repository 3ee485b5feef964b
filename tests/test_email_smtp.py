"""The built-in SMTP receiver, and the outbox: retries, failures, restarts, robots, bounces."""

from __future__ import annotations

import asyncio
import ssl
from contextlib import AsyncExitStack
from pathlib import Path

import aiosmtplib
import pytest

from conftest import free_port, make_config, start_server
from email_helpers import add_mailbox, eventually, mail, mailbox_form, scalar
from mail_servers import USER, Relay
from onlinesupport.core.conversations import Actor

SENDER = "carla@customer.test"


def _config(tmp_path: Path, **overrides):
    values = dict(
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_retry_seconds=0.2,
        email_smtp_max_size=200_000,
    )
    values.update(overrides)
    return make_config(tmp_path / "data", **values)


async def _send(port: int, raw: bytes, to: str = USER, sender: str = SENDER) -> None:
    await aiosmtplib.send(
        raw, sender=sender, recipients=[to], hostname="127.0.0.1", port=port, start_tls=False
    )


async def _dialog(port: int, mail_from: str, data: bytes, rcpt: str = USER) -> list[bytes]:
    """One SMTP session written byte for byte (`data` ends with its own end-of-data line)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for line in (
        b"EHLO test\r\n",
        f"MAIL FROM:<{mail_from}>\r\n".encode(),
        f"RCPT TO:<{rcpt}>\r\n".encode(),
        b"DATA\r\n",
        data,
        b"QUIT\r\n",
    ):
        writer.write(line)
        await writer.drain()
    answers = (await reader.read()).splitlines()
    writer.close()
    return answers


async def _agent_replies(services, text: str) -> int:
    """An agent answers conversation 1; returns the agent's id."""
    agent = await services.accounts.create_agent(
        "amy@shop.test", "Amy", "agent", "correct horse battery"
    )
    await services.conversations.post(1, Actor.agent(agent, "Amy"), text)
    return agent


async def _start(stack: AsyncExitStack, tmp_path: Path, relay: Relay | None, **overrides):
    server = await start_server(stack, _config(tmp_path, **overrides))
    await add_mailbox(server.services, mailbox_form(None, relay, smtp_receive="on"))
    return server.services


async def test_accepted_mail_is_committed_before_the_250(tmp_path: Path, relay: Relay) -> None:
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, relay)
        await _send(services.email.smtp_port, mail(body="Where is my parcel?"))
        # No waiting: the conversation exists when the sending server hears 250.
        assert (
            await scalar(services, "SELECT count(*) FROM conversations WHERE channel = 'email'")
            == 1
        )
        assert await scalar(services, "SELECT body FROM messages") == "Where is my parcel?"
        [ack] = await relay.wait_for(1)
        assert ack["To"] == SENDER


async def test_refusals_unknown_recipient_too_big_and_hosts_not_allowed(
    tmp_path: Path, relay: Relay
) -> None:
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, relay)
        port = services.email.smtp_port
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await _send(port, mail(), to="sales@shop.test")
        assert refused.value.recipients[0].code == 550
        with pytest.raises(aiosmtplib.SMTPResponseException) as too_big:
            await _send(port, mail(body="x" * 300_000))
        assert too_big.value.code == 552
        assert await scalar(services, "SELECT count(*) FROM conversations") == 0
    async with AsyncExitStack() as stack:
        services = await _start(
            stack, tmp_path / "b", relay, email_smtp_allowed_hosts=("192.0.2.0/24",)
        )
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as host:
            await _send(services.email.smtp_port, mail())
        assert host.value.code == 550


async def test_long_lines_are_accepted_and_smuggled_mail_stays_one_mail(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, None)
        port = services.email.smtp_port
        long_line = (
            "From: a@customer.test\r\nTo: support@shop.test\r\nSubject: long\r\n\r\n"
            + "word " * 2000
            + "\r\n"
        ).encode()
        await _send(port, long_line, sender="a@customer.test")
        # SMTP smuggling: a bare-LF end of data must not end the mail and start a second one.
        smuggled = (
            b"From: b@customer.test\r\nSubject: first\r\n\r\nhello\n.\r\n"
            b"MAIL FROM:<ceo@shop.test>\r\nRCPT TO:<support@shop.test>\r\nDATA\r\n"
            b"From: ceo@shop.test\r\nSubject: smuggled\r\n\r\nwire money\r\n.\r\n"
        )
        # Raw bytes on the wire: a client library would repair the bare LF before sending.
        await _dialog(port, "b@customer.test", smuggled)
        subjects = [
            r[0]
            for r in await services.db.fetch_all("SELECT subject FROM conversations ORDER BY id")
        ]
        assert subjects == ["long", "first"]
        assert "word word" in await scalar(services, "SELECT body FROM messages WHERE id = 1")


async def test_relay_down_keeps_the_reply_queued_and_sends_it_once_when_back(
    tmp_path: Path, relay: Relay
) -> None:
    relay.down()
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, relay, email_acks_per_hour=0)
        await _send(services.email.smtp_port, mail())
        await _agent_replies(services, "On its way.")
        # Waiting between retries (not in the middle of one), still queued, with the reason.
        await eventually(
            lambda: scalar(services, "SELECT attempts >= 2 AND status = 'queued' FROM outbox"),
            what="retries",
        )
        assert "refused" in await scalar(services, "SELECT last_error FROM outbox")
        relay.up()
        await relay.wait_for(1, timeout=15)
        await eventually(lambda: scalar(services, "SELECT status = 'sent' FROM outbox"))
    assert len(relay.received) == 1


async def test_a_queued_reply_survives_a_restart_and_goes_out_once(
    tmp_path: Path, relay: Relay
) -> None:
    relay.down()
    config = _config(tmp_path, email_acks_per_hour=0, email_retry_seconds=3600.0)
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config)).services
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on"))
        await _send(services.email.smtp_port, mail())
        await _agent_replies(services, "On its way.")
        await eventually(lambda: scalar(services, "SELECT attempts = 1 FROM outbox"))
    relay.up()
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config)).services
        # Its retry is an hour away; an agent's resend is not needed for a queued mail, but the
        # restart must not forget it: make it due now, as the clock would.
        await services.db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000Z'"
            )
        )
        services.email.sender.wake()
        await relay.wait_for(1)
        await eventually(lambda: scalar(services, "SELECT status = 'sent' FROM outbox"))
    assert len(relay.received) == 1


async def test_a_permanent_refusal_fails_visibly_and_resend_delivers(
    tmp_path: Path, relay: Relay
) -> None:
    relay.answer = "550 5.1.1 mailbox unavailable"
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, relay, email_acks_per_hour=0)
        await _send(services.email.smtp_port, mail())
        agent = await _agent_replies(services, "On its way.")
        await eventually(lambda: scalar(services, "SELECT status = 'failed' FROM outbox"))
        assert "550" in await scalar(services, "SELECT last_error FROM outbox")
        assert await scalar(services, "SELECT attempts FROM outbox") == 1, "no retry of a 5xx"
        types = [r[0] for r in await services.db.fetch_all("SELECT type FROM events")]
        assert "email.failed" in types
        relay.answer = None
        assert await services.email.sender.resend(1, agent)
        await relay.wait_for(1)
        await eventually(lambda: scalar(services, "SELECT status = 'sent' FROM outbox"))


async def test_robots_get_no_acknowledgement_and_people_at_most_n_an_hour(
    tmp_path: Path, relay: Relay
) -> None:
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, relay, email_acks_per_hour=2)
        port = services.email.smtp_port
        await _send(
            port,
            mail(sender="robot@customer.test", Auto_Submitted="auto-replied"),
            sender="robot@customer.test",
        )
        await _send(
            port, mail(sender="list@customer.test", Precedence="bulk"), sender="list@customer.test"
        )
        await _dialog(port, "", mail(sender="nobody@customer.test") + b".\r\n")
        for n in range(4):
            await _send(port, mail(subject=f"Question {n}"))
        await eventually(lambda: scalar(services, "SELECT count(*) = 7 FROM conversations"))
        await relay.wait_for(2)
        assert await scalar(services, "SELECT count(*) FROM outbox") == 2
        assert {m["To"] for m in relay.received} == {SENDER}


async def test_an_auto_responder_peer_causes_no_mail_loop(tmp_path: Path, relay: Relay) -> None:
    """Our acknowledgement reaches a peer that auto-replies to everything: one round, no loop."""
    async with AsyncExitStack() as stack:
        services = await _start(stack, tmp_path, relay)
        port = services.email.smtp_port
        await _send(port, mail(sender="peer@customer.test"), sender="peer@customer.test")
        [ack] = await relay.wait_for(1)
        assert ack["Auto-Submitted"] == "auto-replied"
        # The peer's robot answers our acknowledgement (as a badly behaved one would).
        await _send(
            port,
            mail(
                sender="peer@customer.test",
                subject="Auto: " + ack["Subject"],
                In_Reply_To=ack["Message-ID"],
                X_Autoreply="yes",
            ),
            sender="peer@customer.test",
        )
        await eventually(lambda: scalar(services, "SELECT count(*) = 2 FROM messages"))
        assert await scalar(services, "SELECT count(*) FROM conversations") == 1, "threaded"
        assert await scalar(services, "SELECT count(*) FROM outbox") == 1, "not answered"


async def test_a_bounce_marks_the_reply_failed_instead_of_opening_a_conversation(
    tmp_path: Path, relay: Relay
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path, email_acks_per_hour=0))
        services = server.services
        await add_mailbox(
            services, mailbox_form(None, relay, smtp_receive="on", signed_return_path="on")
        )
        port = services.email.smtp_port
        await _send(port, mail(sender="gone@customer.test"), sender="gone@customer.test")
        await _agent_replies(services, "Here is your answer.")
        [reply] = await relay.wait_for(1)
        # The reply went out with a signed return path; the report comes back to it.
        [(return_path, _)] = relay.envelopes
        assert return_path.startswith("support+bounce-1-") and return_path.endswith("@shop.test")
        bounce = _bounce_for(reply["Message-ID"], "gone@customer.test")
        answers = await _dialog(port, "", bounce + b".\r\n", rcpt=return_path)
        assert any(a.startswith(b"250 2.0.0") for a in answers), answers
        assert await scalar(services, "SELECT count(*) FROM conversations") == 1
        assert await scalar(services, "SELECT status FROM outbox") == "failed"
        assert "User unknown" in await scalar(services, "SELECT last_error FROM outbox")
        note = await scalar(services, "SELECT body FROM messages WHERE kind = 'event'")
        assert note.startswith("Mail to gone@customer.test could not be delivered")


async def test_a_bounced_sign_in_link_is_marked_failed_and_the_report_kept(
    tmp_path: Path, relay: Relay, client_factory
) -> None:
    """A sign-in link belongs to no conversation to note its bounce on (the report's import
    once failed on that, and with it the report)."""
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path, email_acks_per_hour=0))
        services = server.services
        await add_mailbox(
            services, mailbox_form(None, relay, smtp_receive="on", signed_return_path="on")
        )
        await services.conversations.open(
            channel="form", customer_name="Lee", identity=("email", "gone@customer.test"), body="Hi"
        )
        lee = client_factory(server.public_url)
        await lee.session.post(
            server.public_url + "/my/signin", data={"email": "gone@customer.test"}
        )
        [link] = await relay.wait_for(1)
        [(return_path, _)] = relay.envelopes
        await eventually(lambda: scalar(services, "SELECT status = 'sent' FROM outbox"))
        bounce = _bounce_for(link["Message-ID"], "gone@customer.test")
        answers = await _dialog(services.email.smtp_port, "", bounce + b".\r\n", rcpt=return_path)
        assert any(a.startswith(b"250 2.0.0") for a in answers), answers
        assert await scalar(services, "SELECT status FROM outbox") == "failed"
        assert "User unknown" in await scalar(services, "SELECT last_error FROM outbox")
        assert await scalar(services, "SELECT count(*) FROM conversations") == 2


def _bounce_for(message_id: str, recipient: str) -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.customer.test\r\nTo: {USER}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n"
        "Subject: Re: x\r\n\r\n--B--\r\n"
    ).encode()


async def test_an_agent_mails_a_chat_transcript_and_sees_its_delivery(
    tmp_path: Path, relay: Relay, client_factory
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path))
        services = server.services
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on"))
        chat = await services.conversations.open(
            channel="chat",
            customer_name="Nora",
            identity=("email", "nora@customer.test"),
            body="Do you ship to Norway?",
        )
        await _agent_replies(services, "Yes, in 3 days.")
        await services.conversations.note(1, Actor.agent(1, "Amy"), "internal: check rates")
        nobody = await services.conversations.open(channel="chat", customer_name="Anon", body="hi")
        await services.accounts.create_agent(
            "ada@shop.test", "Ada", "admin", "correct horse battery"
        )
        desk = client_factory(server.desk_url)
        await desk.signin("ada@shop.test")
        response = await desk.post_json(f"/conversations/{chat.conversation_id}/transcript", {})
        assert response.status == 200, await response.text()
        [mail_sent] = await relay.wait_for(1)
        text = mail_sent.get_body(("plain",)).get_content()
        assert mail_sent["To"] == "nora@customer.test"
        assert "Do you ship to Norway?" in text and "Yes, in 3 days." in text
        assert "internal" not in text, "internal notes stay internal"
        assert f"[#{chat.conversation_id}]" in mail_sent["Subject"]
        await eventually(lambda: scalar(services, "SELECT status = 'sent' FROM outbox"))
        page = await (await desk.get(f"/conversations/{chat.conversation_id}")).text()
        assert "Transcript emailed to nora@customer.test by Ada" in page
        assert "Emailed to nora@customer.test" in page
        refused = await desk.post_json(f"/conversations/{nobody.conversation_id}/transcript", {})
        assert refused.status == 400
        assert "no email address" in (await refused.json())["error"]


async def test_the_receiver_offers_starttls_when_given_a_certificate(
    tmp_path: Path, tls_cert
) -> None:
    cert, key = tls_cert
    async with AsyncExitStack() as stack:
        services = await _start(
            stack, tmp_path, None, email_smtp_tls_cert=str(cert), email_smtp_tls_key=str(key)
        )
        context = ssl.create_default_context(cafile=str(cert))
        await aiosmtplib.send(
            mail(),
            sender=SENDER,
            recipients=[USER],
            hostname="127.0.0.1",
            port=services.email.smtp_port,
            start_tls=True,
            tls_context=context,
        )
        assert await scalar(services, "SELECT count(*) FROM conversations") == 1


async def test_a_form_reply_waits_for_a_mailbox_and_goes_out_once_one_is_set_up(
    tmp_path: Path, relay: Relay
) -> None:
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, _config(tmp_path))).services
        await services.conversations.open(
            channel="form",
            customer_name="Lee",
            identity=("email", "lee@customer.test"),
            body="Please call me back",
        )
        await _agent_replies(services, "We will call you at 3.")
        # The attempt is counted when the mail is claimed, its error recorded just after.
        await eventually(lambda: scalar(services, "SELECT last_error != '' FROM outbox"))
        assert "no mailbox is set up" in await scalar(services, "SELECT last_error FROM outbox")
        await add_mailbox(services, mailbox_form(None, relay, smtp_receive="on"))
        services.email.sender.wake()
        await services.db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000Z'"
            )
        )
        services.email.sender.wake()
        [reply] = await relay.wait_for(1)
        assert (
            reply["To"] == "lee@customer.test"
            and reply["From"] == "Shop Support <support@shop.test>"
        )
