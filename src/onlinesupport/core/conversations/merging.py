"""Merge two conversations about one thing, and split a message out into a conversation of its own.

Nothing is moved and nothing is lost. A merged conversation keeps its messages (a customer's
client resumes from their seq numbers), is closed and points to the one it went into; that
one shows both histories, and whatever the customer sends to the merged one later is copied
into it (a reply to the old mail thread lands there directly, see the email intake). A split
copies the customer's message into a new conversation and records on both where it went.
"""

from __future__ import annotations

import json
from typing import Any

from onlinesupport.core.conversations.service import (
    MAX_SUBJECT,
    Actor,
    Conversations,
    InvalidCommand,
)
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import events as events_repo
from onlinesupport.store import messages as messages_repo

_OPEN = ("open", "pending")


async def merge(conversations: Conversations, source_id: int, target_id: int, actor: Actor) -> None:
    """Merge conversation `source_id` into `target_id`."""

    def command(work: Work) -> None:
        if source_id == target_id:
            raise InvalidCommand("a conversation cannot be merged into itself")
        source = conversations_repo.lock(work.conn, source_id)
        target = conversations_repo.lock(work.conn, target_id)
        if source.merged_into is not None:
            raise InvalidCommand(f"#{source_id} was merged into #{source.merged_into} already")
        if target.merged_into is not None:
            raise InvalidCommand(
                f"#{target_id} was merged into #{target.merged_into}; merge into that one"
            )

        def record(conversation_id: int, type: str, data: dict[str, Any]) -> None:
            work.emit(conversation_id, type, actor.type, actor.id, data)

        # What was merged into the source goes on to the target, so a merged conversation is
        # always one step from the one that answers.
        for row in conversations_repo.merged_into(work.conn, source_id):
            conversations_repo.update(work.conn, row.id, work.now, merged_into=target_id)
            record(row.id, "conversation.merged", {"into": target_id, "via": source_id})
        for earlier in events_repo.of_type(work.conn, source_id, "conversation.merged_in"):
            record(target_id, "conversation.merged_in", {**earlier.data, "via": source_id})

        target_tags = json.loads(target.tags)
        added = [t for t in json.loads(source.tags) if t not in target_tags]
        conversations_repo.update(
            work.conn,
            source_id,
            work.now,
            merged_into=target_id,
            status="closed",
            snoozed_at=None,
            snoozed_until=None,
        )
        record(
            source_id,
            "conversation.merged",
            {"into": target_id, "subject": target.subject, "from": source.status},
        )
        record(
            target_id,
            "conversation.merged_in",
            {
                "from": source_id,
                "channel": source.channel,
                "subject": source.subject,
                "customer_id": source.customer_id,
                "up_to_seq": source.last_seq,
                "tags": added,
            },
        )
        if added:
            conversations_repo.update(
                work.conn, target_id, work.now, tags=json.dumps(target_tags + added)
            )
        if source.status in _OPEN and target.status not in _OPEN:
            conversations.set_status_in(work, target, actor, "open", "conversation.reopened")
        if target.assignee_id is None and source.assignee_id is not None:
            conversations.assign_in(
                work, target, agents_repo.lock(work.conn, source.assignee_id), actor
            )
        for hook in conversations.hooks.merged:
            hook(work=work, source_id=source_id, target_id=target_id)

    await conversations.run(command)


async def split(
    conversations: Conversations, conversation_id: int, message_id: int, subject: str, actor: Actor
) -> int:
    """Copy a customer's message into a new conversation (same customer, channel, queue and
    assignee); returns the new conversation's id."""
    subject = subject.strip()
    if len(subject) > MAX_SUBJECT:
        raise InvalidCommand(f"subject is longer than {MAX_SUBJECT} characters")

    def command(work: Work) -> int:
        conversation = conversations_repo.lock(work.conn, conversation_id)
        message = messages_repo.lock(work.conn, message_id)
        if message.conversation_id != conversation_id:
            raise InvalidCommand(f"message {message_id} is not in conversation #{conversation_id}")
        if message.author_type != "customer" or message.kind != "message":
            raise InvalidCommand("only a customer's message can be split out")
        title = subject or (message.body.strip().splitlines() or [""])[0][:80]
        new_id = conversations.open_in(
            work,
            channel=conversation.channel,
            customer_id=conversation.customer_id,
            subject=title,
            opener=actor,
            queue_id=conversation.queue_id,
            language=conversation.language,
        )
        work.emit(
            new_id,
            "conversation.split_from",
            actor.type,
            actor.id,
            {"from": conversation_id, "message_id": message_id, "seq": message.seq},
        )
        conversations.post_in(
            work,
            new_id,
            Actor.customer(conversation.customer_id, message.author_name),
            message.body,
        )
        if conversation.assignee_id is not None:
            conversations.assign_in(
                work,
                conversations_repo.lock(work.conn, new_id),
                agents_repo.lock(work.conn, conversation.assignee_id),
                actor,
            )
        work.emit(
            conversation_id,
            "conversation.split",
            actor.type,
            actor.id,
            {"message_id": message_id, "seq": message.seq, "into": new_id, "subject": title},
        )
        return new_id

    return await conversations.run(command)
