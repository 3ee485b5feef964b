"""Business hours: opening times in a zone, holidays, overnight hours, DST, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from onlinesupport.routing.hours import BusinessHours, InvalidHours

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone=BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


OFFICE = BusinessHours.parse(
    "Europe/Berlin", "mon-fri 09:00-17:00\nsat 10:00-12:00", "2026-12-24, 2026-12-25"
)


def test_open_and_closed_in_the_calendars_own_zone() -> None:
    assert OFFICE.is_open(at("2026-11-23T09:00"))  # a Monday
    assert not OFFICE.is_open(at("2026-11-23T08:59"))
    assert not OFFICE.is_open(at("2026-11-23T17:00"))
    assert OFFICE.is_open(at("2026-11-28T11:00"))  # Saturday morning
    assert not OFFICE.is_open(at("2026-11-29T11:00"))  # Sunday
    assert not OFFICE.is_open(at("2026-12-24T10:00")), "holiday"


def test_deadlines_count_only_open_time() -> None:
    # Friday 16:30 + 2 h: 30 min on Friday, then Saturday 10:00-11:30.
    assert OFFICE.add(at("2026-11-27T16:30"), 120) == at("2026-11-28T11:30")
    # Saturday 11:00 + 2 h: 1 h Saturday, then Monday 09:00-10:00.
    assert OFFICE.add(at("2026-11-28T11:00"), 120) == at("2026-11-30T10:00")
    # Before opening: the clock starts at 09:00.
    assert OFFICE.add(at("2026-11-23T07:00"), 5) == at("2026-11-23T09:05")
    # Over Christmas: Wed 23 Dec 16:00 + 2 h -> Sat 26 Dec 11:00.
    assert OFFICE.add(at("2026-12-23T16:00"), 120) == at("2026-12-26T11:00")


def test_overnight_hours_run_into_the_next_day() -> None:
    night = BusinessHours.parse("UTC", "sun 22:00-02:00", "")
    sunday_23 = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert night.is_open(sunday_23)
    assert night.is_open(datetime(2026, 11, 30, 1, 59, tzinfo=UTC))
    assert not night.is_open(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    assert night.add(sunday_23, 120) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    # 3 h are left that night; the fourth is the next Sunday's 22:00-23:00.
    assert night.add(sunday_23, 240) == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)


def test_daylight_saving_changes_keep_wall_clock_hours() -> None:
    # Berlin moves from UTC+1 to UTC+2 on 29 March 2026: 09:00 local is 08:00 UTC before,
    # 07:00 after.
    assert OFFICE.is_open(datetime(2026, 3, 27, 8, 0, tzinfo=UTC))
    assert OFFICE.is_open(datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert not OFFICE.is_open(datetime(2026, 3, 30, 6, 59, tzinfo=UTC))
    # Friday 16:00 + 3 h: 1 h Friday, 2 h Saturday 10:00-12:00 (same wall clock) = 12:00 local.
    assert OFFICE.add(at("2026-03-27T16:00"), 180) == at("2026-03-28T12:00")
    overnight = BusinessHours.parse("Europe/Berlin", "sat 22:00-06:00", "")
    # The night of the change has only 7 real hours.
    start = at("2026-03-28T22:00")
    assert overnight.add(start, 7 * 60) == at("2026-03-29T06:00")


def test_a_whole_day_is_written_00_00_to_24_00() -> None:
    daily = BusinessHours.parse("UTC", "mon-sun 00:00-24:00", "2026-11-29")
    assert daily.is_open(datetime(2026, 11, 28, 23, 59, tzinfo=UTC))
    assert not daily.is_open(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    assert daily.is_open(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))


def test_no_hours_means_always_open() -> None:
    always = BusinessHours.parse("UTC", "", "")
    moment = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert always.is_open(moment)
    assert always.add(moment, 90) == datetime(2026, 11, 29, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone, weekly, holidays, message",
    [
        ("Mars/Olympus", "", "", "unknown time zone"),
        ("UTC", "monday 9-5", "", "line 1"),
        ("UTC", "mon 09:00-09:00", "", "same time"),
        ("UTC", "mon 25:00-26:00", "", "not a time of day"),
        ("UTC", "", "christmas", "not a date"),
    ],
)
def test_bad_calendars_are_refused_with_a_reason(zone, weekly, holidays, message) -> None:
    with pytest.raises(InvalidHours, match=message):
        BusinessHours.parse(zone, weekly, holidays)
