"""Issue 13, finding 12 (mail part): a forged delivery report naming one of our Message-IDs
must not mark that reply as failed. Only a report that came back to the reply's signed return
path (VERP, `support+bounce-<id>-<signature>@`) does; any other is noted as unverified."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from conftest import PASSWORD, free_port, make_config, start_server
from email_helpers import add_mailbox, mail, mailbox_form, scalar, smtp_raw, smtp_send
from mail_servers import USER, Relay
from onlinesupport.core.conversations import Actor


def _report(message_id: str, to: str) -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.customer.test\r\nTo: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; carla@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n"
        "Subject: Re: x\r\n\r\n--B--\r\n"
    ).encode()


async def test_a_forged_bounce_does_not_mark_a_sent_reply_failed(
    tmp_path: Path, relay: Relay
) -> None:
    config = make_config(
        tmp_path / "data",
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_acks_per_hour=0,
    )
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config)).services
        await add_mailbox(
            services, mailbox_form(None, relay, smtp_receive="on", signed_return_path="on")
        )
        port = services.email.smtp_port
        await smtp_send(port, mail(), "carla@customer.test")
        amy = await services.accounts.create_agent("amy@shop.test", "Amy", "agent", PASSWORD)
        await services.conversations.post(1, Actor.agent(amy, "Amy"), "Here is your answer.")
        [reply] = await relay.wait_for(1)
        [(return_path, _)] = relay.envelopes
        # Anyone who saw the reply's Message-ID can write a report about it: to the support
        # address, or to a return path with a made-up signature.
        forged = return_path.rsplit("-", 1)[0] + "-0123456789abcdef@shop.test"
        for to in (USER, forged):
            answers = await smtp_raw(port, "", to, _report(reply["Message-ID"], to))
            assert any(a.startswith(b"250 2.0.0") for a in answers), answers
        assert await scalar(services, "SELECT status FROM outbox") == "sent"
        notes = [
            r[0]
            for r in await services.db.fetch_all(
                "SELECT body FROM messages WHERE kind = 'event' ORDER BY id"
            )
        ]
        assert len(notes) == 2 and all("may be forged" in n for n in notes)
        assert await scalar(services, "SELECT count(*) FROM conversations") == 1
        # The real report comes back to the signed return path.
        await smtp_raw(port, "", return_path, _report(reply["Message-ID"], return_path))
        assert await scalar(services, "SELECT status FROM outbox") == "failed"
