"""API throttling per user and, without a login, per client address.

The rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``user``, ``anon``), read on
every request rather than once at import as DRF's classes do, so a changed setting applies
at once. The client address comes from :func:`lagebild.accounts.client_ip.client_ip`, which
trusts ``X-Forwarded-For`` only from configured proxies (DRF's own ``get_ident`` believes the
header from anyone, so a client could pick a fresh address per request).
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .client_ip import client_ip


class _LiveRates:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class LagebildUserThrottle(_LiveRates, UserRateThrottle):
    pass


class LagebildAnonThrottle(_LiveRates, AnonRateThrottle):
    pass
