"""Login lockout (django-axes): per username and address, German message, cool-off, proxies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, RequestFactory

from lagebild.accounts.client_ip import client_ip

LOGIN = "/anmelden/"
RIGHT = "geheim-123"


def _attempt(client: Client, username: str, password: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _fail(client: Client, username: str, times: int, **extra) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        assert _attempt(client, username, "falsch", **extra).status_code in (200, 429)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(kod, settings):
    client = Client()
    _fail(client, "kod", settings.AXES_FAILURE_LIMIT - 1)
    assert _attempt(client, "kod", "falsch").status_code == 429  # the fifth failure locks

    response = _attempt(client, "kod", RIGHT)

    assert response.status_code == 429
    html = response.content.decode()
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in html
    assert "15 Minuten gesperrt" in html
    assert 'id="login-locked"' in html and "<form" in html  # the login page, not an error page
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still not logged in


def test_the_lock_lifts_after_the_cool_off(kod, settings, clock):
    client = Client()
    _fail(client, "kod", settings.AXES_FAILURE_LIMIT)
    assert _attempt(client, "kod", RIGHT).status_code == 429

    clock.shift(settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1))
    assert _attempt(client, "kod", RIGHT).status_code == 429  # one minute before: still locked

    clock.shift(settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1))
    response = _attempt(client, "kod", RIGHT)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(kod.pk)


def test_a_success_resets_the_count(kod, settings):
    client = Client()
    _fail(client, "kod", settings.AXES_FAILURE_LIMIT - 1)
    assert _attempt(client, "kod", RIGHT).status_code == 302
    client.logout()
    _fail(client, "kod", settings.AXES_FAILURE_LIMIT - 1)
    assert _attempt(client, "kod", RIGHT).status_code == 302


def test_the_lock_is_per_username_and_address(kod, polizei, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    _fail(attacker, "kod", settings.AXES_FAILURE_LIMIT)
    # The same person at their own desk, and another user from the attacker's address, get in.
    assert _attempt(Client(REMOTE_ADDR="10.1.2.3"), "kod", RIGHT).status_code == 302
    assert _attempt(attacker, "polizei", RIGHT).status_code == 302
    assert _attempt(attacker, "kod", RIGHT).status_code == 429


def test_the_admin_login_is_locked_too(kod_admin, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "stadt-admin", "password": "falsch"})
    response = client.post("/admin/login/", {"username": "stadt-admin", "password": RIGHT})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_forged_forwarded_for_does_not_escape_the_lock_without_a_trusted_proxy(kod, settings):
    settings.LAGEBILD_TRUSTED_PROXIES = []
    client = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "kod", "falsch", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
    assert _attempt(client, "kod", RIGHT, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_behind_a_trusted_proxy_the_client_address_counts(kod, settings):
    settings.LAGEBILD_TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    _fail(proxy, "kod", settings.AXES_FAILURE_LIMIT, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert _attempt(proxy, "kod", RIGHT, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another client behind the same proxy is not locked out with the attacker.
    assert _attempt(proxy, "kod", RIGHT, HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ([], "203.0.113.7", "1.2.3.4", "203.0.113.7"),  # no proxy configured: header ignored
        (["10.0.0.0/8"], "203.0.113.7", "1.2.3.4", "203.0.113.7"),  # peer is no proxy
        (["10.0.0.0/8"], "10.0.0.1", "1.2.3.4", "1.2.3.4"),
        (["10.0.0.0/8"], "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),  # forged left part
        (["10.0.0.0/8"], "10.0.0.1", "kaputt", "10.0.0.1"),
        (["10.0.0.0/8"], "10.0.0.1", "", "10.0.0.1"),
        (["*"], "127.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # one proxy: its hop only
        (["*"], "127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_client_ip(settings, trusted, peer, forwarded, expected):
    settings.LAGEBILD_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_authenticate_without_request_is_refused_in_production(kod, settings):
    from axes.exceptions import AxesBackendRequestParameterRequired
    from django.contrib.auth import authenticate

    settings.LAGEBILD_LOGIN_WITHOUT_REQUEST = False
    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="kod", password=RIGHT)
