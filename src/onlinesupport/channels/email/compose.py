"""Builds the mail for an outbox row: text and HTML, threading headers, attachments."""

from __future__ import annotations

import html
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from onlinesupport.lib.inputs import one_line
from onlinesupport.store.mailboxes import MailboxRow

_LINK = re.compile(r"(https?://[^\s<>\"']+)")


def as_html(text: str) -> str:
    """The agent's plain text as simple HTML: paragraphs, line breaks, links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(block)
        linked = _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return (
        '<!DOCTYPE html><html><body style="font-family: sans-serif; font-size: 14px">\n'
        + "\n".join(paragraphs)
        + "\n</body></html>"
    )


def compose(
    row: dict[str, Any],
    mailbox: MailboxRow,
    sent_at: datetime,
    files: list[tuple[str, str, bytes]],
) -> EmailMessage:
    """The mail for outbox `row`, from `mailbox`; `files` are (filename, content type, bytes)."""
    msg = EmailMessage()
    msg["From"] = formataddr((mailbox["display_name"], mailbox["address"]))
    msg["To"] = row["to_address"]
    msg["Subject"] = one_line(row["subject"])
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = f"<{row['rfc_message_id']}>"
    if row["in_reply_to"]:
        msg["In-Reply-To"] = f"<{row['in_reply_to']}>"
    if row["refs"]:
        msg["References"] = " ".join(f"<{r}>" for r in row["refs"].split())
    if row["purpose"] in ("ack", "notice", "signin", "report"):
        # RFC 3834: an automatic mail says so, and asks other robots not to answer it.
        msg["Auto-Submitted"] = "auto-replied" if row["purpose"] == "ack" else "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(row["body"])
    msg.add_alternative(as_html(row["body"]), subtype="html")
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return msg
