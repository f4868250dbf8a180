"""Health, readiness and metrics for load balancers and Prometheus (docs/operations.md).

Served by :class:`lagebild.ops.middleware.OpsEndpointsMiddleware` before sessions, CSRF, login,
second factor and audit context: a probe gets no cookie and writes nothing.
"""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from lagebild.accounts.client_ip import client_ip

from . import health, metrics


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is checked (no database), so a busy database does not
    make a load balancer restart healthy servers."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the server can serve requests, 503 with the failed checks otherwise."""
    ready, results = health.readiness()
    return JsonResponse(
        {
            "status": "ok" if ready else "fail",
            "checks": {name: result.as_json() for name, result in results.items()},
        },
        status=200 if ready else 503,
    )


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _address_allowed(request: HttpRequest, allowed: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowed)


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """Why this request may not read the metrics (an answer to send), or None when it may.

    Nothing configured: 404, as if there were no metrics (never open by default). A configured
    address list must contain the client (403); a configured token must come as
    ``Authorization: Bearer <token>`` (401). When both are configured, both are required.
    """
    token = str(getattr(settings, "LAGEBILD_METRICS_TOKEN", "") or "")
    allowed = list(getattr(settings, "LAGEBILD_METRICS_ALLOWED_IPS", []) or [])
    if not token and not allowed:
        return HttpResponseNotFound("Nicht gefunden.", content_type="text/plain; charset=utf-8")
    if allowed and not _address_allowed(request, allowed):
        return HttpResponse(
            "Von dieser Adresse nicht erlaubt.", status=403, content_type="text/plain; charset=utf-8"
        )
    if token and not secrets.compare_digest(_bearer_token(request).encode(), token.encode()):
        response = HttpResponse(
            "Anmeldung mit dem Metrik-Token nötig.", status=401, content_type="text/plain; charset=utf-8"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return None


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
