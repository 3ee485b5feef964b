"""Sliding-window counters: failed sign-ins per account and address, messages per visitor,
anonymous writes counted once (a vote, a search that found nothing)."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import timedelta

from onlinesupport.lib.clock import Clock


class Throttle:
    """At most `limit` hits per key within `window`; keys beyond `max_keys` are forgotten,
    oldest first."""

    def __init__(self, clock: Clock, limit: int, window: timedelta, max_keys: int = 10_000) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque] = OrderedDict()

    def _recent(self, key: str) -> deque:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        cutoff = self._clock.now() - self._window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it is not blocked."""
        failures = self._recent(key)
        if len(failures) < self._limit:
            return 0
        wait = failures[0] + self._window - self._clock.now()
        return max(1, int(wait.total_seconds()) + 1)

    def allow(self, key: str) -> bool:
        """Count a hit for `key` if it is under the limit; False (and nothing counted) if not."""
        if self.retry_after(key):
            return False
        self.hit(key)
        return True

    def hit(self, key: str) -> None:
        failures = self._recent(key)
        failures.append(self._clock.now())
        self._failures[key] = failures
        self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def release(self, key: str) -> None:
        """Take back the latest hit of `key` (one reserved before an outcome was known)."""
        failures = self._failures.get(key)
        if failures:
            failures.pop()
            if not failures:
                del self._failures[key]
