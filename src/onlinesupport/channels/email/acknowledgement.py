"""The automatic "we have your message" reply: its template and when to expect an answer."""

from __future__ import annotations

from collections.abc import Sequence

from onlinesupport.channels.email.threads import tag_subject
from onlinesupport.knowledge.service import article_url
from onlinesupport.routing.due import promise_for
from onlinesupport.store import Transaction
from onlinesupport.store.kb import Hit
from onlinesupport.store.mailboxes import MailboxRow

DEFAULT_SUBJECT = "We have received your message: {subject}"
DEFAULT_BODY = """Hello {name},

thank you for writing to us. We have received your message and will answer {expected}.

Your reference is #{ticket}. If you write to us again about this, please reply to this mail
or keep [#{ticket}] in the subject, so that everything stays together.

{team}
"""
PLACEHOLDERS = ("name", "subject", "ticket", "expected", "team")
"""{expected}: the queue's first-response target counted in its business hours."""


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {placeholders}; other braces stay as written (a template is never an error)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def question(subject: str, text: str) -> str:
    """What the help-center articles suggested in an acknowledgement are searched for."""
    return f"{subject} {text[:2000]}"


def render(
    conn: Transaction,
    mailbox: MailboxRow,
    conversation_id: int,
    name: str,
    subject: str,
    articles: Sequence[Hit] = (),
    public_url: str = "",
) -> tuple[str, str]:
    """Subject and body of the acknowledgement for a new conversation; with the mailbox's
    ack_articles and a public address, the help-center `articles` found for its `question`."""
    # Inside the transaction: the promise counts from the due time that this transaction set
    # (the queue's target, or a routing rule's), so it cannot be read before.
    values = {
        "name": name or "there",
        "subject": subject or "(no subject)",
        "ticket": str(conversation_id),
        "expected": promise_for(conn, conversation_id),
        "team": mailbox["display_name"] or mailbox["address"],
    }
    body = fill(mailbox["ack_body"] or DEFAULT_BODY, values)
    if articles and mailbox["ack_articles"] and public_url:
        body = (
            body.rstrip("\n")
            + "\n\nThese articles may already answer your question:\n"
            + "".join(f"- {a['title']}: {article_url(public_url, a)}\n" for a in articles)
        )
    return (
        tag_subject(fill(mailbox["ack_subject"] or DEFAULT_SUBJECT, values)[:200], conversation_id),
        body,
    )
