"""Idempotent writes (issue 14, point 3): a retried write with the same key creates nothing new.

API POSTs that create records take an ``Idempotency-Key`` header, Open311 posts too, and the
field entry form carries a key per form shown, so a double tap or a browser's retry never
records an incident twice. Keys belong to one user (or Open311 client): the other authority's
user sending the same key neither gets the first answer nor is refused.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from lagebild.citizen.models import Report
from lagebild.core import idempotency
from lagebild.core.models import IdempotencyKey
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident, Measure, Shift

from .api_support import incident_payload, record, token_client
from .citizen_fixtures import *  # noqa: F403
from .test_web_field import entry_data, plain_static_storage  # noqa: F401  (autouse fixture)

URL = "/api/v1/incidents/"
HEADER = "HTTP_IDEMPOTENCY_KEY"


def incident_count() -> int:
    with unscoped():
        return Incident.objects.count()


# --- API --------------------------------------------------------------------------------------


def test_same_key_and_body_answers_the_first_response_again_and_creates_nothing(world, kod, now):
    client = token_client(kod)
    payload = incident_payload(now)

    first = client.post(URL, payload, format="json", **{HEADER: "erfassung-0001"})
    again = client.post(URL, payload, format="json", **{HEADER: "erfassung-0001"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert incident_count() == 1
    with unscoped():
        assert Measure.objects.count() == 2


def test_same_key_with_another_body_is_refused_in_german(world, kod, now):
    client = token_client(kod)
    client.post(URL, incident_payload(now), format="json", **{HEADER: "k-1"})

    other = client.post(
        URL, incident_payload(now, description="Andere Person"), format="json", **{HEADER: "k-1"}
    )

    assert other.status_code == 422
    assert other.json()["detail"].startswith("Dieser Idempotency-Key wurde bereits für eine andere Anfrage")
    assert incident_count() == 1


def test_other_authority_with_the_same_key_gets_its_own_record_not_the_first_answer(world, kod, polizei, now):
    payload = incident_payload(now)
    city = token_client(kod).post(URL, payload, format="json", **{HEADER: "gemeinsamer-schluessel"})

    police = token_client(polizei).post(URL, payload, format="json", **{HEADER: "gemeinsamer-schluessel"})

    assert city.status_code == police.status_code == 201
    assert "Idempotent-Replayed" not in police
    assert police.json()["id"] != city.json()["id"]
    assert police.json()["authority"] == "polizei" and city.json()["authority"] == "stadt"
    assert incident_count() == 2
    # And the police's retry replays the police's answer, not the city's.
    retry = token_client(polizei).post(URL, payload, format="json", **{HEADER: "gemeinsamer-schluessel"})
    assert retry.json()["id"] == police.json()["id"] and retry["Idempotent-Replayed"] == "true"


def test_a_refused_request_frees_its_key_for_the_corrected_retry(world, kod, now):
    client = token_client(kod)

    refused = client.post(URL, incident_payload(now, lat=52.52, lon=13.405), format="json", **{HEADER: "k-2"})
    corrected = client.post(URL, incident_payload(now), format="json", **{HEADER: "k-2"})

    assert refused.status_code == 400 and incident_count() == 1
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected


def test_malformed_key_is_refused_with_a_field_message(world, kod, now):
    response = token_client(kod).post(
        URL, incident_payload(now), format="json", **{HEADER: "mit leerzeichen"}
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert incident_count() == 0


def test_a_request_still_in_flight_answers_409(world, kod, now):
    client = token_client(kod)
    payload = incident_payload(now)
    # The body the client sends for this payload (this post has no key: an ordinary record).
    body = client.post(URL, payload, format="json").wsgi_request.body
    scope = f"user:{kod.pk}"
    claim = idempotency.claim(
        scope=scope,
        key="k-3",
        request_fingerprint=idempotency.fingerprint(method="POST", path=URL, body=body, scope=scope),
    )
    assert claim.outcome is idempotency.Outcome.CLAIMED

    response = client.post(URL, payload, format="json", **{HEADER: "k-3"})

    assert response.status_code == 409
    assert "noch bearbeitet" in response.json()["detail"]
    assert incident_count() == 1


def test_keys_expire_after_a_day(world, kod, now, clock):
    client = token_client(kod)
    payload = incident_payload(now)
    client.post(URL, payload, format="json", **{HEADER: "k-4"})

    clock.shift(dt.timedelta(hours=25))
    fresh = token_client(kod)
    again = fresh.post(URL, payload, format="json", **{HEADER: "k-4"})

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert incident_count() == 2
    clock.shift(dt.timedelta(hours=25))
    assert idempotency.purge_expired() == 1 and not IdempotencyKey.objects.exists()


def test_measure_shift_and_patrol_posts_are_idempotent(world, kod, kod_lead, polizei, now):
    incident = record(kod, world["categories"]["begging"], now)
    client = token_client(kod)
    measure_url = f"{URL}{incident.pk}/measures/"
    first = client.post(measure_url, {"type": "offence_report"}, format="json", **{HEADER: "m-1"})
    again = client.post(measure_url, {"type": "offence_report"}, format="json", **{HEADER: "m-1"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    with unscoped():
        assert Measure.objects.filter(incident=incident).count() == 2
    # The other authority cannot see the incident: its key changes nothing about that.
    hidden = token_client(polizei).post(
        measure_url, {"type": "offence_report"}, format="json", **{HEADER: "m-1"}
    )
    assert hidden.status_code == 404

    lead = token_client(kod_lead)
    day = str(timezone.localdate() + dt.timedelta(days=2))
    shift = {"date": day, "kind": "night", "lead": kod_lead.pk}
    shift_first = lead.post("/api/v1/shifts/", shift, format="json", **{HEADER: "s-1"})
    shift_again = lead.post("/api/v1/shifts/", shift, format="json", **{HEADER: "s-1"})
    assert shift_first.status_code == shift_again.status_code == 201
    assert shift_again.json() == shift_first.json() and shift_again["Idempotent-Replayed"] == "true"
    with unscoped():
        assert Shift.objects.filter(date=day).count() == 1

    patrol = {"shift": shift_first.json()["id"], "name": "Streife Nord", "members": [kod.pk]}
    patrol_first = lead.post("/api/v1/patrols/", patrol, format="json", **{HEADER: "p-1"})
    patrol_again = lead.post("/api/v1/patrols/", patrol, format="json", **{HEADER: "p-1"})
    assert patrol_first.status_code == 201, patrol_first.json()
    assert patrol_again.json()["id"] == patrol_first.json()["id"]


def test_schema_documents_the_header_on_creating_operations(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/measures/",
        "/api/v1/shifts/",
        "/api/v1/patrols/",
    ):
        operation = schema["paths"][path]["post"]
        names = {
            parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"
        }
        assert "Idempotency-Key" in names, path
        assert {"409", "422"} <= set(operation["responses"]), path


# --- Open311 ----------------------------------------------------------------------------------


def open311_post(client, key: str | None, api_key: str = "test-key", **fields):
    data = {"api_key": api_key, "service_code": "muell", "lat": "51.5147", "long": "7.4636", **fields}
    extra = {HEADER: key} if key else {}
    return client.post("/open311/v2/requests.json", data, **extra)


def test_open311_post_with_the_same_key_creates_one_report(client, services, api_client_key):
    from lagebild.citizen.models import ApiClient

    first = open311_post(client, "o-1", description="Müll am Platz")
    again = open311_post(client, "o-1", description="Müll am Platz")
    other_body = open311_post(client, "o-1", description="Anderer Müll")
    ApiClient.objects.create(name="Andere App", api_key="other-key")
    other_client = open311_post(client, "o-1", api_key="other-key", description="Müll am Platz")

    assert first.status_code == again.status_code == 200, first.content
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    assert "andere Anfrage" in other_body.json()[0]["description"]
    assert other_client.status_code == 200 and other_client.content != first.content
    with unscoped():
        assert Report.objects.count() == 2


# --- field entry form -------------------------------------------------------------------------


def test_entry_form_posted_twice_saves_one_incident(client, world, kod, polizei):
    client.force_login(kod)
    form = client.get(reverse("field:incident-create"))
    key = form.context["entry_key"]
    assert f'name="entry_key" value="{key}"' in form.content.decode()
    data = entry_data(world["categories"]["begging"], entry_key=key)

    first = client.post(reverse("field:incident-create"), data)
    second = client.post(reverse("field:incident-create"), data, follow=True)

    assert first.status_code == 302 and incident_count() == 1
    with unscoped():
        incident = Incident.objects.get()
    assert first["Location"] == reverse("field:incident-detail", kwargs={"pk": incident.pk})
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "Bereits gespeichert" in second.content.decode()
    # A new form has a new key.
    assert client.get(reverse("field:incident-create")).context["entry_key"] != key

    # The police officer posting a form with the same key records their own incident.
    client.force_login(polizei)
    police = client.post(reverse("field:incident-create"), data)
    assert police.status_code == 302 and police["Location"] != first["Location"]
    assert incident_count() == 2


def test_entry_form_with_errors_keeps_its_key_and_saves_once_corrected(client, world, kod):
    client.force_login(kod)
    key = client.get(reverse("field:incident-create")).context["entry_key"]
    data = entry_data(world["categories"]["begging"], entry_key=key)

    wrong = client.post(reverse("field:incident-create"), {**data, "lat": "52.52", "lon": "13.405"})
    corrected = client.post(reverse("field:incident-create"), data)

    assert wrong.status_code == 200 and wrong.context["entry_key"] == key
    assert corrected.status_code == 302 and incident_count() == 1


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_incident(world, kod, now):
    clients = [token_client(kod) for _ in range(4)]
    payload = incident_payload(now)
    start = threading.Barrier(len(clients))
    answers: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def post(client) -> None:
        try:
            start.wait()
            response = client.post(URL, payload, format="json", **{HEADER: "gleichzeitig"})
            answers.append((response.status_code, response.has_header("Idempotent-Replayed")))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert incident_count() == 1
    fresh = [code for code, replayed in answers if code == 201 and not replayed]
    assert len(fresh) == 1
    assert all(code in (201, 409) for code, _ in answers)
