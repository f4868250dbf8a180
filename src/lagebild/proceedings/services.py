"""Writes for offence proceedings: open a case, take a step, draft and approve a notice, book a
payment, give a caution, and the daily run that records finality and lapse explicitly.

Every write checks role, state and dates before anything is stored, then writes the event, the
case's projection and its deadlines in one transaction, and appends to the audit log. Refusals raise
``ValidationError`` with German messages keyed by field (forms show them at the field, the API as a
structured 400) or ``PermissionDenied``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from lagebild.catalog.models import Category, CategoryRule
from lagebild.catalog.selectors import rule_for
from lagebild.core import audit
from lagebild.core.audit import actor_name
from lagebild.field.models import Incident, Measure, MeasureType

from . import limitation as engine
from . import rules
from .models import (
    CLOSED_STATES,
    Case,
    CaseDeadline,
    CaseEvent,
    CaseState,
    Caution,
    DeadlineKind,
    EventKind,
    Notice,
    Payment,
    ProceedingsPerson,
)
from .workflow import TRANSITIONS, DiscontinuationReason, step_refusal

MIN_FINE = Decimal("5")  # § 17 Abs. 1 OWiG
CENT = Decimal("0.01")

# Days before a deadline from which the worklist shows it; a city may change them
# (LAGEBILD_PROCEEDINGS_WARN_DAYS = {"payment": 7, ...}).
DEFAULT_WARN_DAYS: dict[str, int] = {
    DeadlineKind.PROSECUTION_LIMITATION: 30,
    DeadlineKind.ABSOLUTE_LIMITATION: 60,
    DeadlineKind.SERVICE: 7,
    DeadlineKind.OBJECTION: 3,
    DeadlineKind.PAYMENT: 3,
    DeadlineKind.ENFORCEMENT_ALLOWED: 0,
    DeadlineKind.ENFORCEMENT_LIMITATION: 90,
}


def warn_days() -> dict[str, int]:
    configured = getattr(settings, "LAGEBILD_PROCEEDINGS_WARN_DAYS", {}) or {}
    return {**DEFAULT_WARN_DAYS, **{str(k): int(v) for k, v in configured.items()}}


def four_eyes() -> bool:
    """Whether a notice must be approved by someone other than its drafter (the city's choice)."""
    return bool(getattr(settings, "LAGEBILD_PROCEEDINGS_FOUR_EYES", False))


def _local_day(instant: dt.datetime) -> dt.date:
    return timezone.localdate(instant)


def _require(user: Any, predicate: Any, message: str) -> None:
    if not predicate(user):
        raise PermissionDenied(message)


NOT_PROCEEDINGS = "Bußgeldverfahren bearbeitet nur die Bußgeldstelle der eigenen Behörde."


# --- age rules (§ 12 OWiG) -----------------------------------------------------------------------


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_person_for_act(person: ProceedingsPerson, offence_date: dt.date) -> bool:
    """Refuse a person under 14 at the time of the act (§ 12 Abs. 1 S. 1 OWiG); return "juvenile"."""
    if person.date_of_birth > offence_date:
        raise ValidationError({"date_of_birth": "Das Geburtsdatum liegt nach der Tatzeit."})
    age = age_on(person.date_of_birth, offence_date)
    if age < 14:
        raise ValidationError(
            {
                "date_of_birth": (
                    f"Die Person war zur Tatzeit {age} Jahre alt: unter 14 Jahren handelt nicht "
                    "vorwerfbar (§ 12 Abs. 1 OWiG), ein Bußgeldverfahren ist ausgeschlossen."
                )
            }
        )
    return age < 18


# --- persons ---------------------------------------------------------------------------------------


def person_create(*, user: Any, data: dict[str, Any]) -> ProceedingsPerson:
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    person = ProceedingsPerson(authority_id=user.authority_id, **data)
    person.full_clean(exclude=["authority", "field_person"])
    missing = [name for name in ProceedingsPerson.MANDATORY_FIELDS if not getattr(person, name)]
    if missing:
        raise ValidationError({name: "Pflichtangabe nach § 111 OWiG." for name in missing})
    person.save()
    audit.log("proceedings.person.created", user=user, obj=person)
    return person


# --- cases -----------------------------------------------------------------------------------------


def rule_on(category: Category, day: dt.date) -> CategoryRule:
    rule = rule_for(category, day)
    if rule is None or not rule.is_offence or rule.max_fine is None:
        raise ValidationError(
            {"category": f"Für „{category}“ gilt am {day:%d.%m.%Y} keine Bußgeldvorschrift mit Höchstbetrag."}
        )
    return rule


def _effective_caution_for(incident: Incident | None, person: ProceedingsPerson | None) -> Caution | None:
    if incident is None:
        return None
    cautions = Caution.objects.filter(measure__incident=incident).exclude(
        status__in=[Caution.Status.REFUSED, Caution.Status.UNPAID]
    )
    if person is not None and person.field_person_id:
        cautions = cautions.filter(measure__person_id=person.field_person_id)
    return cautions.first()


def _next_file_number(authority_id: int, year: int) -> str:
    prefix = f"OWi {year}/"
    last = (
        Case.objects.filter(authority_id=authority_id, file_number__startswith=prefix)
        .order_by("-file_number")
        .values_list("file_number", flat=True)
        .first()
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:06d}"


@transaction.atomic
def case_open(
    *,
    user: Any,
    category: Category,
    offence_at: dt.datetime,
    offence_place: str = "",
    offence_description: str = "",
    incident: Incident | None = None,
    offence_report: Measure | None = None,
    person: ProceedingsPerson | None = None,
    now: dt.datetime | None = None,
    system: bool = False,
) -> Case:
    """Open a case for one act; ``system`` for the automatic opening from a field offence report."""
    if not system:
        _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    now = now or timezone.now()
    if offence_at > now:
        raise ValidationError({"offence_at": "Die Tatzeit liegt in der Zukunft."})
    offence_date = _local_day(offence_at)
    rule = rule_on(category, offence_date)
    juvenile = False
    if person is not None:
        juvenile = check_person_for_act(person, offence_date)
    caution = _effective_caution_for(incident, person)
    if caution is not None:
        word = "wirksam" if caution.status == Caution.Status.EFFECTIVE else "noch zahlbar"
        raise ValidationError(
            {
                "incident": (
                    f"Für dieselbe Tat ist die Verwarnung {caution.certificate_number} {word}: "
                    "ein Bußgeldverfahren ist ausgeschlossen (§ 56 Abs. 4 OWiG)."
                )
            }
        )
    authority_id = offence_report.authority_id if offence_report is not None else user.authority_id
    case = Case(
        authority_id=authority_id,
        category=category,
        category_rule=rule,
        incident=incident,
        offence_report=offence_report,
        person=person,
        offence_at=offence_at,
        offence_date=offence_date,
        offence_place=offence_place[:200],
        offence_description=offence_description,
        max_fine=rule.max_fine,
        juvenile=juvenile,
        opened_at=now,
    )
    # Two clerks opening cases at the same moment may draw the same number: the unique
    # constraint refuses the second, which then draws the next one.
    for attempt in range(5):
        case.file_number = _next_file_number(authority_id, _local_day(now).year)
        try:
            with transaction.atomic():
                case.save(force_insert=True)
            break
        except IntegrityError:
            if (
                attempt == 4
                or Case.objects.filter(offence_report=offence_report).exclude(offence_report=None).exists()
            ):
                raise
            case.pk = None
    _append_event(case, EventKind.OPENED, _local_day(now), user=user, now=now, state_before="")
    refresh_deadlines(case)
    audit.log("proceedings.case.opened", user=user, obj=case, authority=authority_id, system=system)
    return case


def case_open_from_offence_report(measure: Measure, *, now: dt.datetime | None = None) -> Case | None:
    """Open a case for a field OWi-Anzeige if its category is set to do so (idempotent)."""
    if measure.type != MeasureType.OFFENCE_REPORT:
        return None
    incident = measure.incident
    if not incident.category.opens_proceedings or Case.objects.filter(offence_report=measure).exists():
        return None
    try:
        return case_open(
            user=None,
            category=incident.category,
            offence_at=measure.taken_at,
            offence_place=incident.address_text,
            offence_description=incident.description,
            incident=incident,
            offence_report=measure,
            now=now,
            system=True,
        )
    except ValidationError:
        # No offence rule on that day or an effective caution: the report stays a field record.
        return None


def person_assign(
    *, user: Any, case: Case, person: ProceedingsPerson, now: dt.datetime | None = None
) -> Case:
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    if person.authority_id != case.authority_id:
        raise PermissionDenied(NOT_PROCEEDINGS)
    juvenile = check_person_for_act(person, case.offence_date)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        refusal = step_refusal(EventKind.PERSON_IDENTIFIED, case.state)
        if refusal:
            raise ValidationError({"kind": refusal})
        case.person = person
        case.juvenile = juvenile
        case.save(update_fields=["person", "juvenile", "updated_at"])
        _append_event(
            case,
            EventKind.PERSON_IDENTIFIED,
            _local_day(now or timezone.now()),
            user=user,
            now=now,
            data={"person_id": person.pk, "juvenile": juvenile},
        )
    audit.log("proceedings.case.person_assigned", user=user, obj=case, person_id=person.pk)
    return case


@dataclass(frozen=True)
class StepInput:
    kind: str
    on: dt.date
    reason: str = ""
    data: dict[str, Any] | None = None


def _check_step_dates(case: Case, kind: str, on: dt.date, today: dt.date) -> None:
    if on > today:
        raise ValidationError({"on": "Das Datum liegt in der Zukunft."})
    if on < case.offence_date:
        raise ValidationError({"on": f"Das Datum liegt vor der Tat ({case.offence_date:%d.%m.%Y})."})
    last = case.events.exclude(kind=EventKind.OPENED).order_by("-on").values_list("on", flat=True).first()
    if last is not None and on < last and kind not in (EventKind.PAYMENT, EventKind.STATEMENT_RECEIVED):
        raise ValidationError({"on": f"Das Datum liegt vor dem letzten Verfahrensschritt ({last:%d.%m.%Y})."})
    if kind == EventKind.NOTICE_SERVED and case.notice_issued_on and on < case.notice_issued_on:
        raise ValidationError({"on": "Die Zustellung kann nicht vor dem Erlass des Bescheids liegen."})
    if kind == EventKind.ENFORCEMENT_STARTED and case.payment_due_on:
        earliest = engine.enforcement_allowed_from(case.payment_due_on)
        if on < earliest:
            raise ValidationError(
                {
                    "on": f"Beitreibung erst ab {earliest:%d.%m.%Y} "
                    "(zwei Wochen nach Fälligkeit, § 95 Abs. 1 OWiG)."
                }
            )


@transaction.atomic
def case_step(*, user: Any, case: Case, step: StepInput, now: dt.datetime | None = None) -> CaseEvent:
    """Take one manual workflow step; refused (nothing written) if role, state, date or reason fail."""
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    refusal = step_refusal(step.kind, case.state)
    if refusal:
        raise ValidationError({"kind": refusal})
    transition = TRANSITIONS[step.kind]
    reason = (step.reason or "").strip()
    data = dict(step.data or {})
    if transition.needs_reason and not reason:
        raise ValidationError({"reason": "Bitte den Schritt begründen."})
    if step.kind == EventKind.DISCONTINUED:
        code = data.get("reason_code", "")
        if code not in DiscontinuationReason.CODES:
            raise ValidationError({"reason_code": "Bitte einen Einstellungsgrund wählen."})
    _check_step_dates(case, step.kind, step.on, _local_day(now))
    if step.kind == EventKind.HEARING_SENT and case.person_id is None:
        raise ValidationError({"kind": "Eine Anhörung setzt eine festgestellte Person voraus."})
    if step.kind == EventKind.OBJECTION_RECEIVED and case.served_on:
        data["in_time"] = step.on <= engine.objection_deadline(case.served_on)
    if step.kind == EventKind.INSTALMENTS_GRANTED:
        data["until"] = _instalments_until(data.get("until"), step.on).isoformat()
    if step.kind == EventKind.REMINDER_SENT and not data.get("pay_by"):
        from .letters import reminder_pay_by

        # Stored, so a reprint shows the date the person was given even if the setting changes.
        data["pay_by"] = reminder_pay_by(step.on).isoformat()
    if step.kind == EventKind.REMEDY:
        Notice.objects.filter(case=case, approved_at__isnull=False, withdrawn_on__isnull=True).update(
            withdrawn_on=step.on
        )
    event = _append_event(case, step.kind, step.on, user=user, now=now, reason=reason, data=data)
    audit.log(f"proceedings.case.{step.kind}", user=user, obj=case, on=step.on.isoformat())
    return event


def _instalments_until(value: Any, start: dt.date) -> dt.date:
    """End of a Zahlungserleichterung (§ 93 OWiG): a date from the grant up to five years later."""
    try:
        until = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value or ""))
    except ValueError:
        raise ValidationError(
            {"until": "Bitte das Ende der Zahlungserleichterung als Datum angeben."}
        ) from None
    if until < start:
        raise ValidationError({"until": "Das Ende liegt vor der Bewilligung."})
    if until > engine.add_months(start, 60):
        raise ValidationError({"until": "Höchstens fünf Jahre ab der Bewilligung."})
    return until


def _append_event(
    case: Case,
    kind: str,
    on: dt.date,
    *,
    user: Any,
    now: dt.datetime | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    state_before: str | None = None,
) -> CaseEvent:
    now = now or timezone.now()
    before = case.state if state_before is None else state_before
    transition = TRANSITIONS.get(kind)
    after = (transition.to if transition and transition.to else None) or case.state
    event = CaseEvent.objects.create(
        case=case,
        authority_id=case.authority_id,
        kind=kind,
        on=on,
        recorded_at=now,
        user=user if getattr(user, "is_authenticated", False) else None,
        user_name=actor_name(user) or "System",
        state_before=before,
        state_after=after,
        reason=reason,
        data=data or {},
    )
    _project(case, event)
    refresh_deadlines(case)
    return event


def _project(case: Case, event: CaseEvent) -> None:
    """Carry one event into the case row (the list and figure columns)."""
    kind, on = event.kind, event.on
    case.state = event.state_after
    if kind == EventKind.HEARING_SENT and case.first_hearing_on is None:
        case.first_hearing_on = on
    elif kind == EventKind.NOTICE_ISSUED:
        case.notice_issued_on = on
        case.served_on = None
        case.fine = Decimal(event.data["fine"])
        case.total_due = Decimal(event.data["total"])
    elif kind == EventKind.NOTICE_SERVED:
        case.served_on = on
    elif kind == EventKind.OBJECTION_RECEIVED:
        case.objection_on = case.objection_on or on
    elif kind == EventKind.REMEDY:
        case.notice_issued_on = None
        case.served_on = None
        case.fine = None
        case.total_due = None
    elif kind in (EventKind.OBJECTION_WITHDRAWN, EventKind.OBJECTION_REJECTED, EventKind.BECAME_FINAL):
        if case.final_on is None:
            case.final_on = on
            case.payment_due_on = engine.payment_deadline(on)
    elif kind == EventKind.PAYMENT:
        case.paid_total = (case.paid_total or Decimal("0")) + Decimal(event.data["amount"])
        if case.total_due is not None and case.paid_total >= case.total_due:
            case.state = CaseState.PAID
            case.closed_on = on
    elif kind == EventKind.DISCONTINUED:
        case.discontinued_reason = event.data.get("reason_code", "")
        case.closed_on = on
    elif kind == EventKind.LAPSED:
        case.lapsed_on = on
        case.closed_on = on
    elif kind == EventKind.TRANSFERRED:
        case.closed_on = on
    case.save()


# --- notices (§§ 65, 66, 107 OWiG) ---------------------------------------------------------------


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: "Bitte einen Betrag in Euro angeben, z. B. 35,00."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Bitte einen Betrag in Euro angeben, z. B. 35,00."})
    return amount


def notice_contents(case: Case, fine: Decimal, fees: engine.Fees, evidence: str) -> dict[str, Any]:
    """The contents § 66 Abs. 1 and 2 OWiG require, as they will be printed."""
    person = case.person
    assert person is not None
    rule = case.category_rule
    return {
        "person": {
            "name": f"{person.given_names} {person.family_name}",
            "birth_name": person.birth_name,
            "date_of_birth": person.date_of_birth.isoformat(),
            "place_of_birth": person.place_of_birth,
            "address": f"{person.street}, {person.postcode} {person.city}",
        },
        "authority": case.authority.name,
        "file_number": case.file_number,
        "act": {
            "at": timezone.localtime(case.offence_at).strftime("%d.%m.%Y %H:%M"),
            "place": case.offence_place,
            "description": case.offence_description or str(case.category),
            "legal_basis": rule.legal_basis,
        },
        "evidence": evidence,
        "fine": str(fine),
        "fee": str(fees.fee),
        "expenses": str(fees.expenses),
        "total": str(fees.total),
        "juvenile": case.juvenile,
        "instructions": {
            "objection": (
                "Gegen diesen Bescheid können Sie innerhalb von zwei Wochen nach Zustellung schriftlich "
                f"oder zur Niederschrift bei {case.authority.name} Einspruch einlegen (§ 67 OWiG). "
                "Der Bescheid wird rechtskräftig und vollstreckbar, wenn kein Einspruch eingelegt wird; "
                "bei einem Einspruch kann das Gericht auch zu Ihrem Nachteil entscheiden "
                "(§ 66 Abs. 2 Nr. 1 OWiG)."
            ),
            "payment": (
                "Zahlen Sie den Gesamtbetrag spätestens zwei Wochen nach Rechtskraft oder teilen Sie mit, "
                "warum Ihnen das nicht zuzumuten ist (§ 66 Abs. 2 Nr. 2 OWiG); sonst kann Erzwingungshaft "
                "angeordnet werden (§ 66 Abs. 2 Nr. 3, § 96 OWiG)."
            ),
        },
    }


@transaction.atomic
def notice_draft(
    *,
    user: Any,
    case: Case,
    fine: Any,
    evidence: str = "",
    formal_services: int = 1,
    now: dt.datetime | None = None,
) -> Notice:
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    now = now or timezone.now()
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("person", "category_rule", "authority")
        .get(pk=case.pk)
    )
    refusal = step_refusal(EventKind.NOTICE_DRAFTED, case.state)
    if refusal:
        raise ValidationError({"kind": refusal})
    amount = _money(fine, "fine")
    errors: dict[str, str] = {}
    if amount < MIN_FINE:
        errors["fine"] = "Die Geldbuße beträgt mindestens 5 € (§ 17 Abs. 1 OWiG)."
    elif amount > case.max_fine:
        errors["fine"] = f"Höchstens {case.max_fine:.2f} € nach der geltenden Vorschrift (§ 17 Abs. 1 OWiG)."
    if not 0 <= formal_services <= 10:
        errors["formal_services"] = "Bitte die Zahl der förmlichen Zustellungen angeben (0–10)."
    if case.person is None:
        errors["person"] = "Ein Bescheid braucht die Angaben zur betroffenen Person (§ 66 Abs. 1 Nr. 1 OWiG)."
    else:
        missing = [
            ProceedingsPerson._meta.get_field(name).verbose_name
            for name in ProceedingsPerson.MANDATORY_FIELDS
            if not getattr(case.person, name)
        ]
        if missing:
            errors["person"] = "Für den Bescheid fehlen: " + ", ".join(str(m) for m in missing) + "."
    if errors:
        raise ValidationError(errors)
    fees = engine.fees(amount, engine.FORMAL_SERVICE_EUR * formal_services)
    # A new draft replaces an unapproved one; approved notices stay as they are.
    Notice.objects.filter(case=case, approved_at__isnull=True).update(withdrawn_on=_local_day(now))
    notice = Notice.objects.create(
        case=case,
        authority_id=case.authority_id,
        fine=amount,
        fee=fees.fee,
        expenses=fees.expenses,
        total=fees.total,
        contents=notice_contents(case, amount, fees, evidence),
        drafted_at=now,
        drafted_by_name=actor_name(user),
    )
    _append_event(
        case,
        EventKind.NOTICE_DRAFTED,
        _local_day(now),
        user=user,
        now=now,
        data={"notice_id": notice.pk, "fine": str(amount), "total": str(fees.total)},
    )
    audit.log("proceedings.notice.drafted", user=user, obj=notice, case=case.pk)
    return notice


@transaction.atomic
def notice_approve(
    *, user: Any, notice: Notice, issued_on: dt.date, now: dt.datetime | None = None
) -> Notice:
    """Approve and issue a drafted notice; from now on it is immutable (§ 65 OWiG: Erlass)."""
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    now = now or timezone.now()
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    case = Case.objects.select_for_update().get(pk=notice.case_id)
    if notice.approved_at is not None or notice.withdrawn_on is not None:
        raise ValidationError({"notice": "Dieser Bescheid ist nicht mehr im Entwurf."})
    refusal = step_refusal(EventKind.NOTICE_ISSUED, case.state)
    if refusal:
        raise ValidationError({"kind": refusal})
    if four_eyes() and notice.drafted_by_name == actor_name(user):
        raise PermissionDenied("Freigabe nach dem Vier-Augen-Prinzip: nicht durch den Entwurfsverfasser.")
    _check_step_dates(case, EventKind.NOTICE_ISSUED, issued_on, _local_day(now))
    Notice.objects.filter(pk=notice.pk).update(
        approved_at=now, approved_by_name=actor_name(user), issued_on=issued_on
    )
    notice.refresh_from_db()
    _append_event(
        case,
        EventKind.NOTICE_ISSUED,
        issued_on,
        user=user,
        now=now,
        data={"notice_id": notice.pk, "fine": str(notice.fine), "total": str(notice.total)},
    )
    audit.log("proceedings.notice.approved", user=user, obj=notice, case=case.pk)
    return notice


# --- payments ---------------------------------------------------------------------------------------


@transaction.atomic
def payment_record(
    *,
    user: Any,
    case: Case,
    amount: Any,
    paid_on: dt.date,
    reference: str = "",
    now: dt.datetime | None = None,
) -> Payment:
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    refusal = step_refusal(EventKind.PAYMENT, case.state)
    if refusal:
        raise ValidationError({"kind": refusal})
    value = _money(amount, "amount")
    if value <= 0:
        raise ValidationError({"amount": "Der Betrag muss größer als 0 € sein."})
    if paid_on > _local_day(now):
        raise ValidationError({"paid_on": "Das Datum liegt in der Zukunft."})
    payment = Payment.objects.create(
        case=case,
        authority_id=case.authority_id,
        amount=value,
        paid_on=paid_on,
        reference=reference[:120],
        recorded_at=now,
        recorded_by_name=actor_name(user),
    )
    _append_event(case, EventKind.PAYMENT, paid_on, user=user, now=now, data={"amount": str(value)})
    audit.log("proceedings.payment.recorded", user=user, obj=case, amount=str(value))
    return payment


# --- deadlines --------------------------------------------------------------------------------------


def limitation_state(case: Case, events: list[CaseEvent] | None = None) -> engine.LimitationState:
    """The prosecution limitation of a case from its events (pure engine, §§ 31–33 OWiG)."""
    events = events if events is not None else list(case.events.all())
    interruptions: list[engine.Interruption] = []
    notice_on: dt.date | None = None
    served_on: dt.date | None = None
    for event in events:
        if event.kind == EventKind.HEARING_SENT:
            # Only the first interrupts (§ 33 Abs. 1 Nr. 1); the engine ignores repeats, with reason.
            interruptions.append(engine.Interruption(engine.InterruptionKind.FIRST_HEARING, event.on))
        elif event.kind == EventKind.NOTICE_ISSUED:
            if notice_on is not None:
                interruptions.append(
                    engine.Interruption(engine.InterruptionKind.NOTICE, notice_on, served_on)
                )
            notice_on, served_on = event.on, None
        elif event.kind == EventKind.NOTICE_SERVED and notice_on is not None:
            served_on = event.on
    if notice_on is not None:
        interruptions.append(engine.Interruption(engine.InterruptionKind.NOTICE, notice_on, served_on))
    return engine.prosecution_limitation(case.offence_date, case.max_fine, interruptions)


def _suspensions(events: list[CaseEvent]) -> list[engine.Suspension]:
    spans = []
    for event in events:
        if event.kind == EventKind.INSTALMENTS_GRANTED:
            until = event.data.get("until")
            if until:
                spans.append(engine.Suspension(event.on, dt.date.fromisoformat(until)))
    return spans


def deadlines_for(case: Case, events: list[CaseEvent]) -> list[tuple[str, dt.date]]:
    """The open deadlines of a case in its current state (kind, last day)."""
    state = case.state
    if state in CLOSED_STATES:
        return []
    found: list[tuple[str, dt.date]] = []
    if state not in (CaseState.FINAL, CaseState.INSTALMENTS, CaseState.ENFORCEMENT):
        limit = limitation_state(case, events)
        found.append((DeadlineKind.PROSECUTION_LIMITATION, limit.deadline))
        if limit.absolute_limit != limit.deadline:
            found.append((DeadlineKind.ABSOLUTE_LIMITATION, limit.absolute_limit))
        if state == CaseState.NOTICE_ISSUED and case.notice_issued_on:
            found.append((DeadlineKind.SERVICE, case.notice_issued_on + engine.TWO_WEEKS))
        if state == CaseState.SERVED and case.served_on:
            found.append((DeadlineKind.OBJECTION, engine.objection_deadline(case.served_on)))
        return found
    assert case.final_on is not None and case.payment_due_on is not None
    if state != CaseState.ENFORCEMENT:
        # A reminder gives the person a new date, which the worklist shows (§ 95 counts from the first).
        reminded = [
            dt.date.fromisoformat(event.data["pay_by"])
            for event in events
            if event.kind == EventKind.REMINDER_SENT and event.data.get("pay_by")
        ]
        found.append((DeadlineKind.PAYMENT, max([case.payment_due_on, *reminded])))
        found.append((DeadlineKind.ENFORCEMENT_ALLOWED, engine.enforcement_allowed_from(case.payment_due_on)))
    found.append(
        (
            DeadlineKind.ENFORCEMENT_LIMITATION,
            engine.enforcement_limitation(case.final_on, case.fine or Decimal("0"), _suspensions(events)),
        )
    )
    return found


def refresh_deadlines(case: Case, events: list[CaseEvent] | None = None) -> None:
    events = events if events is not None else list(case.events.all())
    leads = warn_days()
    wanted = deadlines_for(case, events)
    CaseDeadline.objects.filter(case=case).delete()
    CaseDeadline.objects.bulk_create(
        CaseDeadline(
            case=case,
            authority_id=case.authority_id,
            kind=kind,
            due=due,
            warn_from=due - dt.timedelta(days=leads.get(kind, 0)),
        )
        for kind, due in wanted
    )
    limitation = next((due for kind, due in wanted if kind == DeadlineKind.PROSECUTION_LIMITATION), None)
    if case.limitation_deadline != limitation:
        Case.objects.filter(pk=case.pk).update(limitation_deadline=limitation)
        case.limitation_deadline = limitation


# --- the daily run ----------------------------------------------------------------------------------


@dataclass
class DailyResult:
    became_final: int = 0
    lapsed: int = 0
    cautions_unpaid: int = 0


def daily_run(*, today: dt.date, now: dt.datetime | None = None) -> DailyResult:
    """Record what the calendar decides, explicitly and dated (call inside ``unscoped()``).

    * A served notice without objection becomes final the day after the objection period ends.
    * A case whose limitation deadline has passed before finality lapses on the following day, and a
      final case whose enforcement limitation has passed lapses too: never silently (issue 15, item 4).
    * A caution not paid within its week becomes "unpaid": proceedings may follow.
    Idempotent: a second run on the same day finds nothing left to do.
    """
    result = DailyResult()
    for case in Case.objects.filter(state=CaseState.SERVED, served_on__isnull=False).iterator():
        final_on = engine.final_without_objection(case.served_on)
        if final_on <= today:
            with transaction.atomic():
                locked = Case.objects.select_for_update().get(pk=case.pk)
                if locked.state == CaseState.SERVED:
                    _append_event(
                        locked,
                        EventKind.BECAME_FINAL,
                        final_on,
                        user=None,
                        now=now,
                        reason="Kein Einspruch innerhalb von zwei Wochen nach Zustellung (§ 67 Abs. 1 OWiG).",
                    )
                    result.became_final += 1
    due_kinds = [DeadlineKind.PROSECUTION_LIMITATION, DeadlineKind.ENFORCEMENT_LIMITATION]
    overdue = CaseDeadline.objects.filter(kind__in=due_kinds, due__lt=today).values_list(
        "case_id", "kind", "due"
    )
    for case_id, kind, due in list(overdue):
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case_id)
            if case.state in CLOSED_STATES:
                continue
            events = list(case.events.all())
            current = dict(deadlines_for(case, events))
            if kind not in current or current[kind] != due:
                refresh_deadlines(case, events)
                continue
            paragraph = "§ 31 OWiG" if kind == DeadlineKind.PROSECUTION_LIMITATION else "§ 34 OWiG"
            _append_event(
                case,
                EventKind.LAPSED,
                due + dt.timedelta(days=1),
                user=None,
                now=now,
                reason=f"{DeadlineKind(kind).label}: Frist endete am {due:%d.%m.%Y} ({paragraph}).",
                data={"deadline_kind": kind, "deadline": due.isoformat()},
            )
            audit.log(
                "proceedings.case.lapsed", obj=case, authority=case.authority_id, deadline=due.isoformat()
            )
            result.lapsed += 1
    result.cautions_unpaid = Caution.objects.filter(status=Caution.Status.OPEN, pay_by__lt=today).update(
        status=Caution.Status.UNPAID
    )
    return result


# --- cautions (§ 56 OWiG) ---------------------------------------------------------------------------


def caution_amount_for(category: Category, day: dt.date) -> Decimal:
    rule = rule_for(category, day)
    if rule is None or not rule.caution_allowed or rule.caution_amount is None:
        raise ValidationError(
            {
                "category": f"Für „{category}“ ist am {day:%d.%m.%Y} "
                "keine Verwarnung mit Verwarnungsgeld vorgesehen."
            }
        )
    return rule.caution_amount


@transaction.atomic
def caution_give(
    *,
    user: Any,
    measure: Measure,
    informed_of_right_to_refuse: bool,
    consented: bool,
    paid_on_spot: bool,
    now: dt.datetime | None = None,
) -> Caution:
    """Record a caution with fee for a field measure; the amount comes from the rule valid that day."""
    from lagebild.core.rules import can_record

    _require(user, can_record, "Verwarnungen erteilen Außendienst, Schichtleitung und Administration.")
    now = now or timezone.now()
    if measure.type != MeasureType.CAUTION_FEE:
        raise ValidationError(
            {"measure": "Nur eine Verwarnung mit Verwarnungsgeld bekommt eine Bescheinigung."}
        )
    if Caution.objects.filter(measure=measure).exists():
        raise ValidationError({"measure": "Für diese Verwarnung gibt es schon eine Bescheinigung."})
    if not informed_of_right_to_refuse:
        raise ValidationError(
            {
                "informed_of_right_to_refuse": (
                    "Die Person muss über ihr Weigerungsrecht belehrt werden (§ 56 Abs. 2 OWiG)."
                )
            }
        )
    if paid_on_spot and not consented:
        raise ValidationError({"paid_on_spot": "Ohne Einverständnis wird kein Verwarnungsgeld erhoben."})
    day = _local_day(measure.taken_at)
    amount = caution_amount_for(measure.incident.category, day)
    rule = rule_for(measure.incident.category, day)
    status = (
        Caution.Status.REFUSED
        if not consented
        else Caution.Status.EFFECTIVE
        if paid_on_spot
        else Caution.Status.OPEN
    )
    count = Caution.objects.filter(
        authority_id=measure.authority_id, given_at__year=measure.taken_at.year
    ).count()
    caution = Caution.objects.create(
        authority_id=measure.authority_id,
        measure=measure,
        certificate_number=f"VG {day.year}/{count + 1:06d}",
        amount=amount,
        category_rule=rule,
        given_at=measure.taken_at,
        informed_of_right_to_refuse=True,
        consented=consented,
        paid_on_spot=paid_on_spot,
        # § 56 Abs. 2 S. 1 OWiG: sofort oder innerhalb einer Frist von einer Woche.
        pay_by=day + dt.timedelta(weeks=1),
        paid_on=day if paid_on_spot else None,
        status=status,
    )
    if measure.amount != amount:
        Measure.objects.filter(pk=measure.pk).update(amount=amount)
    audit.log("proceedings.caution.given", user=user, obj=caution, status=status)
    return caution


@transaction.atomic
def caution_paid(*, user: Any, caution: Caution, paid_on: dt.date, now: dt.datetime | None = None) -> Caution:
    _require(user, rules.can_handle_cases, NOT_PROCEEDINGS)
    now = now or timezone.now()
    caution = Caution.objects.select_for_update().get(pk=caution.pk)
    if caution.status != Caution.Status.OPEN:
        raise ValidationError({"paid_on": f"Die Verwarnung ist „{caution.get_status_display()}“."})
    if paid_on > _local_day(now) or paid_on < _local_day(caution.given_at):
        raise ValidationError({"paid_on": "Das Zahldatum liegt außerhalb des möglichen Zeitraums."})
    caution.paid_on = paid_on
    caution.status = Caution.Status.EFFECTIVE if paid_on <= caution.pay_by else Caution.Status.UNPAID
    caution.save(update_fields=["paid_on", "status"])
    audit.log("proceedings.caution.paid", user=user, obj=caution, status=caution.status)
    return caution
