"""Turns the raw bytes of a mail into what a conversation needs, whatever state the mail is in.

Pure: bytes in, `ParsedMail` out, no I/O. Real mail is often broken (unknown or wrong
charsets, malformed headers, missing Message-ID, bare HTML), so every step has a fallback, and
a mail that cannot be parsed at all still comes back with the raw text as its body and a
warning: the caller turns it into a conversation, never drops it.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import Header, decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

import nh3

from onlinesupport.channels.email.html_text import html_to_text
from onlinesupport.channels.email.quotes import quote_start

MAX_TEXT = 100_000
_ID = re.compile(r"<([^<>\s]{1,500})>")
_AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)"
                                r"([+-].*)?@", re.I)
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
_SAFE_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr",
              "i", "img", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th",
              "thead", "tr", "u", "ul"}


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
        msg = email.message_from_bytes(raw, policy=policy.compat32)
        mail = _from_message(msg, digest)
    except Exception as exc:  # noqa: BLE001 - any parser failure must still give a conversation
        mail = _unparsed(raw, digest, f"This mail could not be read ({type(exc).__name__}); "
                                      "the original mail is kept as it arrived.")
    if return_path is not None and not mail.automatic and return_path.strip("<> ") == "":
        mail.automatic = "empty return path"
    return mail


def _unparsed(raw: bytes, digest: str, warning: str) -> ParsedMail:
    text = raw.decode("utf-8", errors="replace")
    head = text.split("\n\n", 1)[0]
    sender = re.search(r"^From:\s*(.+)$", head, re.M | re.I)
    name, address = parseaddr(sender.group(1)) if sender else ("", "")
    subject = re.search(r"^Subject:\s*(.+)$", head, re.M | re.I)
    return ParsedMail(message_id=_synthetic_id(digest), sha256=digest,
                      from_address=address.lower(), from_name=name,
                      subject=subject.group(1).strip()[:200] if subject else "",
                      text=text[:MAX_TEXT], warning=warning)


def _synthetic_id(digest: str) -> str:
    return f"no-message-id.{digest[:32]}@onlinesupport.invalid"


def _header(msg: Message, name: str) -> str:
    """A header as text with RFC 2047 encoded words decoded; undecodable parts stay as sent."""
    value = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, Header):
        # Raw 8-bit text in a header (not RFC 2047): most often UTF-8, else Windows-1252.
        value = "".join(_text_of(part, charset) for part, charset in decode_header(value))
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - broken encoded words: show them as they came
        return value


def _text_of(part: bytes | str, charset: str | None) -> str:
    if isinstance(part, str):
        return part
    for candidate in ((charset,) if charset and charset != "unknown-8bit" else ()) + ("utf-8",):
        try:
            return part.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return part.decode("cp1252", "replace")


def _clean(text: str, limit: int) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


def _ids(value: str) -> list[str]:
    return _ID.findall(value)[-50:]


def _from_message(msg: Message, digest: str) -> ParsedMail:
    warnings = []
    name, address = parseaddr(_header(msg, "From"))
    if "@" not in address:
        warnings.append("The sender's address is missing or unreadable.")
        address = ""
    _, reply_to = parseaddr(_header(msg, "Reply-To"))
    message_ids = _ids(_header(msg, "Message-ID"))
    mail = ParsedMail(
        message_id=message_ids[0] if message_ids else _synthetic_id(digest), sha256=digest,
        from_address=address.lower(), from_name=_clean(name, 200),
        reply_to=reply_to.lower() if "@" in reply_to else "",
        to=[a.lower() for _, a in getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if "@" in a],
        subject=_clean(_header(msg, "Subject"), 200),
        in_reply_to=_ids(_header(msg, "In-Reply-To")), references=_ids(_header(msg, "References")))
    mail.automatic = _automatic(msg, mail.from_address)
    plain, html = [], []
    _walk(msg, plain, html, mail.files, warnings)
    if html:
        mail.html = nh3.clean(html[0], tags=_SAFE_TAGS, url_schemes={"http", "https", "mailto", "cid"},
                              link_rel="noopener noreferrer nofollow")
    text = "\n\n".join(plain) if plain else "\n\n".join(html_to_text(h) for h in html)
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n\n[The rest of this long mail is in the original.]"
        warnings.append("The text was cut short; the original mail holds all of it.")
    mail.text = text
    mail.quote_at = quote_start(text)
    if msg.get_content_type() == "multipart/report" or _DAEMONS.match(mail.from_address):
        mail.bounce = _bounce(msg, mail)
        mail.automatic = mail.automatic or "delivery report"
    mail.warning = " ".join(warnings)
    return mail


def _automatic(msg: Message, sender: str) -> str:
    """Why the mail is machine-sent (RFC 3834 and the usual headers), or '' for a person."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond",
                 "X-Auto-Response-Suppress"):
        if _header(msg, name):
            return f"{name} header"
    if "Return-Path" in msg and _header(msg, "Return-Path").strip("<> \t") == "":
        return "empty return path"
    if not sender or _AUTOMATIC_SENDERS.match(sender):
        return f"automatic sender {sender or '(none)'}"
    return ""


def _walk(part: Message, plain: list[str], html: list[str], files: list[Part],
          warnings: list[str]) -> None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        # A forwarded mail travels whole: keep it as a file the agent can open.
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        subject = _header(inner[0], "Subject") if isinstance(inner, list) and inner else ""
        files.append(Part(_filename(subject or "forwarded", ".eml"), "message/rfc822", data))
        return
    if part.is_multipart():
        for sub in part.get_payload():
            _walk(sub, plain, html, files, warnings)
        return
    if part.get_content_maintype() == "multipart":
        # The parts could not be found (a wrong boundary): show the body as it arrived.
        warnings.append("The mail's structure is broken; its text is shown as it arrived.")
        plain.append(str(part.get_payload()))
        return
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        disposition, filename = "attachment", ""
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = _decode(part, warnings)
        (plain if content_type == "text/plain" else html).append(text)
        return
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001
        data = str(part.get_payload()).encode("utf-8", "replace")
        warnings.append("An attachment was damaged; it is kept as it arrived.")
    content_id = _ids(_header(part, "Content-ID"))
    extension = "." + content_type.rsplit("/", 1)[-1][:10] if "/" in content_type else ""
    files.append(Part(_filename(filename or "attachment", extension), content_type, data,
                      content_id[0] if content_id else ""))


def _filename(name: str, extension: str) -> str:
    name = _clean(name, 120).replace("/", "_").replace("\\", "_")
    return name if "." in name else name + extension


def _decode(part: Message, warnings: list[str]) -> str:
    """A text part in its declared charset; on a wrong or unknown one, UTF-8, then Windows-1252."""
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate, errors in ((charset, "strict"), ("utf-8", "strict"), ("cp1252", "replace")):
        try:
            text = data.decode(candidate, errors)
        except (LookupError, UnicodeDecodeError):
            continue
        if candidate != charset:
            warnings.append(f"The text said it was {charset} but was not; it was read as {candidate}.")
        return text
    return data.decode("latin-1")


_STATUS_FIELDS = re.compile(r"^(Final-Recipient|Original-Recipient|Diagnostic-Code|Status|Action)"
                            r":\s*(.+(?:\n[ \t].+)*)", re.M | re.I)


def _bounce(msg: Message, mail: ParsedMail) -> Bounce | None:
    """The delivery report in `msg`, if it names a mail (by Message-ID) that bounced."""
    original_id = ""
    fields: dict[str, str] = {}
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            text = "\n".join(str(block) for block in payload) if isinstance(payload, list) else str(payload)
            for key, value in _STATUS_FIELDS.findall(text):
                fields.setdefault(key.lower(), " ".join(value.split()))
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not original_id:
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                ids = _ids(_header(inner[0], "Message-ID"))
            else:
                found = re.search(r"^Message-ID:\s*(.*)$", str(inner), re.M | re.I)
                ids = _ids(found.group(1)) if found else []
            original_id = ids[0] if ids else ""
    if not original_id:
        # Reports without the standard parts still quote the lost mail's headers in the text.
        quoted = re.search(r"^\s*Message-ID:\s*<([^<>\s]+)>", mail.text, re.M | re.I)
        original_id = quoted.group(1) if quoted else (mail.in_reply_to[-1] if mail.in_reply_to else "")
    if not original_id:
        return None
    if fields.get("action", "failed").lower() not in ("failed", ""):
        return None  # "delayed" or "delivered": not a failure
    recipient = fields.get("final-recipient", "").split(";")[-1].strip()
    reason = fields.get("diagnostic-code", "").split(";", 1)[-1].strip() or fields.get(
        "status", "") or mail.subject or "the receiving server refused the mail"
    return Bounce(original_id, recipient, reason[:500])
