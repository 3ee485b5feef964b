"""In-process publish/subscribe of committed events to websockets and background services.

Events are published only after their transaction has committed. A subscriber that falls too
far behind is not allowed to hold memory hostage: it is marked as lagged and must catch up from
the store (by event id), which is the source of truth anyway. The interface is small on purpose,
so a Redis-backed hub can stand in for it on installations that outgrow one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


class SubscriberLagged(Exception):
    """The subscriber missed events because its queue was full; re-read them from the store."""


class Subscription:
    def __init__(self, hub: Hub, maxsize: int) -> None:
        self._hub = hub
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
        self._hub._subscribers.discard(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Hub:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        subscription = Subscription(self, maxsize)
        self._subscribers.add(subscription)
        return subscription

    def publish(self, items: Iterable[Any]) -> None:
        for item in items:
            for subscription in tuple(self._subscribers):
                subscription._offer(item)
