"""Limitation and deadline engine for offence proceedings (Verjährung und Fristen im Bußgeldverfahren).

Pure code on purpose: no Django, no database, no clock. Every function takes calendar dates
(``datetime.date``) and returns new values, so models, workflow and the daily worklist can be built on
top and the rules can be tested with dated scenarios. Sources are cited per rule; the research file
is ``/work/shared/research/legal_domain.md`` (sections 0, 1.5–1.10, 7; status tags [V]/[S]/[M] from
there). Every rule that turns into an automatic decision must be signed off by the Rechtsamt before
go-live (research file, preamble).

Date arithmetic (Fristberechnung)
---------------------------------
* Procedural periods in months and years (not limitation, see below) end with the expiry of the day
  of the last month that corresponds by its number to the start event's day; if that day does not
  exist in the last month (31st, 29 February), the period ends on the last day of that month
  (§ 43 Abs. 1 StPO via § 46 Abs. 1 OWiG; §§ 187 Abs. 1, 188 Abs. 2, 3 BGB analog): ``add_months``.
* Periods in weeks end on the weekday that corresponds to the start day (§ 43 Abs. 1 StPO).
* Deadlines a person must meet (Einspruch, Zahlung) that end on a Saturday, Sunday or public holiday
  end on the next working day (§ 43 Abs. 2 StPO via § 46 Abs. 1 OWiG; research § 1.6 [M]).
* Limitation periods (Verjährungsfristen) are NOT moved: § 43 Abs. 2 StPO concerns procedural
  deadlines for acts of the parties; limitation is a procedural bar that runs by calendar alone
  (OLG Koblenz, 8.2.2023, 4 ORbs 31 SsBs 1/23: §§ 42, 43 StPO do not apply; Göhler, OWiG, § 31
  Rn. 16; the research file's § 1.8 pseudo-code gives only "date + period"). A limitation period
  ending on a Sunday ends on that Sunday.

Limitation periods count the day of the act (or of the interruption, or of finality) as their first
day and end with the expiry of the day BEFORE the one that corresponds by its number; if the last
month has no such day, on its last day (§ 188 Abs. 2 Alt. 2, Abs. 3 BGB analog; settled case law:
OLG Karlsruhe, 28.6.2019, 2 Rb 8 Ss 486/19 – notice of 22.11.2017, six months, end of 21.5.2018;
OLG Koblenz, 8.2.2023, 4 ORbs 31 SsBs 1/23; OLG Jena, 29.2.2012, 1 Ss Bs 17/12; Göhler, OWiG,
§ 31 Rn. 16; KK-OWiG/Ellbogen § 31 Rn. 35: act on 30.11., three months, end of 28.2., in leap years
29.2.). So an act on 10 January with six months lapses at the end of 9 July (``limitation_end``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

TWO_WEEKS = timedelta(weeks=2)

# ---------------------------------------------------------------------------------------------------
# Calendar: NRW public holidays and working days (Feiertage, Werktage)
# ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def nrw_holidays(year: int) -> dict[date, str]:
    """Public holidays of North Rhine-Westphalia in ``year`` (gesetzliche Feiertage NRW).

    § 2 Abs. 1 Feiertagsgesetz NW [M]: the nationwide holidays plus Fronleichnam and Allerheiligen.
    Movable feasts follow Easter Sunday (``dateutil.easter``, Gregorian computus). 24 and 31 December
    are working days. 2017 had the one-off Reformationstag (31 October) in all Länder.
    """
    easter_sunday = easter(year)
    days = {
        date(year, 1, 1): "Neujahr",
        easter_sunday - timedelta(days=2): "Karfreitag",
        easter_sunday + timedelta(days=1): "Ostermontag",
        date(year, 5, 1): "Tag der Arbeit",
        easter_sunday + timedelta(days=39): "Christi Himmelfahrt",
        easter_sunday + timedelta(days=50): "Pfingstmontag",
        easter_sunday + timedelta(days=60): "Fronleichnam",
        date(year, 10, 3): "Tag der Deutschen Einheit",
        date(year, 11, 1): "Allerheiligen",
        date(year, 12, 25): "1. Weihnachtstag",
        date(year, 12, 26): "2. Weihnachtstag",
    }
    if year == 2017:
        days[date(2017, 10, 31)] = "Reformationstag (500. Jahrestag)"
    return days


def is_working_day(d: date) -> bool:
    """Monday to Friday and not an NRW public holiday (§ 43 Abs. 2 StPO: Sonnabend, Sonntag, Feiertag)."""
    return d.weekday() < 5 and d not in nrw_holidays(d.year)


def next_working_day(d: date) -> date:
    """``d`` itself if it is a working day, else the first working day after it (§ 43 Abs. 2 StPO)."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def add_months(d: date, months: int) -> date:
    """``d`` plus whole months; a missing day number ends on the month's last day (§ 43 Abs. 1 StPO)."""
    return d + relativedelta(months=months)


def limitation_end(start: date, months: int) -> date:
    """Last day of a limitation period of ``months`` that starts on ``start`` (that day counted).

    The day before the one corresponding by number in the month ``months`` later; where the month
    has no such day, its last day (see the module docstring: OLG Karlsruhe 2 Rb 8 Ss 486/19 and others).
    """
    first_of_last_month = date(start.year, start.month, 1) + relativedelta(months=months)
    if start.day == 1:
        return first_of_last_month - timedelta(days=1)
    last_day = (first_of_last_month + relativedelta(months=1) - timedelta(days=1)).day
    return first_of_last_month.replace(day=min(start.day - 1, last_day))


# ---------------------------------------------------------------------------------------------------
# Prosecution limitation (Verfolgungsverjährung, §§ 31–33 OWiG)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """A limitation period in whole months (Verjährungsfrist)."""

    months: int

    def end_from(self, start: date) -> date:
        """Last day of the period when it starts on ``start`` (``limitation_end``)."""
        return limitation_end(start, self.months)

    @property
    def label(self) -> str:
        if self.months % 12 == 0:
            years = self.months // 12
            return "1 Jahr" if years == 1 else f"{years} Jahre"
        return f"{self.months} Monate"


def _money(amount: Decimal | int) -> Decimal:
    # Floats would bring binary rounding into legal thresholds (1 000 € vs 1 000,0000001 €).
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError("Geldbeträge als Decimal oder int angeben, nicht als float.")
    value = Decimal(amount)
    if not value.is_finite() or value <= 0:
        raise ValueError("Geldbetrag muss positiv sein.")
    return value


def limitation_period(max_fine_eur: Decimal | int) -> Period:
    """Period from the statutory maximum fine of the offence (§ 31 Abs. 2 OWiG [V]).

    Nr. 1: more than 15 000 € → 3 years; Nr. 2: more than 2 500 € up to 15 000 € → 2 years;
    Nr. 3: more than 1 000 € up to 2 500 € → 1 year; Nr. 4: otherwise → 6 months.
    The caller passes the maximum that applies to the act: for negligence the halved maximum of
    § 17 Abs. 2 OWiG (prevailing view, research § 1.8 [M]); where no statute sets a maximum, § 17
    Abs. 1 gives 1 000 €.
    """
    fine = _money(max_fine_eur)
    if fine > 15_000:
        return Period(36)
    if fine > 2_500:
        return Period(24)
    if fine > 1_000:
        return Period(12)
    return Period(6)


def absolute_limit(offence_date: date, period: Period) -> date:
    """Absolute limit: twice the period, at least two years, from the § 31 Abs. 3 start (§ 33 Abs. 3 S. 2).

    Ruhen (§ 32 OWiG) would extend it (§ 33 Abs. 3 S. 3); not modelled yet, see ``prosecution_limitation``.
    """
    return limitation_end(offence_date, max(2 * period.months, 24))


class InterruptionKind(enum.Enum):
    """The closed list of § 33 Abs. 1 S. 1 OWiG (Unterbrechungstatbestände); value = number.

    Nr. 1–9 [V], Nr. 10 partly [V], Nr. 11–15 [M] per research § 1.8. Nothing else interrupts
    limitation; a reminder or a second hearing letter does not.
    """

    FIRST_HEARING = 1  # erste Vernehmung, Bekanntgabe der Einleitung oder deren Anordnung
    JUDICIAL_EXAMINATION = 2  # richterliche Vernehmung des Betroffenen oder eines Zeugen / Anordnung
    EXPERT_COMMISSIONED = 3  # Beauftragung eines Sachverständigen (nur nach einem Nr.-1-Ereignis)
    SEIZURE_OR_SEARCH = 4  # Beschlagnahme-/Durchsuchungsanordnung und bestätigende Entscheidungen
    PROVISIONAL_DISCONTINUATION = 5  # vorläufige Einstellung wegen Abwesenheit, Aufenthaltsermittlung
    REQUEST_ABROAD = 6  # Ersuchen um Untersuchungshandlung im Ausland
    HEARING_OF_AUTHORITY = 7  # gesetzlich vorgeschriebene Anhörung einer anderen Behörde
    HANDOVER_BY_PROSECUTOR = 8  # Abgabe der Sache durch die Staatsanwaltschaft (§ 43 OWiG)
    NOTICE = 9  # Erlass des Bußgeldbescheides (binnen zwei Wochen zugestellt), sonst Zustellung
    FILES_AT_COURT = 10  # Eingang der Akten beim Amtsgericht (§ 69 Abs. 3, 5) / Zurückverweisung
    MAIN_HEARING_SET = 11  # Anberaumung der Hauptverhandlung [M]
    NOTICE_UNDER_72 = 12  # Hinweis auf Entscheidung im Beschlussverfahren (§ 72) [M]
    PUBLIC_CHARGE = 13  # Erhebung der öffentlichen Klage [M]
    MAIN_PROCEEDINGS_OPENED = 14  # Eröffnung des Hauptverfahrens [M]
    PENAL_ORDER = 15  # Strafbefehl oder gleichstehende Entscheidung [M]

    @property
    def paragraph(self) -> str:
        return f"§ 33 Abs. 1 S. 1 Nr. {self.value} OWiG"


@dataclass(frozen=True, slots=True)
class Interruption:
    """One event that may interrupt limitation (Unterbrechungshandlung).

    ``date``: for written orders the day of signature (§ 33 Abs. 2 OWiG [V]); for a notice the issue
    date (Erlass). ``served_on``: service date (Zustellung), only for ``NOTICE``.
    """

    kind: InterruptionKind
    date: date
    served_on: date | None = None

    def __post_init__(self) -> None:
        if self.served_on is not None:
            if self.kind is not InterruptionKind.NOTICE:
                raise ValueError("Ein Zustelldatum gibt es nur beim Bußgeldbescheid (§ 33 Abs. 1 Nr. 9).")
            if self.served_on < self.date:
                raise ValueError("Zustellung vor Erlass des Bußgeldbescheides ist unmöglich.")


@dataclass(frozen=True, slots=True)
class AppliedInterruption:
    """An interruption that restarted the period, with the day it took effect."""

    interruption: Interruption
    effective_on: date
    new_deadline: date
    paragraph: str


@dataclass(frozen=True, slots=True)
class IgnoredInterruption:
    """An event that did not interrupt, with the reason (shown in the case file)."""

    interruption: Interruption
    reason: str


@dataclass(frozen=True, slots=True)
class LimitationState:
    """Result of ``prosecution_limitation`` (Stand der Verfolgungsverjährung).

    ``deadline`` is the last day on which an interrupting act or the final decision is still in time;
    the case is time-barred (verjährt) from ``lapses_on``.
    """

    offence_date: date
    period: Period
    running_deadline: date  # letzter Tag der Frist ab der letzten Unterbrechung (oder dem Tattag)
    absolute_limit: date  # § 33 Abs. 3 S. 2 OWiG
    applied: tuple[AppliedInterruption, ...] = ()
    ignored: tuple[IgnoredInterruption, ...] = ()
    pending: tuple[Interruption, ...] = field(default=())  # Bescheid erlassen, Zustellung offen

    @property
    def deadline(self) -> date:
        return min(self.running_deadline, self.absolute_limit)

    @property
    def absolute_limit_wins(self) -> bool:
        return self.absolute_limit <= self.running_deadline

    @property
    def lapses_on(self) -> date:
        return self.deadline + timedelta(days=1)

    def is_lapsed(self, on: date) -> bool:
        return on > self.deadline


def _effective_date(event: Interruption) -> date | None:
    """Day an event takes effect; ``None`` while a notice is issued but not yet served."""
    if event.kind is not InterruptionKind.NOTICE:
        return event.date
    if event.served_on is None:
        return None
    # § 33 Abs. 1 Nr. 9 [V]: issue date if served within two weeks of issue, else the service date
    # (research § 1.8: "zugestellt_am - erlass_am <= 14 days"). Calendar weeks, no § 43 Abs. 2 shift:
    # this is a condition on the authority's own act, not a deadline for the person.
    return event.date if event.served_on - event.date <= TWO_WEEKS else event.served_on


def prosecution_limitation(
    offence_date: date,
    max_fine_eur: Decimal | int,
    interruptions: Iterable[Interruption] = (),
) -> LimitationState:
    """Prosecution limitation of one act for one person (Verfolgungsverjährung, §§ 31–33 OWiG).

    * Start: the day the act is completed (§ 31 Abs. 3 OWiG); pass that day as ``offence_date``.
    * Period from the statutory maximum fine (§ 31 Abs. 2, see ``limitation_period``).
    * Each interruption restarts the full period from its day (§ 33 Abs. 3 S. 1) – but only if it
      happens on or before the current deadline: a lapsed case cannot be revived.
    * Nr. 1 interrupts only once: the alternatives (hearing, notice of the investigation, their order)
      are not cumulative, a second hearing does not interrupt again (research § 1.3, § 0 [V]/[S]).
    * Nr. 3 (expert) counts only after a Nr. 1 event (§ 33 Abs. 1 Nr. 3: "wenn vorher der Betroffene
      vernommen oder ihm die Einleitung … bekanntgegeben worden ist").
    * Nr. 9 (notice): the issue date if served within two weeks, else the service date; while a notice
      is not yet served it is reported in ``pending`` and does not count (the conservative reading).
    * Absolute limit (§ 33 Abs. 3 S. 2): twice the period, at least two years from the start; the
      result is the earlier of the running deadline and the absolute limit.

    Not modelled (caller's or a later session's job): Ruhen (§ 32) which extends both dates; the
    per-person effect (§ 33 Abs. 4: pass only the events against this person, never "gegen Unbekannt");
    validity of the acts themselves (e.g. a notice without identifiable person, § 66, or service to
    counsel without power of attorney on file, § 51 Abs. 3, does not interrupt – research § 1.4, 1.5).
    """
    period = limitation_period(max_fine_eur)
    absolute = absolute_limit(offence_date, period)
    running = period.end_from(offence_date)
    applied: list[AppliedInterruption] = []
    ignored: list[IgnoredInterruption] = []
    pending: list[Interruption] = []
    dated: list[tuple[date, Interruption]] = []
    for event in interruptions:
        if event.date < offence_date:
            raise ValueError(f"Unterbrechung am {event.date} liegt vor dem Tattag {offence_date}.")
        effective = _effective_date(event)
        if effective is None:
            pending.append(event)
        else:
            dated.append((effective, event))
    # Stable sort by effective day, so equal days keep the caller's order.
    dated.sort(key=lambda pair: pair[0])

    first_hearing_seen = False
    for effective, event in dated:
        kind = event.kind
        if effective > running or effective > absolute:
            ignored.append(IgnoredInterruption(event, f"nach Eintritt der Verjährung ({kind.paragraph})"))
            continue
        if kind is InterruptionKind.FIRST_HEARING:
            if first_hearing_seen:
                ignored.append(
                    IgnoredInterruption(event, "Nr. 1 unterbricht nur einmal (§ 33 Abs. 1 S. 1 Nr. 1 OWiG)")
                )
                continue
            first_hearing_seen = True
        elif kind is InterruptionKind.EXPERT_COMMISSIONED and not first_hearing_seen:
            ignored.append(
                IgnoredInterruption(event, "Sachverständiger vor Anhörung (§ 33 Abs. 1 S. 1 Nr. 3 OWiG)")
            )
            continue
        running = max(running, period.end_from(effective))
        applied.append(AppliedInterruption(event, effective, running, kind.paragraph))

    return LimitationState(
        offence_date=offence_date,
        period=period,
        running_deadline=running,
        absolute_limit=absolute,
        applied=tuple(applied),
        ignored=tuple(ignored),
        pending=tuple(pending),
    )


# ---------------------------------------------------------------------------------------------------
# Enforcement limitation (Vollstreckungsverjährung, § 34 OWiG)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suspension:
    """A span (both days included) in which enforcement limitation rests (Ruhen, § 34 Abs. 4 OWiG)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("Ende des Ruhens liegt vor dem Beginn.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def enforcement_limitation(
    final_date: date, fine_eur: Decimal | int, suspensions: Sequence[Suspension] = ()
) -> date:
    """Last day on which the fine may be enforced (Vollstreckungsverjährung, § 34 OWiG [V]).

    § 34 Abs. 2: 5 years for fines over 1 000 €, 3 years up to 1 000 €; Abs. 3: starts with finality
    (Rechtskraft, ``final_date``). Abs. 4: rests while enforcement is legally impossible, suspended, or a
    Zahlungserleichterung (instalments, § 93) is granted; those days are added at the end. Overlapping
    suspensions are counted once.
    """
    years = 5 if _money(fine_eur) > 1_000 else 3
    end = limitation_end(final_date, 12 * years)
    rest_days: set[date] = set()
    for span in suspensions:
        rest_days.update(span.start + timedelta(days=i) for i in range(span.days))
    return end + timedelta(days=len(rest_days))


# ---------------------------------------------------------------------------------------------------
# Deadlines for the person (Einspruch, Zahlung) and enforcement wait
# ---------------------------------------------------------------------------------------------------


def objection_deadline(service_date: date) -> date:
    """Last day for an objection (Einspruchsfrist): two weeks after service (§ 67 Abs. 1 OWiG [V]).

    Week period ends on the same weekday (§ 43 Abs. 1 StPO), moved to the next working day if it is a
    Saturday, Sunday or NRW holiday (§ 43 Abs. 2 StPO via § 46 Abs. 1 OWiG).
    """
    return next_working_day(service_date + TWO_WEEKS)


def final_without_objection(service_date: date) -> date:
    """Day the notice is final if no objection is lodged (§ 66 Abs. 2 Nr. 1a, § 89 OWiG [M]).

    Finality occurs with the expiry of the objection deadline, so the first final day is the day after.
    Late objections can still be rejected (§ 69 Abs. 1) or Wiedereinsetzung granted (§ 52); the
    workflow, not this function, decides that.
    """
    return objection_deadline(service_date) + timedelta(days=1)


def payment_deadline(final_date: date) -> date:
    """Last day for payment: two weeks after finality (§ 66 Abs. 2 Nr. 2 OWiG [V]), § 43 StPO applied.

    A later due date granted under § 18 / § 93 OWiG replaces this; the caller passes that instead to
    ``enforcement_allowed_from``.
    """
    return next_working_day(final_date + TWO_WEEKS)


def enforcement_allowed_from(due_date: date) -> date:
    """First day on which the fine may be collected by force (Beitreibung, § 95 Abs. 1 OWiG [V]).

    Not before two weeks after the fine is due have passed; the two weeks protect the person like a
    payment deadline, so their end is moved off weekends and holidays (§ 43 Abs. 2 StPO). The exception
    for a risk of evasion (§ 95 Abs. 1 Hs. 2) is a decision for the case handler, not this function.
    """
    return next_working_day(due_date + TWO_WEEKS) + timedelta(days=1)


# ---------------------------------------------------------------------------------------------------
# Fees and expenses (Gebühren und Auslagen, § 107 OWiG)
# ---------------------------------------------------------------------------------------------------

FEE_RATE = Decimal("0.05")
FEE_MIN_EUR = Decimal("25.00")
FEE_MAX_EUR = Decimal("7500.00")
FORMAL_SERVICE_EUR = Decimal("3.50")  # § 107 Abs. 3 Nr. 2 OWiG, per formal service [V, jusline 2024]
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Fees:
    """Costs of a notice (Kosten des Bußgeldbescheides): fee plus expenses, in euro."""

    fine: Decimal
    fee: Decimal  # Gebühr
    expenses: Decimal  # Auslagen (Zustellkosten)

    @property
    def costs(self) -> Decimal:
        return self.fee + self.expenses

    @property
    def total(self) -> Decimal:
        return self.fine + self.costs


def fees(fine_eur: Decimal | int, service_costs_eur: Decimal | int = Decimal("0")) -> Fees:
    """Fee and expenses for a notice (§ 107 OWiG [V]).

    § 107 Abs. 1 S. 3: 5 % of the fine, at least 25 €, at most 7 500 €; rounded half up to the cent
    [M: rounding rule not in the research]. § 107 Abs. 3 Nr. 2: expenses for formal service (3,50 € per
    service, ``FORMAL_SERVICE_EUR``). Example: 70 € fine → 25 € + 3,50 € = 28,50 € (research § 1.10).
    """
    fine = _money(fine_eur)
    if isinstance(service_costs_eur, bool) or not isinstance(service_costs_eur, Decimal | int):
        raise TypeError("Auslagen als Decimal oder int angeben.")
    expenses = Decimal(service_costs_eur)
    if expenses < 0:
        raise ValueError("Auslagen dürfen nicht negativ sein.")
    fee = (fine * FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    fee = min(max(fee, FEE_MIN_EUR), FEE_MAX_EUR)
    return Fees(fine=fine, fee=fee, expenses=expenses.quantize(CENT, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------------
# Worklist helper (Fristenliste)
# ---------------------------------------------------------------------------------------------------


class DeadlineKind(enum.Enum):
    PROSECUTION_LIMITATION = "Verfolgungsverjährung"
    ABSOLUTE_LIMITATION = "absolute Verjährung"
    OBJECTION = "Einspruchsfrist"
    PAYMENT = "Zahlungsfrist"
    ENFORCEMENT_ALLOWED = "Beitreibung zulässig ab"
    ENFORCEMENT_LIMITATION = "Vollstreckungsverjährung"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A dated deadline of a case; ``due`` is the last day that is still in time."""

    kind: DeadlineKind
    due: date


@dataclass(frozen=True, slots=True)
class DeadlineWarning:
    deadline: Deadline
    days_left: int  # 0 = today is the last day; negative = overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def limitation_deadlines(state: LimitationState) -> list[Deadline]:
    """The deadlines of a limitation state for the worklist (effective deadline, absolute limit)."""
    return [
        Deadline(DeadlineKind.PROSECUTION_LIMITATION, state.deadline),
        Deadline(DeadlineKind.ABSOLUTE_LIMITATION, state.absolute_limit),
    ]


def deadline_warnings(deadlines: Iterable[Deadline], today: date, warn_days: int) -> list[DeadlineWarning]:
    """Deadlines due within ``warn_days`` days from ``today`` or already overdue, earliest first.

    ``today`` is passed in (never read from the clock) so the daily worklist is reproducible. Overdue
    entries stay on the list: a case must never lapse silently (issue 15, item 4); the workflow records
    the lapse explicitly.
    """
    if warn_days < 0:
        raise ValueError("warn_days darf nicht negativ sein.")
    horizon = today + timedelta(days=warn_days)
    warnings = [DeadlineWarning(item, (item.due - today).days) for item in deadlines if item.due <= horizon]
    warnings.sort(key=lambda w: (w.deadline.due, w.deadline.kind.value))
    return warnings
