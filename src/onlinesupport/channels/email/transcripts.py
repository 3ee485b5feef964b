"""A chat's transcript mailed to the customer, through the same outbox as replies."""

from __future__ import annotations

from onlinesupport.channels.email import threads
from onlinesupport.channels.email.replies import customer_address
from onlinesupport.core.conversations import SYSTEM, Actor, Conversations, InvalidCommand
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store.messages import Message


def render(messages: list[Message], team: str) -> str:
    lines = [f"Your chat with {team}", ""]
    for message in messages:
        when = message.created_at[:16].replace("T", " ")
        who = message.author_name or ("You" if message.author_type == "customer" else team)
        lines.append(f"[{when} UTC] {who}:")
        lines.extend(f"  {line}" for line in message.body.splitlines() or [""])
    lines += ["", "Reply to this mail if you have more questions."]
    return "\n".join(lines)


class Transcripts:
    def __init__(self, conversations: Conversations, key: bytes) -> None:
        self._conversations = conversations
        self._key = key

    async def send(self, conversation_id: int, actor: Actor) -> str:
        """Queue the chat's transcript to the customer's address; returns the address."""

        def command(work: Work) -> str:
            conversation = conversations_repo.lock(work.conn, conversation_id)
            if conversation.channel != "chat":
                raise InvalidCommand("only chats have a transcript to send")
            to = customer_address(work.conn, conversation.customer_id)
            if not to:
                raise InvalidCommand(
                    "the customer has no email address; add one to their profile first"
                )
            mailbox = mailboxes_repo.default_sender(work.conn)
            team = (mailbox.display_name or mailbox.address) if mailbox else "us"
            body = render(messages_repo.transcript(work.conn, conversation_id), team)
            # The line in the conversation carries the mail's delivery state for agents;
            # visitors never see messages of kind "event".
            record = self._conversations.post_in(
                work,
                conversation_id,
                SYSTEM,
                f"Transcript emailed to {to} by {actor.name}",
                kind="event",
            )
            outbox_id = outbox_repo.enqueue(
                work.conn,
                conversation_id=conversation_id,
                message_id=record.id,
                mailbox_id=mailbox.id if mailbox else None,
                purpose="transcript",
                to_address=to,
                subject=threads.tag_subject(f"Your chat with {team}", conversation_id),
                body=body,
                rfc_message_id=threads.new_message_id(
                    self._key,
                    conversation_id,
                    mailbox.address.rsplit("@", 1)[-1] if mailbox else "",
                ),
                in_reply_to="",
                refs="",
                now=work.now,
            )
            work.emit(
                conversation_id,
                "email.queued",
                actor.type,
                actor.id,
                {
                    "outbox_id": outbox_id,
                    "message_id": record.id,
                    "purpose": "transcript",
                    "to": to,
                },
            )
            return to

        return await self._conversations.run(command)
