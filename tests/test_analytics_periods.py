"""CompStat windows: ISO weeks, 364-day comparison, KW 53, leap day, user-entered periods."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagebild.analytics.periods import (
    Period,
    compstat_windows,
    contains_leap_day,
    iso_week_label,
    parse_period,
    previous_equal_period,
    weeks_back,
)

D = dt.date


def windows_by_key(as_of: dt.date) -> dict:
    return {window.key: window for window in compstat_windows(as_of)}


def test_period_label_names_the_iso_week_as_in_the_report_header():
    assert Period(D(2026, 9, 7), D(2026, 9, 13)).label == "KW 37/2026 (07.09.–13.09.2026)"
    assert iso_week_label(D(2026, 9, 10)) == "KW 37/2026 (07.09.–13.09.2026)"
    assert Period(D(2026, 9, 7), D(2026, 9, 13)).days == 7


def test_period_across_years_and_weeks_shows_full_dates():
    assert Period(D(2026, 8, 1), D(2026, 9, 13)).label == "01.08.–13.09.2026"
    assert Period(D(2025, 12, 1), D(2026, 1, 31)).label == "01.12.2025–31.01.2026"
    assert Period(D(2026, 3, 3), D(2026, 3, 3)).days == 1


def test_period_end_before_start_is_refused_in_german():
    with pytest.raises(ValueError, match="Enddatum liegt vor dem Startdatum"):
        Period(D(2026, 9, 13), D(2026, 9, 7))


def test_complete_week_on_a_sunday_compares_with_the_same_weekdays_a_year_earlier():
    week = windows_by_key(D(2026, 9, 13))["week"]
    assert week.current == Period(D(2026, 9, 7), D(2026, 9, 13))
    assert week.prior == Period(D(2025, 9, 8), D(2025, 9, 14))
    assert week.prior.start.isoweekday() == 1 and week.prior.end.isoweekday() == 7
    assert week.prior.start.isocalendar()[:2] == (2025, 37)
    assert week.note == ""
    assert week.prior_label == "Vorjahr: 08.09.–14.09.2025"


def test_week_to_date_compares_the_same_number_of_days():
    week = windows_by_key(D(2026, 9, 10))["week"]  # Thursday
    assert week.current == Period(D(2026, 9, 7), D(2026, 9, 10))
    assert week.prior == Period(D(2025, 9, 8), D(2025, 9, 11))
    assert week.current.days == week.prior.days == 4
    assert week.label == "Woche KW 37/2026 (bis Do 10.09.)"


def test_iso_week_53_of_2026_compares_with_the_week_364_days_earlier_and_says_so():
    windows = windows_by_key(D(2026, 12, 31))
    week = windows["week"]
    assert D(2026, 12, 31).isocalendar()[:2] == (2026, 53)
    assert week.current == Period(D(2026, 12, 28), D(2026, 12, 31))
    assert week.prior == Period(D(2025, 12, 29), D(2026, 1, 1))
    assert "KW 53/2026" in week.label
    assert "KW 1/2026" in week.note
    full_week = windows_by_key(D(2027, 1, 3))["week"]
    assert full_week.current.label == "KW 53/2026 (28.12.2026–03.01.2027)"
    assert full_week.prior_label == "Vorjahr: 29.12.2025–04.01.2026"
    # The year-to-date window stays calendar-aligned on 31 December.
    assert windows["ytd"].current == Period(D(2026, 1, 1), D(2026, 12, 31))
    assert windows["ytd"].prior == Period(D(2025, 1, 1), D(2025, 12, 31))


def test_week_after_a_53_week_year_meets_the_next_week_number_and_notes_it():
    week = windows_by_key(D(2027, 1, 10))["week"]
    assert week.current.start.isocalendar()[:2] == (2027, 1)
    assert week.prior.start.isocalendar()[:2] == (2026, 2)
    assert "KW 2/2026" in week.note


def test_first_of_january_week_window_starts_in_the_previous_calendar_year():
    windows = windows_by_key(D(2025, 1, 1))
    week = windows["week"]
    assert week.current == Period(D(2024, 12, 30), D(2025, 1, 1))
    assert week.prior == Period(D(2024, 1, 1), D(2024, 1, 3))
    assert "KW 1/2025" in week.label
    assert windows["ytd"].current == Period(D(2025, 1, 1), D(2025, 1, 1))
    assert windows["ytd"].prior == Period(D(2024, 1, 1), D(2024, 1, 1))


def test_leap_day_as_of_compares_year_to_date_with_28_february():
    windows = windows_by_key(D(2024, 2, 29))
    ytd = windows["ytd"]
    assert ytd.current == Period(D(2024, 1, 1), D(2024, 2, 29))
    assert ytd.prior == Period(D(2023, 1, 1), D(2023, 2, 28))
    assert ytd.current.days == 60 and ytd.prior.days == 59
    assert "29. Februar" in ytd.note
    assert windows["28d"].current == Period(D(2024, 2, 2), D(2024, 2, 29))
    assert windows["28d"].prior == Period(D(2023, 2, 3), D(2023, 3, 2))


def test_prior_year_ytd_includes_the_leap_day_when_it_lies_in_range():
    ytd = windows_by_key(D(2025, 3, 10))["ytd"]
    assert ytd.prior == Period(D(2024, 1, 1), D(2024, 3, 10))
    assert contains_leap_day(ytd.prior)
    assert ytd.prior.days == ytd.current.days + 1
    assert "Vorjahreszeitraum enthält den 29. Februar" in ytd.note


def test_ytd_without_leap_day_has_no_note():
    ytd = windows_by_key(D(2026, 9, 13))["ytd"]
    assert ytd.note == ""
    assert ytd.current.days == ytd.prior.days == 256


@given(st.dates(min_value=D(2001, 1, 1), max_value=D(2099, 12, 31)))
def test_every_window_ends_on_as_of_and_shifted_windows_keep_weekdays(as_of):
    for window in compstat_windows(as_of):
        assert window.current.end == as_of
        assert window.current.start <= as_of
        if window.key in {"week", "28d"}:
            assert window.current.days == window.prior.days
            assert window.current.start - window.prior.start == dt.timedelta(days=364)
            assert window.current.start.isoweekday() == window.prior.start.isoweekday()
    week = windows_by_key(as_of)["week"]
    assert week.current.start.isoweekday() == 1
    assert week.current.days == as_of.isoweekday()
    assert windows_by_key(as_of)["28d"].current.days == 28


def test_weeks_back_gives_oldest_first_with_the_current_partial_week_last():
    weeks = weeks_back(D(2026, 9, 10), 3)
    assert weeks == [
        Period(D(2026, 8, 24), D(2026, 8, 30)),
        Period(D(2026, 8, 31), D(2026, 9, 6)),
        Period(D(2026, 9, 7), D(2026, 9, 10)),
    ]
    assert [week.days for week in weeks_back(D(2027, 1, 3), 52)].count(7) == 52


def test_weeks_back_rejects_nonsense_counts():
    with pytest.raises(ValueError, match="mindestens 1"):
        weeks_back(D(2026, 9, 10), 0)
    with pytest.raises(ValueError, match="höchstens 520"):
        weeks_back(D(2026, 9, 10), 10_000)


def test_previous_equal_period_ends_the_day_before():
    special_operation = Period(D(2026, 3, 1), D(2026, 5, 31))  # 92 days
    before = previous_equal_period(special_operation)
    assert before == Period(D(2025, 11, 29), D(2026, 2, 28))
    assert before.days == special_operation.days == 92


def test_parse_period_accepts_iso_and_german_dates():
    assert parse_period("2026-09-07", " 13.09.2026 ") == Period(D(2026, 9, 7), D(2026, 9, 13))
    assert parse_period("1.3.2026", "2026-3-31").days == 31


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("13.09.2026", "07.09.2026", "Enddatum liegt vor dem Startdatum"),
        ("01.01.2010", "01.01.2026", "höchstens 10 Jahre"),
        ("gestern", "07.09.2026", "Startdatum „gestern“ ist kein Datum"),
        ("07.09.2026", "31.02.2026", "Enddatum „31.02.2026“ gibt es nicht"),
        ("", "07.09.2026", "Bitte ein Startdatum angeben"),
        ("2026/09/07", "07.09.2026", "TT.MM.JJJJ"),
    ],
)
def test_parse_period_gives_german_messages(start, end, message):
    with pytest.raises(ValueError, match=message):
        parse_period(start, end)


def test_parse_period_allows_exactly_ten_years():
    assert parse_period("01.01.2016", "31.12.2025").days == 3653
