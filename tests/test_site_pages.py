"""Error pages and favicon of the whole site (issue 11, point 7): German pages for unknown
addresses also with DEBUG on (``make demo``), German pages for expired forms and bad requests,
and a favicon every page links."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone

from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.measures import MeasureInput

from .conftest import INSIDE


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def city_incident(world, kod):
    with authority_scope(kod.authority_id):
        return services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            description="Nur für die Stadt",
            measures=[MeasureInput(type="dispersal_order")],
        )


def is_german_not_found(response) -> bool:
    text = response.content.decode()
    return (
        response.status_code == 404
        and '<html lang="de">' in text
        and "Seite nicht gefunden" in text
        and "URLconf" not in text
        and "Page not found" not in text
    )


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_address_gets_the_german_404_page(client, db, settings, debug):
    settings.DEBUG = debug
    response = client.get("/gibt-es-nicht/")
    assert is_german_not_found(response)
    text = response.content.decode()
    assert "/gibt-es-nicht/" in text and "Hinweis an das Ordnungsamt melden" in text
    # The API answers its unknown addresses itself, in JSON for programs, in both modes.
    api = client.get("/api/v1/gibt-es-nicht/")
    assert api.status_code == 404 and api["Content-Type"] == "application/json"


@pytest.mark.parametrize("debug", [True, False])
def test_address_without_its_slash_is_still_redirected(client, db, settings, debug):
    settings.DEBUG = debug
    response = client.get("/feststellungen")
    assert response.status_code == 301 and response["Location"] == "/feststellungen/"


@pytest.mark.parametrize("debug", [True, False])
def test_partner_authority_record_is_a_german_404_for_the_police_only(
    client, city_incident, kod, polizei, settings, debug
):
    settings.DEBUG = debug
    url = reverse("field:incident-detail", args=[city_incident.pk])
    client.force_login(polizei)
    response = client.get(url)
    assert is_german_not_found(response)
    assert "Nur für die Stadt" not in response.content.decode()
    assert "für Ihre Behörde nicht sichtbar" in response.content.decode()
    client.force_login(kod)
    assert client.get(url).status_code == 200


def test_expired_form_gets_a_german_page(db, kod):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(kod)
    response = strict.post(reverse("field:incident-create"), {"category": ""})
    text = response.content.decode()
    assert response.status_code == 403
    assert "Formular abgelaufen" in text and "nicht gespeichert" in text
    assert "CSRF verification failed" not in text


def test_favicon_is_linked_and_served(client, world, kod):
    client.force_login(kod)
    page = client.get(reverse("field:overview")).content.decode()
    assert '<link rel="icon" href="/static/lagebild/img/favicon.svg" type="image/svg+xml">' in page
    assert 'href="/static/lagebild/img/favicon-32.png"' in page
    assert '<link rel="icon"' in client.get("/gibt-es-nicht/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/lagebild/img/favicon.ico"


def _fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("Absturz im Test")


# Used as ROOT_URLCONF by the test below only: a page that fails, as a bug in a view would.
urlpatterns = [path("absturz/", _fails)]


def test_server_error_gets_the_german_page_without_details(db, settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/absturz/")
    text = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="de">' in text and "Interner Fehler" in text
    assert "Ihre Eingabe wurde möglicherweise nicht gespeichert" in text
    assert "Absturz im Test" not in text and "Traceback" not in text and "Server Error" not in text
