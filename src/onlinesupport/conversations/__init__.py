"""The conversation model's commands; every channel changes conversations through these."""

from onlinesupport.conversations.service import (
    CHANNELS,
    Actor,
    Conversations,
    InvalidCommand,
    Opened,
    Posted,
)

__all__ = ["CHANNELS", "Actor", "Conversations", "InvalidCommand", "Opened", "Posted"]
