"""Demo offence proceedings (Bußgeldverfahren, issue 15): a year of cases from the field's OWi-Anzeigen.

Every OWi-Anzeige (measure ``offence_report``) of a category that opens proceedings becomes a case,
as the field hook ``case_open_from_offence_report`` would have opened it when it was recorded; the
special operations' published reports therefore reappear as cases. Each case then runs the way a
Bußgeldstelle works it: person identified (synthetic names, no real people), hearing (§ 55 OWiG),
notice (fine within the rule's maximum, § 107 costs), service, objection for some (withdrawn,
transferred to the prosecutor, remedied, rejected as late), finality, payment (most paid, some in
instalments, reminded or enforced), some discontinued (§ 47 OWiG, person unknown, under 14), a few
lapsed. Every date comes from the pure engine (``limitation.py``) and the case row, its deadlines
and the explicit finality and lapse events are produced by the services' own code
(``services._project``, ``services.deadlines_for``, the ``daily_run`` rules), applied to plain
objects in memory and written in bulk (``demo.bulk``), so loading stays fast and the data is what
the services would have written step by step. Deterministic for a seed.

``simulate_case`` is shared with ``bench/proceedings.py`` (100,000 open cases).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.utils import timezone

from lagebild.catalog.models import Category, CategoryRule
from lagebild.core.audit import actor_name
from lagebild.core.models import Authority, Role, User
from lagebild.core.scoping import unscoped
from lagebild.field.models import Measure, MeasureType
from lagebild.proceedings import limitation as engine
from lagebild.proceedings import services
from lagebild.proceedings.models import (
    Case,
    CaseDeadline,
    CaseEvent,
    CaseState,
    DeadlineKind,
    EventKind,
    Notice,
    Payment,
    ProceedingsPerson,
)
from lagebild.proceedings.workflow import PRE_FINAL, TRANSITIONS

from . import bulk
from .names import FIRST_NAMES, LAST_NAMES

S, K = CaseState, EventKind
UNOPPOSED = "Kein Einspruch innerhalb von zwei Wochen nach Zustellung (§ 67 Abs. 1 OWiG)."  # as daily_run
MIN_PERIOD = dt.timedelta(days=179)  # the shortest limitation period, six months, is never shorter

# City categories whose OWi-Anzeige opens a case by itself (the city's choice, Category.opens_proceedings):
# every city-enforced order offence of the Dortmund catalogue. Not: police matters, "neglected
# property" (no offence rule), "other".
OPENS_PROCEEDINGS = (
    "aggressive-begging",
    "dog-off-leash",
    "drug-consumption-public",
    "youth-protection",
    "antisocial-behaviour",
    "street-prostitution",
    "waste-dumping",
    "littering",
    "graffiti",
    "illegal-posters",
    "illegal-trade",
    "camping",
    "public-urination",
    "alcohol-playground",
    "pigeon-feeding",
    "street-furniture-misuse",
    "noise",
    "blind-guidance-obstruction",
)

# Usual fines per category (low, high) in euro, always clipped to the rule's maximum (§ 17 OWiG).
FINES: dict[str, tuple[int, int]] = {
    "aggressive-begging": (40, 100),
    "dog-off-leash": (35, 150),
    "drug-consumption-public": (100, 300),
    "youth-protection": (150, 1000),
    "antisocial-behaviour": (40, 120),
    "street-prostitution": (100, 300),
    "waste-dumping": (150, 1500),
    "littering": (35, 100),
    "graffiti": (150, 500),
    "illegal-posters": (50, 200),
    "illegal-trade": (100, 500),
    "camping": (35, 100),
    "public-urination": (50, 100),
    "alcohol-playground": (50, 150),
    "pigeon-feeding": (35, 100),
    "street-furniture-misuse": (35, 100),
    "noise": (50, 250),
    "blind-guidance-obstruction": (35, 100),
}
DEFAULT_FINE = (40, 150)

PLACES_OF_BIRTH = (
    "Dortmund", "Dortmund", "Dortmund", "Bochum", "Essen", "Gelsenkirchen", "Hagen", "Unna", "Lünen",
    "Castrop-Rauxel", "Herne", "Münster", "Köln", "Hamm", "Schwerte", "Istanbul", "Krakau", "Thessaloniki",
)  # fmt: skip
STREETS = (
    "Lindenstraße", "Kirchweg", "Am Bahnhof", "Gartenstraße", "Schulstraße", "Bergstraße", "Ringstraße",
    "Feldweg", "Mühlenweg", "Am Markt", "Birkenallee", "Ahornweg", "Zechenstraße", "Hüttenweg",
    "Kanalstraße", "Bergmannsweg", "Wiesenstraße", "Parkstraße", "Rosenweg", "Waldstraße",
)  # fmt: skip
POSTCODES = (
    "44135",
    "44137",
    "44139",
    "44141",
    "44143",
    "44145",
    "44147",
    "44149",
    "44225",
    "44287",
    "44339",
)
OCCUPATIONS = (
    "", "", "Angestellte/r", "Arbeiter/in", "Schüler/in", "Student/in", "arbeitsuchend", "Rentner/in",
    "Selbständig", "Auszubildende/r", "Handwerker/in", "Verkäufer/in",
)  # fmt: skip
NATIONALITIES = ("deutsch",) * 8 + ("türkisch", "polnisch", "rumänisch", "syrisch", "griechisch", "")


@dataclass(frozen=True)
class Profile:
    """How a Bußgeldstelle's cases tend to go (shares are probabilities)."""

    identified_with_pseudonym: float = 0.92  # identity taken on the spot (field person on the report)
    identified_without: float = 0.75  # identity established later (Melderegister, witnesses)
    under_14: float = 0.012  # of identified persons without a known age group
    juvenile: float = 0.05
    unknown_left_to_lapse: float = 0.06  # unidentified and nobody closes the file: it lapses
    statement: float = 0.3
    discontinue_after_hearing: float = 0.09  # § 47 OWiG
    objection: float = 0.10
    late_service: float = 0.03  # served more than two weeks after issue
    paid: float = 0.84  # pays in full within the period
    instalments: float = 0.05
    paid_after_reminder: float = 0.6
    stall: float = 0.0  # the file waits: work stops at a random step (backlog, bench)


@dataclass
class PlannedEvent:
    kind: str
    on: dt.date
    state_before: str
    state_after: str
    reason: str
    data: dict[str, Any]
    by_clerk: bool
    recorded_at: dt.datetime


@dataclass
class PlannedNotice:
    fine: Decimal
    fees: engine.Fees
    drafted_on: dt.date
    issued_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    evidence: str = "Feststellung des Kommunalen Ordnungsdienstes (Einsatzbericht), Zeugnis der Einsatzkräfte"


@dataclass
class CasePlan:
    offence_at: dt.datetime
    offence_date: dt.date
    opened_at: dt.datetime
    max_fine: Decimal
    case: SimpleNamespace  # the projection, as services._project leaves the case row
    events: list[PlannedEvent] = field(default_factory=list)
    notices: list[PlannedNotice] = field(default_factory=list)
    payments: list[tuple[Decimal, dt.date]] = field(default_factory=list)
    age: int | None = None  # at the time of the act, if a person was identified or refused
    person_assigned: bool = False
    deadlines: list[tuple[str, dt.date]] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.case.state


def _local_day(instant: dt.datetime) -> dt.date:
    """``timezone.localdate`` in the default time zone (cached; the demo activates no other)."""
    return instant.astimezone(timezone.get_default_timezone()).date()


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


def _office_time(day: dt.date, rnd: random.Random, tz: Any) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8 + rnd.randrange(8), rnd.randrange(60)), tzinfo=tz)


class _Run:
    """One case worked through from its opening up to ``today`` (the services' rules, in memory)."""

    def __init__(self, plan: CasePlan, today: dt.date, rnd: random.Random, tz: Any) -> None:
        self.plan, self.today, self.rnd, self.tz = plan, today, rnd, tz
        self.stopped = False
        self._deadline: dt.date | None = None
        self._known: dt.date | None = None

    @property
    def case(self) -> SimpleNamespace:
        return self.plan.case

    def limitation_deadline(self) -> dt.date:
        if self._deadline is None:
            self._deadline = services.limitation_state(self.case, self.plan.events).deadline  # type: ignore[arg-type]
        return self._deadline

    def lapsed_before(self, on: dt.date) -> dt.date | None:
        """The limitation deadline if ``on`` lies after it, else ``None``.

        Adding events never moves the deadline earlier (interruptions only restart it), so a deadline
        computed before is a lower bound; and no period is shorter than six months (≥ 179 days).
        Computed exactly only when ``on`` passes both bounds.
        """
        if on <= self.plan.offence_date + MIN_PERIOD or (self._known is not None and on <= self._known):
            return None
        self._deadline = None
        self._known = self.limitation_deadline()
        return self._known if on > self._known else None

    def _append(
        self, kind: str, on: dt.date, *, clerk: bool, reason: str = "", data: dict | None = None
    ) -> None:
        """``services._append_event`` without the database: state before/after, then ``_project``."""
        before = self.case.state
        transition = TRANSITIONS.get(kind)
        after = (transition.to if transition and transition.to else None) or before
        recorded = (
            _office_time(on, self.rnd, self.tz)
            if clerk
            else dt.datetime.combine(on, dt.time(2, 30), tzinfo=self.tz)
        )
        if self.plan.events and recorded <= self.plan.events[-1].recorded_at:
            recorded = self.plan.events[-1].recorded_at + dt.timedelta(minutes=1)
        event = PlannedEvent(kind, on, before, after, reason, data or {}, clerk, recorded)
        self.plan.events.append(event)
        services._project(self.case, event)  # type: ignore[arg-type]
        if kind in (K.HEARING_SENT, K.NOTICE_ISSUED, K.NOTICE_SERVED, K.REMEDY):
            self._deadline = None

    def _lapse(self, due: dt.date) -> None:
        self._append(
            K.LAPSED,
            due + dt.timedelta(days=1),
            clerk=False,
            reason=f"{DeadlineKind.PROSECUTION_LIMITATION.label}: Frist endete am {due:%d.%m.%Y} "
            "(§ 31 OWiG).",
            data={"deadline_kind": DeadlineKind.PROSECUTION_LIMITATION.value, "deadline": due.isoformat()},
        )
        self.stopped = True

    def step(
        self, kind: str, on: dt.date, *, clerk: bool = True, reason: str = "", data: dict | None = None
    ) -> bool:
        """Add a step on ``on`` if the day has come and the case has not lapsed first (daily run)."""
        if self.stopped:
            return False
        if self.case.state in PRE_FINAL:
            due = self.lapsed_before(on)
            if due is not None:
                if due + dt.timedelta(days=1) <= self.today:
                    self._lapse(due)
                self.stopped = True
                return False
        if on > self.today:
            self.stopped = True
            return False
        self._append(kind, on, clerk=clerk, reason=reason, data=data)
        return True

    def finish(self) -> None:
        """What the daily run of ``today`` leaves behind: finality recorded, lapse recorded."""
        if self.case.state == S.SERVED and self.case.served_on:
            final_on = engine.final_without_objection(self.case.served_on)
            if final_on <= self.today:
                self.stopped = False
                self.step(
                    K.BECAME_FINAL,
                    final_on,
                    clerk=False,
                    reason=UNOPPOSED,
                )
        if self.case.state in PRE_FINAL:
            due = self.limitation_deadline()
            if due < self.today:
                self._lapse(due)


def _working_day_after(day: dt.date, low: int, high: int, rnd: random.Random) -> dt.date:
    return engine.next_working_day(day + dt.timedelta(days=rnd.randint(low, high)))


def _fine(code: str, max_fine: Decimal, rnd: random.Random) -> Decimal:
    low, high = FINES.get(code, DEFAULT_FINE)
    value = Decimal(rnd.randint(low, high) // 5 * 5)
    return max(Decimal("5"), min(value, max_fine)).quantize(Decimal("0.01"))


def new_case(offence_at: dt.datetime, opened_at: dt.datetime, max_fine: Decimal) -> CasePlan:
    offence_date = _local_day(offence_at)
    projection = SimpleNamespace(
        offence_date=offence_date,
        max_fine=max_fine,
        state=S.REPORTED,
        first_hearing_on=None,
        notice_issued_on=None,
        served_on=None,
        objection_on=None,
        final_on=None,
        payment_due_on=None,
        fine=None,
        total_due=None,
        paid_total=Decimal("0"),
        closed_on=None,
        discontinued_reason="",
        lapsed_on=None,
        save=_noop,
    )
    return CasePlan(offence_at, offence_date, opened_at, max_fine, projection)


def simulate_case(
    plan: CasePlan,
    *,
    category_code: str,
    age: int | None,
    identified: bool,
    today: dt.date,
    rnd: random.Random,
    profile: Profile | None = None,
) -> CasePlan:
    """Work one opened case up to ``today``; ``age`` at the act (``None``: no person identified)."""
    profile = profile or Profile()
    tz = timezone.get_default_timezone()
    run = _Run(plan, today, rnd, tz)
    opened_on = _local_day(plan.opened_at)
    run._append(K.OPENED, opened_on, clerk=False)
    plan.events[0].state_before = ""
    plan.events[0].recorded_at = plan.opened_at
    stall_at = rnd.randrange(1, 8) if rnd.random() < profile.stall else 99
    steps = 0

    def go(kind: str, on: dt.date, **kwargs: Any) -> bool:
        nonlocal steps
        steps += 1
        if steps >= stall_at:
            run.stopped = True
        return run.step(kind, on, **kwargs)

    try:
        if not identified:
            if rnd.random() >= profile.unknown_left_to_lapse:
                go(
                    K.DISCONTINUED,
                    _working_day_after(opened_on, 21, 100, rnd),
                    reason="Halteranfrage und Melderegister ohne Ergebnis.",
                    data={"reason_code": "person_unknown"},
                )
            return plan
        plan.age = age
        if age is not None and age < 14:
            # § 12 Abs. 1 OWiG: no proceedings against a child; the person is not recorded.
            go(
                K.DISCONTINUED,
                _working_day_after(opened_on, 2, 15, rnd),
                reason=f"Die Person war zur Tatzeit {age} Jahre alt; Mitteilung an das Jugendamt.",
                data={"reason_code": "under_14"},
            )
            return plan
        day = _working_day_after(opened_on, 1, 12, rnd)
        if not go(K.PERSON_IDENTIFIED, day, data={"juvenile": bool(age is not None and age < 18)}):
            return plan
        plan.person_assigned = True
        day = _working_day_after(day, 1, 10, rnd)
        if not go(K.HEARING_SENT, day):
            return plan
        if rnd.random() < profile.statement:
            run.step(
                K.STATEMENT_RECEIVED,
                day + dt.timedelta(days=rnd.randint(5, 20)),
                reason=rnd.choice(("Äußerung zur Sache", "Tat eingeräumt", "Bestreitet den Vorwurf")),
            )
            if run.stopped:
                return plan
        if rnd.random() < profile.discontinue_after_hearing:
            go(
                K.DISCONTINUED,
                _working_day_after(day, 21, 45, rnd),
                reason="Geringe Bedeutung, Ahndung nicht geboten (§ 47 Abs. 1 OWiG).",
                data={"reason_code": "opportunity"},
            )
            return plan
        _notice_to_payment(run, go, category_code, day, rnd, profile)
        return plan
    finally:
        run.stopped = False
        run.finish()
        plan.deadlines = services.deadlines_for(plan.case, plan.events)  # type: ignore[arg-type]


def _notice_to_payment(
    run: _Run, go: Callable[..., bool], code: str, hearing: dt.date, rnd: random.Random, profile: Profile
) -> None:
    plan = run.plan
    drafted = _working_day_after(hearing, 21, 45, rnd)
    fine = _fine(code, plan.max_fine, rnd)
    fees = engine.fees(fine, engine.FORMAL_SERVICE_EUR)
    notice = PlannedNotice(fine=fine, fees=fees, drafted_on=drafted)
    money = {"notice": len(plan.notices), "fine": str(fine), "total": str(fees.total)}
    if not go(K.NOTICE_DRAFTED, drafted, data=dict(money)):
        return
    plan.notices.append(notice)
    issued = _working_day_after(drafted, 0, 3, rnd)
    if not go(K.NOTICE_ISSUED, issued, data=dict(money)):
        return
    notice.issued_on = issued
    late = rnd.random() < profile.late_service
    served = issued + dt.timedelta(days=rnd.randint(15, 20) if late else rnd.randint(2, 6))
    if not go(K.NOTICE_SERVED, served):
        return
    deadline = engine.objection_deadline(served)
    if rnd.random() < profile.objection:
        outcome = rnd.random()
        if outcome < 0.12:  # late: rejected as inadmissible (§ 69 Abs. 1 OWiG)
            # The daily run has recorded finality the day after the deadline, before it arrives.
            if not go(K.BECAME_FINAL, engine.final_without_objection(served), clerk=False, reason=UNOPPOSED):
                return
            on = deadline + dt.timedelta(days=rnd.randint(1, 10))
            if not go(K.OBJECTION_RECEIVED, on, data={"in_time": False}):
                return
            if not go(
                K.OBJECTION_REJECTED,
                _working_day_after(on, 3, 14, rnd),
                reason=f"Einspruch nach Ablauf der Frist am {deadline:%d.%m.%Y} eingegangen (verspätet).",
            ):
                return
        else:
            on = served + dt.timedelta(days=rnd.randint(3, (deadline - served).days))
            if not go(K.OBJECTION_RECEIVED, on, data={"in_time": True}):
                return
            if outcome < 0.45:
                if not go(
                    K.OBJECTION_WITHDRAWN,
                    _working_day_after(on, 10, 40, rnd),
                    reason="Einspruch nach Akteneinsicht zurückgenommen.",
                ):
                    return
            elif outcome < 0.85:
                go(
                    K.TRANSFERRED,
                    _working_day_after(on, 14, 35, rnd),
                    reason="Bescheid aufrechterhalten; Akten an die Staatsanwaltschaft (§ 69 Abs. 3 OWiG).",
                )
                return
            else:
                remedy = _working_day_after(on, 10, 30, rnd)
                if not go(K.REMEDY, remedy, reason="Einspruch begründet: Tatzeit im Bescheid unzutreffend."):
                    return
                notice.withdrawn_on = remedy
                go(
                    K.DISCONTINUED,
                    _working_day_after(remedy, 5, 20, rnd),
                    reason="Nach Abhilfe: Ahndung nicht mehr geboten (§ 47 Abs. 1 OWiG).",
                    data={"reason_code": "opportunity"},
                )
                return
    else:
        if not go(
            K.BECAME_FINAL,
            engine.final_without_objection(served),
            clerk=False,
            reason=UNOPPOSED,
        ):
            return
    _payments(run, go, rnd, profile)


def _pay(run: _Run, amount: Decimal, on: dt.date) -> bool:
    if on > run.today or run.stopped:
        run.stopped = True
        return False
    run._append(K.PAYMENT, on, clerk=True, data={"amount": str(amount)})
    run.plan.payments.append((amount, on))
    return True


def _payments(run: _Run, go: Callable[..., bool], rnd: random.Random, profile: Profile) -> None:
    case = run.case
    final_on, due, total = case.final_on, case.payment_due_on, case.total_due
    draw = rnd.random()
    if draw < profile.paid:
        _pay(run, total, final_on + dt.timedelta(days=rnd.randint(0, (due - final_on).days + 4)))
        return
    if draw < profile.paid + profile.instalments:
        granted = _working_day_after(final_on, 2, 10, rnd)
        rate = (total / 4).quantize(Decimal("0.01"))
        until = engine.add_months(granted, 4)
        if not go(
            K.INSTALMENTS_GRANTED,
            granted,
            reason="Ratenzahlung beantragt, Einkommen nachgewiesen (§ 93 OWiG).",
            data={"until": until.isoformat(), "rate": str(rate)},
        ):
            return
        for month in range(4):
            amount = rate if month < 3 else total - 3 * rate
            if not _pay(run, amount, engine.add_months(granted, month + 1)):
                return
        return
    reminder = _working_day_after(due, 7, 14, rnd)
    if not go(K.REMINDER_SENT, reminder):
        return
    if rnd.random() < profile.paid_after_reminder:
        _pay(run, total, reminder + dt.timedelta(days=rnd.randint(3, 20)))
        return
    start = engine.enforcement_allowed_from(due) + dt.timedelta(days=rnd.randint(0, 20))
    go(K.ENFORCEMENT_STARTED, max(start, reminder), reason="Keine Zahlung trotz Mahnung.")


# --- persons ---------------------------------------------------------------------------------------


def birth_date(age: int, offence_date: dt.date, rnd: random.Random) -> dt.date:
    """A birthday so that the person is exactly ``age`` on ``offence_date``."""
    latest = (
        offence_date.replace(year=offence_date.year - age)
        if not (offence_date.month == 2 and offence_date.day == 29)
        else dt.date(offence_date.year - age, 2, 28)
    )
    return latest - dt.timedelta(days=rnd.randrange(360))


def draw_age(age_group: str, rnd: random.Random, profile: Profile) -> int:
    if age_group == "u14":
        return rnd.randint(11, 13)
    if age_group == "14-17":
        return rnd.randint(14, 17)
    if age_group == "18-20":
        return rnd.randint(18, 20)
    if age_group == "21+":
        return min(21 + int(rnd.expovariate(1 / 14)), 82)
    draw = rnd.random()
    if draw < profile.under_14:
        return rnd.randint(12, 13)
    if draw < profile.under_14 + profile.juvenile:
        return rnd.randint(14, 17)
    return min(18 + int(rnd.expovariate(1 / 16)), 82)


def person_row(age: int, offence_date: dt.date, rnd: random.Random) -> dict[str, Any]:
    family = rnd.choice(LAST_NAMES)
    adult = age >= 18
    return {
        "family_name": family,
        "given_names": rnd.choice(FIRST_NAMES),
        "birth_name": rnd.choice(LAST_NAMES) if adult and rnd.random() < 0.15 else "",
        "date_of_birth": birth_date(age, offence_date, rnd),
        "place_of_birth": rnd.choice(PLACES_OF_BIRTH),
        "marital_status": rnd.choice(("single", "single", "married", "divorced", "")) if adult else "single",
        "occupation": rnd.choice(OCCUPATIONS) if adult else "Schüler/in",
        "street": f"{rnd.choice(STREETS)} {rnd.randint(1, 120)}",
        "postcode": rnd.choice(POSTCODES),
        "city": "Dortmund" if rnd.random() < 0.85 else rnd.choice(("Bochum", "Lünen", "Unna", "Herne")),
        "nationality": rnd.choice(NATIONALITIES),
        "phone": "",
        "email": "",
    }


# --- writing ---------------------------------------------------------------------------------------


@dataclass
class CaseSource:
    """What a case is opened from (an OWi-Anzeige in the demo, a synthetic act in the bench)."""

    authority_id: int
    category: Any  # Category (code, name) or a namespace with code, name, pk
    rule: Any  # CategoryRule (pk, max_fine, legal_basis)
    offence_at: dt.datetime
    opened_at: dt.datetime
    incident_id: int | None = None
    measure_id: int | None = None
    place: str = ""
    description: str = ""
    field_person_id: int | None = None
    person_key: Any = None  # same key, same person
    plan: CasePlan | None = None
    person: dict[str, Any] | None = None


@dataclass
class WriteResult:
    cases: int = 0
    open: int = 0
    events: int = 0
    notices: int = 0
    payments: int = 0
    deadlines: int = 0
    persons: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


def write_cases(
    sources: list[CaseSource],
    *,
    clerks: dict[int, Any],
    authority_names: dict[int, str],
) -> WriteResult:
    """Insert persons, cases, events, notices, payments and deadlines of simulated cases in bulk.

    ``clerks``: per authority the user the clerk's events are booked to (``None``: no account).
    File numbers run per authority and year of opening, in order of opening (``services`` numbering).
    """
    result = WriteResult()
    stamp = bulk.datetime_adapter()
    day = _date_adapter()
    tz = timezone.get_default_timezone()
    rnd = random.Random(len(sources))
    leads = services.warn_days()
    now = timezone.now()
    sources = sorted(sources, key=lambda s: (s.opened_at, s.measure_id or 0))

    # Persons: one per key (the same field pseudonym is the same person).
    person_ids: dict[Any, int] = {}
    wanted = [s for s in sources if s.plan is not None and s.plan.person_assigned and s.person is not None]
    keys = list(dict.fromkeys(s.person_key for s in wanted))
    for key, pk in zip(keys, bulk.reserve_ids(ProceedingsPerson, len(keys)), strict=True):
        person_ids[key] = pk
    person_rows, seen = [], set()
    for s in wanted:
        if s.person_key in seen:
            continue
        seen.add(s.person_key)
        p = s.person
        assert p is not None
        person_rows.append((
            person_ids[s.person_key], s.authority_id, p["family_name"], p["given_names"], p["birth_name"],
            day(p["date_of_birth"]), p["place_of_birth"], p["marital_status"], p["occupation"], p["street"],
            p["postcode"], p["city"], p["nationality"], p["phone"], p["email"], s.field_person_id, stamp(now),
        ))  # fmt: skip
    result.persons = bulk.insert(
        ProceedingsPerson,
        ["id", "authority", "family_name", "given_names", "birth_name", "date_of_birth", "place_of_birth",
         "marital_status", "occupation", "street", "postcode", "city", "nationality", "phone", "email",
         "field_person", "created_at"],
        person_rows,
    )  # fmt: skip

    case_ids = bulk.reserve_ids(Case, len(sources))
    notice_total = sum(len(s.plan.notices) for s in sources if s.plan)
    notice_ids = iter(bulk.reserve_ids(Notice, notice_total))
    numbers: dict[tuple[int, int], int] = {}
    prefix_start: dict[tuple[int, int], int] = {}
    case_rows, event_rows, notice_rows, payment_rows, deadline_rows = [], [], [], [], []
    for case_id, s in zip(case_ids, sources, strict=True):
        plan = s.plan
        assert plan is not None
        c = plan.case
        year = _local_day(s.opened_at).year
        key = (s.authority_id, year)
        if key not in prefix_start:
            prefix_start[key] = _last_number(s.authority_id, year)
        numbers[key] = numbers.get(key, prefix_start[key]) + 1
        file_number = f"OWi {year}/{numbers[key]:06d}"
        clerk = clerks.get(s.authority_id)
        clerk_id = clerk.pk if clerk is not None else None
        clerk_name = actor_name(clerk) if clerk is not None else "Bußgeldstelle"
        person_id = person_ids.get(s.person_key) if plan.person_assigned else None
        juvenile = bool(plan.person_assigned and plan.age is not None and plan.age < 18)
        limitation = next(
            (due for kind, due in plan.deadlines if kind == DeadlineKind.PROSECUTION_LIMITATION), None
        )
        # Notices: ids, contents as services.notice_contents prints them.
        ids = [next(notice_ids) for _ in plan.notices]
        if plan.notices:
            contents_case = SimpleNamespace(
                person=SimpleNamespace(**s.person) if s.person else None,
                category_rule=s.rule,
                authority=SimpleNamespace(name=authority_names[s.authority_id]),
                file_number=file_number,
                offence_at=s.offence_at,
                offence_place=s.place[:200],
                offence_description=s.description,
                category=s.category.name,
                juvenile=juvenile,
            )
            for pk, n in zip(ids, plan.notices, strict=True):
                contents = services.notice_contents(contents_case, n.fine, n.fees, n.evidence)  # type: ignore[arg-type]
                issued = n.issued_on
                notice_rows.append((
                    pk, case_id, s.authority_id, n.fine, n.fees.fee, n.fees.expenses, n.fees.total,
                    json.dumps(contents), stamp(_office_time(n.drafted_on, rnd, tz)), clerk_name,
                    stamp(_office_time(issued, rnd, tz)) if issued else None,
                    clerk_name if issued else "", day(issued), day(n.withdrawn_on),
                ))  # fmt: skip
        for e in plan.events:
            data = dict(e.data)
            if "notice" in data:
                data = {"notice_id": ids[data.pop("notice")], **data}
            if e.kind == K.PERSON_IDENTIFIED:
                data = {"person_id": person_id, **data}
            event_rows.append((
                case_id, s.authority_id, e.kind, day(e.on), stamp(e.recorded_at),
                clerk_id if e.by_clerk else None, clerk_name if e.by_clerk else "System",
                e.state_before, e.state_after, e.reason, json.dumps(data),
            ))  # fmt: skip
        reference = f"{file_number} Geldbuße"
        for amount, on in plan.payments:
            payment_rows.append((
                case_id, s.authority_id, amount, day(on), reference, stamp(_office_time(on, rnd, tz)),
                clerk_name,
            ))  # fmt: skip
        for kind, due in plan.deadlines:
            deadline_rows.append(
                (
                    case_id,
                    s.authority_id,
                    str(kind),
                    day(due),
                    day(due - dt.timedelta(days=leads.get(kind, 0))),
                )
            )
        case_rows.append((
            case_id, s.authority_id, file_number, s.category.pk, s.rule.pk, s.incident_id, s.measure_id,
            person_id, stamp(s.offence_at), day(plan.offence_date), s.place[:200], s.description,
            plan.max_fine, juvenile,
            c.state, stamp(s.opened_at), day(c.first_hearing_on), day(c.notice_issued_on), day(c.served_on),
            day(c.objection_on), day(c.final_on), day(c.payment_due_on), c.fine, c.total_due, c.paid_total,
            day(c.closed_on), c.discontinued_reason, day(c.lapsed_on), day(limitation), stamp(now),
        ))  # fmt: skip
        result.by_state[c.state] = result.by_state.get(c.state, 0) + 1
    result.cases = bulk.insert(
        Case,
        ["id", "authority", "file_number", "category", "category_rule", "incident", "offence_report",
         "person", "offence_at", "offence_date", "offence_place", "offence_description", "max_fine",
         "juvenile", "state",
         "opened_at", "first_hearing_on", "notice_issued_on", "served_on", "objection_on", "final_on",
         "payment_due_on", "fine", "total_due", "paid_total", "closed_on", "discontinued_reason", "lapsed_on",
         "limitation_deadline", "updated_at"],
        case_rows,
    )  # fmt: skip
    result.events = bulk.insert(
        CaseEvent,
        ["case", "authority", "kind", "on", "recorded_at", "user", "user_name", "state_before", "state_after",
         "reason", "data"],
        event_rows,
    )  # fmt: skip
    result.notices = bulk.insert(
        Notice,
        ["id", "case", "authority", "fine", "fee", "expenses", "total", "contents", "drafted_at",
         "drafted_by_name", "approved_at", "approved_by_name", "issued_on", "withdrawn_on"],
        notice_rows,
    )  # fmt: skip
    result.payments = bulk.insert(
        Payment,
        ["case", "authority", "amount", "paid_on", "reference", "recorded_at", "recorded_by_name"],
        payment_rows,
    )
    result.deadlines = bulk.insert(
        CaseDeadline, ["case", "authority", "kind", "due", "warn_from"], deadline_rows
    )
    result.open = sum(n for state, n in result.by_state.items() if state not in services.CLOSED_STATES)
    return result


def _date_adapter() -> Callable[[dt.date | None], Any]:
    if bulk.is_postgresql():
        return lambda value: value
    return lambda value: None if value is None else value.isoformat()


def _last_number(authority_id: int, year: int) -> int:
    prefix = f"OWi {year}/"
    last = (
        Case.objects.filter(authority_id=authority_id, file_number__startswith=prefix)
        .order_by("-file_number")
        .values_list("file_number", flat=True)
        .first()
    )
    return int(last.removeprefix(prefix)) if last else 0


# --- the demo ----------------------------------------------------------------------------------------


@dataclass
class ProceedingsResult:
    written: WriteResult = field(default_factory=WriteResult)
    skipped: bool = False
    seconds: float = 0.0

    def line(self) -> str:
        if self.skipped:
            return "Bußgeldverfahren: bereits vorhanden – nichts hinzugefügt."
        w = self.written
        lapsed = w.by_state.get(S.LAPSED, 0)
        paid = w.by_state.get(S.PAID, 0)
        return (
            f"Bußgeldverfahren aus OWi-Anzeigen: {w.cases} Verfahren ({w.open} offen, {paid} bezahlt, "
            f"{lapsed} verjährt), {w.notices} Bescheide, {w.payments} Zahlungen, {w.persons} Betroffene "
            f"(erfunden) in {self.seconds:.1f} s."
        )


def first_day(config: Any) -> dt.date:
    """A year before the demo's end, earlier if a special operation starts before (its reports count)."""
    start = config.end_date - dt.timedelta(days=365)
    for period in (config.operation, config.police_window, config.november_operation):
        if config.first_day <= period.start < start:
            start = period.start
    return max(start, config.first_day)


def _clerks(authority_ids: Iterable[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for user in User.objects.filter(
        authority_id__in=list(authority_ids), role=Role.PROCEEDINGS, is_active=True
    ).order_by("id"):
        found.setdefault(user.authority_id, user)
    return found


def generate(
    *,
    end_date: dt.date,
    first_day: dt.date,
    seed: int = 2023,
    authority_codes: Iterable[str] | None = None,
    profile: Profile | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> ProceedingsResult:
    """Cases for the OWi-Anzeigen recorded from ``first_day`` up to the day before ``end_date``.

    Worked up to the day before ``end_date`` (the demo's last day), so the daily run of that day finds
    nothing left to record. Skipped if the authorities have cases already.
    """
    started = time.perf_counter()
    profile = profile or Profile()
    result = ProceedingsResult()
    today = end_date - dt.timedelta(days=1)
    tz = timezone.get_default_timezone()
    with unscoped(), transaction.atomic():
        authorities = Authority.objects.all()
        if authority_codes is not None:
            authorities = authorities.filter(code__in=list(authority_codes))
        names = dict(authorities.values_list("pk", "name"))
        if Case.objects.filter(authority_id__in=list(names)).exists():
            result.skipped = True
            return result
        Category.objects.filter(code__in=OPENS_PROCEEDINGS).update(opens_proceedings=True)
        categories = {c.pk: c for c in Category.objects.filter(opens_proceedings=True)}
        rules: dict[int, list[CategoryRule]] = {}
        for rule in CategoryRule.objects.filter(category_id__in=list(categories)).order_by("valid_from"):
            rules.setdefault(rule.category_id, []).append(rule)
        start = dt.datetime.combine(first_day, dt.time(0), tzinfo=tz)
        end = dt.datetime.combine(end_date, dt.time(0), tzinfo=tz)
        reports = (
            Measure.objects.filter(
                type=MeasureType.OFFENCE_REPORT,
                taken_at__gte=start,
                taken_at__lt=end,
                authority_id__in=list(names),
                incident__category_id__in=list(categories),
            )
            .exclude(
                incident__measures__type=MeasureType.CAUTION_FEE,
                incident__measures__caution_record__isnull=False,
            )
            .order_by("taken_at", "id")
            .values_list(
                "id",
                "authority_id",
                "taken_at",
                "incident_id",
                "incident__category_id",
                "incident__address_text",
                "incident__description",
                "person_id",
                "person__age_group",
            )
        )
        rnd = random.Random(seed * 1_000_003 + 15)
        sources: list[CaseSource] = []
        known: dict[Any, dict[str, Any]] = {}
        for (
            mid,
            authority_id,
            taken_at,
            incident_id,
            category_id,
            place,
            description,
            fp_id,
            age_group,
        ) in reports:
            category = categories[category_id]
            day = _local_day(taken_at)
            rule = next(
                (
                    r
                    for r in rules.get(category_id, ())
                    if r.valid_from <= day and (r.valid_to is None or r.valid_to >= day)
                ),
                None,
            )
            if rule is None or not rule.is_offence or rule.max_fine is None:
                continue  # case_open would refuse: the report stays a field record
            identified = rnd.random() < (
                profile.identified_with_pseudonym if fp_id else profile.identified_without
            )
            age = None
            person = None
            key: Any = ("m", mid)
            if identified:
                key = ("p", fp_id) if fp_id else key
                person = known.get(key)
                if person is None:
                    person = person_row(draw_age(age_group or "", rnd, profile), day, rnd)
                    if fp_id:
                        known[key] = person
                age = services.age_on(person["date_of_birth"], day)
            opened_at = taken_at + dt.timedelta(minutes=rnd.randint(5, 90))
            plan = new_case(taken_at, opened_at, rule.max_fine)
            simulate_case(
                plan,
                category_code=category.code,
                age=age,
                identified=identified,
                today=today,
                rnd=rnd,
                profile=profile,
            )
            sources.append(
                CaseSource(
                    authority_id=authority_id, category=category, rule=rule, offence_at=taken_at,
                    opened_at=opened_at, incident_id=incident_id, measure_id=mid, place=place or "",
                    description=description or "", field_person_id=fp_id if plan.person_assigned else None,
                    person_key=key, plan=plan, person=person,
                )
            )  # fmt: skip
        log(f"Bußgeldverfahren: {len(sources)} Fälle geplant ({time.perf_counter() - started:.1f} s)")
        result.written = write_cases(sources, clerks=_clerks(names), authority_names=names)
    result.seconds = time.perf_counter() - started
    return result
