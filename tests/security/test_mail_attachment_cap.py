"""Issue 13, finding 11: one mail must not write thousands of files.

A 2,000-attachment mail of a few hundred KB is taken whole (the sending server is never made to
retry it), but only the first `[email] max_attachments` files are stored; the rest stay inside
the original mail, and the desk says so.
"""

from __future__ import annotations

import email
import zlib
from contextlib import AsyncExitStack
from email import policy
from email.message import EmailMessage
from pathlib import Path

from conftest import free_port, make_config, start_server
from email_helpers import add_mailbox, mailbox_form, scalar, smtp_send
from mail_servers import USER


def _many_files(count: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Flood <flood@elsewhere.test>"
    msg["To"] = USER
    msg["Subject"] = "Many files"
    msg.set_content("See the attached files.")
    for n in range(count):
        msg.add_attachment(
            f"file {n}\n".encode(),
            maintype="application",
            subtype="octet-stream",
            filename=f"file-{n}.bin",
        )
    return msg.as_bytes(policy=policy.SMTP)


async def test_a_mail_with_2000_attachments_stores_only_the_configured_number(
    tmp_path: Path,
) -> None:
    config = make_config(
        tmp_path / "data",
        email_smtp_port=free_port(),
        email_smtp_host="127.0.0.1",
        email_max_attachments=25,
    )
    raw = _many_files(2000)
    assert len(raw) < 600_000
    async with AsyncExitStack() as stack:
        services = (await start_server(stack, config)).services
        await add_mailbox(services, mailbox_form(None, None, smtp_receive="on"))
        await smtp_send(services.email.smtp_port, raw, "flood@elsewhere.test")
        assert await scalar(services, "SELECT count(*) FROM attachments") == 25
        stored = [p for p in (config.data_dir / "attachments").rglob("*") if p.is_file()]
        assert len(stored) == 25
        assert [
            r[0]
            for r in await services.db.fetch_all(
                "SELECT filename FROM attachments ORDER BY id LIMIT 2"
            )
        ] == ["file-0.bin", "file-1.bin"]
        warning = await scalar(services, "SELECT warning FROM email_messages")
        assert "2,000 attachments; the first 25 are shown" in warning
        # The original keeps every one of them.
        original = email.message_from_bytes(
            zlib.decompress(await scalar(services, "SELECT raw FROM email_raw"))
        )
        assert sum(1 for part in original.walk() if part.get_filename()) == 2000


def test_the_cap_has_a_generous_default() -> None:
    assert make_config(Path("/nonexistent")).email_max_attachments == 100
