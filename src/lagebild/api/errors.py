"""Structured API errors: every error is JSON with a status code that fits."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from lagebild.core.scoping import ScopeError

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request is well-formed but does not fit the record's current state (409), e.g. ending a
    patrol that has not begun or a workflow step that does not start from the current state."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Die Anfrage passt nicht zum aktuellen Stand des Datensatzes."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    elif isinstance(exc, ScopeError):
        # A programming error, but never an answer with another authority's data.
        logger.error("Scope error in API view: %s", exc)
        return Response({"detail": "Interner Fehler."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return drf_exception_handler(exc, context)
