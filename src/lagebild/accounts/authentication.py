"""``Authorization: Token <key>`` against Lagebild's own, hashed and expiring API tokens.

It subclasses DRF's ``TokenAuthentication`` for the header parsing and so that the OpenAPI
schema keeps describing the scheme (drf-spectacular recognises the class), but never
touches DRF's authtoken model.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .tokens import TokenRejected, token_authenticate


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        try:
            token = token_authenticate(key)
        except TokenRejected as exc:
            # A structured body: {"detail": German text, "code": machine-readable reason}.
            raise exceptions.AuthenticationFailed({"detail": exc.message, "code": exc.code}) from exc
        return token.user, token
