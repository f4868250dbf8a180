"""Two-factor login (TOTP with django-otp): enrolment, login, recovery codes, enforcement."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lagebild.accounts.twofactor import recovery_codes_replace
from lagebild.core.models import AuditEvent

SETUP = "/konto/zwei-faktor/einrichten/"
VERIFY = "/konto/zwei-faktor/"
PASSWORD = "geheim-123"

pytestmark = pytest.mark.usefixtures("two_factor_on")


def _code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    value = totp(
        device.bin_key, step=device.step, t0=device.t0 - steps_ahead * device.step, digits=device.digits
    )
    return f"{value:0{device.digits}d}"


def _password_login(username: str, **extra) -> Client:  # type: ignore[no-untyped-def]
    client = Client(**extra)
    response = client.post("/anmelden/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def _enrolled(user) -> tuple[TOTPDevice, list[str]]:  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.create(user=user, name="Authenticator-App", confirmed=True)
    return device, recovery_codes_replace(user)


def _verified_client(user, clock) -> Client:  # type: ignore[no-untyped-def]
    device, _ = _enrolled(user)
    client = _password_login(user.username)
    assert client.post(VERIFY, {"code": _code(device)}).status_code == 302
    clock.shift(dt.timedelta(seconds=31))  # the next code is a new one (a code is good once)
    return client


# --- enrolment ----------------------------------------------------------------------------


def test_first_login_leads_through_enrolment(kod, clock):
    client = _password_login("kod")

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2F"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "no-store" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=kod, confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert len(secret.replace(" ", "")) == 32

    wrong = client.post(SETUP, {"code": "000000" if _code(device) != "000000" else "111111", "next": "/"})
    assert wrong.status_code == 400
    assert "Der Code stimmt nicht" in wrong.content.decode()
    assert secret in wrong.content.decode()  # same device until confirmed

    clock.shift(dt.timedelta(seconds=3))  # django-otp waits a moment after a wrong code
    done = client.post(SETUP, {"code": _code(device), "next": "/"})
    assert done.status_code == 200
    codes = re.findall(
        r"<code>([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})</code>", done.content.decode()
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "no-store" in done["Cache-Control"]

    # Recovery codes are kept only as hashes.
    stored = set(StaticToken.objects.filter(device__user=kod).values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & {code.replace("-", "") for code in codes} and not stored & set(codes)

    assert client.get("/").status_code == 200
    # The secret is never shown again: the setup page sends a finished user on.
    assert client.get(SETUP).status_code == 302
    assert TOTPDevice.objects.get(user=kod).confirmed
    assert AuditEvent.objects.filter(action="accounts.two_factor.enrolled", user=kod).count() == 1


def test_reloading_the_setup_page_makes_a_new_secret(kod):
    client = _password_login("kod")
    first = client.get(SETUP).content.decode()
    second = client.get(SETUP).content.decode()
    secret = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
    assert secret.search(first).group(1) != secret.search(second).group(1)
    assert TOTPDevice.objects.filter(user=kod).count() == 1


def test_a_password_alone_cannot_replace_an_enrolled_device(kod):
    _enrolled(kod)
    client = _password_login("kod")
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=kod).count() == 1


# --- login with the second factor ---------------------------------------------------------


def test_login_with_a_totp_code(kod, clock):
    device, _ = _enrolled(kod)
    client = _password_login("kod")
    response = client.get("/feststellungen/")
    assert response.status_code == 302 and response["Location"] == f"{VERIFY}?next=%2Ffeststellungen%2F"

    assert client.post(VERIFY, {"code": "12345", "next": "/feststellungen/"}).status_code == 400
    clock.shift(dt.timedelta(seconds=3))
    response = client.post(VERIFY, {"code": _code(device), "next": "/feststellungen/"})
    assert response.status_code == 302 and response["Location"] == "/feststellungen/"
    assert client.get("/feststellungen/").status_code == 200


def test_a_totp_code_is_good_only_once(kod, clock):
    device, _ = _enrolled(kod)
    code = _code(device)
    assert _password_login("kod").post(VERIFY, {"code": code}).status_code == 302
    clock.shift(dt.timedelta(seconds=2))
    assert _password_login("kod").post(VERIFY, {"code": code}).status_code == 400


def test_wrong_codes_are_throttled(kod, clock):
    device, _ = _enrolled(kod)
    client = _password_login("kod")
    wrong = "000000" if _code(device) != "000000" else "111111"
    assert client.post(VERIFY, {"code": wrong}).status_code == 400
    response = client.post(VERIFY, {"code": _code(device)})  # right, but too soon
    assert response.status_code == 429
    assert "Zu viele falsche Codes" in response.content.decode()
    clock.shift(dt.timedelta(seconds=3))
    assert client.post(VERIFY, {"code": _code(device)}).status_code == 302


def test_next_never_leads_off_the_site(kod):
    device, _ = _enrolled(kod)
    client = _password_login("kod")
    response = client.post(VERIFY, {"code": _code(device), "next": "https://example.org/"})
    assert response["Location"] == "/"


def test_a_recovery_code_works_once(kod, clock):
    _, codes = _enrolled(kod)
    client = _password_login("kod")
    response = client.post(VERIFY, {"code": codes[3].lower().replace("-", " ")}, follow=True)
    assert response.status_code == 200
    assert "9 sind übrig" in response.content.decode()
    assert StaticToken.objects.filter(device__user=kod).count() == 9
    assert AuditEvent.objects.filter(action="accounts.two_factor.recovery_code_used", user=kod).exists()

    clock.shift(dt.timedelta(seconds=5))
    again = _password_login("kod")
    assert again.post(VERIFY, {"code": codes[3]}).status_code == 400
    clock.shift(dt.timedelta(seconds=5))
    assert again.post(VERIFY, {"code": codes[4]}).status_code == 302


def test_two_factor_reset_command_starts_enrolment_anew(kod):
    from io import StringIO

    from django.core.management import call_command

    _enrolled(kod)
    call_command("two-factor-reset", "kod", stdout=StringIO())
    client = _password_login("kod")
    assert client.get("/")["Location"].startswith(SETUP)
    assert AuditEvent.objects.filter(action="accounts.two_factor.reset").exists()


# --- enforced on every page type ------------------------------------------------------------


def _parameterless_paths() -> list[str]:
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and not re.search(r"[<>^$()\\?*+\[]", route):
                paths.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(paths))


OPEN_PATHS = ("/anmelden/", "/abmelden/", VERIFY, SETUP, "/favicon.ico")
# Probes for load balancers and Prometheus are answered before sessions and login, the same for
# everyone (tests/test_ops_health.py, tests/test_ops_metrics.py): no user data behind them.
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


def test_a_password_only_session_reaches_no_page_api_or_export(world, kod, polizei):
    with_ids = ["/feststellungen/1/", "/api/v1/incidents/1/", "/admin/core/user/1/change/"]
    paths = [*_parameterless_paths(), *with_ids]
    assert {"/", "/api/v1/incidents/", "/admin/", "/konto/api-tokens/"} <= set(paths)
    assert any("export" in path for path in paths)
    for user in (kod, polizei):
        client = Client()
        client.force_login(user)
        for path in paths:
            if path in OPEN_PATHS:
                continue
            response = client.get(path)
            if path in PROBE_PATHS:
                assert response.status_code == Client().get(path).status_code, path
                continue
            if path.startswith("/api/"):
                assert response.status_code == 401, path
                assert response.json()["code"] == "two_factor_required", path
            else:
                assert response.status_code == 302, path
                assert response["Location"].startswith(SETUP), path


def test_api_with_session_after_the_second_factor(world, kod, clock):
    client = _verified_client(kod, clock)
    assert client.get("/api/v1/incidents/").status_code == 200


def test_htmx_requests_are_sent_to_the_second_factor_by_header(kod):
    client = Client()
    client.force_login(kod)
    response = client.get("/feststellungen/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == SETUP


def test_tokens_need_no_second_factor(world, kod):
    from .api_support import token_client

    assert token_client(kod).get("/api/v1/incidents/").status_code == 200


def test_ordinary_tests_run_without_the_requirement(settings):
    assert settings.LAGEBILD_TWO_FACTOR_REQUIRED is True  # this module asked for it


# --- the setting ----------------------------------------------------------------------------


def _settings_value(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LAGEBILD_")} | {
        "LAGEBILD_VAR_DIR": str(tmp_path),
        "LAGEBILD_SECRET_KEY": "x" * 60,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import lagebild.settings as s; print(s.LAGEBILD_TWO_FACTOR_REQUIRED)"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_requires_the_second_factor_and_refuses_to_switch_it_off(tmp_path):
    default = _settings_value(tmp_path)
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "True"

    refused = _settings_value(tmp_path, LAGEBILD_TWO_FACTOR_REQUIRED="0")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "LAGEBILD_DEBUG=1" in refused.stderr

    demo = _settings_value(tmp_path, LAGEBILD_TWO_FACTOR_REQUIRED="0", LAGEBILD_DEBUG="1")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip() == "False"


# --- the account page -------------------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(kod, clock):
    client = _verified_client(kod, clock)
    _, old_codes = TOTPDevice.objects.get(user=kod), list(StaticToken.objects.filter(device__user=kod))
    page = client.get("/konto/").content.decode()
    assert "Übrige Wiederherstellungscodes: <strong>10</strong>" in page

    response = client.post("/konto/zwei-faktor/neue-codes/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    codes = re.findall(r"<code>([A-Z2-9-]{19})</code>", response.content.decode())
    assert len(codes) == 10
    stored = set(StaticToken.objects.filter(device__user=kod).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & {token.token for token in old_codes}
    assert AuditEvent.objects.filter(action="accounts.two_factor.recovery_codes_renewed", user=kod).exists()

    clock.shift(dt.timedelta(seconds=5))
    fresh = _password_login("kod")
    assert fresh.post(VERIFY, {"code": codes[0]}).status_code == 302


def test_renewing_codes_needs_the_second_factor(kod):
    _enrolled(kod)
    client = _password_login("kod")
    response = client.post("/konto/zwei-faktor/neue-codes/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert StaticToken.objects.filter(device__user=kod).count() == 10
