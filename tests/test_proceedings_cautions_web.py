"""Cautions with a fee (§ 56 OWiG) on the web (issue 15, item 2): the field documents the caution on the
incident page and prints its certificate; the Bußgeldstelle lists its authority's cautions and records
the day of payment (within the week: effective, later: not paid in time). Dates are relative to today,
so the tests pass on any date."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.proceedings import services
from lagebild.proceedings.models import Caution

from .bodycam_fixtures import recordings_dir  # noqa: F401  (fixture)
from .conftest import INSIDE


@pytest.fixture
def clerk(make_user, city):
    return make_user("bussgeld", city, Role.PROCEEDINGS)


@pytest.fixture
def police_clerk(make_user, police):
    return make_user("bussgeld-polizei", police, Role.PROCEEDINGS)


def text_of(pdf: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def cautioned_incident(world, user, days_ago: float = 0, category: str = "begging"):
    """An incident of ``user``'s authority with one caution_fee measure (35 € for begging)."""
    with authority_scope(user.authority_id):
        incident = field_services.incident_create(
            user=user,
            category=world["categories"][category],
            occurred_at=timezone.now() - dt.timedelta(days=days_ago, hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=[MeasureInput(type="caution_fee", amount=Decimal("35"))],
        )
        return incident, incident.measures.get()


def give(client, measure, **boxes):
    data = {name: "on" for name, ticked in boxes.items() if ticked}
    return client.post(reverse("proceedings:caution-give", args=[measure.pk]), data)


def cautions():
    with unscoped():
        return list(Caution.objects.order_by("pk"))


def test_field_officer_documents_a_caution_paid_on_the_spot_and_prints_the_certificate(
    client, world, kod, clerk
):
    incident, measure = cautioned_incident(world, kod)
    client.force_login(kod)
    page = client.get(reverse("field:incident-detail", args=[incident.pk])).content.decode()
    assert "Verwarnung dokumentieren" in page and "Über das Weigerungsrecht belehrt" in page

    response = give(client, measure, informed_of_right_to_refuse=True, consented=True, paid_on_spot=True)
    detail = reverse("field:incident-detail", args=[incident.pk])
    assert response.status_code == 302 and response["Location"] == f"{detail}#verwarnung-{measure.pk}"
    (caution,) = cautions()
    # Paid on the spot: on the day the caution was given (before midnight when the test runs after it).
    assert caution.status == Caution.Status.EFFECTIVE
    assert caution.paid_on == timezone.localdate(measure.taken_at)
    assert caution.amount == Decimal("35")

    page = client.get(detail).content.decode()
    assert "Wirksam (bezahlt)" in page and caution.certificate_number in page
    assert caution.pay_by.strftime("%d.%m.%Y") in page
    pdf_url = reverse("proceedings:letter-caution", args=[caution.pk])
    assert pdf_url in page and "Verwarnung dokumentieren" not in page

    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = text_of(pdf.content)
    assert caution.certificate_number in text and "35,00" in text

    # A second post for the same measure is refused at the form, nothing more stored.
    again = give(client, measure, informed_of_right_to_refuse=True, consented=True)
    assert again.status_code == 400 and "schon eine Bescheinigung" in again.content.decode()
    assert len(cautions()) == 1

    # The act is done with (§ 56 Abs. 4 OWiG): no proceedings for the same incident.
    with authority_scope(clerk.authority_id), pytest.raises(ValidationError) as refused:
        services.case_open(
            user=clerk,
            category=world["categories"]["begging"],
            offence_at=incident.occurred_at,
            incident=incident,
        )
    assert "§ 56 Abs. 4 OWiG" in str(refused.value)


def test_refused_consent_is_documented_without_a_certificate(client, world, kod):
    incident, measure = cautioned_incident(world, kod)
    client.force_login(kod)
    response = give(client, measure, informed_of_right_to_refuse=True, consented=False)
    assert response.status_code == 302
    (caution,) = cautions()
    assert caution.status == Caution.Status.REFUSED
    page = client.get(reverse("field:incident-detail", args=[incident.pk])).content.decode()
    assert "Verweigert" in page and "keine Bescheinigung" in page
    pdf_url = reverse("proceedings:letter-caution", args=[caution.pk])
    assert pdf_url not in page
    assert client.get(pdf_url).status_code == 409


def test_not_informed_of_the_right_to_refuse_is_refused_in_german_and_nothing_stored(client, world, kod):
    _, measure = cautioned_incident(world, kod)
    client.force_login(kod)
    response = give(client, measure, consented=True, paid_on_spot=True)
    assert response.status_code == 400
    body = response.content.decode()
    assert "über ihr Weigerungsrecht belehrt werden (§ 56 Abs. 2 OWiG)" in body
    # The form keeps what was ticked.
    assert f'id="id_m{measure.pk}_consented" checked' in body
    assert cautions() == []
    # Paid without consent: refused too.
    response = give(client, measure, informed_of_right_to_refuse=True, paid_on_spot=True)
    assert response.status_code == 400 and "Ohne Einverständnis" in response.content.decode()
    assert cautions() == []


def test_only_recording_roles_of_the_own_authority_document_and_print(
    client, world, kod, polizei, make_user, city, clerk
):
    incident, measure = cautioned_incident(world, kod)
    # A police officer: the city's measure and caution do not exist for them.
    client.force_login(polizei)
    assert give(client, measure, informed_of_right_to_refuse=True, consented=True).status_code == 404
    assert cautions() == []
    # An analyst of the city may read the incident but not document the caution.
    analyst = make_user("analyst", city, Role.ANALYST)
    client.force_login(analyst)
    assert give(client, measure, informed_of_right_to_refuse=True, consented=True).status_code == 403
    page = client.get(reverse("field:incident-detail", args=[incident.pk])).content.decode()
    assert "Verwarnung dokumentieren" not in page
    # The Bußgeldstelle does not record in the field either.
    client.force_login(clerk)
    assert give(client, measure, informed_of_right_to_refuse=True, consented=True).status_code == 403

    client.force_login(kod)
    give(client, measure, informed_of_right_to_refuse=True, consented=True)
    (caution,) = cautions()
    pdf_url = reverse("proceedings:letter-caution", args=[caution.pk])
    client.force_login(polizei)
    assert client.get(pdf_url).status_code == 404
    client.force_login(analyst)
    assert client.get(pdf_url).status_code == 403
    client.force_login(clerk)
    assert client.get(pdf_url).status_code == 200


def test_a_measure_other_than_a_caution_fee_is_refused(client, world, kod):
    with authority_scope(kod.authority_id):
        incident = field_services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=[MeasureInput(type="contact")],
        )
        measure = incident.measures.get()
    client.force_login(kod)
    response = give(client, measure, informed_of_right_to_refuse=True, consented=True)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Nur eine Verwarnung mit Verwarnungsgeld wird so dokumentiert." in page
    assert cautions() == []
    assert client.get(reverse("proceedings:caution-give", args=[measure.pk])).status_code == 405


def test_bussgeldstelle_records_payment_within_the_week_and_after_it(client, world, kod, clerk):
    client.force_login(kod)
    _, recent = cautioned_incident(world, kod, days_ago=2)
    _, old = cautioned_incident(world, kod, days_ago=10)
    _, refused = cautioned_incident(world, kod, days_ago=1)
    give(client, recent, informed_of_right_to_refuse=True, consented=True)
    give(client, old, informed_of_right_to_refuse=True, consented=True)
    give(client, refused, informed_of_right_to_refuse=True)
    recent_c, old_c, refused_c = cautions()
    assert recent_c.status == old_c.status == Caution.Status.OPEN

    client.force_login(clerk)
    listing = client.get(reverse("proceedings:caution-list"))
    assert listing.status_code == 200
    body = listing.content.decode().split("<tbody>", 1)[1]  # not the messages of the field's posts
    # Open ones first, the earliest pay-by date first; their pay-by dates shown; the refused one last.
    positions = [body.index(c.certificate_number) for c in (old_c, recent_c, refused_c)]
    assert positions == sorted(positions)
    assert old_c.pay_by.strftime("%d.%m.%Y") in body and recent_c.pay_by.strftime("%d.%m.%Y") in body
    assert body.count("Zahlung buchen") == 2

    only_refused = client.get(reverse("proceedings:caution-list"), {"stand": "refused"}).content.decode()
    assert refused_c.certificate_number in only_refused and recent_c.certificate_number not in only_refused
    assert client.get(reverse("proceedings:caution-list"), {"stand": "kein-stand"}).status_code == 200

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    paid = client.post(
        reverse("proceedings:caution-paid", args=[recent_c.pk]), {"paid_on": yesterday.strftime("%d.%m.%Y")}
    )
    assert paid.status_code == 302 and paid["Location"] == reverse("proceedings:caution-list")
    late = client.post(
        reverse("proceedings:caution-paid", args=[old_c.pk]),
        {"paid_on": timezone.localdate().strftime("%d.%m.%Y")},
    )
    assert late.status_code == 302
    with unscoped():
        recent_c.refresh_from_db()
        old_c.refresh_from_db()
    assert recent_c.status == Caution.Status.EFFECTIVE and recent_c.paid_on == yesterday
    assert old_c.status == Caution.Status.UNPAID
    assert "nicht fristgerecht" in client.get(reverse("proceedings:caution-list")).content.decode()

    # Not open any more, a date in the future, no date: German message at the field, 400, no change.
    again = client.post(reverse("proceedings:caution-paid", args=[recent_c.pk]), {"paid_on": "01.01.2000"})
    assert again.status_code == 400 and "Die Verwarnung ist „Wirksam (bezahlt)“" in again.content.decode()
    for value, message in (("", "Bitte ein Datum angeben."), ("31.02.2025", "gültiges Datum")):
        _, other = cautioned_incident(world, kod)
        client.force_login(kod)
        give(client, other, informed_of_right_to_refuse=True, consented=True)
        client.force_login(clerk)
        pending = cautions()[-1]
        answer = client.post(reverse("proceedings:caution-paid", args=[pending.pk]), {"paid_on": value})
        assert answer.status_code == 400 and message in answer.content.decode()
    future = (timezone.localdate() + dt.timedelta(days=3)).strftime("%d.%m.%Y")
    answer = client.post(reverse("proceedings:caution-paid", args=[pending.pk]), {"paid_on": future})
    assert answer.status_code == 400 and "außerhalb des möglichen Zeitraums" in answer.content.decode()
    with unscoped():
        pending.refresh_from_db()
    assert pending.status == Caution.Status.OPEN and pending.paid_on is None

    # Only the Bußgeldstelle books payments and sees the list.
    client.force_login(kod)
    assert client.get(reverse("proceedings:caution-list")).status_code == 403
    forbidden = client.post(reverse("proceedings:caution-paid", args=[pending.pk]), {"paid_on": future})
    assert forbidden.status_code == 403


def test_the_list_and_payments_stay_within_the_authority(client, world, kod, polizei, clerk, police_clerk):
    client.force_login(kod)
    _, city_measure = cautioned_incident(world, kod)
    give(client, city_measure, informed_of_right_to_refuse=True, consented=True)
    client.force_login(polizei)
    _, police_measure = cautioned_incident(world, polizei, category="litter")
    give(client, police_measure, informed_of_right_to_refuse=True, consented=True)
    city_c, police_c = cautions()
    assert city_c.authority_id != police_c.authority_id

    for user, own, other in ((clerk, city_c, police_c), (police_clerk, police_c, city_c)):
        client.force_login(user)
        body = client.get(reverse("proceedings:caution-list")).content.decode()
        assert reverse("proceedings:letter-caution", args=[own.pk]) in body
        assert reverse("proceedings:letter-caution", args=[other.pk]) not in body
        assert f"verwarnung-{other.pk}" not in body
        today = timezone.localdate().strftime("%d.%m.%Y")
        other_answer = client.post(reverse("proceedings:caution-paid", args=[other.pk]), {"paid_on": today})
        missing = client.post(
            reverse("proceedings:caution-paid", args=[other.pk + 100000]), {"paid_on": today}
        )
        assert other_answer.status_code == missing.status_code == 404
    with unscoped():
        assert {c.status for c in Caution.objects.all()} == {Caution.Status.OPEN}


def test_security_matrix_for_the_caution_routes(world, make_user, city, police, now, recordings_dir):  # noqa: F811
    """The matrix (tests/test_security_matrix.py) for the caution routes only."""
    from . import security_matrix as _spec  # noqa: F401
    from .test_security_matrix import run_matrix, seed

    only = {
        "bussgeld/massnahmen/<int:pk>/verwarnung/",
        "bussgeld/verwarnungen/",
        "bussgeld/verwarnungen/<int:pk>/bezahlt/",
        "bussgeld/verwarnungen/<int:pk>/bescheinigung.pdf",
    }
    failures, counted, _figures = run_matrix(
        seed(world, make_user, city, police, now), only=only, writes=False
    )
    assert not failures, "\n".join(failures[:50])
    assert counted["requests"] > 0 and counted["not-yours comparisons"] > 0
