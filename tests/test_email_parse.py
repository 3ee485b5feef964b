"""Parsing real-world mail: charsets, encoded words, HTML, attachments, broken MIME, robots."""

from __future__ import annotations

from pathlib import Path

import pytest

from mail_cases import READING
from onlinesupport.channels.email.parse import parse
from onlinesupport.channels.email.quotes import quote_start

FIXTURES = Path(__file__).parent / "fixtures" / "mail"

# file: (sender, subject, body starts with, attachment names, automatic?, warning?)
EXPECTED = {
    "latin1_encoded_words.eml": (
        "juergen@example.de",
        "Rechnung für März",
        "Grüße, meine Rechnung für März",
        [],
        False,
        False,
    ),
    "wrong_charset.eml": ("ana@example.com", "Café order", "My café order", [], False, True),
    "unknown_charset.eml": (
        "bob@example.com",
        "Strange charset",
        "Price: 10€, naïve",
        [],
        False,
        True,
    ),
    "html_only.eml": (
        "carla@example.com",
        "Only HTML",
        "Hello team,\n\nthe login page says error 42.",
        [],
        False,
        False,
    ),
    "inline_image.eml": (
        "dan@example.com",
        "Screenshot of the problem",
        "See the screenshot below.",
        ["shot.png"],
        False,
        False,
    ),
    "attachment_rfc2231.eml": (
        "eve@example.com",
        "Invoice attached",
        "Please check the attached",
        ["Rechnung März.pdf"],
        False,
        False,
    ),
    "broken_mime.eml": (
        "finn@example.com",
        "Broken structure",
        "--SOMETHING-ELSE",
        [],
        False,
        True,
    ),
    "no_message_id.eml": ("gina@example.com", "No id", "Where is my parcel?", [], False, False),
    "auto_reply.eml": (
        "hank@example.com",
        "Out of office: Re: Your order",
        "I am out of the office",
        [],
        True,
        False,
    ),
    "reply_quoted.eml": (
        "ivy@example.com",
        "Re: Your order [#12]",
        "Thanks, that worked!",
        [],
        False,
        False,
    ),
    "forwarded.eml": (
        "jack@example.com",
        "Fwd: Order confirmation",
        "See the confirmation below",
        ["Order confirmation.eml"],
        False,
        False,
    ),
    "long_lines.eml": ("kim@example.com", "Long line", "long long long", [], False, False),
    "garbage.eml": ("", "", "\x00\x01", [], True, True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tricky_mail_gives_sender_subject_body_and_files(name: str) -> None:
    sender, subject, body, files, automatic, warned = EXPECTED[name]
    mail = parse((FIXTURES / name).read_bytes())
    assert mail.from_address == sender
    assert mail.subject == subject
    assert mail.text.startswith(body), mail.text[:80]
    assert [f.filename for f in mail.files] == files
    assert bool(mail.automatic) == automatic, mail.automatic
    assert bool(mail.warning) == warned, mail.warning
    assert mail.message_id


def test_every_fixture_is_covered() -> None:
    assert {p.name for p in FIXTURES.glob("*.eml")} == set(EXPECTED) | set(READING) | {"bounce.eml"}


def test_html_is_sanitised_and_inline_images_keep_their_content_id() -> None:
    html_only = parse((FIXTURES / "html_only.eml").read_bytes())
    assert "<script" not in html_only.html and "javascript:" not in html_only.html
    assert "onclick" not in html_only.html and "<b>login</b>" in html_only.html
    inline = parse((FIXTURES / "inline_image.eml").read_bytes())
    assert 'src="cid:shot1@example.com"' in inline.html
    assert inline.files[0].content_id == "shot1@example.com"
    assert inline.files[0].data.startswith(b"\x89PNG")


def test_a_mail_without_message_id_gets_a_stable_one_from_its_bytes() -> None:
    raw = (FIXTURES / "no_message_id.eml").read_bytes()
    assert parse(raw).message_id == parse(raw).message_id
    assert parse(raw).message_id != parse(raw + b"\r\nP.S.").message_id


def test_a_delivery_report_names_the_lost_mail_the_recipient_and_the_reason() -> None:
    mail = parse((FIXTURES / "bounce.eml").read_bytes())
    assert mail.automatic
    assert mail.bounce is not None
    assert mail.bounce.original_message_id == "os.7.aaaa.bbbbbbbbbbbb@shop.test"
    assert mail.bounce.recipient == "nobody@customer.test"
    assert "Recipient address rejected" in mail.bounce.reason


def test_threading_headers_are_read_direct_parent_last() -> None:
    mail = parse((FIXTURES / "reply_quoted.eml").read_bytes())
    assert mail.thread_ids == ["first@example.com", "os.12.aaaa.cccccccccccc@shop.test"]


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-generated",
        "Precedence: bulk",
        "List-Id: <news.example.com>",
        "X-Autoreply: yes",
        "Return-Path: <>",
    ],
)
def test_robot_mail_is_recognised(header: str) -> None:
    raw = f"From: a@example.com\r\n{header}\r\nSubject: x\r\n\r\nbody\r\n".encode()
    assert parse(raw).automatic


def test_person_mail_and_auto_submitted_no_are_not_robots() -> None:
    raw = b"From: a@example.com\r\nAuto-Submitted: no\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse(raw).automatic == ""
    assert parse(raw, return_path="").automatic == "empty return path"
    assert parse(b"From: noreply@shop.example\r\n\r\nhi\r\n").automatic


def test_quoted_history_and_signatures_are_found_but_kept() -> None:
    assert quote_start("Thanks!\n\nOn Mon, 1 Jan 2026, Bob wrote:\n> hi") == len("Thanks!\n\n")
    assert quote_start("Yes.\n-- \nAnna, Shop Ltd") == len("Yes.\n")
    assert quote_start("Yes.\n\nFrom: Support\nSent: Monday\nTo: me\n\nold") == len("Yes.\n\n")
    interleaved = "> question 1\nanswer 1\n> question 2\nanswer 2"
    assert quote_start(interleaved) is None, "answers between quotes are not collapsed"
    assert quote_start("> all quoted") is None, "never hide the whole mail"
