"""Report periods: whole days in the business's time zone, the period before, and chart buckets.

A period is a first and a last calendar day (inclusive) where the business is, so "yesterday"
is 23 or 25 hours long on the days the clocks change and every figure still falls on the day it
happened there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onlinesupport.lib.errors import UserError

PRESETS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom",
}
MAX_DAYS = 3700
"""Ten years: longer than any business keeps asking about."""


class InvalidPeriod(UserError):
    """The period asked for is not understood; the message says why (and `field`, which)."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's start and end as UTC moments (end exclusive)."""
        start = datetime.combine(self.first, time(), zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return start, end.astimezone(UTC)

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def label(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def today_in(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def resolve(preset: str, today: date, first: str = "", last: str = "") -> Period:
    """The period a preset names, counted back from `today` (the business's today)."""
    if preset == "today":
        return Period(today, today)
    if preset == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    if preset in ("7d", "30d", "90d"):
        return Period(today - timedelta(days=int(preset[:-1]) - 1), today)
    if preset == "this_month":
        return Period(today.replace(day=1), today)
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end)
    if preset == "custom":
        try:
            period = Period(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            raise InvalidPeriod(
                "give the first and last day as dates like 2026-03-01",
                "first" if not _is_date(first) else "last",
            ) from None
        if period.last < period.first:
            raise InvalidPeriod("the last day is before the first", "last")
        if period.days > MAX_DAYS:
            raise InvalidPeriod(f"a period can be at most {MAX_DAYS} days long", "first")
        return period
    raise InvalidPeriod(f"the period must be one of {', '.join(PRESETS)}", "period")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def bucket_size(period: Period) -> str:
    """Days for up to two months, weeks up to about a year, months beyond."""
    if period.days <= 62:
        return "day"
    if period.days <= 400:
        return "week"
    return "month"


def bucket_of(day: str, size: str) -> str:
    """The bucket a day (YYYY-MM-DD) falls in: itself, its week's Monday, or its month."""
    if size == "day":
        return day
    if size == "month":
        return day[:7]
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def buckets(period: Period, size: str) -> list[str]:
    """Every bucket of the period, in order, also the empty ones."""
    seen: dict[str, None] = {}
    for day in period.each_day():
        seen.setdefault(bucket_of(day.isoformat(), size))
    return list(seen)
