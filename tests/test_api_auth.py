"""API v1: authentication, the api-token command, schema and documentation pages."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from lagebild.accounts.models import ApiToken
from lagebild.core.scoping import current_scope

from .api_support import incident_payload, record, token_client


def _command_token(username: str, *args: str) -> str:
    out = StringIO()
    call_command("api-token", username, *args, stdout=out)
    return out.getvalue().strip()


# --- authentication -------------------------------------------------------------------------


def test_unauthenticated_requests_get_401_with_challenge(world):
    client = APIClient()
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"]  # German text from DRF's translations
    assert client.post("/api/v1/incidents/", {}, format="json").status_code == 401


def test_wrong_token_gets_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Ungültiger Token."


def test_deactivated_user_token_gets_401(world, kod):
    client = token_client(kod)
    kod.is_active = False
    kod.save()
    assert client.get("/api/v1/incidents/").status_code == 401


def test_session_login_works_too(world, kod, polizei, now):
    city_only = record(kod, world["categories"]["begging"], now)
    client = APIClient()
    client.force_login(polizei)
    assert client.get("/api/v1/incidents/").json()["count"] == 0
    assert client.get(f"/api/v1/incidents/{city_only.pk}/").status_code == 404
    client.force_login(kod)
    assert client.get(f"/api/v1/incidents/{city_only.pk}/").status_code == 200


def test_session_writes_need_csrf(world, kod, now):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(kod)
    response = client.post("/api/v1/incidents/", incident_payload(now), format="json")
    assert response.status_code == 403


def test_scope_does_not_outlive_the_request(world, kod, now):
    record(kod, world["categories"]["begging"], now)
    client = token_client(kod)
    assert client.get("/api/v1/incidents/").json()["count"] == 1
    assert client.post("/api/v1/incidents/", {"lat": "x"}, format="json").status_code == 400
    assert current_scope() is None


# --- api-token command ----------------------------------------------------------------------


def test_api_token_command_prints_a_working_token(world, kod, now):
    record(kod, world["categories"]["begging"], now)
    key = _command_token("kod")

    assert re.fullmatch(r"[0-9a-f]{40}", key)
    second = _command_token("kod")  # a second token: the first cannot be shown again
    assert second != key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/incidents/").json()["count"] == 1

    new_key = _command_token("kod", "--reset")
    assert new_key != key
    assert client.get("/api/v1/incidents/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new_key}")
    assert client.get("/api/v1/incidents/").status_code == 200
    usable = [token for token in ApiToken.objects.filter(user=kod) if token.is_usable()]
    assert len(usable) == 1  # --reset revoked the earlier two


def test_api_token_command_rejects_unknown_and_inactive_users(world, kod):
    with pytest.raises(CommandError, match="Benutzer 'niemand' ist unbekannt"):
        _command_token("niemand")
    kod.is_active = False
    kod.save()
    with pytest.raises(CommandError, match="deaktiviert"):
        _command_token("kod")


# --- errors of the protocol -----------------------------------------------------------------


def test_malformed_json_is_400(world, kod):
    client = token_client(kod)
    response = client.post("/api/v1/incidents/", '{"category": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_form_encoded_bodies_are_415(world, kod):
    response = token_client(kod).post("/api/v1/incidents/", {"category": "x"})
    assert response.status_code == 415


def test_wrong_methods_are_405(world, kod, now):
    incident = record(kod, world["categories"]["begging"], now)
    client = token_client(kod)
    url = f"/api/v1/incidents/{incident.pk}/"
    assert client.delete(url).status_code == 405
    assert client.put(url, {}, format="json").status_code == 405
    assert client.patch(url, {}, format="json").status_code == 405
    assert client.get(f"/api/v1/patrols/{incident.pk}/start/").status_code == 405
    assert client.options("/api/v1/incidents/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/incidents/abc/", "/api/v1/incidents/99999999999999999999999/"])
def test_unknown_ids_are_404(world, kod, path):
    assert token_client(kod).get(path).status_code == 404


# --- schema and documentation ---------------------------------------------------------------


def test_schema_is_valid_openapi_3(world):
    client = APIClient()
    as_yaml = client.get("/api/schema/")
    as_json = client.get("/api/schema/", {"format": "json"})

    assert as_yaml.status_code == 200 and as_json.status_code == 200
    schema = json.loads(as_json.content)
    assert schema == yaml.safe_load(as_yaml.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    assert {"/api/v1/incidents/", "/api/v1/incidents/{id}/measures/", "/api/v1/patrols/{id}/start/"} <= set(
        schema["paths"]
    )
    create = schema["paths"]["/api/v1/incidents/"]["post"]
    assert create["summary"] == "Feststellung mit Maßnahmen erfassen"
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.fixture
def plain_static_storage(settings):
    """Without collectstatic there is no manifest; plain storage resolves the same paths."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_work_offline(db, plain_static_storage, path):
    response = APIClient().get(path)
    html = response.content.decode()

    assert response.status_code == 200
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "external URL in the docs page"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        if asset.startswith(path + "?"):
            # Swagger UI's start script, served by the page's own URL (no inline script: CSP).
            script = APIClient().get(asset.replace("&amp;", "&")).content.decode()
            assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", script), asset
            continue
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset


def test_swagger_ui_has_the_online_validator_switched_off(db, plain_static_storage):
    script = APIClient().get("/api/docs/?script=").content.decode()
    assert '"validatorUrl": null' in script


def test_api_root_lists_the_endpoints(world, kod):
    body = token_client(kod).get("/api/v1/").json()
    assert set(body) == {
        "incidents",
        "measures",
        "patrols",
        "shifts",
        "areas",
        "categories",
        "taskforce/groups",
        "taskforce/goals",
        "taskforce/milestones",
        "taskforce/recommendations",
        "taskforce/meetings",
        "proceedings/cases",
    }


@pytest.mark.parametrize("path", ["/api/v2/incidents/", "/api/v1/incidents", "/api/v1/unbekannt/"])
def test_unknown_api_paths_answer_json_404(world, kod, path):
    response = token_client(kod).post(path, {}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("Nicht gefunden.")
    if not path.endswith("/"):
        assert "Schrägstrich" in response.json()["detail"]
