"""The automatic "we have your message" reply: its template and when to expect an answer."""

from __future__ import annotations

import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

from onlinesupport.channels.email.threads import tag_subject
from onlinesupport.clock import from_db
from onlinesupport.routing.due import calendar

DEFAULT_SUBJECT = "We have received your message: {subject}"
DEFAULT_BODY = """Hello {name},

thank you for writing to us. We have received your message and will answer {expected}.

Your reference is #{ticket}. If you write to us again about this, please reply to this mail
or keep [#{ticket}] in the subject, so that everything stays together.

{team}
"""
PLACEHOLDERS = ("name", "subject", "ticket", "expected", "team")
"""{expected}: the queue's first-response target counted in its business hours."""


def expected(minutes: int) -> str:
    """'within 2 hours' from a response target in minutes."""
    if minutes < 60:
        return f"within {minutes} minutes"
    if minutes < 24 * 60:
        hours = round(minutes / 60)
        return "within 1 hour" if hours == 1 else f"within {hours} hours"
    days = round(minutes / (24 * 60))
    return "within 1 day" if days == 1 else f"within {days} days"


def _expected(row: sqlite3.Row) -> str:
    """'within 2 hours', or 'by Monday 30 November, 10:00 (Europe/Berlin)' with business hours."""
    hours = calendar(row)
    if hours.always_open or not row["due"]:
        return expected(row["first_response_minutes"])
    due = from_db(row["due"]).astimezone(ZoneInfo(hours.zone))
    return f"by {due:%A} {due.day} {due:%B}, {due:%H:%M} ({hours.zone})"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {placeholders}; other braces stay as written (a template is never an error)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def render(conn: sqlite3.Connection, mailbox: dict[str, Any] | sqlite3.Row, conversation_id: int,
           name: str, subject: str) -> tuple[str, str]:
    """Subject and body of the acknowledgement for a new conversation."""
    row = conn.execute("SELECT c.first_response_due_at AS due, q.* FROM conversations c"
                       " JOIN queues q ON q.id = c.queue_id WHERE c.id = ?",
                       (conversation_id,)).fetchone()
    values = {"name": name or "there", "subject": subject or "(no subject)",
              "ticket": str(conversation_id), "expected": _expected(row),
              "team": mailbox["display_name"] or mailbox["address"]}
    return (tag_subject(fill(mailbox["ack_subject"] or DEFAULT_SUBJECT, values)[:200],
                        conversation_id),
            fill(mailbox["ack_body"] or DEFAULT_BODY, values))
