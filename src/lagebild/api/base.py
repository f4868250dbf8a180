"""Building blocks shared by all API views: authentication, authority scope, roles, parsing.

The web UI gets its authority scope from ``AuthorityScopeMiddleware``, which runs before
DRF has authenticated a token. API views therefore activate the scope themselves right
after authentication, so that a token client sees exactly what the same user sees in
the browser: own records plus joint ones, never the other authority's.
"""

from __future__ import annotations

from contextvars import Token as ContextToken
from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, parsers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lagebild.accounts.authentication import ApiTokenAuthentication
from lagebild.core import scoping

from .pagination import StandardPagination

ROLE_DENIED = "Ihre Rolle erlaubt diese Aktion nicht."


class LagebildTokenAuthentication(ApiTokenAuthentication):
    """``Authorization: Token <key>``: Lagebild's hashed, expiring, revocable tokens (accounts app).

    The token's user and authority come in the same query; expired or revoked tokens get a
    401 with ``{"detail": ..., "code": "token_expired" | "token_revoked" | "token_invalid"}``.
    """


class SafeJSONParser(parsers.JSONParser):
    """JSON parser that turns pathological documents into 400 instead of 500.

    The stock parser only catches ``ValueError``; a deeply nested document makes the
    decoder raise ``RecursionError``.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("Das JSON-Dokument ist zu tief verschachtelt.") from exc


class RolePermission(BasePermission):
    """Reading needs a login; writing needs the permission the view names per action.

    Views declare ``write_permissions = {"create": "field.record_incident", ...}``;
    an action missing there cannot be written by anyone.
    """

    message = ROLE_DENIED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perm("field.view_records")
        if getattr(view, request.method.lower(), None) is None:
            return True  # the view answers 405 Method Not Allowed
        perm = getattr(view, "write_permissions", {}).get(getattr(view, "action", None))
        return bool(perm) and user.has_perm(perm)


class ScopedAPIMixin:
    """Activates the authenticated user's authority scope for the rest of the request."""

    authentication_classes = [LagebildTokenAuthentication, SessionAuthentication]
    permission_classes = [RolePermission]
    parser_classes = [SafeJSONParser]
    pagination_class = StandardPagination
    write_permissions: dict[str, str] = {}

    _scope_token: ContextToken | None = None

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        user = request.user
        authority_id = user.authority_id if user is not None and user.is_authenticated else None
        # Activated before the permission checks so that they, too, run in the scope.
        self._scope_token = scoping.activate(authority_id)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        finally:
            if self._scope_token is not None:
                scoping.deactivate(self._scope_token)
                self._scope_token = None

    @property
    def is_schema_view(self) -> bool:
        """True while drf-spectacular inspects the view (no request user, no scope)."""
        return bool(getattr(self, "swagger_fake_view", False))


def empty_queryset(model: Any) -> QuerySet:
    """An empty queryset of a scoped model for schema generation, built in a "sees nothing" scope."""
    with scoping.authority_scope(None):
        return model.objects.none()
