"""Published Dortmund figures the demo data is calibrated to, and how to measure them.

The seeds report two balances (see BRIEF "Figures from the seeds"):

* KOD special operation inside the Wallring, two weeks: 782 Platzverweise, almost 1,000
  OWi reports, about 400 of them for public drug consumption and 136 for aggressive
  begging.
* Police, eight weeks from July: 8,900+ staff hours, almost 1,000 Platzverweise, 18
  weapons and 50,000 € cash seized, almost 440 criminal and administrative offences
  recorded, 800+ conversations with citizens.

A third operation has no published balance (seed 003, Stadt Dortmund, November 2025): since
Sunday 2 November the KOD patrolled the city centre with reinforced patrols, up to 45 staff a
day in two shifts, in uniform and partly in plain clothes, a "mehrtägiger Sondereinsatz"
against aggressive begging, open drug consumption and unauthorised camping; the mayor joined
on Thursday 6 November. Its figures are an assumption, documented at NOVEMBER_BLOCK.

The generator plans these periods with exact counts (not random draws), so the demo
shows the published orders of magnitude every time; everything else is drawn at random.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident, Measure, Patrol, PatrolMember

OPERATION_DAYS = 14
POLICE_WINDOW_DAYS = 56
OPERATION_AREA = "wallring"
# KOD staff per day (Monday … Sunday) during the Wallring operation, all of the KOD that day.
OPERATION_STAFF_PER_WEEKDAY = (45, 45, 45, 45, 45, 45, 40)

# The KOD's November operation in the City: two weeks from 2 November (the published start,
# a Sunday in 2025; like 17 August and 1 July the demo keeps the calendar date every year),
# in the patrol zone "City" (the Wallring and 150 m around it, so the station forecourt on the
# Königswall belongs to it). "Bis zu 45 Mitarbeitende täglich in zwei Schichten": 45 from
# Thursday (the evening the mayor came along) to Saturday, 42 from Monday to Wednesday, 40 on
# Sunday, always the early and the late shift; about a quarter of the patrols in plain clothes.
NOVEMBER_DAYS = 14
NOVEMBER_AREA = "pz-city"
NOVEMBER_START = (11, 2)
NOVEMBER_STAFF_PER_WEEKDAY = (42, 42, 42, 45, 45, 45, 40)
NOVEMBER_PLAIN_CLOTHES = 0.25
# The demo contains the latest November operation whose two weeks *after* it (the period the
# evaluation compares with, as long as the operation) lie in the data: so its evaluation is
# complete and on the agenda of the Sonderstab's meetings. The Wallring's eight weeks after
# August serve its modelled displacement and relief, which the November operation does not
# have; with them the default demo run in December would show the November a year earlier,
# evaluated before the first of its 52 meetings.
NOVEMBER_SETTLE_DAYS = 14

# Published figures (targets) – the plans below must reproduce them.
OPERATION_TARGETS = {
    "dispersal_order": 782,
    "offence_report": 1000,
    "offence_report_drugs": 400,
    "offence_report_begging": 136,
}
POLICE_TARGETS = {
    "staff_hours": 8900,
    "dispersal_order": 1000,
    "weapons": 18,
    "cash": 50000,
    "offences": 440,
    "contact": 800,
}
CASH_SEIZED = Decimal("50000")
CASH_SEIZURES = 23


def staff_days(per_weekday: tuple[int, ...], days: int) -> int:
    """Staff-days of an operation of ``days`` days (whole weeks: the same on any start day)."""
    assert days % 7 == 0
    return sum(per_weekday) * days // 7


# No balance of the November operation was published. Assumption: per KOD staff hour it yields
# as many Platzverweise and OWi reports as the Wallring operation (the same shifts, so staff
# hours are in proportion to staff-days: 602 against 620); the mix follows the published reasons
# (aggressive begging, open drug consumption, unauthorised camping: more begging and camping, less
# littering, dogs and playgrounds in November). Planned: 759 Platzverweise and 953 OWi reports.
NOVEMBER_STAFF_RATIO = staff_days(NOVEMBER_STAFF_PER_WEEKDAY, NOVEMBER_DAYS) / staff_days(
    OPERATION_STAFF_PER_WEEKDAY, OPERATION_DAYS
)


@dataclass(frozen=True)
class Block:
    """Exact plan for one authority and period: incidents per category and measures."""

    incidents: dict[str, int]
    measures: dict[str, dict[str, int]]

    def total(self, measure_type: str, category: str | None = None) -> int:
        if category is not None:
            return self.measures.get(category, {}).get(measure_type, 0)
        return sum(m.get(measure_type, 0) for m in self.measures.values())


# KOD, two weeks inside the Wallring. 782 Platzverweise; 981 OWi reports ("almost
# 1,000"), 400 for drug consumption, 136 for aggressive begging.
# fmt: off
OPERATION_BLOCK = Block(
    incidents={
        "drug-consumption-public": 560,
        "aggressive-begging": 240,
        "antisocial-behaviour": 280,
        "camping": 90,
        "littering": 160,
        "public-urination": 110,
        "alcohol-playground": 30,
        "illegal-trade": 30,
        "dog-off-leash": 70,
        "street-furniture-misuse": 40,
        "graffiti": 20,
    },
    measures={
        "drug-consumption-public": {
            "offence_report": 400, "dispersal_order": 380, "referral": 70, "contact": 90,
        },
        "aggressive-begging": {
            "offence_report": 136, "dispersal_order": 165, "caution_fee": 30, "contact": 40,
        },
        "antisocial-behaviour": {
            "offence_report": 215, "dispersal_order": 150, "caution_fee": 30, "contact": 60,
        },
        "camping": {"dispersal_order": 60, "offence_report": 30, "referral": 35, "contact": 40},
        "littering": {"offence_report": 70, "caution_fee": 85, "contact": 10},
        "public-urination": {"offence_report": 60, "caution_fee": 50},
        "alcohol-playground": {"dispersal_order": 20, "offence_report": 10, "caution_fee": 5},
        "illegal-trade": {"offence_report": 25, "seizure": 12, "dispersal_order": 7},
        "dog-off-leash": {"offence_report": 25, "caution_fee": 35, "contact": 20},
        "street-furniture-misuse": {"offence_report": 10, "contact": 30},
        "graffiti": {"criminal_complaint": 12, "contact": 8},
    },
)

# KOD, two weeks from 2 November in the City (see NOVEMBER_STAFF_RATIO): 759 Platzverweise,
# 953 OWi reports, 1,580 incidents (the Wallring's 1,630 × 0.971).
NOVEMBER_BLOCK = Block(
    incidents={
        "drug-consumption-public": 530,
        "aggressive-begging": 295,
        "camping": 175,
        "antisocial-behaviour": 220,
        "littering": 130,
        "public-urination": 80,
        "street-furniture-misuse": 70,
        "dog-off-leash": 40,
        "illegal-trade": 25,
        "graffiti": 15,
    },
    measures={
        "drug-consumption-public": {
            "offence_report": 380, "dispersal_order": 350, "referral": 75, "contact": 90,
        },
        "aggressive-begging": {
            "offence_report": 170, "dispersal_order": 200, "caution_fee": 35, "contact": 50,
        },
        "camping": {"dispersal_order": 120, "offence_report": 55, "referral": 60, "contact": 75},
        "antisocial-behaviour": {
            "offence_report": 180, "dispersal_order": 75, "caution_fee": 25, "contact": 45,
        },
        "littering": {"offence_report": 63, "caution_fee": 65, "contact": 10},
        "public-urination": {"offence_report": 45, "caution_fee": 30},
        "street-furniture-misuse": {"offence_report": 25, "dispersal_order": 9, "contact": 45},
        "dog-off-leash": {"offence_report": 15, "caution_fee": 20, "contact": 10},
        "illegal-trade": {"offence_report": 20, "seizure": 10, "dispersal_order": 5},
        "graffiti": {"criminal_complaint": 9, "contact": 6},
    },
)

# Police, eight weeks from 1 July, all police records: 985 Platzverweise, 436 offences
# (criminal complaints + OWi reports), 830 conversations, 18 weapons, 23 cash seizures
# adding up to 50,000 €.
POLICE_BLOCK = Block(
    incidents={
        "drug-dealing": 260,
        "drug-consumption-public": 380,
        "violence": 150,
        "weapons": 30,
        "street-crime": 110,
        "antisocial-behaviour": 300,
        "aggressive-begging": 100,
        "camping": 40,
        "illegal-car-race": 6,
        "other": 350,
    },
    measures={
        "drug-dealing": {
            "dispersal_order": 150, "criminal_complaint": 140, "seizure": 100 + CASH_SEIZURES,
            "custody": 10, "exclusion_order": 12,
        },
        "drug-consumption-public": {
            "dispersal_order": 300, "criminal_complaint": 30, "contact": 120, "referral": 25, "seizure": 20,
        },
        "violence": {"dispersal_order": 70, "criminal_complaint": 120, "contact": 30, "custody": 25},
        "weapons": {"dispersal_order": 10, "criminal_complaint": 12, "offence_report": 16, "seizure": 18},
        "street-crime": {"dispersal_order": 20, "criminal_complaint": 85, "contact": 40},
        "antisocial-behaviour": {
            "dispersal_order": 260, "offence_report": 20, "contact": 200, "exclusion_order": 5,
        },
        "aggressive-begging": {"dispersal_order": 85, "offence_report": 8, "contact": 60},
        "camping": {"dispersal_order": 30, "contact": 40},
        "illegal-car-race": {"criminal_complaint": 5, "seizure": 3},
        "other": {"dispersal_order": 60, "contact": 340},
    },
)
# fmt: on


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def operation_start(end_date: dt.date) -> dt.date:
    """17 August of the most recent August that ended at least eight weeks before ``end_date``."""
    year = end_date.year
    while dt.date(year, 8, 31) + dt.timedelta(weeks=8) > end_date:
        year -= 1
    return dt.date(year, 8, 17)


def police_window_start(operation: dt.date) -> dt.date:
    return dt.date(operation.year, 7, 1)


def november_operation_start(end_date: dt.date) -> dt.date:
    """2 November of the most recent November whose operation and the two weeks after it lie
    before ``end_date`` (the last day with data is the day before)."""
    year = end_date.year
    month, day = NOVEMBER_START
    while dt.date(year, month, day) + dt.timedelta(days=NOVEMBER_DAYS + NOVEMBER_SETTLE_DAYS) > end_date:
        year -= 1
    return dt.date(year, month, day)


@dataclass
class Period:
    start: dt.date  # first day
    end: dt.date  # last day (inclusive)

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def operation_period(start: dt.date) -> Period:
    return Period(start, start + dt.timedelta(days=OPERATION_DAYS - 1))


def police_period(start: dt.date) -> Period:
    return Period(start, start + dt.timedelta(days=POLICE_WINDOW_DAYS - 1))


def november_period(start: dt.date) -> Period:
    return Period(start, start + dt.timedelta(days=NOVEMBER_DAYS - 1))


def november_targets() -> dict[str, int]:
    """The Wallring's planned Platzverweise and OWi reports per staff-day, times the November staff."""
    return {
        measure_type: round(OPERATION_BLOCK.total(measure_type) * NOVEMBER_STAFF_RATIO)
        for measure_type in ("dispersal_order", "offence_report")
    }


# --- measuring what was generated (also usable on real data) ------------------------------


def _local_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    from lagebild.field.selectors import local_day_start

    return local_day_start(period.start), local_day_start(period.end + dt.timedelta(days=1))


def operation_figures(period: Period, *, authority_id: int, area_id: int) -> dict[str, int]:
    """Measures of incidents in the operation area during the operation, by one authority."""
    start, end = _local_bounds(period)
    with unscoped():
        measures = Measure.objects.filter(
            authority_id=authority_id,
            incident__occurred_at__gte=start,
            incident__occurred_at__lt=end,
            incident__area_links__area_id=area_id,
        )
        figures = measures.aggregate(
            dispersal_order=Count("id", filter=Q(type="dispersal_order")),
            offence_report=Count("id", filter=Q(type="offence_report")),
            offence_report_drugs=Count(
                "id", filter=Q(type="offence_report", incident__category__code="drug-consumption-public")
            ),
            offence_report_begging=Count(
                "id", filter=Q(type="offence_report", incident__category__code="aggressive-begging")
            ),
        )
    return {key: int(value or 0) for key, value in figures.items()}


def police_figures(period: Period, *, authority_id: int) -> dict[str, float]:
    """The police balance: all police measures and police staff hours in the period."""
    start, end = _local_bounds(period)
    with unscoped():
        measures = Measure.objects.filter(
            authority_id=authority_id, incident__occurred_at__gte=start, incident__occurred_at__lt=end
        )
        figures = measures.aggregate(
            dispersal_order=Count("id", filter=Q(type="dispersal_order")),
            weapons=Count("id", filter=Q(type="seizure", seizure_kind="weapon")),
            cash=Sum("amount", filter=Q(type="seizure", seizure_kind="cash")),
            offences=Count("id", filter=Q(type__in=["offence_report", "criminal_complaint"])),
            contact=Count("id", filter=Q(type="contact")),
        )
        patrols = Patrol.objects.filter(planned_start__gte=start, planned_start__lt=end)
        hours = 0.0
        police_members = dict(
            PatrolMember.objects.filter(patrol__in=patrols, authority_id=authority_id)
            .values("patrol_id")
            .annotate(n=Count("id"))
            .values_list("patrol_id", "n")
        )
        for patrol in patrols.only("id", "planned_start", "planned_end", "actual_start", "actual_end"):
            members = police_members.get(patrol.pk, 0)
            if members:
                hours += members * (patrol.end - patrol.start).total_seconds() / 3600
    result: dict[str, float] = {key: int(value or 0) for key, value in figures.items()}
    result["staff_hours"] = round(hours, 1)
    return result


def staff_per_day(period: Period, *, authority_id: int) -> dict[dt.date, int]:
    """Staff of one authority on the patrols of each day's shifts (joint patrols included)."""
    with unscoped():
        rows = (
            PatrolMember.objects.filter(
                authority_id=authority_id,
                patrol__shift__date__gte=period.start,
                patrol__shift__date__lte=period.end,
            )
            .values("patrol__shift__date")
            .annotate(n=Count("user_id", distinct=True))
            .values_list("patrol__shift__date", "n")
        )
        found = dict(rows)
    return {
        period.start + dt.timedelta(days=i): int(found.get(period.start + dt.timedelta(days=i), 0))
        for i in range(period.days)
    }


def within(value: float, target: float, tolerance: float = 0.10) -> bool:
    return abs(value - target) <= tolerance * target


def incident_count(period: Period) -> int:
    start, end = _local_bounds(period)
    with unscoped():
        return Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end).count()
