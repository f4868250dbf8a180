"""CompStat comparison windows and period helpers (pure, no Django).

All dates are local calendar days (Europe/Berlin) and every period is inclusive at both ends. ``as_of``
is the last day that counts ("Stand"); a Monday-morning report for the past week passes Sunday.

Windows of the cockpit (``compstat_windows``), each compared with the same period one year earlier:

``week``
    The ISO-8601 week (Monday–Sunday) that contains ``as_of``, from its Monday up to ``as_of``. When
    ``as_of`` is a Sunday this is the complete week; otherwise it is week-to-date. The days may lie in
    the previous calendar year (1 January 2025 belongs to KW 1/2025, which starts on 30.12.2024).
    Prior period: the same days shifted back 364 days (52 weeks), so both periods cover the same
    weekdays and a partial week compares like with like.
``28d``
    The 28 days ending with ``as_of``; prior period shifted back 364 days.
``ytd``
    1 January of ``as_of``'s year up to ``as_of``; prior period 1 January of the previous year up to the
    same calendar date. This is calendar-aligned (as in published year-to-date figures), so the weekday
    mix may differ by a day. Leap day: when ``as_of`` is 29 February the prior period ends on 28
    February; when the prior year's range contains 29 February (or the current one does), that period
    has one day more and the window carries a note saying so.

ISO week 53: years such as 2026 have a week 53 (28.12.2026–03.01.2027) without a counterpart of the
same number in the previous ISO year. The comparison is always by the 364-day shift, so KW 53/2026 is
compared with 29.12.2025–04.01.2026 (KW 1/2026). In the year after a 53-week year the shift meets the
following week number (KW 1/2027 compares with KW 2/2026). The prior period's dates are always part of
the label ("Vorjahr: 29.12.2025–04.01.2026"), and a note is added whenever the week numbers differ.

Late-recorded records: windows are plain date ranges and the figures are recomputed from the current
data every time, for the current and the prior period alike. A record entered late therefore appears
in its period as soon as it is stored; the page shows the data vintage ("Stand") so that figures from
different days can be told apart.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

YEAR_SHIFT_DAYS = 364  # 52 weeks: keeps the weekday mix of the compared periods equal
MAX_PERIOD_DAYS = 3653  # ten calendar years including up to three leap days
MAX_WEEKS_BACK = 520
WEEKDAYS_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _day_month(day: dt.date) -> str:
    return f"{day.day:02d}.{day.month:02d}."


def _full_date(day: dt.date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


def _contains_leap_day(start: dt.date, end: dt.date) -> bool:
    for year in range(start.year, end.year + 1):
        try:
            leap_day = dt.date(year, 2, 29)
        except ValueError:
            continue
        if start <= leap_day <= end:
            return True
    return False


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of calendar days."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("Das Enddatum liegt vor dem Startdatum.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def dates_label(self) -> str:
        """German date range, e.g. "07.09.–13.09.2026" or "29.12.2025–04.01.2026"."""
        if self.start == self.end:
            return _full_date(self.start)
        if self.start.year == self.end.year:
            return f"{_day_month(self.start)}–{_full_date(self.end)}"
        return f"{_full_date(self.start)}–{_full_date(self.end)}"

    @property
    def label(self) -> str:
        """German label; periods within one ISO week are named by it ("KW 37/2026 (07.09.–13.09.2026)")."""
        start_year, start_week, _ = self.start.isocalendar()
        end_year, end_week, _ = self.end.isocalendar()
        if (start_year, start_week) == (end_year, end_week):
            return f"KW {start_week}/{start_year} ({self.dates_label})"
        return self.dates_label

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def shifted(self, days: int) -> Period:
        delta = dt.timedelta(days=days)
        return Period(self.start + delta, self.end + delta)


@dataclass(frozen=True)
class WindowPair:
    """One cockpit column: a current period and the period one year earlier it is compared with."""

    key: str
    label: str
    current: Period
    prior: Period
    note: str = ""

    @property
    def prior_label(self) -> str:
        return f"Vorjahr: {self.prior.dates_label}"


def iso_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.isoweekday() - 1)


def iso_week(day: dt.date) -> Period:
    """The complete ISO week (Monday–Sunday) containing ``day``."""
    monday = iso_monday(day)
    return Period(monday, monday + dt.timedelta(days=6))


def iso_week_label(day: dt.date) -> str:
    """ "KW 37/2026 (07.09.–13.09.2026)" for any day of that ISO week (year = ISO year)."""
    return iso_week(day).label


def _week_window(as_of: dt.date) -> WindowPair:
    current = Period(iso_monday(as_of), as_of)
    prior = current.shifted(-YEAR_SHIFT_DAYS)
    year, week, _ = as_of.isocalendar()
    prior_year, prior_week, _ = prior.start.isocalendar()
    note = ""
    if (prior_year, prior_week) != (year - 1, week):
        note = (
            f"KW {week}/{year} wird mit den Tagen 364 Tage zuvor verglichen "
            f"(KW {prior_week}/{prior_year}, {prior.dates_label}), damit die Wochentage übereinstimmen."
        )
    label = f"Woche KW {week}/{year}"
    if as_of.isoweekday() != 7:  # week to date
        label += f" (bis {WEEKDAYS_DE[as_of.isoweekday() - 1]} {_day_month(as_of)})"
    return WindowPair("week", label, current, prior, note)


def _28_day_window(as_of: dt.date) -> WindowPair:
    current = Period(as_of - dt.timedelta(days=27), as_of)
    return WindowPair("28d", "28 Tage", current, current.shifted(-YEAR_SHIFT_DAYS))


def _same_date_previous_year(day: dt.date) -> dt.date:
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def _ytd_window(as_of: dt.date) -> WindowPair:
    current = Period(dt.date(as_of.year, 1, 1), as_of)
    prior = Period(dt.date(as_of.year - 1, 1, 1), _same_date_previous_year(as_of))
    note = ""
    if current.days > prior.days:
        note = (
            "Der laufende Zeitraum enthält den 29. Februar "
            "und ist einen Tag länger als der Vorjahreszeitraum."
        )
    elif prior.days > current.days:
        note = (
            "Der Vorjahreszeitraum enthält den 29. Februar "
            "und ist einen Tag länger als der laufende Zeitraum."
        )
    return WindowPair("ytd", "Jahr bis Datum", current, prior, note)


def compstat_windows(as_of: dt.date) -> list[WindowPair]:
    """The three cockpit windows (week, 28 days, year to date), each with its prior-year period."""
    if as_of.year < 2:
        raise ValueError("Das Stichtagsdatum liegt außerhalb des gültigen Bereichs.")
    return [_week_window(as_of), _28_day_window(as_of), _ytd_window(as_of)]


def weeks_back(as_of: dt.date, count: int) -> list[Period]:
    """The last ``count`` ISO weeks up to ``as_of``, oldest first; the newest ends at ``as_of``."""
    if count < 1:
        raise ValueError("Die Anzahl der Wochen muss mindestens 1 sein.")
    if count > MAX_WEEKS_BACK:
        raise ValueError(f"Es können höchstens {MAX_WEEKS_BACK} Wochen angezeigt werden.")
    newest_monday = iso_monday(as_of)
    weeks = [Period(newest_monday, as_of)]
    for back in range(1, count):
        monday = newest_monday - dt.timedelta(weeks=back)
        weeks.append(Period(monday, monday + dt.timedelta(days=6)))
    weeks.reverse()
    return weeks


def previous_equal_period(period: Period) -> Period:
    """The period of equal length that ends the day before ``period`` starts."""
    return period.shifted(-period.days)


def parse_date(text: str, *, what: str = "Datum") -> dt.date:
    """Parse "2026-09-07" or "07.09.2026"; German ValueError naming ``what`` otherwise."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError(f"Bitte ein {what} angeben.")
    iso = _ISO_DATE.match(cleaned)
    german = _GERMAN_DATE.match(cleaned)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif german:
        day, month, year = (int(part) for part in german.groups())
    else:
        raise ValueError(f"{what} „{cleaned}“ ist kein Datum im Format TT.MM.JJJJ oder JJJJ-MM-TT.")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{what} „{cleaned}“ gibt es nicht im Kalender.") from exc


def parse_period(start_text: str, end_text: str) -> Period:
    """A period from two user-entered dates; German ValueError for anything unusable."""
    start = parse_date(start_text, what="Startdatum")
    end = parse_date(end_text, what="Enddatum")
    if end < start:
        raise ValueError("Das Enddatum liegt vor dem Startdatum.")
    period = Period(start, end)
    if period.days > MAX_PERIOD_DAYS:
        raise ValueError("Der Zeitraum darf höchstens 10 Jahre umfassen.")
    return period


def contains_leap_day(period: Period) -> bool:
    return _contains_leap_day(period.start, period.end)
