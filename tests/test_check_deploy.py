"""``lagebild check-deploy``: each unsafe setting is reported with its fix; a clean one passes."""

from __future__ import annotations

import dataclasses
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lagebild.core.deploycheck import DeployConfig, find_problems, weak_secret_reason
from lagebild.core.models import Role

GOOD_KEY = "q7Vx-3mZp9Lr2Tn8Kd5Wc1Hy6Bf4Js0Ga7Ue2Qi9Ro3Xl5Nv8Mb1Zt6Ck4Pw0Dh"

CLEAN = DeployConfig(
    debug=False,
    secret_key=GOOD_KEY,
    allowed_hosts=("lagebild.dortmund.de",),
    ssl_redirect=True,
    hsts_seconds=31_536_000,
    session_cookie_secure=True,
    csrf_cookie_secure=True,
    proxy_ssl_header=("HTTP_X_FORWARDED_PROTO", "https"),
    trusted_proxy="10.0.0.5",
    two_factor_required=True,
    email_backend="django.core.mail.backends.smtp.EmailBackend",
)

CLEAN_SETTINGS = {
    "DEBUG": False,
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": ["lagebild.dortmund.de"],
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_PROXY_SSL_HEADER": None,
    "LAGEBILD_TRUSTED_PROXY": "",
    "LAGEBILD_TWO_FACTOR_REQUIRED": True,
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}


def codes(config: DeployConfig) -> list[str]:
    return [finding.code for finding in find_problems(config)]


def test_a_clean_configuration_has_no_findings():
    assert find_problems(CLEAN) == []
    assert find_problems(dataclasses.replace(CLEAN, proxy_ssl_header=None, trusted_proxy="")) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"debug": True}, "debug"),
        ({"secret_key": "kurz"}, "secret-key"),
        ({"secret_key": "changeme"}, "secret-key"),
        ({"secret_key": "django-insecure-" + GOOD_KEY}, "secret-key"),
        ({"secret_key": "ab" * 40}, "secret-key"),
        ({"allowed_hosts": ("lagebild.dortmund.de", "*")}, "allowed-hosts"),
        ({"ssl_redirect": False}, "https-redirect"),
        ({"hsts_seconds": 0}, "hsts"),
        ({"hsts_seconds": 3600}, "hsts"),
        ({"session_cookie_secure": False}, "secure-cookies"),
        ({"csrf_cookie_secure": False}, "secure-cookies"),
        ({"trusted_proxy": ""}, "proxy-header"),
        ({"two_factor_required": False}, "two-factor"),
        ({"email_backend": "django.core.mail.backends.console.EmailBackend"}, "email"),
        ({"demo_usernames": ("admin", "kod")}, "demo-users"),
    ],
)
def test_each_unsafe_setting_is_found_alone(change, code):
    assert codes(dataclasses.replace(CLEAN, **change)) == [code]


def test_findings_say_what_is_wrong_and_how_to_fix_it_in_german():
    config = dataclasses.replace(CLEAN, debug=True, secret_key="geheim", demo_usernames=("admin",))
    texts = {finding.code: str(finding) for finding in find_problems(config)}
    assert "DEBUG ist eingeschaltet" in texts["debug"] and "LAGEBILD_DEBUG" in texts["debug"]
    assert "zu kurz (6 Zeichen" in texts["secret-key"] and "Abhilfe:" in texts["secret-key"]
    assert "admin" in texts["demo-users"]


def test_weak_secret_reasons():
    assert weak_secret_reason(GOOD_KEY) is None
    assert "Standardwert" in weak_secret_reason("lagebild")
    assert "insecure" in weak_secret_reason("django-insecure-" + GOOD_KEY)


@pytest.mark.django_db
def test_command_passes_a_clean_installation():
    out = StringIO()
    with override_settings(**CLEAN_SETTINGS):
        call_command("check-deploy", stdout=out)
    assert "Keine unsicheren Einstellungen" in out.getvalue()


@pytest.mark.django_db
def test_command_exits_1_on_unsafe_settings_and_lists_them():
    out = StringIO()
    unsafe = {**CLEAN_SETTINGS, "DEBUG": True, "ALLOWED_HOSTS": ["*"]}
    unsafe["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    with override_settings(**unsafe), pytest.raises(CommandError) as error:
        call_command("check-deploy", stdout=out)
    assert error.value.returncode == 1
    text = out.getvalue()
    assert "3 unsichere Einstellung(en)" in text
    assert "[debug]" in text and "[allowed-hosts]" in text and "[proxy-header]" in text


def test_command_finds_the_demo_logins(make_user, city, police):
    make_user("admin", city, Role.ADMIN, email="admin@demo.lagebild.invalid", is_staff=True)
    polizei = make_user("polizei", police, Role.FIELD_OFFICER, email="streife@polizei.nrw.de")
    polizei.set_password("demo")
    polizei.save()
    # A real account that happens to carry a demo name, with its own address and password.
    make_user("kod", city, Role.FIELD_OFFICER, email="kod@stadtdo.de")
    make_user("sonderstab", city, Role.TASKFORCE, email="x@demo.lagebild.invalid", is_active=False)
    out = StringIO()
    with override_settings(**CLEAN_SETTINGS), pytest.raises(CommandError):
        call_command("check-deploy", stdout=out)
    assert "Demo-Konten mit öffentlich bekanntem Passwort sind vorhanden: admin, polizei." in out.getvalue()
