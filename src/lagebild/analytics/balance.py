"""Operation balance (Einsatzbilanz): what Ordnungsamt and Polizei did in an area and period.

Every figure comes from the pre-aggregated counts (``selectors.window_totals`` with two windows:
the period and the previous period of equal length), so the balance of a special operation, the
council report (PDF), the spreadsheet and the page show the same numbers and equal a direct
count over the records:

* measures count on the local day they were taken, in the areas of their incident;
* patrols and staff hours count on the local day the patrol started (actual, else planned), in
  its area and the areas containing it; staff hours are members × actual (else planned) duration
  and belong to each member's authority;
* citizen reports count on the day received and on the day closed (``detail`` = final status).

With an authority filter ("Nur Polizei") measures, staff hours and citizen reports are those of
that authority; patrols are its own single-authority patrols plus every joint patrol
(Doppelstreife), because a joint patrol is work of both partners whoever planned it.

The prose ("Bilanz in Worten") reads like the published Dortmund balances: "fast 1.000
Platzverweise", "rund 9.500 Personalstunden" – rounding only there, exact numbers everywhere else.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing

from . import documents as doc
from .changestats import FLAG_LABELS_DE, Change
from .indicators import GroupKey
from .periods import MAX_PERIOD_DAYS, Period, previous_equal_period

if TYPE_CHECKING:
    from .selectors import AreaChoice

Totals = Mapping[GroupKey, tuple[int, float]]

OPERATIONS_FILE = Path(__file__).resolve().parent / "data" / "operations.json"
FIRST_DAY = dt.date(1990, 1, 1)  # the count tables start in 1990 (aggregates.FIRST_YEAR)
LAST_DAY = dt.date(2100, 12, 31)
DAILY_SERIES_MAX_DAYS = 31
APPROX_FROM = 200  # below this, the prose keeps exact numbers ("136 wegen aggressiven Bettelns")

AUTHORITY_KINDS = ("city", "police")
AUTHORITY_LABELS = {"city": "Ordnungsamt (KOD)", "police": "Polizei", "other": "Andere Stelle"}
AUTHORITY_CHOICES = (
    ("", "Ordnungsamt und Polizei"),
    ("city", "Nur Ordnungsamt (KOD)"),
    ("police", "Nur Polizei"),
)

UNIT_COUNT = "Anzahl"
UNIT_HOURS = "Std."
UNIT_EURO = "€"
UNIT_RATE = "je 100 Std."

SECTION_EFFORT = "Einsatz"
SECTION_MEASURES = "Maßnahmen"
SECTION_SEIZURES = "Sicherstellungen"
SECTION_HELP = "Hilfe und Gespräche"
SECTION_REPORTS = "Bürgerhinweise"
SECTION_RATES = "Je 100 Personalstunden"

# Measure types in table order, with the German line label (MeasureType labels are for forms).
MEASURE_LINES = (
    ("dispersal_order", "Platzverweise"),
    ("exclusion_order", "Aufenthaltsverbote"),
    ("caution", "Mündliche Verwarnungen"),
    ("caution_fee", "Verwarnungen mit Verwarnungsgeld"),
    ("offence_report", "OWi-Anzeigen"),
    ("criminal_complaint", "Strafanzeigen"),
    ("custody", "Ingewahrsamnahmen"),
)
SEIZURE_KINDS = (
    ("weapon", "Waffen"),
    ("cash", "Bargeld (Fälle)"),
    ("drugs", "Betäubungsmittel"),
    ("other", "Sonstige Gegenstände"),
)
REFERRAL_LABELS = {
    "addiction_help": "Suchthilfe / Drogenberatung",
    "street_social_work": "Straßensozialarbeit",
    "shelter": "Notschlafstelle / Wohnungslosenhilfe",
    "medical": "Medizinische Hilfe",
    "other": "Sonstige Hilfe",
    "": "ohne Angabe des Hilfeangebots",
}
KEY_FIGURES = (
    ("staff_hours", "Personalstunden"),
    ("patrols", "Streifen"),
    ("dispersal_order", "Platzverweise"),
    ("offence_report", "OWi-Anzeigen"),
    ("criminal_complaint", "Strafanzeigen"),
    ("seizure:weapon", "Sichergestellte Waffen"),
    ("cash_total", "Bargeld sichergestellt"),
    ("contact", "Bürgergespräche"),
    ("referral", "Vermittlungen ins Hilfesystem"),
    ("reports_received", "Bürgerhinweise"),
)
CHART_LINES = (
    ("dispersal_order", "Platzverweise"),
    ("offence_report", "OWi-Anzeigen"),
    ("criminal_complaint", "Strafanzeigen"),
    ("caution_fee", "Verwarnungen"),
    ("seizure", "Sicherstellungen"),
    ("referral", "Vermittlungen"),
    ("contact", "Gespräche"),
)

READING_NOTE = (
    "Diese Bilanz zählt, was Ordnungsamt und Polizei getan haben (Aktivitätszahlen): Streifen, "
    "Personalstunden und Maßnahmen messen den Einsatz, nicht die Größe des Problems. Mehr Kontrollen "
    "führen zunächst zu mehr festgestellten Verstößen; ein Erfolg zeigt sich erst später an sinkenden "
    "Problemzahlen (Bürgerhinweise, Feststellungen) und an Wirkungszahlen (Sicherheitsempfinden, "
    "Erledigungsdauer). Die Quoten je 100 Personalstunden trennen die Kontrolldichte von der "
    "Häufigkeit. Ob ein Einsatz das Geschehen nur verlagert hat, zeigt erst die Verdrängungsanalyse."
)
COUNTING_NOTE = (
    "Gezählt werden Maßnahmen am Tag, an dem sie getroffen wurden, im Gebiet ihrer Feststellung; "
    "Streifen und Personalstunden am Tag des Streifenbeginns im Einsatzraum (Personalstunden = Kräfte × "
    "tatsächliche, sonst geplante Dauer); Bürgerhinweise am Tag des Eingangs bzw. des Abschlusses. "
    "Vergleich mit dem unmittelbar vorangehenden, gleich langen Zeitraum. z = 2(√aktuell − √vorher) "
    "für Anzahlen: |z| ≥ 2 auffällig, |z| ≥ 3 stark auffällig; für Stunden, Beträge und Quoten gibt es "
    "keinen z-Wert."
)

_NUMBER_WORDS = {
    1: "eine",
    2: "zwei",
    3: "drei",
    4: "vier",
    5: "fünf",
    6: "sechs",
    7: "sieben",
    8: "acht",
    9: "neun",
    10: "zehn",
    11: "elf",
    12: "zwölf",
}
_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


# --- the balance ----------------------------------------------------------------------------


def _format(value: float | None, unit: str, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    if unit == UNIT_EURO:
        decimals = 0 if float(value).is_integer() else 2
        return f"{doc.number_de(value, decimals, sign=signed)} €"
    if unit in (UNIT_HOURS, UNIT_RATE):
        return doc.number_de(value, 1, sign=signed)
    return doc.number_de(value, 0, sign=signed)


@dataclass(frozen=True)
class BalanceLine:
    """One row of the balance: a figure in the period and in the previous period of equal length."""

    key: str
    label: str
    section: str
    current: float | None
    previous: float | None
    unit: str = UNIT_COUNT
    sub: bool = False  # a "davon" row below the line before it

    @property
    def is_count(self) -> bool:
        return self.unit == UNIT_COUNT

    @cached_property
    def change(self) -> Change | None:
        # Cached: the table reads it five times per row (delta, %, z, flag, flag label).
        if self.current is None or self.previous is None:
            return None
        return Change.of(self.current, self.previous, is_count=self.is_count)

    @property
    def current_text(self) -> str:
        return _format(self.current, self.unit)

    @property
    def previous_text(self) -> str:
        return _format(self.previous, self.unit)

    @property
    def delta_text(self) -> str:
        change = self.change
        return "–" if change is None else _format(change.delta, self.unit, signed=change.delta != 0)

    @property
    def percent_text(self) -> str:
        change = self.change
        return "–" if change is None else doc.percent_de(change.percent)

    @property
    def z_text(self) -> str:
        change = self.change
        if change is None or change.z is None:
            return "–"
        return doc.number_de(change.z, 1, sign=round(change.z, 1) != 0)

    @property
    def flag(self) -> int:
        change = self.change
        return 0 if change is None else change.flag

    @property
    def flag_label(self) -> str:
        return FLAG_LABELS_DE[self.flag]


@dataclass(frozen=True)
class Balance:
    area_id: int
    area_name: str
    area_kind: str
    period: Period
    previous: Period
    authority: str  # "" = both partners, else "city" or "police"
    lines: tuple[BalanceLine, ...]
    stand: str = ""

    def line(self, key: str) -> BalanceLine:
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)

    def value(self, key: str) -> float:
        """The current value of a line (0 for rates without staff hours)."""
        return self.line(key).current or 0.0

    def has(self, key: str) -> bool:
        return any(line.key == key for line in self.lines)

    @property
    def authority_label(self) -> str:
        return dict(AUTHORITY_CHOICES)[self.authority]

    @property
    def sections(self) -> list[tuple[str, list[BalanceLine]]]:
        grouped: dict[str, list[BalanceLine]] = {}
        for line in self.lines:
            grouped.setdefault(line.section, []).append(line)
        return list(grouped.items())

    @property
    def key_figures(self) -> list[tuple[str, BalanceLine]]:
        return [(label, self.line(key)) for key, label in KEY_FIGURES if self.has(key)]

    @property
    def title(self) -> str:
        return f"Einsatzbilanz {self.area_name}"

    @property
    def subtitle(self) -> str:
        return (
            f"Zeitraum {self.period.dates_label} ({self.period.days} Tage) · {self.authority_label} · "
            f"Vergleich mit {self.previous.dates_label}"
        )

    @property
    def prose(self) -> str:
        return balance_prose(self)


Item = tuple[GroupKey, tuple[int, float]]


class _Groups:
    """One window's totals, indexed once by fact, by (fact, measure type) and, for measures, by
    category and by detail.

    A page makes about 170 sums per window, each over a few of its ~400 groups: scanning every
    group for every sum cost ~90 ms per page. The lists keep the totals' order, so a sum adds the same
    values in the same order as a full scan and gives the identical float.
    """

    def __init__(self, totals: Totals) -> None:
        self.totals = totals
        self.by_fact: dict[str, list[Item]] = {}
        self.by_type: dict[tuple[str, str], list[Item]] = {}
        # Rows per OWi category and per referral service / seizure kind.
        self.by_category: dict[tuple[str, str, int], list[Item]] = {}
        self.by_detail: dict[tuple[str, str, str], list[Item]] = {}
        for item in totals.items():
            key = item[0]
            fact, measure_type = key.fact, key.measure_type
            self.by_fact.setdefault(fact, []).append(item)
            self.by_type.setdefault((fact, measure_type), []).append(item)
            if fact == "measure":
                self.by_category.setdefault((fact, measure_type, key.category_id), []).append(item)
                self.by_detail.setdefault((fact, measure_type, key.detail), []).append(item)

    def items(self, fact: str, measure_type: str | None = None) -> list[Item]:
        if measure_type is None:
            return self.by_fact.get(fact, [])
        return self.by_type.get((fact, measure_type), [])


def _candidates(totals: Totals | _Groups, conditions: Mapping[str, object]) -> Iterable[Item]:
    """The groups that can match: the index's list when fact (and measure type) are fixed."""
    if not isinstance(totals, _Groups):
        return totals.items()
    fact, measure_type = conditions.get("fact"), conditions.get("measure_type")
    if not isinstance(fact, str):
        return totals.totals.items()
    if not isinstance(measure_type, str):
        return totals.items(fact)
    category_id, detail = conditions.get("category_id"), conditions.get("detail")
    if fact != "measure":  # only measures have category and detail lists
        return totals.items(fact, measure_type)
    if isinstance(category_id, int):
        return totals.by_category.get((fact, measure_type, category_id), [])
    if isinstance(detail, str):
        return totals.by_detail.get((fact, measure_type, detail), [])
    return totals.items(fact, measure_type)


def _sum(totals: Totals | _Groups, *, position: int = 0, **conditions: object) -> float:
    """Sum of counts (position 0) or amounts (1) over the groups matching every condition.

    A condition value that is a set/frozenset/tuple means "one of"; ``authority_ids`` empty = all.
    """
    checks = [
        (name, wanted, isinstance(wanted, set | frozenset | tuple))
        for name, wanted in conditions.items()
        if not (isinstance(wanted, set | frozenset | tuple) and not wanted)
    ]
    result = 0.0
    for key, values in _candidates(totals, conditions):
        for name, wanted, one_of in checks:
            actual = getattr(key, name)
            if one_of:
                if actual not in wanted:  # type: ignore[operator]
                    break
            elif actual != wanted:
                break
        else:
            result += values[position]
    return result


def _patrols(totals: _Groups, authority_ids: frozenset[int], *, joint: bool | None = None) -> float:
    result = 0.0
    for key, (count, _amount) in totals.items("patrol"):
        if joint is not None and key.joint != joint:
            continue
        if authority_ids and not key.joint and key.authority_id not in authority_ids:
            continue
        result += count
    return result


def _rate(count: float, hours: float) -> float | None:
    return None if hours <= 0 else round(count / hours * 100, 6)


def balance_lines(
    current: Totals,
    previous: Totals,
    *,
    authority_ids: frozenset[int] = frozenset(),
    authority_kinds: Mapping[int, str] | None = None,
    category_names: Mapping[int, str] | None = None,
) -> list[BalanceLine]:
    """All balance rows from the totals of the period and the previous period (no database).

    ``authority_ids`` restricts to one partner (empty = both); ``authority_kinds`` maps authority
    ids to "city"/"police"/"other" for the per-authority rows; ``category_names`` names the
    categories of the OWi rows.
    """
    kinds = dict(authority_kinds or {})
    names = dict(category_names or {})
    windows = (_Groups(current), _Groups(previous))
    lines: list[BalanceLine] = []
    ids = authority_ids

    def add(key: str, label: str, section: str, values: Sequence[float | None], **extra: object) -> None:
        lines.append(BalanceLine(key, label, section, values[0], values[1], **extra))  # type: ignore[arg-type]

    def measure(position: int = 0, **conditions: object) -> list[float]:
        return [_sum(t, position=position, fact="measure", authority_id=ids, **conditions) for t in windows]

    def by_authority(
        key: str, section: str, unit: str, fact: str, position: int, **conditions: object
    ) -> None:
        """ "davon Ordnungsamt / Polizei" rows, only when both partners are counted."""
        if ids:
            return
        present = {kinds.get(k.authority_id, "other") for t in windows for k, _ in t.items(fact)}
        authorities = {k.authority_id for t in windows for k in t.totals}
        for kind in sorted(present, key=_kind_order):
            members = frozenset(a for a in authorities if kinds.get(a, "other") == kind)
            values = [
                round(_sum(t, position=position, fact=fact, authority_id=members, **conditions), 2)
                for t in windows
            ]
            add(
                f"{key}:{kind}",
                f"davon {AUTHORITY_LABELS.get(kind, kind)}",
                section,
                values,
                unit=unit,
                sub=True,
            )

    # Effort
    hours = [round(_sum(t, position=1, fact="staff_hours", authority_id=ids), 2) for t in windows]
    add("staff_hours", "Personalstunden", SECTION_EFFORT, hours, unit=UNIT_HOURS)
    by_authority("staff_hours", SECTION_EFFORT, UNIT_HOURS, "staff_hours", 1)
    add("patrols", "Streifen", SECTION_EFFORT, [_patrols(t, ids) for t in windows])
    add(
        "patrols_joint",
        "davon Doppelstreifen (Ordnungsamt und Polizei)",
        SECTION_EFFORT,
        [_patrols(t, ids, joint=True) for t in windows],
        sub=True,
    )
    add(
        "patrols_single",
        "davon Streifen einer Behörde",
        SECTION_EFFORT,
        [_patrols(t, ids, joint=False) for t in windows],
        sub=True,
    )

    # Measures
    all_measures = measure()
    add("measures", "Maßnahmen insgesamt", SECTION_MEASURES, all_measures)
    for measure_type, label in MEASURE_LINES:
        add(measure_type, label, SECTION_MEASURES, measure(measure_type=measure_type))
        if measure_type == "dispersal_order":
            by_authority(
                "dispersal_order", SECTION_MEASURES, UNIT_COUNT, "measure", 0, measure_type=measure_type
            )
        if measure_type == "caution_fee":
            add(
                "caution_fee_total",
                "Verwarnungsgelder (Summe)",
                SECTION_MEASURES,
                [round(v, 2) for v in measure(1, measure_type="caution_fee")],
                unit=UNIT_EURO,
                sub=True,
            )
        if measure_type == "offence_report":
            categories = {
                k.category_id
                for t in windows
                for k, _ in t.items("measure", "offence_report")
                if not ids or k.authority_id in ids
            }
            rows = [(c, measure(measure_type="offence_report", category_id=c)) for c in categories]
            rows.sort(key=lambda row: (-row[1][0], -row[1][1], names.get(row[0], "")))
            for category_id, values in rows:
                if values[0] or values[1]:
                    label = f"davon {names.get(category_id, 'ohne Sachverhalt')}"
                    add(f"offence_report:{category_id}", label, SECTION_MEASURES, values, sub=True)
    complaints = [
        a + b
        for a, b in zip(
            measure(measure_type="offence_report"), measure(measure_type="criminal_complaint"), strict=True
        )
    ]
    add("complaints_total", "Straf- und OWi-Anzeigen zusammen", SECTION_MEASURES, complaints)

    # Seizures
    add("seizure", "Sicherstellungen insgesamt", SECTION_SEIZURES, measure(measure_type="seizure"))
    for kind, label in SEIZURE_KINDS:
        add(
            f"seizure:{kind}", label, SECTION_SEIZURES, measure(measure_type="seizure", detail=kind), sub=True
        )
        if kind == "cash":
            cash = [round(v, 2) for v in measure(1, measure_type="seizure", detail="cash")]
            add("cash_total", "Bargeld (Summe)", SECTION_SEIZURES, cash, unit=UNIT_EURO, sub=True)

    # Help and conversations
    add("referral", "Vermittlungen ins Hilfesystem", SECTION_HELP, measure(measure_type="referral"))
    services = {
        k.detail
        for t in windows
        for k, _ in t.items("measure", "referral")
        if not ids or k.authority_id in ids
    }
    service_order = list(REFERRAL_LABELS)
    for service in sorted(services, key=lambda s: service_order.index(s) if s in service_order else 99):
        values = measure(measure_type="referral", detail=service)
        label = f"davon {REFERRAL_LABELS.get(service, service)}"
        add(f"referral:{service or 'none'}", label, SECTION_HELP, values, sub=True)
    add("contact", "Bürgergespräche / Ansprachen", SECTION_HELP, measure(measure_type="contact"))

    # Citizen reports
    received = [_sum(t, fact="report_received", authority_id=ids) for t in windows]
    closed = [_sum(t, fact="report_closed", authority_id=ids) for t in windows]
    resolved = [_sum(t, fact="report_closed", detail="resolved", authority_id=ids) for t in windows]
    add("reports_received", "Bürgerhinweise eingegangen", SECTION_REPORTS, received)
    add("reports_closed", "Bürgerhinweise abgeschlossen", SECTION_REPORTS, closed)
    add("reports_resolved", "davon erledigt", SECTION_REPORTS, resolved, sub=True)

    # Effort-normalised rates
    dispersal = measure(measure_type="dispersal_order")
    offences = measure(measure_type="offence_report")
    for key, label, counts in (
        ("rate_dispersal_order", "Platzverweise je 100 Personalstunden", dispersal),
        ("rate_offence_report", "OWi-Anzeigen je 100 Personalstunden", offences),
        ("rate_measures", "Maßnahmen je 100 Personalstunden", all_measures),
    ):
        add(
            key,
            label,
            SECTION_RATES,
            [_rate(c, h) for c, h in zip(counts, hours, strict=True)],
            unit=UNIT_RATE,
        )
    return lines


def _kind_order(kind: str) -> int:
    return {"city": 0, "police": 1}.get(kind, 2)


def check_period(start: dt.date, end: dt.date) -> Period:
    """The balance period; German ValueError for reversed, too long or out-of-range periods."""
    if end < start:
        raise ValueError("Das Enddatum liegt vor dem Startdatum.")
    for day in (start, end):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(
                f"Bitte Daten zwischen {doc.date_de(FIRST_DAY)} und {doc.date_de(LAST_DAY)} angeben."
            )
    period = Period(start, end)
    if period.days > MAX_PERIOD_DAYS:
        raise ValueError("Der Zeitraum darf höchstens 10 Jahre umfassen.")
    return period


def build_balance(
    area_id: int,
    start: dt.date,
    end: dt.date,
    *,
    authority: str = "",
    areas: Sequence[AreaChoice] | None = None,
) -> Balance:
    """The balance of an area (0 = whole city) from ``start`` to ``end`` (local days, inclusive).

    ``authority`` "" = both partners, "city" or "police" = only that partner's figures.
    Raises ValueError with a German message for an unknown area, authority or a bad period.
    ``areas`` are the caller's ``selectors.area_choices()``, so a page reads the areas only once.
    """
    from lagebild.catalog.models import Category
    from lagebild.core.models import Authority

    from . import selectors

    period = check_period(start, end)
    if authority not in dict(AUTHORITY_CHOICES):
        raise ValueError("Bitte eine Behörde aus der Liste wählen.")
    if areas is None:
        areas = selectors.area_choices()
    area = next((a for a in areas if a.id == area_id), None)
    if area is None:
        raise ValueError("Das Gebiet gibt es nicht oder es ist nicht auswertbar.")
    previous = previous_equal_period(period)
    totals = selectors.window_totals(
        area_id,
        {"current": period, "previous": previous},
        facts=("measure", "patrol", "staff_hours", "report_received", "report_closed"),
    )
    authority_kinds = dict(Authority.objects.values_list("pk", "kind"))
    authority_ids = frozenset(pk for pk, kind in authority_kinds.items() if authority and kind == authority)
    if authority and not authority_ids:
        authority_ids = frozenset({-1})  # no such partner configured: all figures are 0
    category_ids = {k.category_id for t in totals.values() for k in t if k.measure_type == "offence_report"}
    category_names = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "name"))
    lines = balance_lines(
        totals["current"],
        totals["previous"],
        authority_ids=authority_ids,
        authority_kinds=authority_kinds,
        category_names=category_names,
    )
    return Balance(
        area_id=area_id,
        area_name=area.name,
        area_kind=str(area.kind),
        period=period,
        previous=previous,
        authority=authority,
        lines=tuple(lines),
        stand=doc.stand_de(),
    )


# --- course over the period (charts, "Verlauf" sheet) ----------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    label: str
    start: dt.date
    end: dt.date
    staff_hours: float
    dispersal_orders: int

    @property
    def staff_hours_text(self) -> str:
        return doc.number_de(self.staff_hours, 1)

    @property
    def dispersal_orders_text(self) -> str:
        return doc.number_de(self.dispersal_orders)


def _series_sums(
    model: type, date_field: str, area_id: int, first: dt.date, last: dt.date, ids: frozenset[int]
) -> Iterator[tuple[dt.date, float, int]]:
    """(date, staff hours, Platzverweise) rows of one count table, only the two facts the
    series shows: reading every dimension of a year of weeks would take ten times longer."""
    from django.db.models import Q, Sum

    queryset = model.objects.filter(
        Q(fact="staff_hours") | Q(fact="measure", measure_type="dispersal_order"),
        area_id=area_id,
        **{f"{date_field}__range": (first, last)},
    )
    if ids:
        queryset = queryset.filter(authority_id__in=ids)
    rows = queryset.values(date_field, "fact").annotate(c=Sum("count"), a=Sum("amount")).order_by()
    for row in rows:
        is_hours = row["fact"] == "staff_hours"
        yield (
            row[date_field],
            float(row["a"] or 0) if is_hours else 0.0,
            0 if is_hours else int(row["c"] or 0),
        )


def _authority_ids(authority: str) -> frozenset[int]:
    from lagebild.core.models import Authority

    if not authority:
        return frozenset()
    return frozenset(Authority.objects.filter(kind=authority).values_list("pk", flat=True)) or frozenset({-1})


def balance_series(balance: Balance) -> list[SeriesPoint]:
    """Staff hours and Platzverweise per day (periods up to 31 days) or per ISO week, cut at the
    period's edges (partial weeks from the daily table), so the points add up to the balance."""
    from .models import DailyCount, WeeklyCount
    from .selectors import split_into_weeks

    start, end = balance.period.start, balance.period.end
    ids = _authority_ids(balance.authority)
    daily = balance.period.days <= DAILY_SERIES_MAX_DAYS
    sums: dict[dt.date, list[float]] = {}

    def add(day: dt.date, hours: float, orders: int) -> None:
        bucket = day if daily else day - dt.timedelta(days=day.weekday())
        slot = sums.setdefault(bucket, [0.0, 0])
        slot[0] += hours
        slot[1] += orders

    if daily:
        for row in _series_sums(DailyCount, "day", balance.area_id, start, end, ids):
            add(*row)
    else:
        weeks, edges = split_into_weeks(start, end)
        if weeks:
            for row in _series_sums(WeeklyCount, "week", balance.area_id, weeks[0], weeks[1], ids):
                add(*row)
        for edge in edges:
            for row in _series_sums(DailyCount, "day", balance.area_id, edge.start, edge.end, ids):
                add(*row)
    points: list[SeriesPoint] = []
    bucket = start if daily else start - dt.timedelta(days=start.weekday())
    while bucket <= end:
        hours, orders = sums.get(bucket, (0.0, 0))
        if daily:
            points.append(SeriesPoint(f"{bucket:%d.%m.}", bucket, bucket, round(hours, 2), int(orders)))
            bucket += dt.timedelta(days=1)
        else:
            year, number, _ = bucket.isocalendar()
            first, last = max(bucket, start), min(bucket + dt.timedelta(days=6), end)
            points.append(SeriesPoint(f"KW {number}/{year}", first, last, round(hours, 2), int(orders)))
            bucket += dt.timedelta(days=7)
    return points


# --- prose ("Bilanz in Worten") ---------------------------------------------------------------


def approx_de(value: float, *, decimals: int = 1) -> str:
    """A figure as published balances word it: exact below 200 and for round numbers, otherwise
    two significant digits with "rund" (within 0.5 %), "fast" (rounded up) or "mehr als".

    985 → "fast 1.000" (within 2 % below a one-digit round number), 436 → "fast 440",
    9.458,7 → "rund 9.500", 8.912 → "rund 8.900", 3.038,6 → "mehr als 3.000", 50.000 → "50.000".
    """
    if value < APPROX_FROM:
        return doc.number_de(value, 0 if float(value).is_integer() else decimals)
    magnitude = 10 ** math.floor(math.log10(value))
    one_digit = math.floor(value / magnitude + 0.5) * magnitude
    if one_digit == value:
        return doc.number_de(value)
    if one_digit > value and (one_digit - value) / one_digit <= 0.02:
        return f"fast {doc.number_de(one_digit)}"
    step = magnitude / 10
    two_digits = math.floor(value / step + 0.5) * step
    if two_digits == value:
        return doc.number_de(value)
    if abs(value - two_digits) / value <= 0.005:
        return f"rund {doc.number_de(two_digits)}"
    if two_digits > value:
        return f"fast {doc.number_de(two_digits)}"
    return f"mehr als {doc.number_de(math.floor(value / step) * step)}"


def _count(value: float, singular: str, plural: str) -> str:
    """ "1 Waffe", "18 Waffen", "fast 1.000 Platzverweise"."""
    return f"{approx_de(value)} {singular if value == 1 else plural}"


def _euro(value: float) -> str:
    return f"{approx_de(value, decimals=2)} €"


def _join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " und " + parts[-1]


def _short_range(period: Period) -> str:
    if period.start.year == period.end.year:
        return f"vom {period.start:%d.%m.} bis {doc.date_de(period.end)}"
    return f"vom {doc.date_de(period.start)} bis {doc.date_de(period.end)}"


def period_phrase(period: Period) -> str:
    """ "In den acht Wochen vom 01.07. bis 25.08.2026", "Im Juli 2026", "Am 01.07.2026"."""
    start, end = period.start, period.end
    if period.days == 1:
        return f"Am {doc.date_de(start)}"
    next_day = end + dt.timedelta(days=1)
    if start.day == 1 and next_day.day == 1:
        if start.year == end.year and start.month == end.month:
            return f"Im {_MONTHS[start.month - 1]} {start.year}"
        if start.month == 1 and end.month == 12 and start.year == end.year:
            return f"Im Jahr {start.year}"
    if period.days % 7 == 0 and period.days // 7 in _NUMBER_WORDS:
        weeks = period.days // 7
        if weeks == 1:
            return f"In der Woche {_short_range(period)}"
        return f"In den {_NUMBER_WORDS[weeks]} Wochen {_short_range(period)}"
    return f"In den {period.days} Tagen {_short_range(period)}"


def _area_phrase(balance: Balance) -> str:
    if balance.area_kind == "city":
        return f"im {balance.area_name}"
    if balance.area_kind == "district":
        return f"im Stadtbezirk {balance.area_name}"
    return f"im Gebiet {balance.area_name}"


def _actors(authority: str) -> tuple[str, bool]:
    """(subject, whether the verb is plural)."""
    if authority == "city":
        return "das Ordnungsamt (KOD)", False
    if authority == "police":
        return "die Polizei", False
    return "Ordnungsamt und Polizei", True


def _change_phrase(line: BalanceLine, plural: str) -> str:
    change = line.change
    if change is None or (change.current == 0 and change.prior == 0):
        return ""
    if change.prior == 0:
        return f"{approx_de(change.current)} {plural} statt keinen"
    percent = change.percent or 0.0
    if abs(percent) < 0.5:
        text = f"etwa gleich viele {plural}"
    else:
        more = "mehr" if percent > 0 else "weniger"
        text = f"{doc.number_de(abs(percent))} % {more} {plural}"
    if change.flag and change.z is not None:
        strength = "stark auffällig" if abs(change.flag) == 3 else "auffällig"
        text += f" ({strength}, z = {doc.number_de(change.z, 1, sign=True)})"
    return text


def _effort_sentence(balance: Balance) -> str:
    value = balance.value
    subject, plural = _actors(balance.authority)
    where = f"{period_phrase(balance.period)} %s {subject} {_area_phrase(balance)}"
    hours, patrols, joint = value("staff_hours"), value("patrols"), value("patrols_joint")
    if hours <= 0:
        return (where % ("erfassten" if plural else "erfasste")) + " keine Personalstunden."
    text = (where % ("leisteten" if plural else "leistete")) + f" {approx_de(hours)} Personalstunden"
    if patrols:
        text += f" in {_count(patrols, 'Streife', 'Streifen')}"
        if joint:
            text += f", davon {_count(joint, 'gemeinsame Doppelstreife', 'gemeinsame Doppelstreifen')}"
    return text + "."


def _measures_sentence(balance: Balance) -> str:
    """ "Dabei sprachen die Einsatzkräfte … aus, … und stellten … sicher." """
    value = balance.value
    actions: list[tuple[str, str]] = []  # (verb, rest)
    orders = []
    if value("dispersal_order"):
        orders.append(_count(value("dispersal_order"), "Platzverweis", "Platzverweise"))
    if value("exclusion_order"):
        orders.append(_count(value("exclusion_order"), "Aufenthaltsverbot", "Aufenthaltsverbote"))
    if orders:
        actions.append(("sprachen", f"{_join(orders)} aus"))
    if value("caution_fee"):
        text = _count(value("caution_fee"), "Verwarnung", "Verwarnungen") + " mit Verwarnungsgeld"
        if value("caution_fee_total"):
            text += f" (zusammen {_euro(value('caution_fee_total'))})"
        actions.append(("erteilten", text))
    seized = []
    if value("seizure:weapon"):
        seized.append(_count(value("seizure:weapon"), "Waffe", "Waffen"))
    if value("cash_total"):
        seized.append(f"{_euro(value('cash_total'))} Bargeld")
    if value("seizure:drugs"):
        cases = value("seizure:drugs")
        seized.append(f"in {'einem Fall' if cases == 1 else approx_de(cases) + ' Fällen'} Betäubungsmittel")
    if value("seizure:other"):
        seized.append(_count(value("seizure:other"), "sonstigen Gegenstand", "sonstige Gegenstände"))
    if seized:
        actions.append(("stellten", f"{_join(seized)} sicher"))
    if value("custody"):
        actions.append(("nahmen", f"{_count(value('custody'), 'Person', 'Personen')} in Gewahrsam"))
    if not actions:
        return ""
    (first_verb, first_rest), *others = actions
    parts = [f"{first_verb} die Einsatzkräfte {first_rest}"] + [f"{verb} {rest}" for verb, rest in others]
    return f"Dabei {_join(parts)}."


def _complaints_sentence(balance: Balance, subject: str) -> str:
    """ "Sie erstatteten fast 1.000 Ordnungswidrigkeiten-Anzeigen – davon 400 wegen „…“ … – und …" """
    owi, crime = balance.value("offence_report"), balance.value("criminal_complaint")
    if not owi and not crime:
        return ""
    parts = []
    if owi:
        owi_text = _count(owi, "Ordnungswidrigkeiten-Anzeige", "Ordnungswidrigkeiten-Anzeigen")
        top = [
            line
            for line in balance.lines
            if line.key.startswith("offence_report:") and (line.current or 0) >= 0.1 * owi
        ][:3]
        if top and not (len(top) == 1 and top[0].current == owi):
            named = [
                f"{approx_de(line.current or 0)} wegen „{line.label.removeprefix('davon ')}“" for line in top
            ]
            owi_text += f" – davon {_join(named)}" + (" –" if crime else "")
        parts.append(owi_text)
    if crime:
        parts.append(_count(crime, "Strafanzeige", "Strafanzeigen"))
    text = f"{subject} erstatteten {_join(parts)}"
    if owi and crime:
        text += f", zusammen {approx_de(owi + crime)} Straf- und Ordnungswidrigkeiten-Anzeigen"
    return text + "."


def _reports_sentence(balance: Balance) -> str:
    value = balance.value
    received, closed, resolved = value("reports_received"), value("reports_closed"), value("reports_resolved")
    if not received and not closed:
        return ""
    where = {"city": "beim Ordnungsamt", "police": "bei der Polizei"}.get(
        balance.authority, "bei Ordnungsamt und Polizei"
    )
    if not received:
        text = f"Im selben Zeitraum {'wurde' if closed == 1 else 'wurden'} {where} "
        text += f"{_count(closed, 'Bürgerhinweis', 'Bürgerhinweise')} abgeschlossen"
    else:
        verb = "ging" if received == 1 else "gingen"
        text = f"Im selben Zeitraum {verb} {where} {_count(received, 'Bürgerhinweis', 'Bürgerhinweise')} ein"
        if closed:
            text += f"; {approx_de(closed)} {'wurde' if closed == 1 else 'wurden'} abgeschlossen"
    if closed and resolved:
        text += f", davon {approx_de(resolved)} als erledigt"
    return text + "."


def balance_prose(balance: Balance) -> str:
    """The "Bilanz in Worten": a German paragraph in the style of the published balances."""
    sentences = [_effort_sentence(balance)]
    measures = _measures_sentence(balance)
    sentences.append(measures)
    sentences.append(_complaints_sentence(balance, "Sie" if measures else "Die Einsatzkräfte"))
    contacts, referrals = balance.value("contact"), balance.value("referral")
    help_parts = []
    if contacts:
        help_parts.append(f"führten {_count(contacts, 'Gespräch', 'Gespräche')} mit Bürgerinnen und Bürgern")
    if referrals:
        help_parts.append(f"vermittelten {_count(referrals, 'Person', 'Personen')} an Hilfeangebote")
    if help_parts:
        sentences.append(f"Die Einsatzkräfte {_join(help_parts)}.")
    sentences.append(_reports_sentence(balance))
    rates = []
    for key, plural in (
        ("rate_dispersal_order", "Platzverweise"),
        ("rate_offence_report", "OWi-Anzeigen"),
        ("rate_measures", "Maßnahmen insgesamt"),
    ):
        rate = balance.line(key).current
        if rate:
            rates.append(f"{doc.number_de(rate, 1)} {plural}")
    if rates:
        sentences.append(f"Auf 100 Personalstunden kamen {_join(rates)}.")
    compared = [balance.line(key) for key in ("staff_hours", "dispersal_order", "offence_report")]
    if all(not line.previous for line in compared):
        sentences.append(
            f"Für den gleich langen Zeitraum davor ({balance.previous.dates_label}) liegen keine "
            "Personalstunden, Platzverweise oder OWi-Anzeigen vor."
        )
    else:
        changes = [
            _change_phrase(line, plural)
            for line, plural in zip(
                compared, ("Personalstunden", "Platzverweise", "OWi-Anzeigen"), strict=True
            )
        ]
        sentences.append(
            f"Gegenüber dem gleich langen Zeitraum davor ({balance.previous.dates_label}) waren es "
            f"{_join(changes)}."
        )
    return " ".join(s for s in sentences if s)


# --- known operations (presets) ---------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    code: str
    name: str
    area_id: int
    area_name: str
    start: dt.date
    end: dt.date
    authority: str
    description: str = ""

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def query(self) -> str:
        params = {"area": self.area_id, "start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.authority:
            params["authority"] = self.authority
        return urlencode(params)


def _yearly_period(spec: Mapping[str, object], year: int) -> Period:
    month, day = (int(p) for p in str(spec["start"]).split("-"))
    start = dt.date(year, month, day)
    return Period(start, start + dt.timedelta(days=int(spec["days"]) - 1))  # type: ignore[call-overload]


def resolve_operations(entries: Iterable[Mapping], last_data_day: dt.date) -> list[tuple[Mapping, Period]]:
    """Dates of the operations of the data file (pure).

    An entry has fixed ``start``/``end`` (ISO dates) or a ``yearly`` rule: ``start`` "MM-DD",
    ``days``, and either ``settle_days`` (the latest year whose occurrence ended at least that
    many days before the last day with data – the rule the demo generator plans its operation
    with) or ``year_of`` (the year of another entry, e.g. the police window of the same summer).
    """
    resolved: dict[str, Period] = {}
    result = []
    for entry in entries:
        if "yearly" in entry:
            spec = entry["yearly"]
            if "year_of" in spec:
                anchor = resolved.get(str(spec["year_of"]))
                if anchor is None:
                    continue
                period = _yearly_period(spec, anchor.start.year)
            else:
                settle = dt.timedelta(days=int(spec.get("settle_days", 0)))
                year = last_data_day.year
                period = _yearly_period(spec, year)
                while period.end + settle > last_data_day and year > FIRST_DAY.year:
                    year -= 1
                    period = _yearly_period(spec, year)
        else:
            period = Period(dt.date.fromisoformat(entry["start"]), dt.date.fromisoformat(entry["end"]))
        resolved[str(entry["code"])] = period
        result.append((entry, period))
    return result


def known_operations(
    path: Path = OPERATIONS_FILE, *, areas: Sequence[AreaChoice] | None = None
) -> list[Operation]:
    """Preset links of the balance page: the operations of ``analytics/data/operations.json``
    whose area exists here, with their dates resolved against the data at hand.
    ``areas`` are the caller's ``selectors.area_choices()`` (read here if not given)."""
    from django.db.models import Max
    from django.utils import timezone

    from lagebild.geo.models import Area

    from .models import CITY_AREA, DailyCount
    from .selectors import area_choices

    entries = json.loads(Path(path).read_text(encoding="utf-8")).get("operations", [])
    last_day = (
        DailyCount.objects.filter(area_id=CITY_AREA, fact="incident").aggregate(last=Max("day"))["last"]
        or timezone.localdate()
    )
    names = {choice.id: choice.name for choice in (area_choices() if areas is None else areas)}
    codes = dict(Area.objects.filter(code__in=[e.get("area", "") for e in entries]).values_list("code", "pk"))
    operations = []
    for entry, period in resolve_operations(entries, last_day):
        area_id = CITY_AREA if entry.get("area") == "city" else codes.get(entry.get("area"))
        if area_id is None or area_id not in names:
            continue
        operations.append(
            Operation(
                code=entry["code"],
                name=entry["name"],
                area_id=area_id,
                area_name=names[area_id],
                start=period.start,
                end=period.end,
                authority=entry.get("authority") or "",
                description=entry.get("description", ""),
            )
        )
    return operations


# --- documents ----------------------------------------------------------------------------------


def _table_rows(balance: Balance) -> tuple[list[list[str]], list[int], dict[tuple[int, int], str]]:
    rows: list[list[str]] = []
    section_rows: list[int] = []
    highlight: dict[tuple[int, int], str] = {}
    for section, lines in balance.sections:
        section_rows.append(len(rows))
        rows.append([section, "", "", "", "", ""])
        for line in lines:
            label = f"\u00a0\u00a0\u00a0{line.label}" if line.sub else line.label
            if line.flag:
                highlight[(len(rows), 5)] = "#fde68a" if abs(line.flag) == 2 else "#fca5a5"
            rows.append(
                [
                    label,
                    line.current_text,
                    line.previous_text,
                    line.delta_text,
                    line.percent_text,
                    line.z_text,
                ]
            )
    return rows, section_rows, highlight


def _legend_to_the_left(drawing: Drawing) -> None:
    """The shared bar chart anchors its legend at the right edge, where two long series names run
    off the page; this chart has no title line, so the legend starts at the left instead."""
    for item in drawing.contents:
        if isinstance(item, Legend):
            item.x = 40
            item.deltax = 150


def balance_pdf(balance: Balance, series: Sequence[SeriesPoint]) -> bytes:
    """The council report (Bericht für Rat und Ausschuss): A4 portrait."""
    figures = balance.key_figures
    story: list = [doc.heading("Kennzahlen")]
    for chunk in (figures[:5], figures[5:]):
        if chunk:
            story.append(
                doc.table(
                    [label for label, _line in chunk],
                    [[line.current_text for _label, line in chunk]],
                    col_widths_mm=[36] * len(chunk),
                    right_from=0,
                )
            )
            story.append(doc.spacer(2))
    story += [
        doc.heading("Bilanz in Worten"),
        doc.paragraph(balance.prose),
        doc.spacer(3),
        doc.table(["So sind die Zahlen zu lesen"], [[READING_NOTE]], col_widths_mm=[180], right_from=1),
        doc.heading(f"Vergleich mit dem Vorzeitraum ({balance.previous.dates_label})"),
    ]
    rows, section_rows, highlight = _table_rows(balance)
    story.append(
        doc.table(
            ["Kennzahl", "Zeitraum", "Vorzeitraum", "Veränderung", "in %", "z"],
            rows,
            col_widths_mm=[74, 24, 24, 24, 18, 16],
            highlight=highlight,
            bold_rows=section_rows,
        )
    )
    story.append(doc.paragraph(COUNTING_NOTE, small=True))
    labels = [label for _key, label in CHART_LINES]
    bars = doc.bar_chart(
        labels,
        {
            f"Zeitraum {balance.period.dates_label}": [balance.value(k) for k, _ in CHART_LINES],
            f"Vorzeitraum {balance.previous.dates_label}": [
                balance.line(k).previous or 0 for k, _ in CHART_LINES
            ],
        },
    )
    _legend_to_the_left(bars)
    story.append(doc.keep(doc.heading("Maßnahmen im Vergleich mit dem Vorzeitraum"), bars))
    unit = "Tag" if balance.period.days <= DAILY_SERIES_MAX_DAYS else "Woche"
    point_labels = [p.label for p in series]
    story.append(
        doc.keep(
            doc.heading(f"Verlauf je {unit}"),
            doc.line_chart(
                point_labels,
                {"Personalstunden": [p.staff_hours for p in series]},
                title=f"Personalstunden je {unit}",
            ),
            doc.line_chart(
                point_labels,
                {"Platzverweise": [p.dispersal_orders for p in series]},
                title=f"Platzverweise je {unit}",
            ),
        )
    )
    if len(series) <= 60:
        story.append(
            doc.table(
                [unit, "Von", "Bis", "Personalstunden", "Platzverweise"],
                [
                    [p.label, doc.date_de(p.start), doc.date_de(p.end), doc.number_de(p.staff_hours, 1),
                     doc.number_de(p.dispersal_orders)]
                    for p in series
                ],
                col_widths_mm=[30, 26, 26, 34, 30],
                right_from=3,
            )
        )  # fmt: skip
    else:
        story.append(
            doc.paragraph("Die Werte je Woche stehen im Tabellenblatt „Verlauf“ der XLSX-Datei.", small=True)
        )
    return doc.pdf_document(
        f"{balance.title} – Bericht für Rat und Ausschuss", balance.subtitle, story, stand=balance.stand
    )


def balance_xlsx(balance: Balance, series: Sequence[SeriesPoint]) -> bytes:
    """Two sheets: "Bilanz" (every line with the comparison) and "Verlauf" (per day or week)."""
    title_lines = [
        balance.title,
        f"Gebiet: {balance.area_name}",
        f"Zeitraum: {doc.date_de(balance.period.start)} bis {doc.date_de(balance.period.end)} "
        f"({balance.period.days} Tage)",
        f"Vorzeitraum: {doc.date_de(balance.previous.start)} bis {doc.date_de(balance.previous.end)}",
        f"Behörde: {balance.authority_label}",
        balance.stand,
        READING_NOTE,
    ]
    rows = []
    for line in balance.lines:
        change = line.change
        rows.append(
            [
                line.section,
                line.label,
                line.unit,
                line.current,
                line.previous,
                None if change is None else round(change.delta, 6),
                None if change is None or change.percent is None else round(change.percent, 2),
                None if change is None or change.z is None else round(change.z, 3),
            ]
        )
    bilanz = doc.Sheet(
        name="Bilanz",
        header=[
            "Bereich",
            "Kennzahl",
            "Einheit",
            "Zeitraum",
            "Vorzeitraum",
            "Veränderung",
            "Veränderung in %",
            "z",
        ],
        rows=rows,
        title_lines=title_lines,
        number_formats={6: "0.0", 7: "0.00"},
        column_widths={0: 22, 1: 44, 2: 12},
    )
    unit = "Tag" if balance.period.days <= DAILY_SERIES_MAX_DAYS else "Woche"
    verlauf = doc.Sheet(
        name="Verlauf",
        header=[unit, "Von", "Bis", "Personalstunden", "Platzverweise"],
        rows=[[p.label, p.start, p.end, p.staff_hours, p.dispersal_orders] for p in series],
        title_lines=title_lines[:6],
        column_widths={0: 14},
    )
    return doc.xlsx_workbook([bilanz, verlauf])
