"""The mail-reading fixtures through both real ways in: pulled from Dovecot by IMAP, and handed
to the built-in SMTP receiver byte for byte (bare LF and CR line endings included).

The same parser serves both; what an agent sees must not depend on how the mail came.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from conftest import free_port, make_config, start_server
from email_helpers import add_mailbox, eventually, mailbox_form, scalar, smtp_raw
from mail_cases import READING, Case
from mail_servers import Dovecot
from onlinesupport.channels.email.parse import parse

BY_SMTP = "smtp@shop.test"


async def _seen(services, mailbox_id: int, file: str, case: Case) -> None:
    """What the desk holds of `file` as it came into `mailbox_id`."""
    message_id = parse(case.raw(file)).message_id
    row = await services.db.fetch_one(
        "SELECT m.id, m.body, c.subject, c.customer_id, e.warning, cu.name FROM email_messages e"
        " JOIN messages m ON m.id = e.message_id JOIN conversations c ON c.id = m.conversation_id"
        " JOIN customers cu ON cu.id = c.customer_id"
        " WHERE e.mailbox_id = ? AND e.rfc_message_id = ?",
        (mailbox_id, message_id),
    )
    assert row is not None, f"{file} was not imported into mailbox {mailbox_id}"
    address = await scalar(
        services,
        "SELECT value FROM customer_identities WHERE customer_id = ? AND kind = 'email'",
        (row["customer_id"],),
    )
    assert (address or "") == case.sender, file
    assert row["name"] == case.name, file
    assert row["subject"] == (case.subject or "(no subject)"), file
    assert row["body"].startswith(case.body_starts), (file, row["body"][:120])
    files = [
        r[0]
        for r in await services.db.fetch_all(
            "SELECT filename FROM attachments WHERE message_id = ? ORDER BY id", (row["id"],)
        )
    ]
    assert tuple(files) == case.files, file
    if case.warning:
        assert case.warning in row["warning"], (file, row["warning"])
    else:
        assert row["warning"] == "", (file, row["warning"])


async def test_every_reading_case_reads_the_same_by_imap_and_by_smtp(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    config = make_config(
        tmp_path / "data",
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_imap_poll_seconds=60.0,
    )
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config)).services
        by_imap = await add_mailbox(services, mailbox_form(dovecot, None))
        by_smtp = await add_mailbox(
            services, mailbox_form(None, None, address=BY_SMTP, imap_host="", smtp_receive="on")
        )
        await dovecot.append(*(case.raw(file) for file, case in READING.items()))
        for file, case in READING.items():
            answers = await smtp_raw(
                services.email.smtp_port, "relay@shop.test", BY_SMTP, case.raw(file)
            )
            assert any(a.startswith(b"250 2.0.0") for a in answers), (file, answers)
        await eventually(
            lambda: scalar(
                services,
                "SELECT count(*) = ? FROM email_messages WHERE mailbox_id = ?",
                (len(READING), by_imap),
            ),
            what="every mail by IMAP",
        )
        for file, case in READING.items():
            await _seen(services, by_imap, file, case)
            await _seen(services, by_smtp, file, case)
        # No acknowledgement goes to what is not an address (the mail says why, above).
        invalid = await scalar(
            services,
            "SELECT count(*) FROM outbox WHERE to_address NOT LIKE"
            " '%_@_%._%' OR to_address LIKE '% %'",
        )
        assert invalid == 0
