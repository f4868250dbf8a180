"""Session limits (absolute and idle), cookie flags, password policy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from lagebild.accounts.sessionlimits import LOGIN_AT

PASSWORD = "geheim-123"

pytestmark = pytest.mark.usefixtures("session_limits_on")


def _logged_in(username: str) -> Client:
    client = Client()
    assert client.post("/anmelden/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_idle_session_ends_after_thirty_minutes(kod, clock):
    client = _logged_in("kod")
    clock.shift(dt.timedelta(minutes=29))
    assert client.get("/feststellungen/").status_code == 200  # activity restarts the idle time
    clock.shift(dt.timedelta(minutes=29))
    assert client.get("/feststellungen/").status_code == 200

    clock.shift(dt.timedelta(minutes=31))
    response = client.get("/feststellungen/")
    assert response.status_code == 302
    assert response["Location"] == "/anmelden/?next=%2Ffeststellungen%2F"
    page = client.get(response["Location"]).content.decode()
    assert "nach 30 Minuten ohne Aktivität abgemeldet" in page
    assert client.get("/feststellungen/").status_code == 302  # really logged out


def test_idle_timeout_is_configurable(kod, clock, settings):
    settings.LAGEBILD_SESSION_IDLE_MINUTES = 5
    client = _logged_in("kod")
    clock.shift(dt.timedelta(minutes=6))
    assert client.get("/").status_code == 302


def test_active_session_ends_twelve_hours_after_login(kod, clock):
    client = _logged_in("kod")
    for _ in range(24):  # a busy shift: a click every 29 minutes
        clock.shift(dt.timedelta(minutes=29))
        if client.get("/feststellungen/").status_code != 200:
            break
    # 24 × 29 min = 11 h 36 min: still in; the next click after 12 h is not.
    assert client.get("/feststellungen/").status_code == 200
    clock.shift(dt.timedelta(minutes=25))
    response = client.get("/feststellungen/")
    assert response.status_code == 302
    assert "Ihre Sitzung ist abgelaufen" in client.get(response["Location"]).content.decode()


def test_api_session_gets_a_structured_401(world, kod, clock):
    client = _logged_in("kod")
    assert client.get("/api/v1/incidents/").status_code == 200
    clock.shift(dt.timedelta(minutes=31))
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["code"] == "session_idle"
    assert "abgemeldet" in response.json()["detail"]


def test_htmx_request_of_an_expired_session_redirects_the_whole_page(kod, clock):
    client = _logged_in("kod")
    clock.shift(dt.timedelta(hours=1))
    response = client.get("/feststellungen/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/anmelden/"


def test_a_session_without_login_instant_counts_as_expired(kod):
    client = _logged_in("kod")
    session = client.session
    del session[LOGIN_AT]
    session.save()
    assert client.get("/").status_code == 302


def test_cookies_are_http_only_and_same_site(kod):
    client = Client()
    client.get("/anmelden/")
    response = client.post("/anmelden/", {"username": "kod", "password": PASSWORD})
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["httponly"] and session_cookie["samesite"] == "Lax"


def test_production_cookies_are_secure(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("LAGEBILD_")} | {
        "LAGEBILD_VAR_DIR": str(tmp_path),
        "LAGEBILD_SECRET_KEY": "x" * 60,
    }
    code = (
        "import lagebild.settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SESSION_COOKIE_AGE)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "Lax", str(12 * 3600)]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kurz-1", "mindestens 12 Zeichen"),
        ("123456789012345", "komplett numerisch"),
        ("qwerty123456", "zu üblich"),
    ],
)
def test_password_policy_speaks_german(kod, password, message):
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user=kod)
    assert any(message in text for text in caught.value.messages), caught.value.messages


def test_a_long_uncommon_password_passes(kod):
    validate_password("Streife am Wallring 2027!", user=kod)
