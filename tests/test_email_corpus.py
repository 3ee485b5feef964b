"""The standard library's own email test mails (tests/fixtures/mail/corpus), each through the
intake into a real database: every one must give a conversation with a sender or a warning
that says why not, no U+FFFD unless the mail has a byte no charset explains, text whenever
one of its body parts has text, and every file it carries.

What is expected is worked out here with the stdlib's own parser, independently of ours.
"""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from email import policy
from email.message import Message
from pathlib import Path

import pytest

from conftest import make_config
from email_helpers import mailbox_form
from onlinesupport.channels.email.intake import Incoming
from onlinesupport.lib.clock import ManualClock
from onlinesupport.services import Services, open_services

CORPUS = Path(__file__).parent / "fixtures" / "mail" / "corpus"
MAILS = sorted(CORPUS.glob("msg_*.txt"))


def _inline_text(part: Message) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _leaves(part: Message) -> list[Message]:
    """The parts a reader sees: a forwarded mail or a report block is one, not its insides."""
    if part.get_content_maintype() == "message" or not part.is_multipart():
        return [part]
    return [leaf for sub in part.get_payload() for leaf in _leaves(sub)]


def _decodes(data: bytes, charset: str | None) -> bool:
    for candidate in (charset or "us-ascii", "utf-8"):
        try:
            data.decode(candidate)
            return True
        except (LookupError, UnicodeDecodeError):
            continue
    return False


def _undecodable(msg: Message, raw: bytes) -> bool:
    """Whether some text of the mail is in no charset it names, nor UTF-8."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    if not _decodes(head, "utf-8"):
        return True
    return any(
        not _decodes(leaf.get_payload(decode=True) or b"", leaf.get_content_charset())
        for leaf in _leaves(msg)
        if _inline_text(leaf)
    )


@pytest.fixture(scope="module")
async def intake(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Services, dict]]:
    """One database for the whole corpus, with a mailbox taking the mails."""
    config = make_config(tmp_path_factory.mktemp("corpus") / "data")
    async with open_services(config, ManualClock()) as services:
        mailbox_id = await services.email.mailboxes.create(
            mailbox_form(None, None, smtp_receive="on")
        )
        yield (
            services,
            dict(
                await services.db.fetch_one("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,))
            ),
        )


def test_the_corpus_is_all_there() -> None:
    assert len(MAILS) == 47
    assert (CORPUS / "LICENSE").read_text().count("PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2")


@pytest.mark.parametrize("path", MAILS, ids=[p.name for p in MAILS])
async def test_each_mail_of_the_stdlib_corpus_comes_through_whole(intake, path: Path) -> None:
    services, mailbox = intake
    raw = path.read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    imported = await services.email.intake.receive(mailbox, Incoming(raw))
    row = await services.db.fetch_one(
        "SELECT m.body, c.subject, e.warning, e.from_address, cu.name FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id JOIN customers cu"
        " ON cu.id = c.customer_id JOIN email_messages e ON e.message_id = m.id WHERE m.id = ?",
        (imported.message_id,),
    )
    assert row["from_address"] or "sender" in row["warning"], row["warning"]
    if not _undecodable(msg, raw):
        for shown in (row["body"], row["subject"], row["name"]):
            assert "\ufffd" not in shown
    has_text = any(
        _inline_text(leaf) and (leaf.get_payload(decode=True) or b"").strip()
        for leaf in _leaves(msg)
    )
    if has_text:
        assert row["body"].strip()
    files = [
        leaf
        for leaf in _leaves(msg)
        if not _inline_text(leaf) and (leaf.get_content_maintype() != "multipart")
    ]
    stored = (
        await services.db.fetch_one(
            "SELECT count(*) FROM attachments WHERE message_id = ?", (imported.message_id,)
        )
    )[0]
    assert stored == len(files)
