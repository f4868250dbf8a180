"""The register of record types: every record model has a purpose and a regime, the DPO's
document is the register, and wrong retention settings stop the start with German messages."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from lagebild.core.scoping import authority_scope
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Person
from lagebild.privacy import document, policies, records
from lagebild.privacy.records import RECORD_TYPES, Regime

from .conftest import INSIDE

DOC = Path(settings.PACKAGE_DIR).parent.parent / "docs" / "data-protection.md"

# Every model that holds records about people or their work; catalogues and configuration
# (categories, areas, service types, routing rules, indicators) are not records.
RECORD_MODELS = [
    "field.Incident", "field.Measure", "field.Person", "field.Shift", "field.Patrol", "field.PatrolMember",
    "citizen.Report", "citizen.Photo", "citizen.StatusChange", "core.AuditEvent", "core.User",
    "accounts.ApiToken", "bodycam.Recording", "sharing.Transfer", "taskforce.Meeting",
    "analytics.DailyCount", "analytics.HourlyCount", "core.IdempotencyKey",
    "deployment.DeploymentPlan", "deployment.PlanAssignment", "deployment.PlanChange",
]  # fmt: skip


@pytest.mark.parametrize("label", RECORD_MODELS)
def test_every_record_model_knows_its_purpose_and_regime(label):
    model = apps.get_model(label)
    record_type = records.for_model(model)
    assert record_type.purpose and record_type.legal_basis and record_type.visible_to and record_type.rule
    assert isinstance(record_type.regime, Regime)
    assert records.purpose_of(model) == record_type.purpose
    assert records.for_model(label) is record_type


def test_registry_names_only_existing_models_and_sound_retentions():
    keys = [rt.key for rt in RECORD_TYPES]
    assert len(keys) == len(set(keys))
    for record_type in RECORD_TYPES:
        for label in record_type.models:
            apps.get_model(label)  # raises when a model was renamed
        if record_type.action is records.Action.KEEP:
            assert record_type.retention is None and record_type.regime is Regime.ANONYMOUS
        else:
            assert record_type.default_retention is not None and record_type.retention_source
            assert record_type.handler


def test_unknown_model_is_refused_in_german():
    with pytest.raises(LookupError, match="kein Datensatztyp"):
        records.for_model("catalog.Category")


def test_regime_per_record_follows_authority_and_measures(world, kod_lead, police_lead):
    occurred = timezone.now() - dt.timedelta(hours=1)
    with authority_scope(kod_lead.authority):
        person = field_services.person_create(user=kod_lead)
        danger = field_services.incident_create(
            user=kod_lead, category=world["categories"]["begging"], occurred_at=occurred,
            lat=INSIDE[0], lon=INSIDE[1],
            measures=[MeasureInput(type="dispersal_order", person_pseudonym=person.pseudonym)],
        )  # fmt: skip
        offence = field_services.incident_create(
            user=kod_lead, category=world["categories"]["begging"], occurred_at=occurred,
            lat=INSIDE[0], lon=INSIDE[1], measures=[MeasureInput(type="offence_report")],
        )  # fmt: skip
        assert records.regime_of(danger) is Regime.GDPR
        assert records.regime_of(danger.measures.get()) is Regime.GDPR
        assert records.regime_of(Person.objects.get(pk=person.pk)) is Regime.GDPR
        assert records.regime_of(offence) is Regime.LAW_ENFORCEMENT
        assert records.regime_of(offence.measures.get()) is Regime.LAW_ENFORCEMENT
    with authority_scope(police_lead.authority):
        police = field_services.incident_create(
            user=police_lead, category=world["categories"]["dealing"], occurred_at=occurred,
            lat=INSIDE[0], lon=INSIDE[1], measures=[MeasureInput(type="dispersal_order")],
        )  # fmt: skip
        assert records.regime_of(police) is Regime.LAW_ENFORCEMENT
        assert records.regime_of(police.measures.get()) is Regime.LAW_ENFORCEMENT
    # The class answers with the type's regime.
    assert records.regime_of(Incident) is Regime.MIXED and records.regime_of(Measure) is Regime.MIXED


def test_document_is_the_register():
    assert document.matches(DOC), "docs/data-protection.md weicht ab: lagebild data-protection-table --write"
    text = DOC.read_text(encoding="utf-8")
    for record_type in RECORD_TYPES:
        assert f"(`{record_type.key}`;" in text
    out = StringIO()
    call_command("data-protection-table", "--check", str(DOC), stdout=out)
    assert "stimmt mit dem Register überein" in out.getvalue()


def test_check_fails_when_someone_edits_the_table(tmp_path):
    copy = tmp_path / "data-protection.md"
    copy.write_text(DOC.read_text(encoding="utf-8").replace("`P2Y`", "`P10Y`", 1), encoding="utf-8")
    with pytest.raises(CommandError, match="weicht vom Register ab"):
        call_command("data-protection-table", "--check", str(copy))
    call_command("data-protection-table", "--write", str(copy), stdout=StringIO())
    assert copy.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ({"vorgang": "P1Y"}, "unbekannter Datensatztyp 'vorgang'"),
        ({"incident": "drei Jahre"}, "keine Dauer nach ISO 8601"),
        ({"incident": "PT12H"}, "keine Dauer nach ISO 8601"),
        ({"analytics_counts": "P1Y"}, "anonym und wird nicht gelöscht"),
        ({"bodycam_recording": "P30D"}, "LAGEBILD_RECORDINGS_RETENTION_DAYS"),
        (["incident"], "muss eine Zuordnung"),
    ],
)
def test_wrong_settings_are_refused_in_german(settings, configured, message):
    settings.LAGEBILD_RETENTION = configured
    with pytest.raises(ImproperlyConfigured, match=message):
        policies.validate_settings()


def test_good_settings_override_defaults(settings):
    settings.LAGEBILD_RETENTION = {"incident": "P3Y", "photo": "P6M", "person": "P26W"}
    assert policies.effective("incident").iso == "P3Y"
    assert policies.effective("photo").iso == "P6M"
    assert policies.effective("person").iso == "P182D"
    assert policies.effective("measure").iso == "P2Y"  # the default
    assert policies.effective("audit_entry").end_of_year  # the type's anchor is kept


def test_start_is_refused_with_a_wrong_setting():
    env = {**os.environ, "LAGEBILD_RETENTION": "incident=drei Jahre"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "lagebild.manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert (
        "Aufbewahrungsfristen fehlerhaft" in result.stderr
        and "LAGEBILD_RETENTION['incident']" in result.stderr
    )


def test_policies_command_shows_the_effective_periods(settings, db):
    settings.LAGEBILD_RETENTION = {"incident": "P3Y"}
    out = StringIO()
    call_command("retention", "policies", stdout=out)
    text = out.getvalue()
    assert "incident                 P3Y (3 Jahre)" in text
    assert "audit_entry              P1Y (1 Jahr, dann zum Jahresende)" in text
    assert "analytics_counts         keine (anonym)" in text


def test_run_command_refuses_bad_options_in_german(db):
    with pytest.raises(CommandError, match="Unbekannte Behörde 'mond'"):
        call_command("retention", "run", "--authority", "mond")
    with pytest.raises(CommandError, match="Unbekannte Datensatztypen: vorgang"):
        call_command("retention", "run", "--type", "vorgang")
    with pytest.raises(CommandError, match="--batch-size muss mindestens 1 sein"):
        call_command("retention", "run", "--batch-size", "0")
