"""Service levels in working days (Mon–Fri without NRW public holidays); no Django."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int, subdivision: str) -> frozenset[dt.date]:
    return frozenset(holidays.Germany(subdiv=subdivision, years=year).keys())


def is_working_day(day: dt.date, subdivision: str = "NW") -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year, subdivision)


def add_working_days(start: dt.datetime, days: int, subdivision: str = "NW") -> dt.datetime:
    """The end of the ``days``-th working day after the day of ``start`` (local time).

    A report received on a Friday evening with one working day is due at the end of the
    next Monday (or Tuesday when Monday is a holiday).
    """
    day = start.date()
    remaining = max(days, 0)
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, subdivision):
            remaining -= 1
    if days == 0:
        return start
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=start.tzinfo)


def working_days_between(start: dt.date, end: dt.date, subdivision: str = "NW") -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, subdivision):
            count += 1
    return count
