"""Which conversation a mail names, and the Message-IDs, subject tokens and return paths
that tell it.

A mail names a conversation by, in order: one of our Message-IDs in In-Reply-To/References
(they carry the conversation id and a signature, so this works even if the database lookup
cannot, e.g. after a restore); any Message-ID of the conversation we stored; the `[#123]`
ticket token in the subject. Whether it may join that conversation depends on who sent it
(the intake decides): a stored Message-ID or a token is easy to learn or guess, a signed
Message-ID only comes with one of our own mails.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from onlinesupport.lib.signing import sign, verify
from onlinesupport.store import Transaction
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import email as email_repo

_OURS = re.compile(r"^os\.(\d+)\.[0-9a-z]+\.([0-9a-f]{12})@")
_TOKEN = re.compile(r"\[#(\d{1,12})\]")
_RETURN_PATH = re.compile(r"^(.+)\+bounce-(\d{1,12})-([0-9a-f]{16})@(.+)$")


@dataclass(frozen=True)
class Named:
    """The conversation a mail names, its customer, and how it was named."""

    conversation_id: int
    customer_id: int
    by: str
    """'signed' (one of our Message-IDs), 'stored' (a Message-ID we keep) or 'token'."""


def new_message_id(key: bytes, conversation_id: int, domain: str) -> str:
    """A Message-ID (without angle brackets) that names its conversation, signed."""
    signature = sign(key, "message-id", conversation_id, 12)
    return (
        f"os.{conversation_id}.{secrets.token_hex(6)}.{signature}"
        f"@{domain or 'onlinesupport.invalid'}"
    )


def signed_conversation(key: bytes, message_id: str) -> int | None:
    found = _OURS.match(message_id)
    if found is None:
        return None
    conversation_id = int(found.group(1))
    signed = verify(key, "message-id", conversation_id, found.group(2), 12)
    return conversation_id if signed else None


def tag_subject(subject: str, conversation_id: int) -> str:
    """The subject with the conversation's ticket token, added once."""
    token = f"[#{conversation_id}]"
    return subject if token in subject else f"{subject} {token}".strip()


def reply_subject(subject: str, conversation_id: int) -> str:
    base = subject or "Your message"
    if not re.match(r"^(re|aw|sv|antw)\s*:", base, re.I):
        base = f"Re: {base}"
    return tag_subject(base, conversation_id)


def named_conversation(
    conn: Transaction, key: bytes, thread_ids: list[str], subject: str
) -> Named | None:
    """The conversation a mail answers or names, whoever sent it."""
    for message_id in reversed(thread_ids):
        conversation_id = signed_conversation(key, message_id)
        customer_id = _customer(conn, conversation_id)
        if conversation_id is not None and customer_id is not None:
            return Named(conversation_id, customer_id, "signed")
    conversation_id = email_repo.conversation_of(conn, thread_ids) if thread_ids else None
    customer_id = _customer(conn, conversation_id)
    if conversation_id is not None and customer_id is not None:
        return Named(conversation_id, customer_id, "stored")
    for token in _TOKEN.findall(subject):
        customer_id = _customer(conn, int(token))
        if customer_id is not None:
            return Named(int(token), customer_id, "token")
    return None


def _customer(conn: Transaction, conversation_id: int | None) -> int | None:
    if conversation_id is None:
        return None
    return conversations_repo.customer_of(conn, conversation_id)


def return_path(key: bytes, address: str, outbox_id: int) -> str:
    """The signed envelope sender (VERP) of outbox mail `outbox_id` sent from `address`:
    a delivery report coming back to it names the mail and proves it is a real report."""
    local, _, domain = address.rpartition("@")
    return f"{local}+bounce-{outbox_id}-{sign(key, 'return-path', outbox_id, 16)}@{domain}"


def bounced_outbox(key: bytes, recipients: list[str]) -> int | None:
    """The outbox mail whose signed return path is among `recipients`, if any."""
    for address in recipients:
        found = _RETURN_PATH.match(address.strip("<> ").lower())
        if found and verify(key, "return-path", int(found.group(2)), found.group(3), 16):
            return int(found.group(2))
    return None


def base_address(address: str) -> str:
    """`help+anything@example.com` as `help@example.com` (plus addressing)."""
    local, at, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}" if at else address
