"""Retention engine: due means deleted or anonymised, a day earlier means untouched; the counts stay.

Every record type is created through the services (or as the services leave it), the count
tables are rebuilt as the baseline, and the clock is moved to one day before and to the due
date of each type. The full contents of the five count tables are compared before, after the
run and after ``rebuild-aggregates``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from lagebild.accounts.models import ApiToken
from lagebild.analytics import aggregates
from lagebild.analytics.aggregates import COUNT_MODELS
from lagebild.citizen import services as intake
from lagebild.citizen.models import Photo, Report, ReportStatus, StatusChange
from lagebild.citizen.photos import photo_root
from lagebild.core.localtime import monday_of
from lagebild.core.models import AuditEvent, Role, User
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.deployment.models import DeploymentPlan, PlanChange
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Patrol, PatrolMember, Person, Shift
from lagebild.privacy import engine, policies
from lagebild.privacy.handlers import PLACEHOLDER_PREFIX
from lagebild.privacy.models import DeletionLogEntry, RetentionHold, RetentionRun
from lagebild.privacy.records import BY_KEY, Retention
from lagebild.taskforce.models import Meeting, TaskForce

from .bodycam_fixtures import *  # noqa: F403
from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

BERLIN = timezone.get_fixed_timezone(60)
DESCRIPTION = "Person M., ca. 30 J., rote Jacke, schläft im Eingang Kampstraße 12"


def counts() -> dict[str, list[tuple]]:
    """The full contents of every count table, without ids (what a rebuild must reproduce)."""
    result = {}
    for model in COUNT_MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        rows = model._base_manager.filter(count__gt=0).values_list(*fields)
        result[model._meta.model_name] = sorted(tuple(str(v) for v in row) for row in rows)
    return result


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path) -> Path:
    """Photos and the audit anchor file of these tests in a temporary directory."""
    settings.VAR_DIR = tmp_path / "var"
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    return settings.VAR_DIR


@pytest.fixture
def holdings(
    world, services, kod, kod_lead, polizei, police_lead, make_user, city, police, var_dir, register
):
    """One of every record type, of both authorities where the type has an authority."""
    now = timezone.now().replace(microsecond=0)
    occurred = now - dt.timedelta(hours=1)
    made: dict[str, object] = {"now": now}
    with authority_scope(city):
        person = field_services.person_create(user=kod_lead, age_group="21+")
        made["city_incident"] = field_services.incident_create(
            user=kod_lead,
            category=world["categories"]["begging"],
            occurred_at=occurred,
            lat=INSIDE[0],
            lon=INSIDE[1],
            description=DESCRIPTION,
            measures=[
                MeasureInput(type="dispersal_order", person_pseudonym=person.pseudonym, note="uneinsichtig"),
                MeasureInput(type="caution_fee", amount=Decimal("35"), note="bar bezahlt"),
                MeasureInput(type="criminal_complaint"),
            ],
        )
        day = timezone.localdate(occurred)
        shift = field_services.shift_create(
            user=kod_lead, date=day, kind="early", note="K. krank", lead=kod_lead
        )
        made["patrol"] = field_services.patrol_create(
            user=kod_lead, shift=shift, name="Ordnung 11", members=[kod, kod_lead, polizei]
        )
    with authority_scope(police):
        police_person = field_services.person_create(user=police_lead)
        made["police_incident"] = field_services.incident_create(
            user=police_lead,
            category=world["categories"]["dealing"],
            occurred_at=occurred,
            lat=INSIDE[0] + 0.001,
            lon=INSIDE[1],
            description="Übergabe an Person B.",
            measures=[MeasureInput(type="criminal_complaint", person_pseudonym=police_person.pseudonym)],
        )
        police_shift = field_services.shift_create(user=police_lead, date=day, kind="late", note="Lage ruhig")
    report = intake.report_create(
        service=services["begging"],
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        attributes={"personen": 2},
        description="Zwei Männer betteln aggressiv vor der Bäckerei",
        requested_at=now - dt.timedelta(days=2),
        reporter_name="Erika Muster",
        reporter_email="erika@example.org",
        reporter_phone="0231 1",
    )
    folder = photo_root() / str(report.pk)
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"jpeg")
    with unscoped():
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.RESOLVED, closed_at=now)
        Photo.objects.create(report=report, file=f"{report.pk}/a.jpg", content_type="image/jpeg", size=4)
        StatusChange.objects.create(
            report=report, at=now, user=kod_lead, from_status="new", to_status="resolved",
            public_note="Erledigt", internal_note="Meldende Person rief zweimal an",
        )  # fmt: skip
    made["report"] = report
    made["shifts"] = (shift, police_shift)
    made["former"] = make_user("ehemalig", city, Role.FIELD_OFFICER, is_active=False, first_name="Ex")
    made["former_police"] = make_user("ehemalig-pol", police, Role.FIELD_OFFICER, is_active=False)
    for user, revoked in ((kod, now), (polizei, None)):
        ApiToken.objects.create(
            user=user, name="App", prefix=f"lb_{user.pk}", key_hash=f"{user.pk:064d}",
            created_at=now - dt.timedelta(days=10), expires_at=now, revoked_at=revoked,
        )  # fmt: skip
    task_force = TaskForce.objects.create(code="sonderstab", name="Sonderstab")
    meeting = Meeting.objects.create(
        task_force=task_force, number=1, date=timezone.localdate(now), as_of=timezone.localdate(now),
        minutes="Herr X. berichtet über Beschwerden",
    )  # fmt: skip
    meeting.attendees.add(kod_lead)
    made["meeting"] = meeting
    with unscoped():
        for lead in (kod_lead, police_lead):
            plan = DeploymentPlan.objects.create(
                authority=lead.authority, week=monday_of(timezone.localdate(now)), created_by=lead,
                created_at=now, approved_by=lead, approved_at=now, state=DeploymentPlan.State.APPROVED,
            )  # fmt: skip
            PlanChange.objects.create(
                plan=plan, action=PlanChange.Action.EDITED, user=lead, at=now,
                reason="Herr K. ist krank, darum nur ein Team", cost=0.4,
            )  # fmt: skip
    made["recording"] = register(kod_lead, "r1")
    from lagebild.sharing import services as sharing
    from lagebild.sharing.catalogue import LegalBasis, Purpose, RecordType

    with unscoped():
        complaint_ids = list(
            made["city_incident"].measures.filter(type="criminal_complaint").values_list("pk", flat=True)  # type: ignore[attr-defined]
        )
    with authority_scope(city):
        made["transfer"] = sharing.transfer_create(
            user=kod_lead,
            record_type=RecordType.INCIDENT,
            record_id=made["city_incident"].pk,  # type: ignore[attr-defined]
            recipient_id=police.pk,
            purpose=Purpose.CRIMINAL_COMPLAINT,
            legal_basis=LegalBasis.STPO_158,
            fields=["location"],
            measure_ids=complaint_ids,
            note="",
        )
    with unscoped():
        aggregates.rebuild()  # the baseline: the counts of exactly these records
    return made


# For each type: the records of it in ``holdings`` with their start, and "is it done?".
def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


STARTS: dict[str, Callable[[], list[tuple[int, dt.datetime]]]] = {
    "incident": lambda: list(Incident.objects.values_list("pk", "occurred_at")),
    "measure": lambda: list(Measure.objects.values_list("pk", "taken_at")),
    "person": lambda: [(p.pk, max(m.taken_at for m in p.measures.all())) for p in Person.objects.all()],
    "shift": lambda: list(Shift.objects.values_list("pk", "ends_at")),
    "patrol": lambda: list(Patrol.objects.values_list("pk", "planned_start")),
    "citizen_report": lambda: list(Report.objects.exclude(reporter_name="").values_list("pk", "closed_at")),
    "citizen_report_content": lambda: list(Report.objects.values_list("pk", "closed_at")),
    "photo": lambda: [(p.pk, p.report.closed_at) for p in Photo.objects.all()],
    "report_status_history": lambda: [
        (s.pk, s.report.closed_at) for s in StatusChange.objects.filter(report__closed_at__isnull=False)
    ],
    "transfer": lambda: [(t.pk, t.created_at) for t in _transfers()],
    "taskforce": lambda: [(m.pk, _local_midnight(m.date)) for m in Meeting.objects.all()],
    "deployment_plan": lambda: [(p.pk, _local_midnight(p.week)) for p in DeploymentPlan.objects.all()],
    "user_account": lambda: [
        (u.pk, u.last_login or u.date_joined) for u in User.objects.filter(is_active=False)
    ],
    "api_token": lambda: [(t.pk, t.revoked_at or t.expires_at) for t in ApiToken.objects.all()],
    "bodycam_recording": lambda: [(r.pk, r.delete_after) for r in _recordings()],
    "audit_entry": lambda: list(AuditEvent.objects.exclude(action="audit.pruned").values_list("pk", "at")),
}


def _transfers() -> list:
    from lagebild.sharing.models import Transfer

    return list(Transfer.objects.all())


def _recordings() -> list:
    from lagebild.bodycam.models import Recording

    return list(Recording.objects.all())


def done(key: str, object_id: int) -> bool:
    """Whether the record shows the type's deletion or anonymisation."""
    if key == "incident":
        incident = Incident.objects.get(pk=object_id)
        return incident.description == "" and incident.address_text == "" and incident.recorded_by_id is None
    if key == "measure":
        measure = Measure.objects.get(pk=object_id)
        return measure.note == "" and measure.person_id is None and measure.taken_by_id is None
    if key == "person":
        return not Person.objects.filter(pk=object_id).exists()
    if key == "shift":
        shift = Shift.objects.get(pk=object_id)
        return shift.note == "" and shift.lead_id is None
    if key == "patrol":
        names = PatrolMember.objects.filter(patrol_id=object_id).values_list("user__username", flat=True)
        return all(name.startswith(PLACEHOLDER_PREFIX) for name in names)
    if key == "citizen_report":
        return Report.objects.get(pk=object_id).reporter_name == ""
    if key == "citizen_report_content":
        report = Report.objects.get(pk=object_id)
        return report.description == "" and report.attributes == {}
    if key == "photo":
        return not Photo.objects.filter(pk=object_id).exists()
    if key == "report_status_history":
        change = StatusChange.objects.get(pk=object_id)
        return change.internal_note == "" and change.public_note == "" and change.user_id is None
    if key == "transfer":
        return not any(t.pk == object_id for t in _transfers())
    if key == "taskforce":
        meeting = Meeting.objects.get(pk=object_id)
        return meeting.minutes == "" and not meeting.attendees.exists()
    if key == "deployment_plan":
        plan = DeploymentPlan.objects.get(pk=object_id)
        changes = PlanChange.objects.filter(plan=plan)
        # What the effect evaluation and the plan's history need stays.
        assert changes.filter(cost=0.4, action=PlanChange.Action.EDITED).exists()
        return (
            plan.created_by_id is None
            and plan.approved_by_id is None
            and not changes.exclude(user__isnull=True, reason="").exists()
        )
    if key == "user_account":
        return User.objects.get(pk=object_id).username == f"geloescht-{object_id}"
    if key == "api_token":
        return not ApiToken.objects.filter(pk=object_id).exists()
    if key == "audit_entry":
        return not AuditEvent.objects.filter(pk=object_id).exists()
    if key == "bodycam_recording":
        return next(r for r in _recordings() if r.pk == object_id).state == "deleted"
    raise AssertionError(key)


TESTED = sorted(STARTS)


def _require_handler(key: str) -> None:
    try:
        engine.handler_for(BY_KEY[key])
    except engine.HandlerUnavailable as exc:
        pytest.skip(f"Handler für {key} nicht vorhanden: {exc}")


@pytest.mark.parametrize("key", TESTED)
def test_one_day_before_due_nothing_then_due_everything(
    key, holdings, clock, django_capture_on_commit_callbacks
):
    _require_handler(key)
    retention = policies.effective(key)
    assert retention is not None
    zone = timezone.get_current_timezone()
    with unscoped():
        starts = STARTS[key]()
    assert starts, f"no {key} records in the fixture"
    dues = [retention.due(start, zone) for _, start in starts]
    before = counts()

    clock.move_to(min(dues) - dt.timedelta(days=1))
    report = engine.run(types=[key])
    assert report.total == 0
    with unscoped():
        assert not any(done(key, pk) for pk, _ in starts)
    assert not DeletionLogEntry.objects.exists()

    clock.move_to(max(dues))
    with django_capture_on_commit_callbacks(execute=True):
        report = engine.run(types=[key])
    assert sum(report.counts[key].values()) == len(starts)
    with unscoped():
        assert all(done(key, pk) for pk, _ in starts)
    logged = DeletionLogEntry.objects.filter(record_type=key)
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(pk for pk, _ in starts)
    # Compared in UTC: an aware time in the repeated hour of the autumn night never equals one in
    # another zone (PEP 495), even when both name the same instant.
    assert {e.due_at.astimezone(dt.UTC) for e in logged} <= {due.astimezone(dt.UTC) for due in dues}
    # The counts did not move, and a rebuild from the anonymised records gives the same.
    assert counts() == before
    with unscoped():
        aggregates.rebuild()
    assert counts() == before
    # A second run finds nothing more.
    assert engine.run(types=[key]).total == 0


def test_incident_keeps_what_is_counted_and_is_coarsened_to_its_cell(holdings, clock):
    incident = holdings["city_incident"]
    clock.move_to(holdings["now"] + dt.timedelta(days=3 * 366))
    engine.run(types=["incident"])
    with unscoped():
        after = Incident.objects.get(pk=incident.pk)
        links = set(after.area_links.values_list("area_id", flat=True))
    assert (after.category_id, after.occurred_at, after.authority_id, after.source, after.h3_cell) == (
        incident.category_id, incident.occurred_at, incident.authority_id, incident.source, incident.h3_cell,
    )  # fmt: skip
    assert links and (after.lat, after.lon) != (incident.lat, incident.lon)
    import h3

    assert h3.latlng_to_cell(after.lat, after.lon, 9) == incident.h3_cell


def test_photo_file_removed_from_disk(holdings, clock, django_capture_on_commit_callbacks):
    path = photo_root() / f"{holdings['report'].pk}" / "a.jpg"
    assert path.exists()
    clock.move_to(holdings["now"] + dt.timedelta(days=400))
    with django_capture_on_commit_callbacks(execute=True):
        engine.run(types=["photo"])
    assert not path.exists()


def test_recording_file_removed_from_disk(
    holdings, clock, recordings_dir, django_capture_on_commit_callbacks
):
    files = [p for p in Path(recordings_dir).rglob("*") if p.is_file()]
    assert files
    clock.move_to(holdings["recording"].delete_after + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        report = engine.run()
    assert report.counts["bodycam_recording"]["deleted"] == 1
    assert not any(p.exists() for p in files)


def test_dry_run_counts_and_changes_nothing(holdings, clock):
    clock.move_to(holdings["now"] + dt.timedelta(days=6 * 366))
    before = counts()
    audit_before = AuditEvent.objects.count()
    with unscoped():
        descriptions = list(Incident.objects.order_by("pk").values_list("description", flat=True))
    dry = engine.run(dry_run=True)
    assert dry.total > 0 and dry.run_id is None
    assert not RetentionRun.objects.exists() and not DeletionLogEntry.objects.exists()
    assert AuditEvent.objects.count() == audit_before
    with unscoped():
        assert list(Incident.objects.order_by("pk").values_list("description", flat=True)) == descriptions
    assert counts() == before
    real = engine.run()
    assert {k: dict(v) for k, v in real.counts.items()} == {k: dict(v) for k, v in dry.counts.items()}
    assert {k: dict(v) for k, v in real.per_authority.items()} == {
        k: dict(v) for k, v in dry.per_authority.items()
    }


def test_command_prints_counts_per_type_and_authority(holdings, clock, city, police):
    clock.move_to(holdings["now"] + dt.timedelta(days=6 * 366))
    out = StringIO()
    call_command("retention", "run", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Probelauf: nichts geändert" in text and "Feststellung (incident): 2 anonymisiert" in text
    assert city.name in text and police.name in text
    out = StringIO()
    call_command("retention", "run", stdout=out)
    assert "Löschlauf" in out.getvalue()
    out = StringIO()
    call_command("retention", "run", stdout=out)
    assert "nichts fällig" in out.getvalue()


def test_second_run_is_a_no_op(holdings, clock):
    clock.move_to(holdings["now"] + dt.timedelta(days=6 * 366))
    first = engine.run()
    assert first.total > 0
    entries = DeletionLogEntry.objects.count()
    second = engine.run()
    assert second.total == 0 and second.run_id != first.run_id
    assert DeletionLogEntry.objects.count() == entries


def test_crash_midway_then_resume_completes_without_duplicates(world, kod_lead, clock):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    with authority_scope(kod_lead.authority):
        ids = [
            field_services.incident_create(
                user=kod_lead, category=world["categories"]["begging"],
                occurred_at=start + dt.timedelta(minutes=i), lat=INSIDE[0], lon=INSIDE[1],
                description=f"Text {i}",
            ).pk
            for i in range(7)
        ]  # fmt: skip
    with unscoped():
        aggregates.rebuild()
    before = counts()
    clock.move_to(start + dt.timedelta(days=3 * 366))
    batches = []

    def crash_on_third_batch(record_type, due):
        batches.append(len(due))
        if len(batches) == 3:
            raise RuntimeError("Stromausfall")

    with pytest.raises(RuntimeError):
        engine.run(types=["incident"], batch_size=2, on_batch=crash_on_third_batch)
    # Two batches were committed; the third was rolled back entirely.
    assert DeletionLogEntry.objects.count() == 4
    with unscoped():
        assert Incident.objects.filter(pk__in=ids, description="").count() == 4
    crashed = RetentionRun.objects.get()
    assert crashed.finished_at is None

    resumed = engine.run(types=["incident"], batch_size=2)
    assert resumed.resumed and resumed.run_id == crashed.pk
    assert resumed.counts["incident"]["anonymised"] == 7
    logged = list(DeletionLogEntry.objects.values_list("object_id", flat=True))
    assert sorted(logged) == sorted(ids)  # each exactly once
    with unscoped():
        assert not Incident.objects.filter(pk__in=ids).exclude(description="").exists()
    assert RetentionRun.objects.get().finished_at is not None
    assert counts() == before
    assert engine.run(types=["incident"]).total == 0


def test_run_scoped_to_one_authority_touches_and_reports_only_that_authority(holdings, clock, city, police):
    clock.move_to(holdings["now"] + dt.timedelta(days=6 * 366))
    report = engine.run(authority_id=city.pk)
    assert set(report.per_authority) == {city.pk}
    with unscoped():
        assert Incident.objects.get(pk=holdings["police_incident"].pk).description != ""
        assert Incident.objects.get(pk=holdings["city_incident"].pk).description == ""
        assert Meeting.objects.get().minutes != ""  # no authority: only in runs over all authorities
        police_logged = DeletionLogEntry.objects.filter(authority=police).exists()
    assert not police_logged
    whole = engine.run()
    assert city.pk not in whole.per_authority or "incident" not in whole.per_authority[city.pk]
    assert whole.per_authority[police.pk]["incident"] == 1
    # Each entry of the per-authority report belongs to that authority.
    for entry in DeletionLogEntry.objects.filter(record_type="incident"):
        with unscoped():
            assert Incident.objects.get(pk=entry.object_id).authority_id == entry.authority_id


def test_per_authority_report_keeps_authorities_apart(holdings, clock, city, police):
    clock.move_to(holdings["now"] + dt.timedelta(days=6 * 366))
    report = engine.run(dry_run=True)
    assert report.per_authority[city.pk]["incident"] == 1
    assert report.per_authority[police.pk]["incident"] == 1
    assert report.per_authority[city.pk]["shift"] == 1 and report.per_authority[police.pk]["shift"] == 1
    assert report.per_authority[None]["taskforce"] == 1
    assert report.per_authority[city.pk]["deployment_plan"] == 1
    assert report.per_authority[police.pk]["deployment_plan"] == 1


def test_hold_keeps_a_record_past_its_retention(holdings, clock):
    incident = holdings["city_incident"]
    RetentionHold.objects.create(
        record_type="incident", object_id=incident.pk, until=holdings["now"] + dt.timedelta(days=5 * 366),
        reason="OWi-Verfahren Az. 32.1-123/26",
    )  # fmt: skip
    clock.move_to(holdings["now"] + dt.timedelta(days=3 * 366))
    engine.run(types=["incident"])
    with unscoped():
        assert Incident.objects.get(pk=incident.pk).description == DESCRIPTION
    clock.move_to(holdings["now"] + dt.timedelta(days=5 * 366 + 1))
    engine.run(types=["incident"])
    with unscoped():
        assert Incident.objects.get(pk=incident.pk).description == ""


def test_setting_overrides_the_default(holdings, clock, settings):
    settings.LAGEBILD_RETENTION = {"incident": "P3Y"}
    clock.move_to(holdings["now"] + dt.timedelta(days=2 * 366))
    assert engine.run(types=["incident"]).total == 0
    clock.move_to(holdings["now"] + dt.timedelta(days=3 * 366))
    assert engine.run(types=["incident"]).total == 2


def test_audit_entries_go_from_the_start_of_the_chain_and_verify_still_passes(holdings, clock, city):
    from lagebild.core import audit_verify

    _require_handler("audit_entry")
    first = AuditEvent.objects.order_by("seq").first()
    clock.move_to(holdings["now"] + dt.timedelta(days=3 * 366))
    assert (
        engine.run(types=["audit_entry"], authority_id=city.pk).total == 0
    )  # one chain: never per authority
    report = engine.run(types=["audit_entry"], batch_size=7)
    assert report.counts["audit_entry"]["deleted"] > 7  # several batches
    assert not AuditEvent.objects.filter(pk=first.pk).exists()
    assert AuditEvent.objects.filter(action="audit.pruned").exists()
    result = audit_verify.verify()
    assert result.ok, [str(p) for p in result.problems]


def test_old_anonymise_reports_command_runs_the_engine(holdings, clock):
    clock.move_to(holdings["now"] + dt.timedelta(days=400))
    out = StringIO()
    call_command("anonymise-reports", stdout=out)
    assert "1 Hinweise anonymisiert" in out.getvalue()
    entry = DeletionLogEntry.objects.get(record_type="citizen_report")
    assert entry.object_id == holdings["report"].pk and entry.action == "anonymised"
    assert engine.run(types=["citizen_report"]).total == 0


def test_retention_due_is_calendar_arithmetic_in_local_time():
    zone = timezone.get_current_timezone()
    leap = dt.datetime(2028, 2, 29, 12, tzinfo=zone)
    assert Retention.parse("P1Y").due(leap, zone) == dt.datetime(2029, 2, 28, 12, tzinfo=zone)
    assert Retention.parse("P1M").due(dt.datetime(2027, 1, 31, 8, tzinfo=zone), zone).date() == dt.date(
        2027, 2, 28
    )
    # 14 days over the spring switch: the same wall-clock time, 13 days and 23 hours later.
    spring = dt.datetime(2027, 3, 20, 10, tzinfo=zone)
    assert Retention.parse("P14D").due(spring, zone) == dt.datetime(2027, 4, 3, 10, tzinfo=zone)
    # § 76 Abs. 4 BDSG: created in 2026, deleted at the end of 2027.
    end = Retention.parse("P1Y", end_of_year=True).due(dt.datetime(2026, 12, 31, 23, 30, tzinfo=zone), zone)
    assert end == dt.datetime(2028, 1, 1, tzinfo=zone)
    assert Retention.parse("P2W").days == 14 and Retention.parse("p6m").iso == "P6M"
    for bad in ("", "P", "3Y", "P1.5Y", "drei Jahre", "PT12H"):
        with pytest.raises(ValueError, match="ISO 8601"):
            Retention.parse(bad)


def test_small_batches_page_past_held_and_done_records(world, kod_lead, clock):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    with authority_scope(kod_lead.authority):
        ids = [
            field_services.incident_create(
                user=kod_lead, category=world["categories"]["begging"],
                occurred_at=start + dt.timedelta(minutes=i % 3), lat=INSIDE[0], lon=INSIDE[1],
                description=f"Text {i}",
            ).pk
            for i in range(9)
        ]  # fmt: skip
    held = ids[4]
    RetentionHold.objects.create(
        record_type="incident", object_id=held, until=start + dt.timedelta(days=9999)
    )
    clock.move_to(start + dt.timedelta(days=3 * 366))
    # A first run over a part: the next one must skip what is done and go on after it.
    with unscoped():
        Incident.objects.filter(pk=ids[0]).update(description="")
    report = engine.run(types=["incident"], batch_size=2)
    assert report.counts["incident"]["anonymised"] == 8
    with unscoped():
        assert Incident.objects.get(pk=held).description == "Text 4"
        assert set(Incident.objects.filter(description="").values_list("pk", flat=True)) == set(ids) - {held}
    assert engine.run(types=["incident"], batch_size=2).total == 0


def test_an_id_given_again_after_a_deletion_names_a_new_record(world, kod_lead, clock):
    """Imports that number from MAX(id)+1 (the demo on SQLite) give a deleted record's id again."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    with authority_scope(kod_lead.authority):
        first = field_services.incident_create(
            user=kod_lead, category=world["categories"]["begging"], occurred_at=start,
            lat=INSIDE[0], lon=INSIDE[1], description="erste",
        )  # fmt: skip
    clock.move_to(start + dt.timedelta(days=3 * 366))
    assert engine.run(types=["incident"]).total == 1
    with unscoped():
        row = Incident.objects.get(pk=first.pk)
        Incident.objects.filter(pk=first.pk).delete()
        row.description, row.occurred_at = "zweite", start + dt.timedelta(days=1)
        row.save(force_insert=True)  # the same id for another record
    assert engine.run(types=["incident"]).total == 1
    with unscoped():
        assert Incident.objects.get(pk=first.pk).description == ""
    assert DeletionLogEntry.objects.filter(record_type="incident", object_id=first.pk).count() == 2
    assert engine.run(types=["incident"]).total == 0
