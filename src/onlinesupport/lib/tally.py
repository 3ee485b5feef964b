"""Counts of what can happen thousands of times a second under attack: connections refused,
accept errors, sockets closed for not reading. Each cause is logged once an hour at most, with
how often it happened since; the admins' health page shows the totals.

A flood must cost the log a line, not a line per connection: 168 MB of "Too many open files"
tracebacks in 25 s once rotated the real log away.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)
QUIET_SECONDS = 3600.0


class Tally:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, quiet: float = QUIET_SECONDS
    ) -> None:
        self._clock = clock
        self._quiet = quiet
        self.totals: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}

    def add(self, cause: str, detail: str = "") -> None:
        """Count one occurrence of `cause` (a sentence); log it unless it was logged lately."""
        self.totals[cause] += 1
        now = self._clock()
        last = self._logged_at.get(cause)
        if last is not None and now - last < self._quiet:
            self._unlogged[cause] += 1
            return
        since = self._unlogged.pop(cause, 0)
        self._logged_at[cause] = now
        log.warning(
            "%s%s%s",
            cause,
            f" ({detail})" if detail else "",
            f"; {since} more since the last report"
            if since
            else "; further ones are counted on the health page",
        )
