"""Searching transcripts (FTS5 over messages) and customers (name or address)."""

from __future__ import annotations

import re
from typing import TypedDict

from onlinesupport.store.customers import first_email_of
from onlinesupport.store.database import Database
from onlinesupport.store.rows import as_dicts

MARK_START, MARK_END = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)


def match_expression(text: str) -> str | None:
    """The user's words as an FTS5 query: every word must occur, each as a prefix.

    Quoting every word means no input can be read as FTS5 syntax (AND, NEAR, parentheses).
    """
    words = _WORD.findall(text)[:12]
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


class FoundConversation(TypedDict):
    """A conversation a search found, with the best matching snippet of its messages."""

    id: int
    channel: str
    subject: str
    status: str
    last_message_at: str
    customer_name: str
    customer_email: str | None
    """What a customer without a name is shown by."""
    snippet: str


async def conversations(db: Database, text: str, limit: int = 50) -> list[FoundConversation]:
    """Conversations whose messages match, best match first, with a highlighted snippet."""
    expression = match_expression(text)
    if expression is None:
        return []
    # snippet() works only beside the MATCH itself: take the best messages there (bounded),
    # then keep each conversation's best one.
    rows = await db.fetch_all(
        "SELECT c.id, c.channel, c.subject, c.status, c.last_message_at, cu.name AS customer_name,"
        f" {first_email_of('c.customer_id')} AS customer_email, best.snippet FROM ("
        "  SELECT conversation_id, rank, snippet, row_number() OVER ("
        "   PARTITION BY conversation_id ORDER BY rank) AS n FROM ("
        "   SELECT m.conversation_id, f.rank AS rank,"
        f"   snippet(messages_fts, 0, '{MARK_START}', '{MARK_END}', '…', 12) AS snippet"
        "   FROM messages_fts f JOIN messages m ON m.id = f.rowid"
        "   WHERE messages_fts MATCH ? ORDER BY f.rank LIMIT 1000)"
        " ) best JOIN conversations c ON c.id = best.conversation_id"
        " JOIN customers cu ON cu.id = c.customer_id WHERE best.n = 1 ORDER BY best.rank LIMIT ?",
        (expression, limit),
    )
    return as_dicts(FoundConversation, rows)


class FoundCustomer(TypedDict):
    """A customer a search found, with an email address and their latest conversation."""

    id: int
    name: str
    tier: str
    email: str | None
    latest_conversation: int | None


async def customers(db: Database, text: str, limit: int = 20) -> list[FoundCustomer]:
    """Customers whose name or email address contains the text."""
    needle = text.strip().lower()
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await db.fetch_all(
        "SELECT cu.id, cu.name, cu.tier,"
        " (SELECT value FROM customer_identities WHERE customer_id = cu.id AND kind = 'email')"
        " AS email,"
        " (SELECT max(id) FROM conversations WHERE customer_id = cu.id) AS latest_conversation"
        " FROM customers cu WHERE lower(cu.name) LIKE :p ESCAPE '\\' OR EXISTS ("
        "  SELECT 1 FROM customer_identities i WHERE i.customer_id = cu.id AND i.kind = 'email'"
        "  AND i.value LIKE :p ESCAPE '\\') ORDER BY cu.name LIMIT :limit",
        {"p": pattern, "limit": limit},
    )
    return as_dicts(FoundCustomer, rows)
