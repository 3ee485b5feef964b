"""Lines from the system that a chat's visitor sees when the agents change: "Bob joined the
chat.", "Max has taken over the chat." Other channels are not told (nothing is mailed).

A `committing` hook: it reads the events a command appended and adds the notice in the same
transaction, so it is published with the change it tells of.
"""

from __future__ import annotations

from onlinesupport.core.conversations import SYSTEM, Conversations
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import conversations as conversations_repo

_NOTICES = {
    "conversation.agent_joined": "{name} joined the chat.",
    "conversation.transferred": "{name} has taken over the chat.",
}


class ChatNotices:
    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations

    def __call__(self, *, work: Work) -> None:
        for event in [e for e in work.events if e.type in _NOTICES]:
            conversation_id = event.conversation_id
            if (
                conversation_id is not None
                and conversations_repo.lock(work.conn, conversation_id).channel == "chat"
            ):
                self._conversations.send_in(
                    work,
                    conversation_id,
                    SYSTEM,
                    _NOTICES[event.type].format(name=event.data["agent_name"]),
                )
