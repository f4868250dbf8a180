"""API tokens: hashed, shown once, expiring, revocable, never someone else's; the command."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from lagebild.accounts.models import ApiToken
from lagebild.accounts.tokens import token_create
from lagebild.core.models import AuditEvent, User

from .api_support import incident_payload, record

PAGE = "/konto/api-tokens/"


def _api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _all_column_values() -> str:
    return repr(list(ApiToken.objects.values_list()))


def test_a_token_made_on_the_page_is_shown_once_and_stored_hashed(world, kod, now):
    record(kod, world["categories"]["begging"], now)
    client = _page_client(kod)

    response = client.post(PAGE, {"name": "Leitstelle", "days": "30"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'id="token-key">([0-9a-f]{40})<', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=kod)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in _all_column_values()
    assert token.prefix == key[:8]
    assert token.expires_at - token.created_at == dt.timedelta(days=30)

    listing = client.get(PAGE).content.decode()
    assert key not in listing and f"{key[:8]}…" in listing and "Leitstelle" in listing

    assert _api(key).get("/api/v1/incidents/").json()["count"] == 1
    token.refresh_from_db()
    assert token.last_used_at is not None

    event = AuditEvent.objects.get(action="accounts.api_token.created")
    assert event.user == kod and key not in repr(event.detail)


def test_the_page_refuses_a_validity_beyond_the_maximum(kod, settings):
    settings.LAGEBILD_API_TOKEN_MAX_DAYS = 100
    response = _page_client(kod).post(PAGE, {"name": "Zu lang", "days": "101"})
    assert response.status_code == 400
    assert "Höchstens 100 Tage." in response.content.decode()
    assert not ApiToken.objects.exists()
    response = _page_client(kod).post(PAGE, {"name": "", "days": "abc"})
    assert response.status_code == 400
    assert "Bitte geben Sie eine Bezeichnung ein." in response.content.decode()


def test_default_validity_is_ninety_days(kod):
    token = token_create(user=kod, name="x").token
    assert token.expires_at - token.created_at == dt.timedelta(days=90)


def test_an_expired_token_gets_a_structured_401(world, kod, clock):
    created = token_create(user=kod, name="Kurz", days=1)
    client = _api(created.key)
    clock.shift(dt.timedelta(hours=23))
    assert client.get("/api/v1/incidents/").status_code == 200

    clock.shift(dt.timedelta(hours=2))
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Dieser Token ist abgelaufen. Bitte legen Sie einen neuen an.",
        "code": "token_expired",
    }


def test_a_revoked_token_gets_a_structured_401(world, kod):
    created = token_create(user=kod, name="Weg")
    client = _api(created.key)
    assert client.get("/api/v1/incidents/").status_code == 200

    page = _page_client(kod)
    response = page.post(f"{PAGE}{created.token.pk}/widerrufen/", follow=True)
    assert "ist widerrufen" in response.content.decode()

    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert AuditEvent.objects.filter(action="accounts.api_token.revoked", user=kod).count() == 1
    # Revoking twice changes nothing and logs nothing.
    page.post(f"{PAGE}{created.token.pk}/widerrufen/")
    assert AuditEvent.objects.filter(action="accounts.api_token.revoked").count() == 1


def test_unknown_or_altered_tokens_get_401(world, kod):
    created = token_create(user=kod, name="x")
    altered = created.key[:-1] + ("0" if created.key[-1] != "0" else "1")
    for key in (altered, created.key.upper(), "0" * 40):
        response = _api(key).get("/api/v1/incidents/")
        assert response.status_code == 401
        assert response.json() == {"detail": "Ungültiger Token.", "code": "token_invalid"}


def test_revoking_another_users_token_answers_like_a_missing_one(kod, polizei):
    police_token = token_create(user=polizei, name="Polizei")
    response = _page_client(kod).post(f"{PAGE}{police_token.token.pk}/widerrufen/")
    assert response.status_code == 404
    missing = _page_client(kod).post(f"{PAGE}999999/widerrufen/")
    assert missing.status_code == 404
    assert ApiToken.objects.get(pk=police_token.token.pk).revoked_at is None
    assert "Polizei" not in _page_client(kod).get(PAGE).content.decode()


def test_a_police_token_never_acts_as_someone_else(world, kod, polizei, now):
    city_record = record(kod, world["categories"]["begging"], now)
    police_record = record(polizei, world["categories"]["begging"], now)
    police_key = token_create(user=polizei, name="Polizei").key
    city_key = token_create(user=kod, name="Stadt").key

    police = _api(police_key)
    seen = {row["id"] for row in police.get("/api/v1/incidents/").json()["results"]}
    assert seen == {police_record.pk}
    assert police.get(f"/api/v1/incidents/{city_record.pk}/").status_code == 404

    created = police.post("/api/v1/incidents/", incident_payload(now), format="json")
    assert created.status_code == 201, created.content
    from lagebild.core.scoping import unscoped
    from lagebild.field.models import Incident

    with unscoped():
        incident = Incident.objects.get(pk=created.json()["id"])
    assert incident.authority_id == polizei.authority_id

    city = _api(city_key)
    assert {row["id"] for row in city.get("/api/v1/incidents/").json()["results"]} == {city_record.pk}
    # The two keys share no prefix-based shortcut: the police key with the city's prefix fails.
    spliced = city_key[:8] + police_key[8:]
    assert _api(spliced).get("/api/v1/incidents/").status_code == 401


def test_a_deactivated_users_token_stops_working(world, kod):
    client = _api(token_create(user=kod, name="x").key)
    kod.is_active = False
    kod.save()
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_drf_authtoken_is_gone_from_the_admin(kod_admin):
    client = Client()
    kod_admin.is_superuser = True
    kod_admin.save()
    client.force_login(kod_admin)
    index = client.get("/admin/").content.decode()
    assert "authtoken" not in index and "Token" not in index
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


# --- the command ----------------------------------------------------------------------------


def _command(*args: str) -> str:
    out = StringIO()
    call_command("api-token", *args, stdout=out)
    return out.getvalue()


def test_command_creates_lists_and_revokes(world, kod):
    key = _command("kod", "--name", "Import", "--days", "7").strip()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert _api(key).get("/api/v1/incidents/").status_code == 200

    listing = _command("kod", "--list")
    assert f"{key[:8]}…\tImport" in listing and "gültig" in listing and key not in listing

    assert "widerrufen" in _command("kod", "--revoke", key[:8])
    assert _api(key).get("/api/v1/incidents/").status_code == 401
    assert "\twiderrufen" in _command("kod", "--list")
    with pytest.raises(CommandError, match="keinen Token"):
        _command("kod", "--revoke", "ffffffff")
    with pytest.raises(CommandError, match="zwischen 1 und"):
        _command("kod", "--days", "100000")


def test_command_cannot_revoke_another_users_token(kod, polizei):
    police = token_create(user=polizei, name="Polizei")
    with pytest.raises(CommandError, match="keinen Token"):
        _command("kod", "--revoke", str(police.token.pk))


# --- DRF's old tokens -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_legacy_drf_tokens_are_hashed_and_deleted(kod):
    import importlib

    migration = importlib.import_module("lagebild.accounts.migrations.0002_hash_drf_tokens")
    legacy_key = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamp)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            [legacy_key, kod.pk, "2026-01-02 03:04:05"],
        )

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    migration.hash_legacy_tokens(apps, editor)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    token = ApiToken.objects.get(user=kod)
    assert token.prefix == "aaaaaaaa" and token.created_at.year == 2026
    assert legacy_key not in _all_column_values()
