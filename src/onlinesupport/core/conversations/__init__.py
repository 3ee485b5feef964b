"""The conversation model's commands; every channel changes conversations through these."""

from onlinesupport.core.conversations.service import (
    CHANNELS,
    DEFAULT_QUEUE,
    SYSTEM,
    Actor,
    ConversationMerged,
    Conversations,
    InvalidCommand,
    Opened,
    Posted,
    refuse_if_merged,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_QUEUE",
    "SYSTEM",
    "Actor",
    "ConversationMerged",
    "Conversations",
    "InvalidCommand",
    "Opened",
    "Posted",
    "refuse_if_merged",
]
