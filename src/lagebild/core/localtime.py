"""Wall-clock times of the city and absolute durations, correct across DST switches; no Django.

Two traps this module exists for:

* Aware datetimes that share a ``ZoneInfo`` add and subtract as wall-clock times: 00:00 on
  the last Sunday of October plus ``timedelta(hours=24)`` is 00:00 the next day, which is
  25 hours later. Durations and "n hours later" are therefore computed in UTC here.
* A wall-clock time typed into a form may occur twice (02:00–03:00 on the last Sunday of
  October) or not at all (02:00–03:00 on the last Sunday of March). Django's form fields
  refuse both, so an officer could not record anything for an hour on those nights.
  :func:`resolve_wall_time` gives every such time one meaning.
"""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(UTC)


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Absolute time from ``start`` to ``end`` (a 25-hour autumn day is 25 hours)."""
    return utc(end) - utc(start)


def later(instant: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``instant`` plus ``delta`` of absolute time, in the zone of ``instant``."""
    zone = instant.tzinfo
    return (utc(instant) + delta).astimezone(zone)


def overlap_hours(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> float:
    """Absolute hours that [a_start, a_end) and [b_start, b_end) share; 0.0 when they do not meet."""
    return max(elapsed(max(a_start, b_start), min(a_end, b_end)).total_seconds(), 0.0) / 3600.0


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the ISO week that holds ``day``."""
    return day - dt.timedelta(days=day.weekday())


def is_ambiguous(naive: dt.datetime, zone: dt.tzinfo) -> bool:
    """The wall-clock time occurs twice (the repeated hour when summer time ends)."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset() and not is_missing(naive, zone)


def is_missing(naive: dt.datetime, zone: dt.tzinfo) -> bool:
    """The wall-clock time does not occur (the skipped hour when summer time starts)."""
    aware = naive.replace(tzinfo=zone)
    return utc(aware).astimezone(zone).replace(tzinfo=None) != naive


def resolve_wall_time(
    naive: dt.datetime,
    zone: dt.tzinfo,
    *,
    now: dt.datetime,
    tolerance: dt.timedelta = dt.timedelta(minutes=10),
) -> dt.datetime:
    """The instant a person means by a wall-clock time, also on the nights the clocks change.

    * A time that occurs once is that time.
    * A time that occurs twice is the later occurrence when both have passed (someone
      recording at 02:50 winter time what happened at 02:40 means ten minutes ago, not an
      hour and ten minutes), otherwise the earlier one (what is planned, or what happened
      at 02:25 summer time when it is now 02:30 summer time).
    * A time that does not occur is moved forward by the gap, as the clocks were:
      02:30 on the last Sunday of March is 03:30 summer time.
    """
    if naive.tzinfo is not None:
        return naive.astimezone(zone)
    if is_missing(naive, zone):
        return utc(naive.replace(tzinfo=zone, fold=0)).astimezone(zone)
    if is_ambiguous(naive, zone):
        first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        return second if utc(second) <= utc(now) + tolerance else first
    return naive.replace(tzinfo=zone)
