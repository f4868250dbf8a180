"""API throttling: per user and per anonymous address, 429 with Retry-After, in German."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from .api_support import token_client

pytestmark = pytest.mark.usefixtures("throttling_on")


@pytest.fixture
def low_rates(settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/min", "anon": "2/min"},
    }


def test_production_rates_are_set(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"user": "600/min", "anon": "60/min"}


def test_a_user_over_the_rate_gets_429_with_retry_after(world, kod, polizei, low_rates, clock):
    client = token_client(kod)
    for _ in range(3):
        assert client.get("/api/v1/incidents/").status_code == 200

    response = client.get("/api/v1/incidents/")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Anfrage wurde gedrosselt" in response.json()["detail"]
    # Counted per user: the police user and a second token of the same user.
    assert token_client(polizei).get("/api/v1/incidents/").status_code == 200
    assert token_client(kod).get("/api/v1/incidents/").status_code == 429

    clock.shift(dt.timedelta(seconds=61))
    assert client.get("/api/v1/incidents/").status_code == 200


def test_session_users_are_throttled_too(world, kod, low_rates):
    client = APIClient()
    client.force_login(kod)
    statuses = [client.get("/api/v1/categories/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_anonymous_requests_are_throttled_per_address(db, low_rates, settings):
    settings.LAGEBILD_TRUSTED_PROXIES = []
    first = APIClient(REMOTE_ADDR="203.0.113.7")
    statuses = [
        first.get("/api/schema/", {"format": "json"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]  # a forged X-Forwarded-For does not help
    other = APIClient(REMOTE_ADDR="203.0.113.8")
    assert other.get("/api/schema/", {"format": "json"}).status_code == 200
