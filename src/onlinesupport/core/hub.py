"""In-process publish/subscribe of committed events to websockets and background services.

Events are published only after their transaction has committed. A subscriber that falls too
far behind (too many items, or too many bytes of them: a socket whose peer does not read) is not
allowed to hold memory hostage: it is marked as lagged and must catch up from the store (by
event id), which is the source of truth anyway. The interface is small on purpose, so a
Redis-backed hub can stand in for it on installations that outgrow one process.
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


def weight(item: Any) -> int:
    """Roughly the bytes an item holds (an event says so; a notice is small)."""
    return getattr(item, "weight", 256)


class Subscription:
    def __init__(
        self, hub: Hub, maxsize: int, topic: int | None, max_bytes: int | None = None
    ) -> None:
        self._hub = hub
        self.topic = topic
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self._max_bytes = max_bytes
        self._bytes = 0
        self.lagged = False

    def _offer(self, item: Any, size: int) -> None:
        if self.lagged:
            return
        # An empty queue (no bytes waiting) takes any item: its consumer may be waiting on it.
        if self._max_bytes is not None and self._bytes and self._bytes + size > self._max_bytes:
            self._lag()
            return
        try:
            self._queue.put_nowait((item, size))
        except asyncio.QueueFull:
            self._lag()
            return
        self._bytes += size

    def _lag(self) -> None:
        # Nobody is waiting on a non-empty queue, so dropping it wakes no one and frees the memory.
        self.lagged = True
        self._queue = asyncio.Queue()
        self._bytes = 0

    async def get(self) -> Any:
        if self.lagged:
            raise SubscriberLagged()
        item, size = await self._queue.get()
        self._bytes -= size
        return item

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

    def subscribe(
        self, topic: int | None = None, maxsize: int = 10_000, max_bytes: int | None = None
    ) -> Subscription:
        """All items (topic None), or only those of conversation `topic`; more than `maxsize`
        items or `max_bytes` of them waiting make the subscriber lagged."""
        subscription = Subscription(self, maxsize, topic, max_bytes)
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
            size = weight(item)
            for subscription in tuple(self._everything):
                subscription._offer(item, size)
            topic = getattr(item, "conversation_id", None)
            for subscription in tuple(self._by_topic.get(topic, ()) if topic is not None else ()):
                subscription._offer(item, size)
