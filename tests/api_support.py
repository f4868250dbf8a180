"""Helpers for the API tests: token clients, payloads and records made through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from lagebild.accounts.models import ApiToken
from lagebild.accounts.tokens import token_create
from lagebild.core.models import User
from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident

from .conftest import INSIDE


def token_client(user: User) -> APIClient:
    """A client that authenticates like an external system: ``Authorization: Token <key>``."""
    created = token_create(user=user, name="Test")
    # A token in use: its last use is written at most once a minute, so the API tests' query
    # budgets count the request itself, not that bookkeeping (tests/test_accounts_tokens.py).
    ApiToken.objects.filter(pk=created.token.pk).update(last_used_at=timezone.now())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {created.key}")
    return client


def incident_payload(now: dt.datetime, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "category": "aggressive-begging",
        "occurred_at": (now - dt.timedelta(minutes=5)).isoformat(),
        "lat": INSIDE[0],
        "lon": INSIDE[1],
        "source": "patrol",
        "description": "Person bettelt Passanten aggressiv an.",
        "address_text": "Platz von Leeds",
        "measures": [{"type": "dispersal_order"}, {"type": "caution_fee", "amount": "35.00"}],
    }
    payload.update(overrides)
    return payload


def record(user: User, category: Any, now: dt.datetime, *, joint: bool = False, **kwargs: Any) -> Incident:
    """An incident recorded through the service, as the web form would."""
    kwargs.setdefault("measures", [MeasureInput(type="dispersal_order")])
    with authority_scope(user.authority):
        return services.incident_create(
            user=user,
            category=category,
            occurred_at=now - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            joint=joint,
            **kwargs,
        )
