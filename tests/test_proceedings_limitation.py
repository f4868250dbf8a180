"""Limitation and deadline engine for offence proceedings (issue 15, items 3 and 4).

Dated scenarios for every rule, with the paragraph in the test name or docstring, and property tests.
No test reads the clock: every "today" is a fixed date.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagebild.proceedings.limitation import (
    Deadline,
    DeadlineKind,
    Fees,
    Interruption,
    InterruptionKind,
    Period,
    Suspension,
    absolute_limit,
    add_months,
    deadline_warnings,
    enforcement_allowed_from,
    enforcement_limitation,
    fees,
    final_without_objection,
    is_working_day,
    limitation_deadlines,
    limitation_end,
    limitation_period,
    next_working_day,
    nrw_holidays,
    objection_deadline,
    payment_deadline,
    prosecution_limitation,
)

K = InterruptionKind
OBV_MAX = 1000  # § 17 Abs. 1 OWiG default maximum, typical for the Dortmund OBV → 6 months


# --- calendar ----------------------------------------------------------------------------------------


def test_nrw_holidays_2026() -> None:
    """Easter 2026 is 5 April; movable feasts follow it (FTG NW § 2)."""
    days = nrw_holidays(2026)
    assert days == {
        date(2026, 1, 1): "Neujahr",
        date(2026, 4, 3): "Karfreitag",
        date(2026, 4, 6): "Ostermontag",
        date(2026, 5, 1): "Tag der Arbeit",
        date(2026, 5, 14): "Christi Himmelfahrt",
        date(2026, 5, 25): "Pfingstmontag",
        date(2026, 6, 4): "Fronleichnam",
        date(2026, 10, 3): "Tag der Deutschen Einheit",
        date(2026, 11, 1): "Allerheiligen",
        date(2026, 12, 25): "1. Weihnachtstag",
        date(2026, 12, 26): "2. Weihnachtstag",
    }


def test_nrw_holidays_2024_movable_feasts() -> None:
    days = nrw_holidays(2024)  # Easter 31 March 2024
    assert days[date(2024, 3, 29)] == "Karfreitag"
    assert days[date(2024, 4, 1)] == "Ostermontag"
    assert days[date(2024, 5, 9)] == "Christi Himmelfahrt"
    assert days[date(2024, 5, 20)] == "Pfingstmontag"
    assert days[date(2024, 5, 30)] == "Fronleichnam"
    assert len(days) == 11


def test_reformation_day_only_2017() -> None:
    assert date(2017, 10, 31) in nrw_holidays(2017)
    assert date(2018, 10, 31) not in nrw_holidays(2018)


def test_working_days() -> None:
    assert is_working_day(date(2026, 11, 6))  # Friday
    assert not is_working_day(date(2026, 11, 7))  # Saturday (§ 43 Abs. 2 StPO: Sonnabend)
    assert not is_working_day(date(2026, 11, 8))  # Sunday
    assert not is_working_day(date(2026, 6, 4))  # Fronleichnam
    assert is_working_day(date(2026, 12, 24))  # Heiligabend is no public holiday
    assert next_working_day(date(2026, 11, 6)) == date(2026, 11, 6)
    assert next_working_day(date(2026, 11, 7)) == date(2026, 11, 9)
    # Christmas 2026: Fri 25, Sat 26, Sun 27 → Monday 28
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 28)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day + 1 year → 28 Feb
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # next leap year keeps the 29th
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # missing day → last day of month (§ 43 Abs. 1 StPO)
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 1, 10), 6, date(2025, 7, 10)),
    ],
)
def test_add_months_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


# --- § 31 Abs. 2 OWiG: period from the statutory maximum --------------------------------------------


@pytest.mark.parametrize(
    ("max_fine", "months"),
    [
        (5, 6),
        (1000, 6),
        (Decimal("1000.01"), 12),
        (2500, 12),
        (2501, 24),
        (15000, 24),
        (Decimal("15000.01"), 36),
        (100_000, 36),
    ],
)
def test_limitation_period_tiers(max_fine: Decimal | int, months: int) -> None:
    assert limitation_period(max_fine) == Period(months)


def test_limitation_period_rejects_floats_and_non_positive() -> None:
    with pytest.raises(TypeError):
        limitation_period(1000.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        limitation_period(0)


def test_period_labels() -> None:
    assert Period(6).label == "6 Monate"
    assert Period(12).label == "1 Jahr"
    assert Period(36).label == "3 Jahre"


# --- §§ 31, 33 OWiG: prosecution limitation ----------------------------------------------------------


def test_no_interruption_six_months() -> None:
    # The act's day is the first day: six months end with the expiry of 9 July (module docstring).
    state = prosecution_limitation(date(2025, 1, 10), OBV_MAX)
    assert state.running_deadline == date(2025, 7, 9)
    assert state.absolute_limit == date(2027, 1, 9)  # 2 × 6 months < 2 years → 2 years
    assert state.deadline == date(2025, 7, 9)
    assert state.lapses_on == date(2025, 7, 10)
    assert not state.is_lapsed(date(2025, 7, 9))
    assert state.is_lapsed(date(2025, 7, 10))
    assert not state.absolute_limit_wins


def test_first_hearing_interrupts() -> None:
    state = prosecution_limitation(
        date(2025, 1, 10), OBV_MAX, [Interruption(K.FIRST_HEARING, date(2025, 3, 1))]
    )
    assert state.deadline == date(2025, 8, 31)  # started on the 1st: ends on the last day of August
    assert [a.paragraph for a in state.applied] == ["§ 33 Abs. 1 S. 1 Nr. 1 OWiG"]


def test_several_hearings_only_first_interrupts() -> None:
    """§ 33 Abs. 1 Nr. 1: oral hearing on the spot, then a written hearing letter – the letter does not count
    (research § 1.3: AG Dillingen 303 OWi 611 Js 142243/20)."""
    events = [
        Interruption(K.FIRST_HEARING, date(2025, 8, 1)),  # second, written hearing
        Interruption(K.FIRST_HEARING, date(2025, 3, 1)),  # oral hearing on the spot
    ]
    state = prosecution_limitation(date(2025, 1, 10), OBV_MAX, events)
    assert state.deadline == date(2025, 8, 31)
    assert [a.effective_on for a in state.applied] == [date(2025, 3, 1)]
    assert len(state.ignored) == 1
    assert state.ignored[0].interruption.date == date(2025, 8, 1)
    assert "nur einmal" in state.ignored[0].reason


def test_earlier_first_hearing_shortens_deadline() -> None:
    """The one case where learning of an extra event moves the deadline earlier: an earlier Nr. 1 event."""
    late = Interruption(K.FIRST_HEARING, date(2025, 6, 1))
    early = Interruption(K.FIRST_HEARING, date(2025, 2, 1))
    assert prosecution_limitation(date(2025, 1, 10), OBV_MAX, [late]).deadline == date(2025, 11, 30)
    assert prosecution_limitation(date(2025, 1, 10), OBV_MAX, [late, early]).deadline == date(2025, 7, 31)


def test_interruption_on_last_day_counts_day_after_does_not() -> None:
    on_time = prosecution_limitation(
        date(2025, 1, 10), OBV_MAX, [Interruption(K.FIRST_HEARING, date(2025, 7, 9))]
    )
    assert on_time.deadline == date(2026, 1, 8)
    too_late = prosecution_limitation(
        date(2025, 1, 10), OBV_MAX, [Interruption(K.FIRST_HEARING, date(2025, 7, 10))]
    )
    assert too_late.deadline == date(2025, 7, 9)
    assert too_late.applied == ()
    assert "nach Eintritt der Verjährung" in too_late.ignored[0].reason


def test_notice_served_within_two_weeks_counts_from_issue() -> None:
    """§ 33 Abs. 1 Nr. 9: served 14 days after issue (still "binnen zwei Wochen") → issue date."""
    events = [
        Interruption(K.FIRST_HEARING, date(2025, 3, 1)),
        Interruption(K.NOTICE, date(2025, 8, 20), served_on=date(2025, 9, 3)),
    ]
    state = prosecution_limitation(date(2025, 1, 10), OBV_MAX, events)
    assert state.applied[-1].effective_on == date(2025, 8, 20)
    assert state.applied[-1].paragraph == "§ 33 Abs. 1 S. 1 Nr. 9 OWiG"
    assert state.deadline == date(2026, 2, 19)


def test_notice_served_after_two_weeks_counts_from_service() -> None:
    """Served 19 days after issue: the issue date does not interrupt, the service date does."""
    events = [Interruption(K.NOTICE, date(2025, 7, 1), served_on=date(2025, 7, 20))]
    state = prosecution_limitation(date(2025, 5, 1), OBV_MAX, events)
    assert state.applied[0].effective_on == date(2025, 7, 20)
    assert state.deadline == date(2026, 1, 19)


def test_notice_issued_in_time_but_served_late_after_deadline_lapses() -> None:
    """Issued 5 days before the deadline, served 15 days later: service is after the deadline → lapsed."""
    events = [
        Interruption(K.FIRST_HEARING, date(2025, 3, 1)),
        Interruption(K.NOTICE, date(2025, 8, 27), served_on=date(2025, 9, 11)),
    ]
    state = prosecution_limitation(date(2025, 1, 10), OBV_MAX, events)
    assert state.deadline == date(2025, 8, 31)
    assert state.is_lapsed(date(2025, 9, 11))
    assert state.ignored[0].interruption.kind is K.NOTICE


def test_unserved_notice_is_pending_and_does_not_count() -> None:
    events = [Interruption(K.NOTICE, date(2025, 6, 1))]
    state = prosecution_limitation(date(2025, 1, 10), OBV_MAX, events)
    assert state.pending == (events[0],)
    assert state.deadline == date(2025, 7, 9)


def test_expert_counts_only_after_first_hearing() -> None:
    """§ 33 Abs. 1 Nr. 3: commissioning an expert interrupts only if the person was heard before."""
    before = prosecution_limitation(
        date(2025, 1, 10), OBV_MAX, [Interruption(K.EXPERT_COMMISSIONED, date(2025, 2, 1))]
    )
    assert before.applied == ()
    assert before.deadline == date(2025, 7, 9)
    after = prosecution_limitation(
        date(2025, 1, 10),
        OBV_MAX,
        [
            Interruption(K.FIRST_HEARING, date(2025, 2, 1)),
            Interruption(K.EXPERT_COMMISSIONED, date(2025, 4, 1)),
        ],
    )
    assert after.deadline == date(2025, 9, 30)


def test_absolute_limit_wins() -> None:
    """Interruptions keep the case alive, but never past 2 × period / at least 2 years (§ 33 Abs. 3 S. 2)."""
    events = [
        Interruption(K.FIRST_HEARING, date(2025, 7, 9)),
        Interruption(K.NOTICE, date(2026, 1, 8), served_on=date(2026, 1, 12)),
        Interruption(K.FILES_AT_COURT, date(2026, 7, 7)),
        Interruption(K.MAIN_HEARING_SET, date(2027, 1, 6)),
    ]
    state = prosecution_limitation(date(2025, 1, 10), OBV_MAX, events)
    assert len(state.applied) == 4
    # Each event falls on the last day of the period before it, so all four count.
    assert state.running_deadline == date(2027, 7, 5)
    assert state.absolute_limit == date(2027, 1, 9)
    assert state.deadline == date(2027, 1, 9)
    assert state.absolute_limit_wins


def test_absolute_limit_is_twice_longer_periods() -> None:
    assert absolute_limit(date(2025, 1, 10), Period(24)) == date(2029, 1, 9)  # § 117 OWiG, 5 000 €
    assert absolute_limit(date(2025, 1, 10), Period(36)) == date(2031, 1, 9)  # LHundG, 100 000 €
    assert absolute_limit(date(2025, 1, 10), Period(12)) == date(2027, 1, 9)


def test_leap_day_offence() -> None:
    """Act on 29 February 2024: 6 months → 28 Aug; absolute 2 years → 28 Feb 2026; 1 year → 28 Feb 2025
    (the day before the 29th; February 2025 and 2026 have a 28th)."""
    state = prosecution_limitation(date(2024, 2, 29), OBV_MAX)
    assert state.deadline == date(2024, 8, 28)
    assert state.absolute_limit == date(2026, 2, 28)
    assert prosecution_limitation(date(2024, 2, 29), 2000).deadline == date(2025, 2, 28)


def test_interruption_on_month_end() -> None:
    state = prosecution_limitation(
        date(2025, 5, 1), OBV_MAX, [Interruption(K.FIRST_HEARING, date(2025, 8, 31))]
    )
    assert state.deadline == date(2026, 2, 28)


def test_limitation_is_not_moved_off_a_sunday() -> None:
    """Limitation runs by calendar alone; § 43 Abs. 2 StPO does not apply (module docstring)."""
    state = prosecution_limitation(date(2026, 1, 13), OBV_MAX)
    assert state.deadline == date(2026, 7, 12)
    assert state.deadline.weekday() == 6
    assert state.is_lapsed(date(2026, 7, 13))


def test_interruption_before_offence_is_an_error() -> None:
    with pytest.raises(ValueError):
        prosecution_limitation(date(2025, 1, 10), OBV_MAX, [Interruption(K.FIRST_HEARING, date(2025, 1, 9))])


def test_served_on_only_for_notices() -> None:
    with pytest.raises(ValueError):
        Interruption(K.FIRST_HEARING, date(2025, 1, 9), served_on=date(2025, 1, 10))
    with pytest.raises(ValueError):
        Interruption(K.NOTICE, date(2025, 1, 9), served_on=date(2025, 1, 8))


# --- § 34 OWiG: enforcement limitation ---------------------------------------------------------------


def test_enforcement_limitation_three_and_five_years() -> None:
    assert enforcement_limitation(date(2025, 3, 15), 1000) == date(2028, 3, 14)
    assert enforcement_limitation(date(2025, 3, 15), Decimal("1000.01")) == date(2030, 3, 14)
    assert enforcement_limitation(date(2024, 2, 29), 70) == date(2027, 2, 28)


def test_enforcement_limitation_rests_during_instalments() -> None:
    """§ 34 Abs. 4: Zahlungserleichterung suspends; overlapping spans count once."""
    spans = [Suspension(date(2025, 4, 1), date(2025, 4, 10)), Suspension(date(2025, 4, 5), date(2025, 4, 14))]
    assert enforcement_limitation(date(2025, 3, 15), 70, spans) == date(2028, 3, 14) + timedelta(days=14)
    with pytest.raises(ValueError):
        Suspension(date(2025, 4, 2), date(2025, 4, 1))


# --- § 67 OWiG, § 43 StPO: objection and payment deadlines ----------------------------------------


def test_objection_deadline_ordinary() -> None:
    assert objection_deadline(date(2026, 11, 6)) == date(2026, 11, 20)  # Friday → Friday


def test_objection_deadline_on_weekend_moves_to_monday() -> None:
    assert objection_deadline(date(2026, 11, 7)) == date(2026, 11, 23)  # ends Sat 21 Nov → Mon 23 Nov


def test_objection_deadline_on_good_friday_moves_past_easter_monday() -> None:
    # Served Fri 20 Mar 2026 → Karfreitag 3 Apr, Sat, Sun, Ostermontag 6 Apr → Tuesday 7 Apr
    assert objection_deadline(date(2026, 3, 20)) == date(2026, 4, 7)


def test_objection_deadline_on_corpus_christi() -> None:
    # Served Thu 21 May 2026 → Fronleichnam Thu 4 Jun (NRW holiday) → Friday 5 Jun
    assert objection_deadline(date(2026, 5, 21)) == date(2026, 6, 5)


def test_final_without_objection_day_after_deadline() -> None:
    assert final_without_objection(date(2026, 11, 6)) == date(2026, 11, 21)
    assert final_without_objection(date(2026, 3, 20)) == date(2026, 4, 8)


def test_payment_deadline_moved_off_holiday() -> None:
    assert payment_deadline(date(2026, 5, 21)) == date(2026, 6, 5)  # § 66 Abs. 2 Nr. 2 + § 43 StPO
    assert payment_deadline(date(2026, 11, 6)) == date(2026, 11, 20)


def test_enforcement_not_before_two_weeks_after_due() -> None:
    """§ 95 Abs. 1 OWiG: due Wed 1 Apr 2026 → two weeks end Wed 15 Apr → collection from 16 Apr."""
    assert enforcement_allowed_from(date(2026, 4, 1)) == date(2026, 4, 16)
    # Due Fri 20 Mar 2026: the two weeks end on Karfreitag → Tuesday 7 Apr → collection from 8 Apr
    assert enforcement_allowed_from(date(2026, 3, 20)) == date(2026, 4, 8)


# --- § 107 OWiG: fees ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fine", "fee"),
    [
        (5, Decimal("25.00")),  # minimum
        (70, Decimal("25.00")),
        (500, Decimal("25.00")),  # 5 % = 25 exactly
        (501, Decimal("25.05")),  # 5 % between the bounds
        (Decimal("501.10"), Decimal("25.06")),  # 25.055 rounded half up
        (1000, Decimal("50.00")),
        (150_000, Decimal("7500.00")),  # 5 % = 7 500 exactly
        (200_000, Decimal("7500.00")),  # maximum
    ],
)
def test_fee_bounds(fine: Decimal | int, fee: Decimal) -> None:
    assert fees(fine).fee == fee


def test_fees_with_formal_service_duesseldorf_example() -> None:
    """Research § 1.10: 70 € fine + 25 € fee + 3,50 € service = 28,50 € costs."""
    result = fees(70, Decimal("3.50"))
    assert result == Fees(fine=Decimal(70), fee=Decimal("25.00"), expenses=Decimal("3.50"))
    assert result.costs == Decimal("28.50")
    assert result.total == Decimal("98.50")


def test_fees_reject_floats_and_negative_expenses() -> None:
    with pytest.raises(TypeError):
        fees(70.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fees(70, 3.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fees(70, -1)


# --- worklist -----------------------------------------------------------------------------------


def test_deadline_warnings_window_and_overdue() -> None:
    today = date(2025, 8, 20)
    state = prosecution_limitation(
        date(2025, 1, 10), OBV_MAX, [Interruption(K.FIRST_HEARING, date(2025, 3, 1))]
    )
    items = [
        *limitation_deadlines(state),  # 31 Aug 2025 and 9 Jan 2027
        Deadline(DeadlineKind.OBJECTION, date(2025, 8, 19)),  # yesterday
        Deadline(DeadlineKind.PAYMENT, date(2025, 8, 20)),  # today
    ]
    warnings = deadline_warnings(items, today, warn_days=14)
    assert [(w.deadline.kind, w.days_left) for w in warnings] == [
        (DeadlineKind.OBJECTION, -1),
        (DeadlineKind.PAYMENT, 0),
        (DeadlineKind.PROSECUTION_LIMITATION, 11),
    ]
    assert warnings[0].overdue
    assert not warnings[1].overdue
    assert deadline_warnings(items, today, warn_days=10)[-1].deadline.kind is DeadlineKind.PAYMENT
    with pytest.raises(ValueError):
        deadline_warnings(items, today, warn_days=-1)


# --- properties ----------------------------------------------------------------------------------

offence_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
max_fines = st.one_of(
    st.sampled_from([5, 1000, 1001, 2500, 2501, 15000, 15001, 100_000]),
    st.integers(min_value=1, max_value=1_000_000),
)
kinds = st.sampled_from(list(InterruptionKind))


@st.composite
def interruption_at(draw: st.DrawFn, offence: date) -> Interruption:
    kind = draw(kinds)
    when = offence + timedelta(days=draw(st.integers(min_value=0, max_value=2500)))
    served_on = None
    if kind is InterruptionKind.NOTICE and draw(st.booleans()):
        served_on = when + timedelta(days=draw(st.integers(min_value=0, max_value=40)))
    return Interruption(kind, when, served_on)


@st.composite
def cases(draw: st.DrawFn) -> tuple[date, int, list[Interruption]]:
    offence = draw(offence_dates)
    events = draw(st.lists(interruption_at(offence), max_size=8))
    return offence, draw(max_fines), events


PROPERTY = settings(deadline=None, max_examples=200, derandomize=True)


@PROPERTY
@given(cases())
def test_property_deadline_between_offence_and_absolute_limit(
    case: tuple[date, int, list[Interruption]],
) -> None:
    offence, max_fine, events = case
    state = prosecution_limitation(offence, max_fine, events)
    assert offence < state.deadline <= state.absolute_limit
    assert state.deadline == min(state.running_deadline, state.absolute_limit)
    assert len(state.applied) + len(state.ignored) + len(state.pending) == len(events)
    assert sum(a.interruption.kind is K.FIRST_HEARING for a in state.applied) <= 1


@PROPERTY
@given(offence_dates, max_fines)
def test_property_absolute_limit_at_least_two_years(offence: date, max_fine: int) -> None:
    state = prosecution_limitation(offence, max_fine)
    assert state.absolute_limit >= add_months(offence, 24) - timedelta(days=1)
    assert state.absolute_limit == limitation_end(offence, max(24, 2 * state.period.months))


@PROPERTY
@given(cases(), st.data())
def test_property_extra_interruption_never_shortens(
    case: tuple[date, int, list[Interruption]], data: st.DataObject
) -> None:
    """Monotone, except for an extra "first hearing" earlier than the known one (see the dated test)."""
    offence, max_fine, events = case
    extra = data.draw(interruption_at(offence))
    first_hearings = [e.date for e in events if e.kind is K.FIRST_HEARING]
    if extra.kind is K.FIRST_HEARING and first_hearings and extra.date < min(first_hearings):
        return
    before = prosecution_limitation(offence, max_fine, events)
    after = prosecution_limitation(offence, max_fine, [*events, extra])
    assert after.running_deadline >= before.running_deadline
    assert after.deadline >= before.deadline


@PROPERTY
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
def test_property_person_deadlines_end_on_working_days(served: date) -> None:
    deadline = objection_deadline(served)
    assert is_working_day(deadline)
    assert served + timedelta(days=14) <= deadline <= served + timedelta(days=14 + 5)
    assert enforcement_allowed_from(served) > served + timedelta(days=14)


@PROPERTY
@given(st.integers(min_value=1, max_value=10_000_000))
def test_property_fee_bounds(fine: int) -> None:
    fee = fees(fine).fee
    assert Decimal(25) <= fee <= Decimal(7500)
    if 500 <= fine <= 150_000:
        assert fee == Decimal(fine) * Decimal("0.05")


# --- the counting of limitation periods as the courts do it ----------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        # OLG Karlsruhe, 28.6.2019, 2 Rb 8 Ss 486/19: notice of 22.11.2017, six months → end of 21.5.2018.
        (date(2017, 11, 22), 6, date(2018, 5, 21)),
        # OLG Koblenz, 8.2.2023, 4 ORbs 31 SsBs 1/23: act on 10.11.2020, two years → end of 9.11.2022.
        (date(2020, 11, 10), 24, date(2022, 11, 9)),
        # KK-OWiG/Ellbogen § 31 Rn. 35: act on 5.4., three months → 4.7.; on 30.11. → 28.2. (29.2.).
        (date(2025, 4, 5), 3, date(2025, 7, 4)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        # A period starting on the 1st ends on the last day of the month before.
        (date(2025, 3, 1), 6, date(2025, 8, 31)),
    ],
)
def test_limitation_end_counts_the_start_day(start: date, months: int, last_day: date) -> None:
    assert limitation_end(start, months) == last_day


def test_olg_karlsruhe_an_interruption_one_day_late_does_not_save_the_case() -> None:
    """The notice interrupted on 22.11.2017; the next act on 22.5.2018 came one day too late."""
    state = prosecution_limitation(
        date(2017, 9, 1),
        OBV_MAX,
        [
            Interruption(K.NOTICE, date(2017, 11, 22), served_on=date(2017, 11, 27)),
            Interruption(K.FILES_AT_COURT, date(2018, 5, 22)),
        ],
    )
    assert state.running_deadline == date(2018, 5, 21)
    assert state.is_lapsed(date(2018, 5, 22))
    assert [i.interruption.kind for i in state.ignored] == [K.FILES_AT_COURT]
