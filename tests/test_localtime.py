"""Wall-clock times and durations on the nights the clocks change (core.localtime, pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagebild.core.localtime import (
    elapsed,
    is_ambiguous,
    is_missing,
    later,
    monday_of,
    overlap_hours,
    resolve_wall_time,
    utc,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def test_a_day_is_23_or_25_hours_long_when_the_clocks_change():
    def day_length(day: dt.date) -> dt.timedelta:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=BERLIN)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=BERLIN)
        return elapsed(start, end)

    assert day_length(dt.date(2027, 3, 28)) == dt.timedelta(hours=23)
    assert day_length(dt.date(2027, 10, 31)) == dt.timedelta(hours=25)
    assert day_length(dt.date(2027, 7, 1)) == dt.timedelta(hours=24)
    # What the trap gives: same-zone subtraction measures wall-clock time.
    midnight = dt.datetime(2027, 10, 31, tzinfo=BERLIN)
    assert midnight + dt.timedelta(days=1) - midnight == dt.timedelta(hours=24)


def test_overlap_counts_the_hours_a_patrol_really_worked_on_the_nights_the_clocks_change():
    """A night shift 22:00–06:00 is 9 hours in October and 7 in March; forecast windows and
    patrol hours are cut with this, so a wall-clock difference would misweigh those nights."""
    autumn = (dt.datetime(2027, 10, 30, 22, tzinfo=BERLIN), dt.datetime(2027, 10, 31, 6, tzinfo=BERLIN))
    spring = (dt.datetime(2027, 3, 27, 22, tzinfo=BERLIN), dt.datetime(2027, 3, 28, 6, tzinfo=BERLIN))
    whole_weekend = (dt.datetime(2027, 3, 27, tzinfo=BERLIN), dt.datetime(2027, 11, 1, tzinfo=BERLIN))
    assert overlap_hours(*autumn, *whole_weekend) == 9.0
    assert overlap_hours(*spring, *whole_weekend) == 7.0
    # Mixed zones (the database answers in UTC) meet at the same instants.
    morning = (dt.datetime(2027, 10, 31, 4, tzinfo=UTC), dt.datetime(2027, 10, 31, 12, tzinfo=UTC))
    assert overlap_hours(*autumn, *morning) == 1.0
    assert overlap_hours(*autumn, *reversed(morning)) == 0.0
    assert overlap_hours(*spring, *autumn) == 0.0


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_monday_of_is_the_monday_of_the_same_iso_week(day):
    monday = monday_of(day)
    assert monday.weekday() == 0
    assert monday.isocalendar()[:2] == day.isocalendar()[:2]


def test_later_adds_absolute_time():
    before = dt.datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN)
    assert later(before, dt.timedelta(hours=1)) == dt.datetime(2027, 3, 28, 3, 30, tzinfo=BERLIN)
    assert later(before, dt.timedelta(hours=1)).tzinfo is BERLIN
    assert elapsed(before, later(before, dt.timedelta(days=90))) == dt.timedelta(days=90)


@pytest.mark.parametrize(
    ("naive", "ambiguous", "missing"),
    [
        (dt.datetime(2027, 10, 31, 1, 59), False, False),
        (dt.datetime(2027, 10, 31, 2, 0), True, False),
        (dt.datetime(2027, 10, 31, 2, 59), True, False),
        (dt.datetime(2027, 10, 31, 3, 0), False, False),
        (dt.datetime(2027, 3, 28, 1, 59), False, False),
        (dt.datetime(2027, 3, 28, 2, 0), False, True),
        (dt.datetime(2027, 3, 28, 2, 59), False, True),
        (dt.datetime(2027, 3, 28, 3, 0), False, False),
    ],
)
def test_which_wall_clock_times_occur_twice_or_not_at_all(naive, ambiguous, missing):
    assert is_ambiguous(naive, BERLIN) is ambiguous
    assert is_missing(naive, BERLIN) is missing


def test_a_missing_time_moves_forward_by_the_gap():
    now = dt.datetime(2027, 3, 28, 12, tzinfo=BERLIN)
    resolved = resolve_wall_time(dt.datetime(2027, 3, 28, 2, 30), BERLIN, now=now)
    assert resolved == dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert resolved.strftime("%H:%M %z") == "03:30 +0200"


WINTER_0140 = dt.datetime(2027, 10, 31, 1, 40, tzinfo=UTC)  # 02:40 CET
SUMMER_0040 = dt.datetime(2027, 10, 31, 0, 40, tzinfo=UTC)  # 02:40 CEST


def test_a_repeated_time_is_the_latest_occurrence_that_has_passed():
    typed = dt.datetime(2027, 10, 31, 2, 40)
    second_pass = dt.datetime(2027, 10, 31, 1, 50, tzinfo=UTC)  # 02:50 CET
    first_pass = dt.datetime(2027, 10, 31, 0, 50, tzinfo=UTC)  # 02:50 CEST
    # (In UTC: Python never finds a repeated wall-clock time equal to an instant of another zone.)
    assert utc(resolve_wall_time(typed, BERLIN, now=second_pass)) == dt.datetime(
        2027, 10, 31, 1, 40, tzinfo=UTC
    )
    assert utc(resolve_wall_time(typed, BERLIN, now=first_pass)) == dt.datetime(
        2027, 10, 31, 0, 40, tzinfo=UTC
    )
    # Planned ahead (both in the future): the first occurrence.
    week_before = dt.datetime(2027, 10, 24, 12, tzinfo=UTC)
    assert utc(resolve_wall_time(typed, BERLIN, now=week_before)) == dt.datetime(
        2027, 10, 31, 0, 40, tzinfo=UTC
    )


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
)
def test_every_wall_clock_time_gets_one_instant_that_shows_it_when_it_exists(naive, now_naive):
    now = now_naive.replace(tzinfo=UTC)
    resolved = resolve_wall_time(naive, BERLIN, now=now)
    shown = resolved.astimezone(BERLIN).replace(tzinfo=None)
    if is_missing(naive, BERLIN):
        assert shown - naive == dt.timedelta(hours=1)
    else:
        assert shown == naive
