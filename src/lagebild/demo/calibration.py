"""Published Dortmund figures the demo data is calibrated to, and how to measure them.

The seeds report two balances (see BRIEF "Figures from the seeds"):

* KOD special operation inside the Wallring, two weeks: 782 Platzverweise, almost 1,000
  OWi reports, about 400 of them for public drug consumption and 136 for aggressive
  begging.
* Police, eight weeks from July: 8,900+ staff hours, almost 1,000 Platzverweise, 18
  weapons and 50,000 € cash seized, almost 440 criminal and administrative offences
  recorded, 800+ conversations with citizens.

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


def within(value: float, target: float, tolerance: float = 0.10) -> bool:
    return abs(value - target) <= tolerance * target


def incident_count(period: Period) -> int:
    start, end = _local_bounds(period)
    with unscoped():
        return Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end).count()
