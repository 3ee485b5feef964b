"""The mail-reading cases of tests/fixtures/mail: what an agent must see of each mail.

Shared by the parser's tests and the tests that send the same files through IMAP and SMTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


@dataclass(frozen=True)
class Case:
    sender: str
    name: str
    subject: str
    body_starts: str
    files: tuple[str, ...] = ()
    warning: str = ""
    """A part of the warning the mail must carry; empty: it must carry none."""

    def raw(self, file: str) -> bytes:
        return (FIXTURES / file).read_bytes()


LINE_ENDINGS = Case(
    "lena@example.se",
    "Lena Lind",
    "Line endings från a script",
    "First line of the report.\nSecond line, räksmörgås.",
    ("log.txt",),
)

# One file per finding of the mail-reading issue (items 1-10).
READING = {
    # 1: addresses are parsed on the raw header, names decoded afterwards
    "sender_encoded_comma.eml": Case(
        "sales@example.com",
        "Büro, Vertrieb",
        "Angebot 2027",
        "Bitte schicken Sie uns ein Angebot für 40 Lizenzen.",
    ),
    "sender_empty_mailbox_first.eml": Case(
        "yara@example.com", "Yara Young", "Two senders, one empty", "The first sender on this"
    ),
    "sender_escaped_quotes.eml": Case(
        "mo@example.com",
        'Einkauf "Nord" Müller "Mo"',
        "Quotes in my name",
        "My name has quotes in it.",
    ),
    "sender_fallback_reply_to.eml": Case(
        "rita@example.com",
        "Rita Reyes",
        "Sent from a web form",
        "Our web form sends mail without a sender",
        warning="taken from the Reply-To line",
    ),
    "sender_encoded_address.eml": Case(
        "attacker@example.net",
        "customer@example.com",
        "Please change my delivery address",
        "Send everything",
        warning="looks like another address",
    ),
    # 2: GB2312 read as GB18030
    "gb2312_written_gbk.eml": Case(
        "wang@example.cn", "王喆", "订单延误 镕堃", "您好，我的订单还没有到。我叫王喆，住在镕城。"
    ),
    # 3: unlabelled ISO-2022-JP with NEC extensions; Shift_JIS labelled ISO-2022-JP
    "iso2022jp_unlabelled.eml": Case(
        "yamada@example.jp",
        "Yamada Taro",
        "注文について",
        "お世話になっております。\n①注文番号は１２３４です。\n㈱山田商事",
    ),
    "sjis_labelled_iso2022jp.eml": Case(
        "suzuki@example.jp",
        "鈴木",
        "返品の件",
        "ツールの返品をお願いします。",
        warning="said it was iso-2022-jp but was not; it was read as cp932",
    ),
    # 4: one bad byte in UTF-8
    "utf8_one_bad_byte.eml": Case(
        "zoe@example.pl",
        "Zoë Łukasz",
        "Zamówienie",
        "Dzień dobry, moje zamówienie jest uszkodzone\ufffd – proszę o zwrot.",
        warning="not valid UTF-8",
    ),
    # 5: UTF-7 encoded words
    "utf7_subject.eml": Case("joerg@example.de", "Jörg", "Grüße aus Köln", "A subject in UTF-7"),
    # 6: an empty text/plain alternative does not hide the HTML one
    "alternative_empty_plain.eml": Case(
        "mia@example.com",
        "Mia Moreno",
        "Invoice question",
        "Hello,\n\ninvoice 2026-118 charges us twice.",
    ),
    # 7: every inline body part, in order
    "html_then_plain_signature.eml": Case(
        "noah@example.com",
        "Noah Novak",
        "Screen stays black",
        "After the update the screen stays black.\n\nModel X200.\n\n--\nNoah Novak, Novak Dental",
    ),
    # 8: reports keep their parts
    "delivery_report_unmatched.eml": Case(
        "mailer-daemon@mx.example.org",
        "Mail Delivery System",
        "Undelivered Mail Returned to Sender",
        "Your message to someone@example.org could not be delivered.",
        ("delivery-status.txt", "Your newsletter.eml"),
    ),
    "abuse_report_arf.eml": Case(
        "abuse@isp.example",
        "Abuse Desk",
        "Abuse report for 203.0.113.7",
        "This is an abuse report for a mail received from 203.0.113.7.",
        ("feedback-report.txt", "returned-headers.txt"),
    ),
    # 9: a sender that is not an address
    "sender_not_an_address.eml": Case(
        "",
        "big bug bb@bug.com",
        "help me",
        "My printer prints only blank pages.",
        warning="not valid (big bug bb@bug.com)",
    ),
    # 10: bare LF and bare CR line endings read like CRLF
    "line_endings_lf.eml": LINE_ENDINGS,
    "line_endings_cr.eml": LINE_ENDINGS,
}
AUTOMATIC = {"delivery_report_unmatched.eml", "abuse_report_arf.eml", "sender_not_an_address.eml"}
