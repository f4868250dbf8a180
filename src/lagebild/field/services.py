"""Writes of field records. Views, API and importer call these; they never write directly."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from lagebild.analytics import aggregates
from lagebild.catalog.models import Category, CategoryRule
from lagebild.catalog.selectors import rule_for
from lagebild.core import audit
from lagebild.core.localtime import elapsed
from lagebild.core.models import Authority, User
from lagebild.core.scoping import unscoped
from lagebild.geo.selectors import describe_point
from lagebild.geo.services import LocatedPoint, locate

from .measures import MeasureInput, measure_errors
from .models import Incident, IncidentArea, Measure, MeasureType, Patrol, PatrolMember, Person, Shift

EARLIEST_RECORD = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE_TOLERANCE = dt.timedelta(minutes=10)

SHIFT_TIMES = {
    Shift.Kind.EARLY: (dt.time(6, 0), dt.time(14, 0)),
    Shift.Kind.LATE: (dt.time(14, 0), dt.time(22, 0)),
    Shift.Kind.NIGHT: (dt.time(22, 0), dt.time(6, 0)),
}
MAX_PATROL_HOURS = 16
MAX_PLANNING_AHEAD = dt.timedelta(days=366)


def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")


def person_create(*, user: User, age_group: str = "") -> Person:
    if age_group not in Person.AgeGroup.values:
        raise ValidationError({"age_group": "Unbekannte Altersgruppe."})
    pseudonym = f"P-{secrets.token_hex(5).upper()}"
    person = Person.objects.create(authority_id=user.authority_id, pseudonym=pseudonym, age_group=age_group)
    audit.log("field.person.created", user=user, obj=person)
    return person


def _check_occurred_at(occurred_at: dt.datetime | None, errors: dict[str, list[str]]) -> None:
    if occurred_at is None:
        errors.setdefault("occurred_at", []).append("Bitte den Zeitpunkt angeben.")
        return
    if timezone.is_naive(occurred_at):
        errors.setdefault("occurred_at", []).append("Der Zeitpunkt braucht eine Zeitzone.")
        return
    if occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors.setdefault("occurred_at", []).append("Der Zeitpunkt liegt in der Zukunft.")
    elif occurred_at < EARLIEST_RECORD:
        errors.setdefault("occurred_at", []).append("Der Zeitpunkt liegt vor dem Jahr 2000.")


def _external_id_taken(authority_id: int, external_id: str) -> bool:
    # Checked against all records of the authority, joint or not, like the unique constraint.
    with unscoped():
        return Incident.objects.filter(authority_id=authority_id, external_id=external_id).exists()


@dataclass
class _CheckedIncident:
    errors: dict[str, list[str]]
    located: LocatedPoint | None
    rule: CategoryRule | None
    persons: dict[str, Person]


def _check_incident(
    *,
    user: User,
    category: Category | None,
    occurred_at: dt.datetime | None,
    lat: object,
    lon: object,
    measures: Sequence[MeasureInput],
    source: str,
    description: str,
    address_text: str,
    patrol: Patrol | None,
    external_id: str,
) -> _CheckedIncident:
    """Every rule an incident must meet, each broken one as a German message per field."""
    errors: dict[str, list[str]] = {}
    if category is None:
        errors.setdefault("category", []).append("Bitte einen Sachverhalt wählen.")
    elif not category.active:
        errors.setdefault("category", []).append("Dieser Sachverhalt wird nicht mehr verwendet.")
    _check_occurred_at(occurred_at, errors)
    if source not in Incident.Source.values:
        errors.setdefault("source", []).append("Unbekannte Quelle.")
    if len(description) > 4000:
        errors.setdefault("description", []).append("Die Beschreibung ist zu lang (höchstens 4000 Zeichen).")
    if len(address_text) > 200:
        errors.setdefault("address_text", []).append("Die Ortsangabe ist zu lang (höchstens 200 Zeichen).")
    located = None
    try:
        located = locate(lat, lon)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if len(external_id) > 64:
        errors.setdefault("external_id", []).append("Die externe Kennung ist zu lang (höchstens 64 Zeichen).")
    elif external_id and _external_id_taken(user.authority_id, external_id):
        errors.setdefault("external_id", []).append("Diese externe Kennung ist bereits vergeben.")
    if patrol is not None:
        visible = Patrol.objects.filter(pk=patrol.pk).exists()
        if not visible:
            errors.setdefault("patrol", []).append("Diese Streife ist nicht sichtbar.")
    rule = None
    # Without a category and a valid time the catalogue rule is unknown: whether a caution
    # is allowed and its standard amount are then not judged (the record is refused anyway).
    rule_known = category is not None and occurred_at is not None and "occurred_at" not in errors
    if rule_known:
        rule = rule_for(category, timezone.localdate(occurred_at))  # type: ignore[arg-type]
    authority: Authority = user.authority
    persons: dict[str, Person] = {}
    measure_messages: list[str] = []
    for number, measure in enumerate(measures, start=1):
        if measure.type == "caution_fee" and measure.amount is None and rule and rule.caution_amount:
            measure.amount = rule.caution_amount
        for message in measure_errors(
            measure,
            authority_is_police=authority.is_police,
            caution_allowed=bool(rule and rule.caution_allowed) if rule_known else None,
        ):
            measure_messages.append(f"Maßnahme {number}: {message}")
        if measure.person_pseudonym:
            person = Person.objects.filter(pseudonym=measure.person_pseudonym).first()
            if person is None:
                measure_messages.append(
                    f"Maßnahme {number}: Person {measure.person_pseudonym!r} ist unbekannt."
                )
            else:
                persons[measure.person_pseudonym] = person
    if measure_messages:
        errors["measures"] = measure_messages
    return _CheckedIncident(errors=errors, located=located, rule=rule, persons=persons)


def incident_check(
    *,
    user: User,
    category: Category | None,
    occurred_at: dt.datetime | None,
    lat: object,
    lon: object,
    measures: Sequence[MeasureInput] = (),
    source: str = Incident.Source.PATROL,
    description: str = "",
    address_text: str = "",
    patrol: Patrol | None = None,
    external_id: str = "",
) -> dict[str, list[str]]:
    """What :func:`incident_create` would refuse, without writing anything.

    Forms and the API call it when their own input checks already failed, so a user gets
    every message at once instead of one round per layer."""
    return _check_incident(
        user=user,
        category=category,
        occurred_at=occurred_at,
        lat=lat,
        lon=lon,
        measures=[replace(m) for m in measures],  # the check fills in default amounts
        source=source,
        description=description,
        address_text=address_text,
        patrol=patrol,
        external_id=external_id,
    ).errors


@transaction.atomic
def incident_create(
    *,
    user: User,
    category: Category | None,
    occurred_at: dt.datetime | None,
    lat: object,
    lon: object,
    measures: Sequence[MeasureInput] = (),
    source: str = Incident.Source.PATROL,
    description: str = "",
    address_text: str = "",
    joint: bool | None = None,
    patrol: Patrol | None = None,
    external_id: str = "",
) -> Incident:
    """Record an incident with its measures; all or nothing, German messages per field.

    Without an address text the nearest street or place of the offline gazetteer is stored
    (``geo.selectors.describe_point``), so a map tap never leaves the place unnamed."""
    _require(user, "field.record_incident")
    checked = _check_incident(
        user=user,
        category=category,
        occurred_at=occurred_at,
        lat=lat,
        lon=lon,
        measures=measures,
        source=source,
        description=description,
        address_text=address_text,
        patrol=patrol,
        external_id=external_id,
    )
    if checked.errors:
        raise ValidationError(checked.errors)
    located = checked.located
    assert located is not None and occurred_at is not None and category is not None
    if joint is None:
        joint = bool(patrol and patrol.joint)
    address = address_text.strip() or describe_point(located.lat, located.lon, area_ids=located.area_ids).text
    incident = Incident.objects.create(
        authority=user.authority,
        joint=joint,
        occurred_at=occurred_at,
        recorded_by=user,
        patrol=patrol,
        category=category,
        category_rule=checked.rule,
        source=source,
        description=description.strip(),
        address_text=address[:200],
        lat=located.lat,
        lon=located.lon,
        x_utm=located.x_utm,
        y_utm=located.y_utm,
        h3_cell=located.h3_cell,
        external_id=external_id,
    )
    IncidentArea.objects.bulk_create(IncidentArea(incident=incident, area_id=a) for a in located.area_ids)
    persons = checked.persons
    created = Measure.objects.bulk_create(
        _measure_row(incident, m, user=user, persons=persons) for m in measures
    )
    aggregates.apply_incidents([incident.pk])  # the shared count rows stay locked until commit
    _open_proceedings(incident, created)
    # Last: the audit chain's head stays locked until commit and every writer takes it (core.audit).
    audit.log("field.incident.created", user=user, obj=incident, measures=[m.type for m in measures])
    return incident


def _measure_row(
    incident: Incident,
    measure: MeasureInput,
    *,
    user: User,
    persons: dict[str, Person],
    taken_at: dt.datetime | None = None,
) -> Measure:
    return Measure(
        incident=incident,
        type=measure.type,
        authority_id=user.authority_id,
        taken_by=user,
        taken_at=taken_at or incident.occurred_at,
        person=persons.get(measure.person_pseudonym),
        amount=measure.amount,
        seizure_kind=measure.seizure_kind,
        quantity=measure.quantity,
        quantity_unit=measure.quantity_unit[:20],
        referral_service=measure.referral_service,
        note=measure.note[:500],
    )


@transaction.atomic
def measure_add(
    *, user: User, incident: Incident, measure: MeasureInput, taken_at: dt.datetime | None = None
) -> Measure:
    """Add a later measure to a visible incident (e.g. a criminal complaint filed afterwards)."""
    _require(user, "field.record_incident")
    if not Incident.objects.filter(pk=incident.pk).exists():
        raise PermissionDenied("Diese Feststellung ist nicht sichtbar.")
    rule = incident.category_rule
    messages = measure_errors(
        measure,
        authority_is_police=user.authority.is_police,
        caution_allowed=bool(rule and rule.caution_allowed),
    )
    persons: dict[str, Person] = {}
    if measure.person_pseudonym:
        person = Person.objects.filter(pseudonym=measure.person_pseudonym).first()
        if person is None:
            messages.append(f"Person {measure.person_pseudonym!r} ist unbekannt.")
        else:
            persons[measure.person_pseudonym] = person
    if taken_at is not None and taken_at > timezone.now() + FUTURE_TOLERANCE:
        messages.append("Der Zeitpunkt liegt in der Zukunft.")
    if messages:
        raise ValidationError({"measures": messages})
    row = _measure_row(incident, measure, user=user, persons=persons, taken_at=taken_at or timezone.now())
    row.save()
    aggregates.apply_measures([row.pk])
    _open_proceedings(incident, [row])
    audit.log("field.measure.created", user=user, obj=row, incident=incident.pk)
    return row


def _open_proceedings(incident: Incident, measures: Sequence[Measure]) -> None:
    """An OWi-Anzeige opens a case at the Bußgeldstelle where the city set its category so (issue 15)."""
    if not incident.category.opens_proceedings:
        return
    # Imported late: the proceedings app builds on the field records.
    from lagebild.proceedings.services import case_open_from_offence_report

    for measure in measures:
        if measure.type == MeasureType.OFFENCE_REPORT:
            measure.incident = incident
            case_open_from_offence_report(measure)


# --- shifts and patrols -------------------------------------------------------------------


def shift_times(day: dt.date, kind: str) -> tuple[dt.datetime, dt.datetime]:
    start_time, end_time = SHIFT_TIMES[kind]  # type: ignore[index]
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, start_time, tzinfo=tz)
    end_day = day + dt.timedelta(days=1) if end_time <= start_time else day
    return start, dt.datetime.combine(end_day, end_time, tzinfo=tz)


@transaction.atomic
def shift_create(*, user: User, date: dt.date, kind: str, note: str = "", lead: User | None = None) -> Shift:
    _require(user, "field.plan_shifts")
    if kind not in Shift.Kind.values:
        raise ValidationError({"kind": "Unbekannte Schicht."})
    if not (EARLIEST_RECORD.date() <= date <= timezone.localdate() + MAX_PLANNING_AHEAD):
        raise ValidationError({"date": "Das Datum liegt außerhalb des planbaren Zeitraums."})
    if Shift.objects.filter(authority_id=user.authority_id, date=date, kind=kind).exists():
        raise ValidationError({"kind": "Diese Schicht ist für den Tag bereits angelegt."})
    starts_at, ends_at = shift_times(date, kind)
    shift = Shift.objects.create(
        authority_id=user.authority_id,
        date=date,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note.strip(),
        lead=lead,
    )
    audit.log("field.shift.created", user=user, obj=shift)
    return shift


def _staff_hours(patrol: Patrol, member_count: int) -> Decimal:
    # Absolute time: a night patrol when the clocks change lasts an hour more or less.
    seconds = max(elapsed(patrol.start, patrol.end).total_seconds(), 0)
    return (Decimal(member_count) * Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def _refresh_patrol_figures(patrol: Patrol) -> None:
    authorities = list(patrol.memberships.values_list("authority__kind", flat=True))
    patrol.member_count = len(authorities)
    patrol.joint = Authority.Kind.CITY in authorities and Authority.Kind.POLICE in authorities
    patrol.staff_hours = _staff_hours(patrol, patrol.member_count)
    patrol.save(update_fields=["member_count", "joint", "staff_hours"])


def _validate_patrol_times(start: dt.datetime, end: dt.datetime, field: str = "planned_end") -> None:
    if end <= start:
        raise ValidationError({field: "Das Ende muss nach dem Beginn liegen."})
    if elapsed(start, end) > dt.timedelta(hours=MAX_PATROL_HOURS):
        raise ValidationError({field: f"Eine Streife dauert höchstens {MAX_PATROL_HOURS} Stunden."})


@transaction.atomic
def patrol_create(
    *,
    user: User,
    shift: Shift,
    name: str,
    members: Iterable[User],
    area_id: int | None = None,
    clothing: str = Patrol.Clothing.UNIFORM,
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
) -> Patrol:
    """Plan a patrol; it is joint when its members come from city and police."""
    _require(user, "field.plan_shifts")
    if not Shift.objects.filter(pk=shift.pk).exists():
        raise PermissionDenied("Diese Schicht ist nicht sichtbar.")
    if not name.strip():
        raise ValidationError({"name": "Bitte eine Bezeichnung angeben."})
    members = _distinct_members(members)
    if clothing not in Patrol.Clothing.values:
        raise ValidationError({"clothing": "Unbekannte Angabe."})
    start = planned_start or shift.starts_at
    end = planned_end or shift.ends_at
    _validate_patrol_times(start, end)
    patrol = Patrol.objects.create(
        authority_id=user.authority_id,
        shift=shift,
        name=name.strip()[:80],
        area_id=area_id,
        clothing=clothing,
        planned_start=start,
        planned_end=end,
    )
    PatrolMember.objects.bulk_create(
        PatrolMember(patrol=patrol, user=m, authority_id=m.authority_id) for m in members
    )
    _refresh_patrol_figures(patrol)
    aggregates.apply_patrols([patrol.pk])
    audit.log("field.patrol.created", user=user, obj=patrol, members=[m.pk for m in members])
    return patrol


def _distinct_members(members: Iterable[User]) -> list[User]:
    """Each person once, all active, at least one (the rule for every patrol)."""
    members = list({m.pk: m for m in members}.values())
    if not members:
        raise ValidationError({"members": "Eine Streife braucht mindestens ein Mitglied."})
    if any(not m.is_active for m in members):
        raise ValidationError({"members": "Deaktivierte Benutzer können nicht eingeteilt werden."})
    return members


@transaction.atomic
def patrol_members_set(*, user: User, patrol: Patrol, members: Iterable[User]) -> Patrol:
    """Name who goes on a patrol that has not ended: the patrols a deployment plan creates have
    no members until the shift lead names them. Joint when city and police staff go together;
    staff hours and the count tables follow."""
    _require(user, "field.plan_shifts")
    patrol = Patrol.objects.select_for_update().filter(pk=patrol.pk).first()
    if patrol is None or patrol.authority_id != user.authority_id:
        raise PermissionDenied("Mitglieder teilt nur die Schichtleitung der planenden Behörde ein.")
    if patrol.actual_end is not None:
        raise ValidationError({"members": "Die Streife ist beendet; ihre Mitglieder bleiben, wie sie waren."})
    chosen = _distinct_members(members)
    before = sorted(patrol.memberships.values_list("user_id", flat=True))
    aggregates.apply_patrols([patrol.pk], -1)
    patrol.memberships.all().delete()
    PatrolMember.objects.bulk_create(
        PatrolMember(patrol=patrol, user=m, authority_id=m.authority_id) for m in chosen
    )
    _refresh_patrol_figures(patrol)
    aggregates.apply_patrols([patrol.pk])
    audit.log(
        "field.patrol.members_set", user=user, obj=patrol, before=before, members=[m.pk for m in chosen]
    )
    return patrol


def _can_operate(user: User, patrol: Patrol) -> bool:
    if user.has_perm("field.plan_shifts"):
        return True
    return patrol.memberships.filter(user=user).exists()


@transaction.atomic
def patrol_start(*, user: User, patrol: Patrol, at: dt.datetime | None = None) -> Patrol:
    if not Patrol.objects.filter(pk=patrol.pk).exists() or not _can_operate(user, patrol):
        raise PermissionDenied("Sie gehören nicht zu dieser Streife.")
    if patrol.actual_start is not None:
        raise ValidationError({"actual_start": "Die Streife wurde bereits begonnen."})
    start = at or timezone.now()
    if abs(elapsed(patrol.planned_start, start)) > dt.timedelta(hours=MAX_PATROL_HOURS):
        raise ValidationError({"actual_start": "Der Beginn liegt zu weit vom geplanten Beginn entfernt."})
    if start > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"actual_start": "Der Beginn liegt in der Zukunft."})
    patrol.actual_start = start
    aggregates.apply_patrols([patrol.pk], -1)
    patrol.save(update_fields=["actual_start"])
    _refresh_patrol_figures(patrol)
    aggregates.apply_patrols([patrol.pk])
    audit.log("field.patrol.started", user=user, obj=patrol)
    return patrol


@transaction.atomic
def patrol_end(*, user: User, patrol: Patrol, at: dt.datetime | None = None) -> Patrol:
    if not Patrol.objects.filter(pk=patrol.pk).exists() or not _can_operate(user, patrol):
        raise PermissionDenied("Sie gehören nicht zu dieser Streife.")
    if patrol.actual_start is None:
        raise ValidationError({"actual_end": "Die Streife wurde noch nicht begonnen."})
    end = at or timezone.now()
    if end > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"actual_end": "Das Ende liegt in der Zukunft."})
    _validate_patrol_times(patrol.actual_start, end, field="actual_end")
    patrol.actual_end = end
    aggregates.apply_patrols([patrol.pk], -1)
    patrol.save(update_fields=["actual_end"])
    _refresh_patrol_figures(patrol)
    aggregates.apply_patrols([patrol.pk])
    audit.log("field.patrol.ended", user=user, obj=patrol)
    return patrol
