"""In-process publish/subscribe of committed events to websockets and background services.

Events are published only after their transaction has committed. A subscriber that falls too
far behind is not allowed to hold memory hostage: it is marked as lagged and must catch up from
the store (by event id), which is the source of truth anyway. The interface is small on purpose,
so a Redis-backed hub can stand in for it on installations that outgrow one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Notice:
    """A passing signal that is not stored (someone is typing): lost if nobody is listening."""

    conversation_id: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)


class SubscriberLagged(Exception):
    """The subscriber missed events because its queue was full; re-read them from the store."""


class Subscription:
    def __init__(self, hub: Hub, maxsize: int, topic: int | None) -> None:
        self._hub = hub
        self.topic = topic
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.lagged = False

    def _offer(self, item: Any) -> None:
        if self.lagged:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # Nobody is waiting on a full queue, so dropping it wakes no one and frees the memory.
            self.lagged = True
            self._queue = asyncio.Queue()

    async def get(self) -> Any:
        if self.lagged:
            raise SubscriberLagged()
        return await self._queue.get()

    def close(self) -> None:
        self._hub._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Hub:
    """Items carry a `conversation_id`; a subscriber takes all of them or one conversation's."""

    def __init__(self) -> None:
        self._everything: set[Subscription] = set()
        self._by_topic: dict[int, set[Subscription]] = {}

    def subscribe(self, topic: int | None = None, maxsize: int = 10_000) -> Subscription:
        """All items (topic None), or only those of conversation `topic`."""
        subscription = Subscription(self, maxsize, topic)
        if topic is None:
            self._everything.add(subscription)
        else:
            self._by_topic.setdefault(topic, set()).add(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        if subscription.topic is None:
            self._everything.discard(subscription)
            return
        subscribers = self._by_topic.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._by_topic[subscription.topic]

    def publish(self, items: Iterable[Any]) -> None:
        for item in items:
            for subscription in tuple(self._everything):
                subscription._offer(item)
            for subscription in tuple(self._by_topic.get(getattr(item, "conversation_id", None), ())):
                subscription._offer(item)
