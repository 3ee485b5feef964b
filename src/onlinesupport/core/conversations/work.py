"""A command's unit of work: what `Conversations.run` hands each command and every hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onlinesupport.store import Transaction
from onlinesupport.store import events as events_repo
from onlinesupport.store.events import Event


@dataclass(frozen=True)
class Work:
    """One command's transaction, its time (as stored) and the events it appends, which
    `Conversations.run` publishes after the commit."""

    conn: Transaction
    now: str
    events: list[Event] = field(default_factory=list)

    def emit(
        self,
        conversation_id: int | None,
        type: str,
        actor_type: str,
        actor_id: int | None,
        data: dict[str, Any] | None = None,
        message: Any = None,
    ) -> None:
        """Record an event at the command's time, to be published after the commit."""
        self.events.append(
            events_repo.append(
                self.conn, conversation_id, type, actor_type, actor_id, self.now, data, message
            )
        )
