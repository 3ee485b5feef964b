"""The automatic "we have your message" reply: its template and when to expect an answer."""

from __future__ import annotations

import sqlite3
from typing import Any

from onlinesupport.channels.email.threads import tag_subject

DEFAULT_SUBJECT = "We have received your message: {subject}"
DEFAULT_BODY = """Hello {name},

thank you for writing to us. We have received your message and will answer {expected}.

Your reference is #{ticket}. If you write to us again about this, please reply to this mail
or keep [#{ticket}] in the subject, so that everything stays together.

{team}
"""
PLACEHOLDERS = ("name", "subject", "ticket", "expected", "team")


def expected(minutes: int) -> str:
    """'within 2 hours' from a response target in minutes."""
    if minutes < 60:
        return f"within {minutes} minutes"
    if minutes < 24 * 60:
        hours = round(minutes / 60)
        return "within 1 hour" if hours == 1 else f"within {hours} hours"
    days = round(minutes / (24 * 60))
    return "within 1 day" if days == 1 else f"within {days} days"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {placeholders}; other braces stay as written (a template is never an error)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def render(conn: sqlite3.Connection, mailbox: dict[str, Any] | sqlite3.Row, conversation_id: int,
           name: str, subject: str) -> tuple[str, str]:
    """Subject and body of the acknowledgement for a new conversation."""
    queue = conn.execute("SELECT first_response_minutes FROM queues WHERE id = ?",
                         (mailbox["queue_id"],)).fetchone()
    values = {"name": name or "there", "subject": subject or "(no subject)",
              "ticket": str(conversation_id),
              "expected": expected(queue[0] if queue else 60),
              "team": mailbox["display_name"] or mailbox["address"]}
    return (tag_subject(fill(mailbox["ack_subject"] or DEFAULT_SUBJECT, values)[:200],
                        conversation_id),
            fill(mailbox["ack_body"] or DEFAULT_BODY, values))
