"""Request id, request metrics and access log, and the health endpoints ahead of everything else.

Order in ``MIDDLEWARE`` (settings.py): :class:`RequestIdMiddleware` and
:class:`RequestMetricsMiddleware` first, so every log line and every answer (static files,
redirects, error pages) is counted and carries the id; :class:`OpsEndpointsMiddleware` right
after the security headers, before sessions, CSRF, login and second factor.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, resolve, reverse
from django.utils.functional import empty

from lagebild.core import requestid

from . import metrics
from .logging import REQUEST_LOGGER

HEADER = "X-Request-ID"
# What proxies send (nginx' $request_id: 32 hex digits; UUIDs; trace ids): letters, digits and
# . _ : - only, so an id can never break a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
MAX_LOGGED_PATH = 500
# A load balancer asks every few seconds: only its failed probes go to the access log.
QUIET_VIEWS = frozenset({"ops:healthz", "ops:readyz"})

access_logger = logging.getLogger(REQUEST_LOGGER)


def _from_trusted_proxy(request: HttpRequest) -> bool:
    """Only the reverse proxy declared in LAGEBILD_TRUSTED_PROXY may name the request id
    (a client could otherwise make its requests look like someone else's in the logs)."""
    configured = list(getattr(settings, "LAGEBILD_TRUSTED_PROXIES", []) or [])
    if not configured:
        return False
    if "*" in configured:
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(network, strict=False) for network in configured)


def incoming_request_id(request: HttpRequest) -> str:
    """The proxy's X-Request-ID when it is well-formed and the proxy is trusted, else ""."""
    value = request.META.get("HTTP_X_REQUEST_ID", "").strip()
    if value and WELL_FORMED.fullmatch(value) and _from_trusted_proxy(request):
        return value
    return ""


class RequestIdMiddleware:
    """Gives each request an id for its log lines and the tasks it starts, and returns it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request) or requestid.new()
        request.request_id = request_id  # type: ignore[attr-defined]  # for log lines after the middleware
        token = requestid.activate(request_id)
        try:
            response = self.get_response(request)
        finally:
            requestid.deactivate(token)
        response[HEADER] = request_id
        return response


def view_label(request: HttpRequest) -> str:
    """The URL pattern's name (``field:incident-detail``), never the path: labels stay few and
    carry no ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "<unresolved>"


def loggable_path(request: HttpRequest) -> str:
    """The path without query string, and without secrets that are part of it (citizens'
    status links, calendar feeds): those become ``<token>``."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if "token" in name and isinstance(value, str) and value:
                path = path.replace(value, "<token>")
    return path[:MAX_LOGGED_PATH]


def user_id(request: HttpRequest) -> int | None:
    """The id of the logged-in user, if the request looked the user up anyway (no extra query)."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestMetricsMiddleware:
    """Latency and errors per view for /metrics, and one access-log line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            seconds = time.perf_counter() - started
            view = view_label(request)
            metrics.observe_request(view=view, method=request.method, status=status, seconds=seconds)
            if access_logger.isEnabledFor(logging.INFO) and not (view in QUIET_VIEWS and status < 400):
                path = loggable_path(request)
                access_logger.info(
                    "%s %s %s",
                    request.method,
                    path,
                    status,
                    extra={
                        "method": request.method,
                        "path": path,
                        "view": view,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                        "user_id": user_id(request),
                    },
                )


class OpsEndpointsMiddleware:
    """Serves /healthz, /readyz and /metrics before sessions, CSRF, login, second factor, audit
    context and host checks: a load balancer's probe (often with the server's address as Host)
    gets its answer, no cookie, and writes nothing."""

    NAMES = ("ops:healthz", "ops:readyz", "ops:metrics")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths: frozenset[str] | None = None

    def paths(self) -> frozenset[str]:
        """The endpoints' paths as ``path_info`` shows them (without a SCRIPT_NAME prefix)."""
        if self._paths is None:
            prefix = get_script_prefix()
            self._paths = frozenset("/" + reverse(name)[len(prefix) :] for name in self.NAMES)
        return self._paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in self.paths():
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
