"""Where a mail conversation's replies go, when an agent chooses: the customer, or someone the
customer copied or who wrote in. Mail never changes it by itself (see intake)."""

from __future__ import annotations

from onlinesupport.core.conversations import Actor, Conversations, InvalidCommand
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import email as email_repo


class Recipients:
    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations

    async def choose(self, conversation_id: int, address: str, actor: Actor) -> None:
        """Send the conversation's replies to `address`, one of its known addresses."""
        address = address.strip().lower()

        def command(work: Work) -> None:
            if address not in email_repo.known_addresses(work.conn, conversation_id):
                raise InvalidCommand(
                    "replies can go to the customer or to someone on the conversation's mail only"
                )
            before = email_repo.choose_reply_to(work.conn, conversation_id, address)
            work.emit(
                conversation_id,
                "email.recipient",
                actor.type,
                actor.id,
                {"to": address, "before": before or ""},
            )

        await self._conversations.run(command)
