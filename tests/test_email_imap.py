"""Mail pulled from a real Dovecot becomes threaded conversations; replies leave through a relay."""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from pathlib import Path

from conftest import make_config, start_server
from email_helpers import add_mailbox, eventually, mail, mailbox_form, scalar
from mail_servers import Dovecot, Relay
from onlinesupport.core.conversations import Actor
from onlinesupport.store import messages as messages_repo


def _config(tmp_path: Path, **overrides):
    values = dict(email_imap_poll_seconds=60.0, email_retry_seconds=0.2)
    values.update(overrides)
    return make_config(tmp_path / "data", **values)


async def _conversation_count(services) -> int:
    return await scalar(services, "SELECT count(*) FROM conversations")


async def test_mail_becomes_a_conversation_and_the_reply_threads_both_ways(
    tmp_path: Path, dovecot: Dovecot, relay: Relay
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path))
        services = server.services
        await add_mailbox(services, mailbox_form(dovecot, relay))
        first = mail(body="Order 1234 has not arrived.\n\nCarla")
        await dovecot.append(first)
        # The poll interval is a minute: only IDLE brings the mail in this fast.
        cid = await eventually(
            lambda: scalar(services, "SELECT id FROM conversations"), what="the conversation"
        )
        conversation = await scalar(services, "SELECT channel || ' ' || subject FROM conversations")
        assert conversation == "email My order is late"
        [message] = await messages_repo.after(services.db, cid)
        assert message.body.startswith("Order 1234 has not arrived.")
        assert message.email["direction"] == "in" and message.email["from"] == "carla@customer.test"

        [ack] = await relay.wait_for(1)
        assert ack["Auto-Submitted"] == "auto-replied"
        assert f"[#{cid}]" in ack["Subject"]
        original_id = message_id_of(first)
        assert ack["In-Reply-To"] == original_id

        agent_id = await services.accounts.create_agent(
            "amy@shop.test", "Amy", "agent", "correct horse battery"
        )
        await services.conversations.post(cid, Actor.agent(agent_id, "Amy"), "It ships today.")
        reply = (await relay.wait_for(2))[1]
        assert reply["To"] == "carla@customer.test"
        assert reply["In-Reply-To"] == original_id
        assert original_id in reply["References"]
        assert reply["Subject"] == f"Re: My order is late [#{cid}]"
        assert "It ships today." in reply.get_body(("plain",)).get_content()
        assert reply.get_body(("html",)) is not None
        assert "Auto-Submitted" not in reply
        outgoing = await messages_repo.after(services.db, cid, 1)
        await eventually(
            lambda: scalar(services, "SELECT status = 'sent' FROM outbox WHERE purpose = 'reply'"),
            what="sent",
        )

        # The customer answers our reply: found by our Message-ID, not by the subject.
        await dovecot.append(
            mail(
                subject="Re: something else entirely",
                body="Thanks!",
                In_Reply_To=reply["Message-ID"],
            )
        )
        await eventually(
            lambda: scalar(services, "SELECT last_seq = 3 FROM conversations WHERE id = ?", (cid,)),
            what="the answer",
        )
        # The ticket token threads only for the conversation's own customer.
        await dovecot.append(mail(subject=f"One more thing [#{cid}]", body="Also: gift wrap?"))
        await dovecot.append(
            mail(sender="mallory@elsewhere.test", subject=f"Hi [#{cid}]", body="Let me in")
        )
        await eventually(
            lambda: scalar(services, "SELECT count(*) = 5 FROM messages"), what="all mails"
        )
        assert (
            await scalar(services, "SELECT last_seq FROM conversations WHERE id = ?", (cid,)) == 4
        )
        assert await _conversation_count(services) == 2
        assert outgoing[0].email["direction"] == "out"
        # Imported mails are marked seen on the server, after the import.
        assert await dovecot.uids(criteria="UNSEEN") == []
        assert await scalar(services, "SELECT imap_last_uid FROM mailboxes") == 4


def message_id_of(raw: bytes) -> str:
    for line in raw.decode().splitlines():
        if line.lower().startswith("message-id:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no Message-ID")


async def test_killing_dovecot_mid_import_loses_nothing_and_imports_nothing_twice(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    count = 300
    await dovecot.append(
        *[
            mail(
                sender=f"c{n}@customer.test",
                subject=f"Question {n}",
                body=f"Question number {n}\n" + "text " * 400,
            )
            for n in range(count)
        ]
    )
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path, email_imap_poll_seconds=0.5))
        services = server.services
        await add_mailbox(services, mailbox_form(dovecot, None, ack_enabled=""))
        await eventually(
            lambda: scalar(services, "SELECT count(*) > 0 FROM email_messages"),
            what="the import to start",
        )
        dovecot.stop(signal.SIGKILL)
        imported = await _conversation_count(services)
        assert 0 < imported < count, "the server went away mid-import"
        dovecot.start()
        await eventually(
            lambda: scalar(services, "SELECT count(*) = ? FROM email_messages", (count,)),
            timeout=60,
            what="every mail",
        )
        assert await _conversation_count(services) == count
        subjects = await services.db.fetch_all("SELECT DISTINCT subject FROM conversations")
        assert len(subjects) == count
        assert await scalar(services, "SELECT imap_last_uid FROM mailboxes") == count
        state = services.email.states[1]
        assert state.connected


async def test_a_new_uidvalidity_rereads_the_folder_without_duplicates(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    await dovecot.append(mail(subject="First"), mail(subject="Second"))
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path, email_imap_poll_seconds=0.5))
        services = server.services
        await add_mailbox(services, mailbox_form(dovecot, None, ack_enabled=""))
        await eventually(lambda: scalar(services, "SELECT count(*) = 2 FROM email_messages"))
        before = await scalar(services, "SELECT imap_uidvalidity FROM mailboxes")
        dovecot.stop()
        # The server forgets its numbering (as after a restore): a new UIDVALIDITY, new UIDs.
        for state in (dovecot.folder / "mail").rglob("dovecot*"):
            state.unlink()
        await asyncio.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock's seconds
        dovecot.start()
        await dovecot.append(mail(subject="Third"))
        await eventually(
            lambda: scalar(services, "SELECT count(*) = 3 FROM email_messages"),
            what="the third mail",
        )
        assert await scalar(services, "SELECT imap_uidvalidity FROM mailboxes") != before
        assert await _conversation_count(services) == 3


async def test_imported_mail_can_be_moved_to_a_folder(tmp_path: Path, dovecot: Dovecot) -> None:
    await dovecot.create_folder("Imported")
    await dovecot.append(mail(subject="Move me"))
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path))
        services = server.services
        await add_mailbox(
            services, mailbox_form(dovecot, None, imap_after="move", imap_move_to="Imported")
        )
        await eventually(lambda: scalar(services, "SELECT count(*) = 1 FROM email_messages"))
        await eventually(lambda: _empty_inbox(dovecot), what="the move")
        assert len(await dovecot.uids("Imported")) == 1


async def _empty_inbox(dovecot: Dovecot) -> bool:
    return await dovecot.uids() == []


async def test_imap_starttls_is_verified_and_then_works(
    tmp_path: Path, dovecot_tls: Dovecot, tls_cert, monkeypatch
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_server(stack, _config(tmp_path))
        services = server.services
        form = mailbox_form(dovecot_tls, None, imap_security="starttls", active="")
        mailbox_id = await services.email.mailboxes.create(form)
        mailbox = await services.db.fetch_one("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,))
        [untrusted] = await services.email.mailboxes.test(dict(mailbox))
        assert not untrusted.ok and untrusted.detail.startswith("TLS:"), untrusted
        monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert[0]))  # trust the test certificate
        [trusted] = await services.email.mailboxes.test(dict(mailbox))
        assert trusted.ok, trusted
