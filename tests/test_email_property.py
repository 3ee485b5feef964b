"""Mails with known truth: thousands of random mails are written here, byte by byte, and the
parser must give back exactly the sender, name, subject, text and files they were made from.

The writer covers what real mailers do: nested multiparts, text with HTML alternatives,
HTML-only parts, inline and attached files, the charsets mail is written in (labelled the way
mailers label them: GBK as GB2312, Windows-1252 as ISO-8859-1, Big5-HKSCS as Big5, CP932 as
Shift_JIS, ISO-2022-JP with the NEC rows), 7bit/8bit/quoted-printable/base64, RFC 2047 words
(B and Q, split across folded lines and in the middle of characters), RFC 2231 file names,
display names with commas, quotes and addresses in them, and CRLF, LF or CR line endings.
A part with a byte that is not UTF-8 is lossy by construction: the parser must say so.

Runs 2,000 mails in CI (~30 s); `HYPOTHESIS_PROFILE=deep` runs 20,000.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import os
import re
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from onlinesupport.channels.email.charsets import UTF8_REPLACED
from onlinesupport.channels.email.parse import parse

settings.register_profile(
    "ci",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=20_000)
settings.register_profile(
    "dev", parent=settings.get_profile("ci"), max_examples=300, phases=[Phase.generate]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# label: (how the sender's mailer really writes text with that label)
WRITERS = {
    "utf-8": "utf-8",
    "iso-8859-1": "cp1252",
    "iso-8859-2": "iso-8859-2",
    "iso-8859-15": "iso-8859-15",
    "windows-1250": "cp1250",
    "windows-1251": "cp1251",
    "windows-1252": "cp1252",
    "koi8-r": "koi8-r",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "iso-2022-jp": "cp50220",
    "euc-kr": "cp949",
}
_POOL = (
    "".join(chr(c) for c in range(0xC0, 0x180))  # Latin-1 and Latin Extended-A letters
    + "€“”‘’–—…ß"
    + "".join(chr(c) for c in range(0x410, 0x450))
    + "ёЁ"
    + "".join(chr(c) for c in range(0x4E00, 0x9FA6, 37))  # a spread of CJK ideographs
    + "镕堃喆昇珺"
    + "".join(chr(c) for c in range(0x3041, 0x3094))
    + "".join(chr(c) for c in range(0x30A1, 0x30F7))
    + "①②⑩㈱、。「」"
    + "".join(chr(c) for c in range(0xAC00, 0xD7A4, 97))
    + "０１２ＡＢＣ"
)
_ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PUNCT = ".,;:!?'\"()-/&@#%+=*<>[]_"


def _writes(codec: str, ch: str) -> bool:
    try:
        _encode(ch, codec)
    except UnicodeEncodeError:
        return False
    return True


def _encode(text: str, codec: str) -> bytes:
    if codec == "cp50220":
        return _iso2022jp(text)
    return text.encode(codec)


def _iso2022jp(text: str) -> bytes:
    """ISO-2022-JP as Windows writes it: CP932 pairs back into JIS rows between ESC $ B and
    ESC ( B (the NEC rows included); half-width katakana are not written (lossy)."""
    out, jis = bytearray(), False
    for ch in text:
        encoded = ch.encode("cp932")
        if len(encoded) == 1:
            if encoded[0] > 0x7F:
                raise UnicodeEncodeError("cp50220", text, 0, 1, "half-width katakana")
            if jis:
                out += b"\x1b(B"
                jis = False
            out += encoded
            continue
        if not jis:
            out += b"\x1b$B"
            jis = True
        lead, trail = encoded
        lead -= 0x40 if lead >= 0xE0 else 0
        row = (lead - 0x81) * 2 + 0x21
        if trail >= 0x9F:
            out += bytes((row + 1, trail - 0x7E))
        else:
            out += bytes((row, trail - 0x1F - (1 if trail >= 0x80 else 0)))
    if jis:
        out += b"\x1b(B"
    return bytes(out)


ALPHABETS = {
    label: _ASCII + "".join(ch for ch in _POOL if _writes(codec, ch))
    for label, codec in WRITERS.items()
}


@dataclass
class Mail:
    """A mail being written, and what the parser must find in it."""

    headers: list[str] = field(default_factory=list)
    body: bytes = b""
    texts: list[str] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---- headers -----------------------------------------------------------------------------


def _q(data: bytes) -> str:
    """RFC 2047 Q text, safe in a phrase (letters and digits as they are)."""
    return "".join(
        chr(b) if chr(b).isalnum() and b < 0x80 else ("_" if b == 0x20 else f"={b:02X}")
        for b in data
    )


@st.composite
def encoded_words(draw: st.DrawFn, text: str, label: str) -> str:
    """`text` as RFC 2047 words in `label`, B or Q, split in pieces (for stateless charsets
    anywhere, even inside a character), the words on one line or folded over several."""
    codec = WRITERS[label]
    encoding = draw(st.sampled_from("BQ"))
    if codec == "cp50220":  # a stateful charset: each word must be whole characters
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=3)))
        pieces = [
            _encode(text[a:b], codec)
            for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)
            if text[a:b]
        ]
    else:
        data = _encode(text, codec)
        size = draw(st.integers(4, 30))
        pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    words = [
        f"=?{draw(st.sampled_from([label, label.upper()]))}?{encoding}?"
        + (base64.b64encode(p).decode() if encoding == "B" else _q(p))
        + "?="
        for p in pieces
    ]
    return draw(st.sampled_from(["\n ", " ", "\n\t"])).join(words)


def _plain_words(text: str) -> str:
    return re.fullmatch(r"[A-Za-z0-9 ]*", text) is not None


@st.composite
def display_names(draw: st.DrawFn, label: str) -> tuple[str, str]:
    """(name as the header writes it, name as the agent must see it)."""
    parts = draw(words(label))
    if draw(st.booleans()):
        parts.insert(
            0,
            draw(
                st.sampled_from(
                    [
                        special
                        for special in (
                            "customer@example.com",
                            "Müller, Hans",
                            '"Boss"',
                            "O'Neil",
                            "Sales, EU",
                        )
                        if _writes(WRITERS[label], special)
                    ]
                )
            ),
        )
    name = " ".join(parts)
    if not name:
        return "", ""
    if _plain_words(name):
        return name, name
    if name.isascii() and draw(st.booleans()):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"', name
    return draw(encoded_words(name, label)), name


senders = st.builds(
    "{}@{}".format,
    st.from_regex(r"[a-z0-9]{1,10}([._+-][a-z0-9]{1,8}){0,2}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,5})?\.(com|de|jp|cn|example)", fullmatch=True),
)


# ---- bodies ------------------------------------------------------------------------------


@functools.cache
def texts(label: str) -> st.SearchStrategy[list[list[str]]]:
    """Paragraphs of lines of words: text that survives any line ending and HTML (strategies
    are made once per charset: making them is most of the cost of a draw)."""
    alphabet = ALPHABETS[label] + _PUNCT.replace("<", "").replace(">", "")
    word = st.text(alphabet, min_size=1, max_size=10).filter(lambda w: not w.startswith(("-", ">")))
    line = st.lists(word, min_size=1, max_size=6).map(" ".join)
    return st.lists(st.lists(line, min_size=1, max_size=3), min_size=1, max_size=3)


@functools.cache
def words(label: str) -> st.SearchStrategy[list[str]]:
    """Words of a name or a subject, in `label`'s characters and punctuation."""
    return st.lists(
        st.text(ALPHABETS[label] + _PUNCT, min_size=1, max_size=8), min_size=0, max_size=5
    )


def _as_text(paragraphs: list[list[str]]) -> str:
    return "\n\n".join("\n".join(lines) for lines in paragraphs)


def _as_html(paragraphs: list[list[str]]) -> str:
    return (
        "<html><body>"
        + "".join(
            "<p>" + "<br>".join(html.escape(line, quote=False) for line in lines) + "</p>"
            for lines in paragraphs
        )
        + "</body></html>"
    )


@st.composite
def transfer(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    """A Content-Transfer-Encoding for `data` and the encoded bytes (lines end in LF)."""
    choices = ["base64", "quoted-printable", "8bit"] + (["7bit"] if data.isascii() else [])
    chosen = draw(st.sampled_from(choices))
    if chosen == "base64":
        return chosen, base64.encodebytes(data)
    if chosen == "quoted-printable":
        return chosen, binascii.b2a_qp(data, istext=True)
    return chosen, data


@st.composite
def text_part(
    draw: st.DrawFn, kind: str, paragraphs: list[list[str]] | None = None, label: str | None = None
) -> Mail:
    label = label or draw(st.sampled_from(sorted(WRITERS)))
    paragraphs = paragraphs if paragraphs is not None else draw(texts(label))
    text = _as_text(paragraphs)
    source = _as_html(paragraphs) if kind == "html" else text
    data = _encode(source, WRITERS[label])
    mail = Mail(texts=[text])
    if label == "utf-8" and kind == "plain" and draw(st.integers(0, 9)) == 0:
        # One byte that is not UTF-8, between two characters: lossy by construction.
        at = draw(st.integers(0, len(text)))
        data = text[:at].encode() + b"\xff" + text[at:].encode()
        if text.isascii():  # nothing else shows it is UTF-8: read as Windows-1252
            mail.texts = [text[:at] + "ÿ" + text[at:]]
            mail.warnings.append("it was read as cp1252")
        else:
            mail.texts = [text[:at] + "\ufffd" + text[at:]]
            mail.warnings.append(UTF8_REPLACED)
    cte, body = draw(transfer(data))
    disposition = draw(st.sampled_from(["", "Content-Disposition: inline\n"]))
    charset = draw(st.sampled_from([label, label.upper(), chr(34) + label + chr(34)]))
    mail.headers = [
        f"Content-Type: text/{kind}; charset={charset}\n"
        f"Content-Transfer-Encoding: {cte}\n{disposition}"
    ]
    mail.body = body
    return mail


file_names = st.builds(
    str.__add__,
    st.text(_ASCII + "äöüßéèçñøåłżśćńőűčřžšťďňÄÖÜ日本語中文한국-_ ", min_size=1, max_size=30)
    .map(lambda s: " ".join(s.split()))
    .filter(bool),
    st.sampled_from([".pdf", ".png", ".txt", ".tar.gz", ".docx"]),
)


@st.composite
def file_part(draw: st.DrawFn, inline: bool = False) -> Mail:
    name = draw(file_names)
    data = draw(st.binary(max_size=300))
    content_type = draw(
        st.sampled_from(["application/pdf", "image/png", "application/octet-stream", "text/plain"])
    )
    way = draw(
        st.sampled_from(
            ["2231", "2231-split", "2047", "plain"] if not name.isascii() else ["plain", "2231"]
        )
    )
    if way == "plain":
        parameter = f'filename="{name}"'
    elif way == "2047":
        parameter = 'filename="' + draw(encoded_words(name, "utf-8")).replace("\n", "") + '"'
    else:
        quoted = "".join(
            chr(b) if chr(b).isalnum() and b < 0x80 else f"%{b:02X}" for b in name.encode()
        )
        if way == "2231":
            parameter = f"filename*=utf-8''{quoted}"
        else:  # RFC 2231 continuations, cut between the %XX escapes
            pieces = re.findall(r"%[0-9A-F]{2}|[^%]", quoted)
            half = len(pieces) // 2 or 1
            parameter = (
                f"filename*0*=utf-8''{''.join(pieces[:half])};\n"
                f" filename*1*={''.join(pieces[half:])}"
            )
    disposition = "inline" if inline else "attachment"
    content_id = f"Content-ID: <f{draw(st.integers(0, 10**6))}@example.com>\n" if inline else ""
    return Mail(
        headers=[
            f"Content-Type: {content_type}\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: {disposition};\n {parameter}\n{content_id}"
        ],
        body=base64.encodebytes(data),
        files=[(name, data)],
    )


def _multipart(subtype: str, children: list[Mail], boundary: str) -> Mail:
    body = b"This is a multi-part message in MIME format.\n"
    for child in children:
        body += f"--{boundary}\n".encode() + child.headers[0].encode() + b"\n" + child.body
        if not body.endswith(b"\n"):
            body += b"\n"
    body += f"--{boundary}--\n".encode()
    mail = Mail(headers=[f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n'], body=body)
    for child in children:
        mail.texts += child.texts
        mail.files += child.files
        mail.warnings += child.warnings
    return mail


@st.composite
def alternative(draw: st.DrawFn, boundary: str) -> Mail:
    """Text and HTML of the same words; sometimes the text part is empty (the HTML counts)."""
    label = draw(st.sampled_from(sorted(WRITERS)))
    paragraphs = draw(texts(label))
    html_part = draw(text_part("html", paragraphs, label))
    if draw(st.integers(0, 4)) == 0:
        empty = Mail(headers=["Content-Type: text/plain; charset=utf-8\n"], body=b"  \n\n")
        return _multipart("alternative", [empty, html_part], boundary)
    plain = draw(text_part("plain", paragraphs, label))
    mail = _multipart("alternative", [plain, html_part], boundary)
    mail.texts = plain.texts  # the plain text wins; the HTML is only the Formatted view
    return mail


@st.composite
def related(draw: st.DrawFn, boundary: str) -> Mail:
    root = draw(text_part("html"))
    images = draw(st.lists(file_part(inline=True), min_size=1, max_size=2))
    return _multipart("related", [root, *images], boundary)


@st.composite
def bodies(draw: st.DrawFn, depth: int = 0) -> Mail:
    boundary = f"=_b{depth}_{draw(st.integers(0, 10**9))}"
    leaves = [text_part("plain"), text_part("html")]
    if depth >= 2:
        return draw(st.one_of(leaves))
    kinds = [*leaves, alternative(boundary), related(boundary)]
    choice = draw(st.integers(0, len(kinds)))
    if choice < len(kinds):
        return draw(kinds[choice])
    children = draw(st.lists(st.one_of(bodies(depth + 1), file_part()), min_size=1, max_size=4))
    return _multipart("mixed", children, boundary)


# ---- whole mails -------------------------------------------------------------------------


@dataclass(frozen=True)
class Truth:
    sender: str
    name: str
    subject: str
    text: str
    files: list[tuple[str, bytes]]
    warnings: list[str]


@st.composite
def mails(draw: st.DrawFn) -> tuple[bytes, Truth]:
    sender = draw(senders)
    label = draw(st.sampled_from(sorted(WRITERS)))
    written_name, name = draw(display_names(label))
    subject = " ".join(draw(words(label))) or "x"
    if _plain_words(subject):
        written_subject = subject
    else:
        prefix = draw(st.sampled_from(["", "Re: ", "AW: "]))
        written_subject = prefix + draw(encoded_words(subject, label))
        subject = prefix + subject
    sender_field = (
        f"{written_name} <{sender}>"
        if written_name
        else draw(st.sampled_from([sender, f"<{sender}>"]))
    )
    body = draw(bodies())
    head = (
        f"From: {sender_field}\nTo: help@shop.test\nSubject: {written_subject}\n"
        f"Message-ID: <{draw(st.integers(0, 10**12))}@example.com>\nMIME-Version: 1.0\n"
        + body.headers[0]
    ).encode()
    raw = head + b"\n" + body.body
    raw = raw.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\n", b"\r"])))
    warnings = list(body.warnings)
    shown = re.search(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+\.[^\s<>()\[\]\"',;:@]+", name)
    if shown and shown.group(0).lower() != sender:
        warnings.append("looks like another address")
    return raw, Truth(
        sender, name, subject, "\n\n".join(t for t in body.texts if t), body.files, warnings
    )


@given(mails())
def test_the_parser_recovers_what_a_mail_was_made_of(made: tuple[bytes, Truth]) -> None:
    raw, truth = made
    mail = parse(raw)
    assert mail.from_address == truth.sender
    assert mail.from_name == truth.name
    assert mail.subject == truth.subject
    assert mail.text == truth.text
    assert [(f.filename, f.data) for f in mail.files] == truth.files
    for warning in truth.warnings:
        assert warning in mail.warning
    if not truth.warnings:
        assert mail.warning == ""
