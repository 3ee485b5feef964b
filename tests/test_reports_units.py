"""The arithmetic under the reports: periods in the business's time zone across a change of
clocks, open time between two moments, exact percentiles through buckets, page keys, CSV cells."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from onlinesupport.reports import metrics
from onlinesupport.reports.export import _safe
from onlinesupport.reports.facts import page_key
from onlinesupport.reports.periods import Period, bucket_of, buckets, resolve
from onlinesupport.routing.hours import BusinessHours

BERLIN = ZoneInfo("Europe/Berlin")


def test_periods_are_whole_local_days_also_when_the_clocks_change() -> None:
    # Sunday 29 March 2026 has 23 hours in Berlin, Sunday 25 October 25.
    spring = resolve("yesterday", date(2026, 3, 30))
    start, end = spring.bounds(BERLIN)
    assert (start, end) == (
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    autumn_start, autumn_end = Period(date(2026, 10, 25), date(2026, 10, 25)).bounds(BERLIN)
    assert (autumn_end - autumn_start).total_seconds() == 25 * 3600
    assert resolve("last_month", date(2026, 3, 15)) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert resolve("7d", date(2026, 3, 15)).previous() == Period(date(2026, 3, 2), date(2026, 3, 8))
    assert buckets(Period(date(2026, 3, 1), date(2026, 5, 31)), "week")[:2] == [
        "2026-02-23",
        "2026-03-02",
    ]
    assert bucket_of("2026-03-04", "month") == "2026-03"


def test_open_time_skips_nights_weekends_and_holidays_across_the_change_of_clocks() -> None:
    hours = BusinessHours.parse("Europe/Berlin", "mon-fri 09:00-17:00", "2026-03-30")
    friday = datetime(2026, 3, 27, 15, 30, tzinfo=UTC)  # 16:30 in Berlin (CET)
    tuesday = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # 10:00 in Berlin (CEST)
    assert hours.open_seconds(friday, tuesday) == 90 * 60
    assert hours.open_seconds(tuesday, friday) == 0
    assert BusinessHours().open_seconds(friday, tuesday) == (tuesday - friday).total_seconds()
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    two_years = hours.open_seconds(long_ago, datetime(2026, 1, 1, tzinfo=UTC))
    assert two_years > 400 * 8 * 3600, "longer than the calendar's search window still counts"


async def test_bucketed_percentiles_are_exact() -> None:
    rnd = random.Random(5)
    for _ in range(300):
        values = [
            rnd.choice([rnd.uniform(0, 5), rnd.expovariate(1 / 600), rnd.randint(0, 9), 0.0])
            for _ in range(rnd.randint(1, 60))
        ]
        counts = [0] * metrics.BUCKETS
        by_bucket: dict[int, list[float]] = {}
        for value in values:
            bucket = metrics.bucket_of(value)
            counts[bucket] += 1
            by_bucket.setdefault(bucket, []).append(value)
        read: list[int] = []
        read_buckets: set[int] = set()

        async def ranked(
            bucket: int,
            offset: int,
            count: int,
            read: list[int] = read,
            read_buckets: set[int] = read_buckets,
            by_bucket: dict[int, list[float]] = by_bucket,
        ) -> list[float]:
            read.append(count)
            read_buckets.add(bucket)
            return sorted(by_bucket[bucket])[offset : offset + count]

        exact = await metrics.summary_by_rank(counts, ranked)
        assert exact == metrics.summarize(values)
        assert sum(read) <= 3, "only the values of the ranks wanted are read"
        assert 0 not in read_buckets, "exact zeros are known without reading"
    ordered = [metrics.bucket_of(s) for s in (0, 0.5, 1, 59, 60, 3600, 86400, 10**9)]
    assert ordered == sorted(ordered) and ordered[-1] == metrics.BUCKETS - 1


def test_pages_and_cells() -> None:
    assert page_key("https://shop.test/pricing/?ref=ad#top") == "https://shop.test/pricing"
    assert page_key("https://shop.test/") == "https://shop.test/"
    assert [_safe(v) for v in ("=1+2", "+x", "-3", "@a", "fine", 5)] == [
        "'=1+2",
        "'+x",
        "'-3",
        "'@a",
        "fine",
        5,
    ]
    assert metrics.duration_text(90) == "1 min 30 s" and metrics.duration_text(7260) == "2 h 1 min"
    assert metrics.percent_text(2 / 3) == "66.7%" and metrics.percent_text(None) == "–"
