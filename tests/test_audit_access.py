"""What the audit log records besides writes: logins, failed logins, logouts and every read of
an incident or measure, with the channel and the client address."""

from __future__ import annotations

import pytest

from lagebild.core.audit_verify import verify
from lagebild.core.models import AuditEvent
from lagebild.core.scoping import authority_scope
from lagebild.field.models import Measure

from .api_support import record, token_client


@pytest.fixture(autouse=True)
def _anchors(tmp_path, settings):
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")


@pytest.fixture
def incident(world, kod, now):
    return record(kod, world["categories"]["begging"], now)


def test_login_is_logged_with_address_and_channel(client, kod):
    response = client.post(
        "/anmelden/", {"username": "kod", "password": "geheim-123"}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.user_id, event.actor_name, event.authority_id) == (
        kod.pk,
        "Kim Ordnung (kod)",
        kod.authority_id,
    )
    assert (event.channel, event.ip) == ("web", "203.0.113.7")
    assert verify().ok


def test_failed_login_keeps_the_name_tried_but_never_the_password(client, kod):
    client.post(
        "/anmelden/", {"username": "kod", "password": "falsch-und-geheim"}, REMOTE_ADDR="198.51.100.4"
    )
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.user_id is None  # nobody logged in
    assert (event.object_type, event.object_id) == ("core.user", str(kod.pk))
    assert event.authority_id == kod.authority_id  # the city's DPO sees attempts on city accounts
    assert event.detail == {"username": "kod"}
    assert event.ip == "198.51.100.4"
    assert "falsch-und-geheim" not in str(AuditEvent.objects.values_list())


def test_failed_login_with_an_unknown_name_stores_no_name(client, kod):
    # People type their password into the name field by mistake.
    client.post("/anmelden/", {"username": "Sommer2026!", "password": "x"})
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.detail == {"username": None, "unknown": True}
    assert event.authority_id is None
    assert "Sommer2026" not in str(AuditEvent.objects.values_list())


def test_logout_is_logged(client, kod):
    client.force_login(kod)
    client.post("/abmelden/")
    assert AuditEvent.objects.filter(action="auth.logout", user_id=kod.pk).count() == 1


def test_incident_detail_page_read_is_logged(client, kod, incident):
    client.force_login(kod)
    response = client.get(f"/feststellungen/{incident.pk}/", REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="field.incident.viewed")
    assert (event.user_id, event.object_type, event.object_id) == (kod.pk, "field.incident", str(incident.pk))
    assert (event.channel, event.ip) == ("web", "192.0.2.10")


def test_reading_another_authoritys_incident_logs_nothing_and_finds_nothing(client, polizei, incident):
    client.force_login(polizei)
    assert client.get(f"/feststellungen/{incident.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="field.incident.viewed").exists()


def test_api_reads_of_incident_and_measure_are_logged(kod, incident):
    api = token_client(kod)
    assert api.get(f"/api/v1/incidents/{incident.pk}/").status_code == 200
    with authority_scope(kod.authority_id):
        measure = Measure.objects.filter(incident_id=incident.pk).first()
    assert api.get(f"/api/v1/measures/{measure.pk}/").status_code == 200
    incident_read = AuditEvent.objects.get(action="field.incident.viewed")
    assert (incident_read.channel, incident_read.object_id) == ("api", str(incident.pk))
    measure_read = AuditEvent.objects.get(action="field.measure.viewed")
    assert (measure_read.object_type, measure_read.object_id) == ("field.measure", str(measure.pk))
    assert verify().ok


def test_forwarded_address_counts_only_behind_a_declared_proxy(client, kod, incident, settings):
    client.force_login(kod)
    settings.LAGEBILD_TRUSTED_PROXY = ""
    client.get(f"/feststellungen/{incident.pk}/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
    settings.LAGEBILD_TRUSTED_PROXY = "1"
    client.get(
        f"/feststellungen/{incident.pk}/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9",
    )
    addresses = list(
        AuditEvent.objects.filter(action="field.incident.viewed").order_by("seq").values_list("ip", flat=True)
    )
    # Without a proxy the header is the client's word; behind it, the address the proxy added.
    assert addresses == ["10.0.0.2", "198.51.100.9"]


def test_anonymous_citizen_leaves_no_address_in_the_log(rf, kod):
    from lagebild.core import audit

    request = rf.post("/melden/", REMOTE_ADDR="203.0.113.99")
    entry = audit.log("citizen.report.created", object_type="citizen.report", object_id=1, request=request)
    assert (entry.channel, entry.ip) == ("web", "")
    staff = audit.log(
        "field.incident.viewed", user=kod, object_type="field.incident", object_id=1, request=request
    )
    assert staff.ip == "203.0.113.99"
