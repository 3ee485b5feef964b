"""Which conversation a mail belongs to, and the Message-IDs and subject tokens that tell it.

A reply finds its conversation by, in order: one of our Message-IDs in In-Reply-To/References
(they carry the conversation id and a signature, so this works even if the database lookup
cannot, e.g. after a restore); any Message-ID of the conversation we stored; the `[#123]`
ticket token in the subject, accepted only from the conversation's own customer (a token is
easy to guess, a signed Message-ID is not).
"""

from __future__ import annotations

import re
import secrets
import sqlite3

from onlinesupport.signing import sign, verify
from onlinesupport.store import email as email_repo

_OURS = re.compile(r"^os\.(\d+)\.[0-9a-z]+\.([0-9a-f]{12})@")
_TOKEN = re.compile(r"\[#(\d{1,12})\]")


def new_message_id(key: bytes, conversation_id: int, domain: str) -> str:
    """A Message-ID (without angle brackets) that names its conversation, signed."""
    signature = sign(key, "message-id", conversation_id, 12)
    return (f"os.{conversation_id}.{secrets.token_hex(6)}.{signature}"
            f"@{domain or 'onlinesupport.invalid'}")


def signed_conversation(key: bytes, message_id: str) -> int | None:
    found = _OURS.match(message_id)
    if found is None:
        return None
    conversation_id = int(found.group(1))
    return conversation_id if verify(key, "message-id", conversation_id, found.group(2), 12) else None


def tag_subject(subject: str, conversation_id: int) -> str:
    """The subject with the conversation's ticket token, added once."""
    token = f"[#{conversation_id}]"
    return subject if token in subject else f"{subject} {token}".strip()


def reply_subject(subject: str, conversation_id: int) -> str:
    base = subject or "Your message"
    if not re.match(r"^(re|aw|sv|antw)\s*:", base, re.I):
        base = f"Re: {base}"
    return tag_subject(base, conversation_id)


def find_conversation(conn: sqlite3.Connection, key: bytes, thread_ids: list[str],
                      subject: str, customer_id: int) -> int | None:
    for message_id in reversed(thread_ids):
        conversation_id = signed_conversation(key, message_id)
        if conversation_id is not None and _exists(conn, conversation_id):
            return conversation_id
    conversation_id = email_repo.conversation_of(conn, thread_ids) if thread_ids else None
    if conversation_id is not None:
        return conversation_id
    for token in _TOKEN.findall(subject):
        row = conn.execute("SELECT customer_id FROM conversations WHERE id = ?",
                           (int(token),)).fetchone()
        if row is not None and row[0] == customer_id:
            return int(token)
    return None


def _exists(conn: sqlite3.Connection, conversation_id: int) -> bool:
    return conn.execute("SELECT 1 FROM conversations WHERE id = ?",
                        (conversation_id,)).fetchone() is not None
