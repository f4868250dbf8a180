"""``Idempotency-Key`` for the API's creating POSTs (rules in lagebild.core.idempotency).

``@idempotent`` wraps a viewset action: with the header, the first request's successful answer
is stored with the records it created (one transaction) and every retry of the same request
gets it again with ``Idempotent-Replayed: true``; another request under the same key gets 422,
a retry while the first still runs 409. Without the header nothing changes. Keys are scoped per
user, so a user of the other authority sending the same key neither sees the first answer nor
is blocked by it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from lagebild.core import idempotency

from .errors import Conflict

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    idempotency.HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[!-~]{1,255}$",
    allow_blank=False,
    description="Frei gewählter Schlüssel (z. B. eine UUID, 1–255 druckbare ASCII-Zeichen), damit eine "
    "wiederholte Anfrage nichts doppelt anlegt: Dieselbe Anfrage mit demselben Schlüssel erhält innerhalb "
    "von 24 Stunden die erste Antwort erneut (Kopfzeile `Idempotent-Replayed: true`); ein anderer Inhalt "
    "mit demselben Schlüssel wird mit 422 abgelehnt, eine Wiederholung während die erste Anfrage noch "
    "läuft mit 409. Schlüssel gelten je Benutzer.",
)
IDEMPOTENCY_ERRORS = {
    409: OpenApiResponse(description="Eine Anfrage mit diesem Idempotency-Key wird noch bearbeitet."),
    422: OpenApiResponse(description="Der Idempotency-Key wurde bereits für eine andere Anfrage verwendet."),
}


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = idempotency.MISMATCH_MESSAGE
    default_code = "idempotency_key_reused"


class IdempotencyInFlight(Conflict):
    default_detail = idempotency.IN_FLIGHT_MESSAGE
    default_code = "idempotency_key_in_use"


def _request_body(request: Request) -> bytes:
    try:
        return request._request.body  # read before DRF parses, so the raw bytes count
    except RawPostDataException:
        return json.dumps(request.data, sort_keys=True, default=str).encode()


def idempotent(action: Callable[..., Response]) -> Callable[..., Response]:
    """Make a creating POST action idempotent under the ``Idempotency-Key`` header."""

    @functools.wraps(action)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(idempotency.HEADER)
        if request.method != "POST" or key is None:
            return action(view, request, *args, **kwargs)
        key = key.strip()
        if not idempotency.valid_key(key):
            raise exceptions.ValidationError({idempotency.HEADER: [idempotency.INVALID_KEY_MESSAGE]})
        scope = f"user:{request.user.pk}"
        claim = idempotency.claim(
            scope=scope,
            key=key,
            request_fingerprint=idempotency.fingerprint(
                method=request.method, path=request.path, body=_request_body(request), scope=scope
            ),
        )
        if claim.outcome is idempotency.Outcome.MISMATCH:
            raise IdempotencyKeyReused()
        if claim.outcome is idempotency.Outcome.IN_FLIGHT:
            raise IdempotencyInFlight()
        record = claim.record
        assert record is not None
        if claim.outcome is idempotency.Outcome.REPLAY:
            replayed = Response(json.loads(record.body) if record.body else None, status=record.status_code)
            replayed[idempotency.REPLAYED_HEADER] = "true"
            return replayed
        try:
            with transaction.atomic():
                response = action(view, request, *args, **kwargs)
                if status.is_success(response.status_code):
                    body = JSONRenderer().render(response.data).decode() if response.data is not None else ""
                    idempotency.complete(
                        record,
                        status_code=response.status_code,
                        body=body,
                        content_type="application/json",
                        location=response.get("Location", ""),
                    )
                    return response
        except BaseException:
            idempotency.release(record)
            raise
        idempotency.release(record)
        return response

    return wrapper


def respond_idempotently(
    request: HttpRequest,
    *,
    scope: str,
    run: Callable[[], HttpResponse],
    refuse: Callable[[int, str], HttpResponse],
) -> HttpResponse:
    """The same for plain Django views (Open311): ``run`` does the work and answers; ``refuse``
    builds the error answer in the view's own format (status, German message)."""
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return run()
    key = key.strip()
    if not idempotency.valid_key(key):
        return refuse(status.HTTP_400_BAD_REQUEST, idempotency.INVALID_KEY_MESSAGE)
    try:
        body = request.body
    except RawPostDataException:  # multipart, already streamed into request.POST
        body = json.dumps(sorted(request.POST.lists()), default=str).encode()
    claim = idempotency.claim(
        scope=scope,
        key=key,
        request_fingerprint=idempotency.fingerprint(
            method=request.method or "", path=request.path, body=body, scope=scope
        ),
    )
    if claim.outcome is idempotency.Outcome.MISMATCH:
        return refuse(status.HTTP_422_UNPROCESSABLE_ENTITY, idempotency.MISMATCH_MESSAGE)
    if claim.outcome is idempotency.Outcome.IN_FLIGHT:
        return refuse(status.HTTP_409_CONFLICT, idempotency.IN_FLIGHT_MESSAGE)
    record = claim.record
    assert record is not None
    if claim.outcome is idempotency.Outcome.REPLAY:
        replayed = HttpResponse(record.body, status=record.status_code, content_type=record.content_type)
        replayed[idempotency.REPLAYED_HEADER] = "true"
        return replayed
    try:
        with transaction.atomic():
            response = run()
            if status.is_success(response.status_code):
                idempotency.complete(
                    record,
                    status_code=response.status_code,
                    body=response.content.decode(response.charset or "utf-8"),
                    content_type=response.get("Content-Type", ""),
                    location=response.get("Location", ""),
                )
                return response
    except BaseException:
        idempotency.release(record)
        raise
    idempotency.release(record)
    return response
