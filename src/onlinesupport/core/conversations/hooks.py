"""The conversation core's hooks: where features (routing, mail, mentions, scripts, chat
notices, webhooks) take part in a command's transaction without the core knowing them.

Every hook runs on the writer's thread inside the transaction of the command that triggers it,
and gets that command's `work` (`onlinesupport.core.conversations.work.Work`): it may write
through `work.conn` and record events with `work.emit` (published with the command's own after
the commit). Hooks are called with keyword arguments, so a hook is checked by name and type
against its protocol here. The hooks are registered once, in one place:
`onlinesupport.services.wire_hooks`.

Inside one command the core calls them in this order:
1. `opened` as each conversation is created (`Conversations.open_in`);
2. `outbound` for each agent's message and `noted` for each agent's note, as it is stored;
3. `received` for each customer message, after the command's own work (so everything the
   channel records about the message is there); `new` when the command also opened it;
   `merged` when a conversation was merged into another (`merging.merge`), after the merge;
4. `committing`, last, with every event the command appended (a hook may append more).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from onlinesupport.core.conversations.work import Work
from onlinesupport.store.messages import Message


class OpenedHook(Protocol):
    def __call__(self, *, work: Work, conversation_id: int) -> None: ...


class MessageHook(Protocol):
    """An `outbound` (agent's message) or `noted` (agent's note) hook."""

    def __call__(
        self,
        *,
        work: Work,
        conversation_id: int,
        message: Message,
    ) -> None: ...


class ReceivedHook(Protocol):
    def __call__(
        self,
        *,
        work: Work,
        conversation_id: int,
        message: Message,
        new: bool,
    ) -> None: ...


class MergedHook(Protocol):
    """`source_id` was merged into `target_id` (closed, its messages shown in the target)."""

    def __call__(self, *, work: Work, source_id: int, target_id: int) -> None: ...


class CommittingHook(Protocol):
    def __call__(self, *, work: Work) -> None: ...


@dataclass(frozen=True)
class Hooks:
    """Every hook of the conversation core; within one kind they run in the order given."""

    opened: tuple[OpenedHook, ...] = ()
    outbound: tuple[MessageHook, ...] = ()
    noted: tuple[MessageHook, ...] = ()
    received: tuple[ReceivedHook, ...] = ()
    merged: tuple[MergedHook, ...] = ()
    committing: tuple[CommittingHook, ...] = ()
