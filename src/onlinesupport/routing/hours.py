"""Business hours: when a queue is open, and deadlines counted in its open time.

A calendar is a time zone, weekly opening hours and holidays, written as text an admin can
edit:

    mon-fri 09:00-17:00
    sat 10:00-14:00
    sun 22:00-02:00        (overnight: runs into Monday)

Holidays are dates (`2026-12-25`), one per line or comma-separated; an interval belongs to the
day it starts on. No weekly hours means always open. Times are wall-clock times in the
calendar's zone, so daylight-saving changes are handled by the zone database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onlinesupport.lib.errors import UserError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LINE = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)"
    r"\s+(?P<spans>.+)$"
)
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
SEARCH_DAYS = 400


class InvalidHours(UserError):
    """The calendar text is not understood; the message names the line."""


@dataclass(frozen=True)
class BusinessHours:
    zone: str = "UTC"
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not any(self.weekly.values())

    @classmethod
    def parse(cls, zone: str, weekly: str, holidays: str) -> BusinessHours:
        try:
            ZoneInfo(zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidHours(
                f"unknown time zone {zone!r} (use a name like Europe/Berlin)"
            ) from None
        days: dict[int, list[tuple[time, time]]] = {}
        for number, line in enumerate(weekly.lower().splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            found = _LINE.match(line)
            if not found:
                raise InvalidHours(f'line {number}: write it like "mon-fri 09:00-17:00"')
            spans = [_span(text.strip(), number) for text in found["spans"].split(",")]
            for day in _days(found["days"], number):
                days.setdefault(day, []).extend(spans)
        dates = set()
        for text in re.split(r"[\s,]+", holidays.strip()):
            if text:
                try:
                    dates.add(date.fromisoformat(text))
                except ValueError:
                    raise InvalidHours(f"holiday {text!r} is not a date like 2026-12-25") from None
        return cls(zone or "UTC", {d: tuple(sorted(s)) for d, s in days.items()}, frozenset(dates))

    def _intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) that end after `start`, in order."""
        tz = ZoneInfo(self.zone)
        day = start.astimezone(tz).date() - timedelta(days=1)  # yesterday's overnight hours
        for _ in range(SEARCH_DAYS):
            if day not in self.holidays:
                for opens, closes in self.weekly.get(day.weekday(), ()):
                    begin = datetime.combine(day, opens, tz)
                    end_day = day + timedelta(days=1) if closes <= opens else day
                    end = datetime.combine(end_day, closes, tz)
                    begin, end = begin.astimezone(UTC), end.astimezone(UTC)
                    if end > start:
                        yield max(begin, start), end
            day += timedelta(days=1)

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        first = next(self._intervals(moment), None)
        return first is not None and first[0] <= moment

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of open time after `start` have passed."""
        if self.always_open:
            return start + timedelta(minutes=minutes)
        left = timedelta(minutes=minutes)
        for begin, end in self._intervals(start):
            if end - begin >= left:
                return begin + left
            left -= end - begin
        return start + timedelta(minutes=minutes)  # never open (all holidays): count plain time

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of open time between `start` and `end` (0 when `end` is not after `start`)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = 0.0
        step = timedelta(days=SEARCH_DAYS - 2)  # the intervals are searched that far ahead
        while start < end:
            until = min(end, start + step)
            for begin, close in self._intervals(start):
                if begin >= until:
                    break
                total += (min(close, until) - begin).total_seconds()
            start = until
        return total

    def windows(
        self, start: datetime, minutes: int, until: datetime, limit: int
    ) -> list[tuple[datetime, datetime]]:
        """Open time cut into windows of `minutes` on the calendar's clock (14:00-14:30,
        14:30-15:00 …), clipped to opening and closing times, from the one `start` falls in
        until `until`; a piece shorter than half a window is left out. At most `limit`,
        earliest first, in UTC. The same window is the same pair however late it is asked."""
        step = timedelta(minutes=minutes)
        local = start.astimezone(ZoneInfo(self.zone))
        since_midnight = local.hour * 60 + local.minute
        aligned = (
            local
            - timedelta(
                minutes=since_midnight % minutes,
                seconds=local.second,
                microseconds=local.microsecond,
            )
        ).astimezone(UTC)
        intervals = [(aligned, until)] if self.always_open else self._intervals(aligned)
        found: list[tuple[datetime, datetime]] = []
        for begin, end in intervals:
            slot = aligned + step * ((begin - aligned) // step)
            while slot < min(end, until) and len(found) < limit:
                piece = (max(slot, begin), min(slot + step, end))
                if piece[1] - piece[0] >= step / 2:
                    found.append(piece)
                slot += step
            if begin >= until or len(found) >= limit:
                break
        return found


def _span(text: str, line: int) -> tuple[time, time]:
    found = _SPAN.match(text)
    if not found:
        raise InvalidHours(f"line {line}: {text!r} is not like 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    midnight = (h2, m2) == (24, 0)
    if midnight:
        h2 = 0  # "until midnight": closes at 00:00 of the next day
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise InvalidHours(f"line {line}: {text!r} is not a time of day")
    if (h1, m1) == (h2, m2) and not midnight:
        raise InvalidHours(f"line {line}: {text!r} opens and closes at the same time")
    return time(h1, m1), time(h2, m2)


def _days(text: str, line: int) -> list[int]:
    result: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise InvalidHours(f"line {line}: days are written mon, tue, wed, thu, fri, sat, sun")
        a, b = DAYS.index(first), DAYS.index(last or first)
        result.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return result
