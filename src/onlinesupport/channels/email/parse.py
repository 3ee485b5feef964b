"""Turns the raw bytes of a mail into what a conversation needs, whatever state the mail is in.

Pure: bytes in, `ParsedMail` out, no I/O. Real mail is often broken (unknown or wrong
charsets, malformed headers, missing Message-ID, bare HTML), so every step has a fallback, and
a mail that cannot be parsed at all still comes back with the raw text as its body and a
warning: the caller turns it into a conversation, never drops it.
"""

from __future__ import annotations

import email
import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import Message

import nh3

from onlinesupport.channels.email import addresses, charsets
from onlinesupport.channels.email.html_text import html_to_text
from onlinesupport.channels.email.quotes import quote_start

MAX_TEXT = 100_000
_ID = re.compile(r"<([^<>\s]{1,500})>")
_AUTOMATIC_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)"
    r"([+-].*)?@",
    re.I,
)
_NAMED_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+\.[^\s<>()\[\]\"',;:@]+")
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
_SAFE_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}


@dataclass(frozen=True)
class Part:
    """A file the mail carries: an attachment, or an inline image (with its Content-ID)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str = ""


@dataclass(frozen=True)
class Bounce:
    """A delivery report: which of our mails did not arrive, to whom, and why."""

    original_message_id: str
    recipient: str
    reason: str


@dataclass
class ParsedMail:
    message_id: str
    sha256: str
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    """Every usable address on To and Cc."""
    cc: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    """Where a delivery report was delivered (Delivered-To, X-Original-To, Envelope-To, To)."""
    subject: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    quote_at: int | None = None
    files: list[Part] = field(default_factory=list)
    automatic: str = ""
    """Why this mail was sent by a machine (never acknowledge it), or empty for a person."""
    bounce: Bounce | None = None
    warning: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, oldest first, the direct parent last."""
        ids = [i for i in self.references if i not in self.in_reply_to]
        return ids + self.in_reply_to


def parse(raw: bytes, return_path: str | None = None) -> ParsedMail:
    """Parse `raw`; `return_path` is the SMTP envelope sender when the mail came by SMTP."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        # compat32 leaves headers as text until asked: several times faster than
        # policy.default's header objects, and every header is decoded by `_header` anyway.
        msg = email.message_from_bytes(_line_feeds(raw), policy=policy.compat32)
        mail = _from_message(msg, digest)
    except Exception as exc:  # noqa: BLE001 - any parser failure must still give a conversation
        mail = _unparsed(
            raw,
            digest,
            f"This mail could not be read ({type(exc).__name__}); "
            "the original mail is kept as it arrived.",
        )
    if return_path is not None and not mail.automatic and return_path.strip("<> ") == "":
        mail.automatic = "empty return path"
    return mail


def _line_feeds(raw: bytes) -> bytes:
    """A mail with bare CR line endings (old Mac scripts, some gateways) as LF lines, which the
    stdlib reads like CRLF; its quoted-printable decoder knows no bare CR and stops at the first
    soft line break. Bare LF and CRLF mails are left as they are."""
    first = re.search(rb"[\r\n]", raw)
    if (
        first is None
        or raw[first.start()] == ord("\n")
        or raw[first.start() : first.start() + 2] == b"\r\n"
    ):
        return raw  # the first line ends in LF or CRLF
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _unparsed(raw: bytes, digest: str, warning: str) -> ParsedMail:
    text = raw.decode("utf-8", errors="replace")
    head = text.split("\n\n", 1)[0]
    sender = re.search(r"^From:\s*(.+)$", head, re.M | re.I)
    name, address = (addresses.first_usable(sender.group(1)) if sender else None) or ("", "")
    subject = re.search(r"^Subject:\s*(.+)$", head, re.M | re.I)
    return ParsedMail(
        message_id=_synthetic_id(digest),
        sha256=digest,
        from_address=address,
        from_name=name,
        subject=subject.group(1).strip()[:200] if subject else "",
        text=text[:MAX_TEXT],
        warning=warning,
    )


def _synthetic_id(digest: str) -> str:
    return f"no-message-id.{digest[:32]}@onlinesupport.invalid"


def _raw(msg: Message, name: str) -> str:
    """A header's value as sent: encoded words not decoded, folding kept; raw 8-bit text
    (not RFC 2047, but common) read as UTF-8, else in the charset the mail's text names."""
    value = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, Header) or not value.isascii():
        wanted = name.lower()
        text = next((v for k, v in msg.raw_items() if k.lower() == wanted), "")
        data = str(text).encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return charsets.decode(data, _declared_charset(msg) or "cp1252")[0]
    if "\x1b" in value:  # unlabelled 7-bit ISO-2022-JP, as old Japanese mailers write headers
        return charsets.decode(value.encode("ascii"), "")[0]
    return value


def _declared_charset(msg: Message) -> str:
    for part in msg.walk():
        charset = part.get_content_charset("")
        if charset:
            return charset
    return ""


def _header(msg: Message, name: str) -> str:
    """A header as text, its RFC 2047 encoded words decoded."""
    return charsets.decode_words(_raw(msg, name))


def _clean(text: str, limit: int) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


def _ids(value: str) -> list[str]:
    return _ID.findall(value)[-50:]


def _sender(msg: Message, warnings: list[str]) -> tuple[str, str]:
    """The sender's (name, address): the first usable mailbox of From, else of Sender,
    Reply-To or Return-Path, saying which was used; the address is '' if none is usable.

    Not the SMTP envelope's sender: a forwarding mail server puts its own address there, and
    a mail must read the same however it came in."""
    written = addresses.mailboxes(_raw(msg, "From"))
    name = next((n for n, _ in written if n), "")
    found = next(((n, a.lower()) for n, a in written if addresses.usable(a)), None)
    if found is not None:
        named = _NAMED_ADDRESS.search(found[0])
        if named and named.group(0).lower() != found[1]:
            # A classic disguise: the name shows a customer's address, the mail is from another.
            warnings.append(
                f"The sender's name looks like another address ({named.group(0)}); "
                f"the mail came from {found[1]}."
            )
        return found[0] or name, found[1]
    for header in ("Sender", "Reply-To", "Return-Path"):
        found = addresses.first_usable(_raw(msg, header))
        if found is not None:
            warnings.append(
                f"The From line has no usable address; the sender was taken from the {header} line."
            )
            return name or found[0], found[1]
    shown = " ".join(_clean(_header(msg, "From"), 200).split())
    warnings.append(
        f"The sender's address is missing or not valid ({shown or 'no From line'}); "
        "no acknowledgement was sent."
    )
    return name or shown, ""


def _addresses(msg: Message, *names: str) -> list[str]:
    found = []
    for name in names:
        found += [a.lower() for _, a in addresses.mailboxes(_raw(msg, name)) if addresses.usable(a)]
    return found


def _from_message(msg: Message, digest: str) -> ParsedMail:
    warnings: list[str] = []
    name, address = _sender(msg, warnings)
    reply_to = addresses.first_usable(_raw(msg, "Reply-To"))
    message_ids = _ids(_raw(msg, "Message-ID"))
    to, cc = _addresses(msg, "To"), _addresses(msg, "Cc")
    mail = ParsedMail(
        message_id=message_ids[0] if message_ids else _synthetic_id(digest),
        sha256=digest,
        from_address=address,
        from_name=_clean(name, 200),
        reply_to=reply_to[1] if reply_to else "",
        to=to + cc,
        cc=cc,
        subject=_clean(_header(msg, "Subject"), 200),
        in_reply_to=_ids(_raw(msg, "In-Reply-To")),
        references=_ids(_raw(msg, "References")),
    )
    mail.automatic = _automatic(msg, mail.from_address)
    body = _Body()
    _walk(msg, body, mail.files, warnings)
    if body.has_html:
        views = (
            text if is_html else f"<pre>{html.escape(text)}</pre>" for is_html, text in body.views
        )
        mail.html = nh3.clean(
            "\n".join(views),
            tags=_SAFE_TAGS,
            url_schemes={"http", "https", "mailto", "cid"},
            link_rel="noopener noreferrer nofollow",
        )
    text = "\n\n".join(t for t in body.texts if t)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n\n[The rest of this long mail is in the original.]"
        warnings.append("The text was cut short; the original mail holds all of it.")
    mail.text = text
    mail.quote_at = quote_start(text)
    report = _report_type(msg)
    if report in ("delivery-status", "global-delivery-status") or _DAEMONS.match(mail.from_address):
        mail.bounce = _bounce(msg, mail)
        mail.automatic = mail.automatic or "delivery report"
        mail.delivered_to = _addresses(msg, "Delivered-To", "X-Original-To", "Envelope-To") + to
    elif report:  # abuse feedback (ARF), read receipts: reports, but about no failed delivery
        mail.automatic = mail.automatic or f"{report} report"
    mail.warning = " ".join(dict.fromkeys(warnings))
    return mail


def _report_type(msg: Message) -> str:
    """The report-type of a multipart/report mail (RFC 6522), '' for any other mail."""
    if msg.get_content_type() != "multipart/report":
        return ""
    value = msg.get_param("report-type")
    value = value[2] if isinstance(value, tuple) else value
    return str(value or "delivery-status").strip().lower()[:40]


def _automatic(msg: Message, sender: str) -> str:
    """Why the mail is machine-sent (RFC 3834 and the usual headers), or '' for a person."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in (
        "List-Id",
        "List-Unsubscribe",
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Response-Suppress",
    ):
        if _header(msg, name):
            return f"{name} header"
    if "Return-Path" in msg and _header(msg, "Return-Path").strip("<> \t") == "":
        return "empty return path"
    if not sender or _AUTOMATIC_SENDERS.match(sender):
        return f"automatic sender {sender or '(none)'}"
    return ""


@dataclass
class _Body:
    """The body as it is being read: text of each inline part, in order, and what the
    Formatted view shows of them (HTML as sent, plain text in <pre>)."""

    texts: list[str] = field(default_factory=list)
    views: list[tuple[bool, str]] = field(default_factory=list)
    """(is HTML, text) of each part, made into HTML only if the mail has an HTML part."""
    has_html: bool = False

    def add(self, other: _Body) -> None:
        self.texts += other.texts
        self.views += other.views
        self.has_html = self.has_html or other.has_html

    @property
    def has_text(self) -> bool:
        return any(self.texts)


def _walk(part: Message, body: _Body, files: list[Part], warnings: list[str]) -> None:
    content_type = part.get_content_type()
    if content_type in ("message/rfc822", "message/global"):
        # A forwarded or returned mail travels whole: keep it as a file the agent can open.
        inner = _subparts(part)
        data = inner[0].as_bytes() if inner else b""
        subject = _header(inner[0], "Subject") if inner else ""
        files.append(Part(_filename(subject or "forwarded", ".eml"), "message/rfc822", data))
        return
    if part.get_content_maintype() == "message" and isinstance(part.get_payload(), list):
        # A report's machine-readable part (delivery status, abuse feedback, read receipt).
        files.append(
            Part(
                f"{part.get_content_subtype()[:40]}.txt",
                content_type,
                _report_text(part).encode("utf-8", "surrogateescape"),
            )
        )
        return
    if part.is_multipart():
        subparts = _subparts(part)
        if content_type == "multipart/alternative":
            body.add(_alternative(subparts, files, warnings))
        else:
            for sub in subparts:
                _walk(sub, body, files, warnings)
        return
    if part.get_content_maintype() == "multipart":
        # The parts could not be found (a wrong boundary): show the body as it arrived.
        warnings.append("The mail's structure is broken; its text is shown as it arrived.")
        text = _lines(str(part.get_payload()))
        body.texts.append(text.strip())
        body.views.append((False, text))
        return
    try:
        disposition = part.get_content_disposition()
        filename = _part_filename(part)
    except Exception:  # noqa: BLE001
        disposition, filename = "attachment", ""
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = _lines(_decode(part, warnings))
        if content_type == "text/html":
            body.texts.append(html_to_text(text))
            body.views.append((True, text))
            body.has_html = True
        else:
            body.texts.append(text.strip())
            body.views.append((False, text))
        return
    try:
        data = _payload_bytes(part)
    except Exception:  # noqa: BLE001
        data = str(part.get_payload()).encode("utf-8", "replace")
        warnings.append("An attachment was damaged; it is kept as it arrived.")
    content_id = _ids(_raw(part, "Content-ID"))
    if not filename and content_type == "text/rfc822-headers":
        filename = "returned-headers.txt"  # the headers of a mail a delivery report returns
    extension = "." + content_type.rsplit("/", 1)[-1][:10] if "/" in content_type else ""
    files.append(
        Part(
            _filename(filename or "attachment", extension),
            content_type,
            data,
            content_id[0] if content_id else "",
        )
    )


def _subparts(part: Message) -> list[Message]:
    """The parts a multipart or message/* part holds (its payload is a list of them)."""
    payload = part.get_payload()
    return [sub for sub in payload if isinstance(sub, Message)] if isinstance(payload, list) else []


def _payload_bytes(part: Message) -> bytes:
    """A leaf part's payload, transfer-decoded (empty when it has none)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _alternative(subparts: list[Message], files: list[Part], warnings: list[str]) -> _Body:
    """One text from alternatives: plain text that says something, else the richest
    alternative with text; the Formatted view shows the last one with HTML."""
    readings = []
    for sub in subparts:
        reading = _Body()
        _walk(sub, reading, files, warnings)
        readings.append(reading)
    with_text = [r for r in readings if r.has_text]
    plain = [r for r in with_text if not r.has_html]
    chosen = (plain or with_text or readings or [_Body()])[-1]
    shown = next((r for r in reversed(readings) if r.has_html and r.has_text), chosen)
    return _Body(chosen.texts, shown.views, shown.has_html)


def _part_filename(part: Message) -> str:
    """The file name of a part: RFC 2231 parameters, RFC 2047 words in the name, or raw 8-bit
    text (the last two are not MIME, but common)."""
    name = part.get_filename() or ""
    if not name.isascii():
        # The stdlib replaced the raw bytes by U+FFFD: read the parameter again from the
        # header's text, decoded like any raw 8-bit header.
        holder = Message()
        for header in ("Content-Disposition", "Content-Type"):
            if header in part:
                holder[header] = _raw(part, header)
        name = holder.get_filename() or name
    return charsets.decode_words(name) if "=?" in name else name


def _lines(text: str) -> str:
    """Text with every line ending (CRLF, bare LF, bare CR) as one LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _report_text(part: Message) -> str:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else [payload]
    return (
        "\n".join(
            block.as_string() if isinstance(block, Message) else str(block) for block in blocks
        ).strip()
        + "\n"
    )


def _filename(name: str, extension: str) -> str:
    name = _clean(name, 120).replace("/", "_").replace("\\", "_")
    return name if "." in name else name + extension


def _decode(part: Message, warnings: list[str]) -> str:
    """A text part in the charset its sender meant (see `charsets`)."""
    data = _payload_bytes(part)
    text, warning = charsets.decode(data, part.get_content_charset(""))
    if warning:
        warnings.append(warning)
    return text


_STATUS_FIELDS = re.compile(
    r"^(Final-Recipient|Original-Recipient|Diagnostic-Code|Status|Action)"
    r":\s*(.+(?:\n[ \t].+)*)",
    re.M | re.I,
)


def _bounce(msg: Message, mail: ParsedMail) -> Bounce | None:
    """The delivery report in `msg`, if it names a mail (by Message-ID) that bounced."""
    original_id = ""
    fields: dict[str, str] = {}
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            text = (
                "\n".join(str(block) for block in payload)
                if isinstance(payload, list)
                else str(payload)
            )
            for key, value in _STATUS_FIELDS.findall(text):
                fields.setdefault(key.lower(), " ".join(value.split()))
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not original_id:
            inner = _subparts(part)
            if inner:
                ids = _ids(_header(inner[0], "Message-ID"))
            else:
                found = re.search(r"^Message-ID:\s*(.*)$", str(part.get_payload()), re.M | re.I)
                ids = _ids(found.group(1)) if found else []
            original_id = ids[0] if ids else ""
    if not original_id:
        # Reports without the standard parts still quote the lost mail's headers in the text.
        quoted = re.search(r"^\s*Message-ID:\s*<([^<>\s]+)>", mail.text, re.M | re.I)
        original_id = (
            quoted.group(1) if quoted else (mail.in_reply_to[-1] if mail.in_reply_to else "")
        )
    if not original_id:
        return None
    if fields.get("action", "failed").lower() not in ("failed", ""):
        return None  # "delayed" or "delivered": not a failure
    recipient = fields.get("final-recipient", "").split(";")[-1].strip()
    reason = (
        fields.get("diagnostic-code", "").split(";", 1)[-1].strip()
        or fields.get("status", "")
        or mail.subject
        or "the receiving server refused the mail"
    )
    return Bounce(original_id, recipient, reason[:500])
