"""A command's unit of work: what `Conversations.run` hands each command and every hook."""

from __future__ import annotations

from dataclasses import dataclass, field

from onlinesupport.store import Transaction
from onlinesupport.store.events import Event


@dataclass(frozen=True)
class Work:
    """One command's transaction, its time (as stored) and the events it appends, which
    `Conversations.run` publishes after the commit."""

    conn: Transaction
    now: str
    events: list[Event] = field(default_factory=list)
