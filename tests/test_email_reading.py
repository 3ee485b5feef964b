"""Every real-world mail read the way its sender meant it: one fixture per finding of the
mail-reading issue, through the parser here and through IMAP and SMTP in test_email_intake_paths."""

from __future__ import annotations

import pytest

from mail_cases import AUTOMATIC, LINE_ENDINGS, READING, Case
from onlinesupport.channels.email.parse import parse


def _check(mail, case: Case) -> None:
    assert mail.from_address == case.sender
    assert mail.from_name == case.name
    assert mail.subject == case.subject
    assert mail.text.startswith(case.body_starts), mail.text[:200]
    assert tuple(f.filename for f in mail.files) == case.files
    if case.warning:
        assert case.warning in mail.warning, mail.warning
    else:
        assert mail.warning == ""


@pytest.mark.parametrize("name", sorted(READING))
def test_each_mail_gives_sender_name_subject_body_files_and_warnings(name: str) -> None:
    case = READING[name]
    mail = parse(case.raw(name))
    _check(mail, case)
    assert bool(mail.automatic) == (name in AUTOMATIC), mail.automatic
    assert "\r" not in mail.text


def test_line_endings_change_nothing_but_the_bytes() -> None:
    crlf = LINE_ENDINGS.raw("line_endings_lf.eml").replace(b"\n", b"\r\n")
    readings = [
        parse(raw)
        for raw in (
            crlf,
            LINE_ENDINGS.raw("line_endings_lf.eml"),
            LINE_ENDINGS.raw("line_endings_cr.eml"),
        )
    ]
    assert len({(m.text, m.subject, m.from_name) for m in readings}) == 1
    assert {m.files[0].data for m in readings} == {b"error 17 at line 3\n"}
