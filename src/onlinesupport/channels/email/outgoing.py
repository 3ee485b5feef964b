"""A conversation's mail put in the outbox, and said so in its history (`email.queued`)."""

from __future__ import annotations

from onlinesupport.channels.email import threads
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import outbox as outbox_repo


def queue(
    work: Work,
    key: bytes,
    conversation_id: int,
    *,
    mailbox_id: int | None,
    domain: str,
    purpose: str,
    to: str,
    subject: str,
    body: str,
    message_id: int | None = None,
    in_reply_to: str = "",
    refs: str = "",
) -> int:
    """Queue one mail of the conversation, its Message-ID signed with `key` so a reply to it
    finds the conversation again; returns its outbox id. `message_id`: the agent's message it
    carries (None for an acknowledgement)."""
    outbox_id = outbox_repo.enqueue(
        work.conn,
        conversation_id=conversation_id,
        message_id=message_id,
        mailbox_id=mailbox_id,
        purpose=purpose,
        to_address=to,
        subject=subject,
        body=body,
        rfc_message_id=threads.new_message_id(key, conversation_id, domain),
        in_reply_to=in_reply_to,
        refs=refs,
        now=work.now,
    )
    carries = {} if message_id is None else {"message_id": message_id}
    work.emit(
        conversation_id,
        "email.queued",
        "system",
        None,
        {"outbox_id": outbox_id, **carries, "purpose": purpose, "to": to},
    )
    return outbox_id
