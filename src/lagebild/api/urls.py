"""API entry points: version 1, the OpenAPI schema and its documentation pages.

The documentation pages load Swagger UI and Redoc from drf-spectacular-sidecar's static
files, never from a CDN; Swagger UI's online validator is switched off in the settings.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView


class OfflineSwaggerView(SpectacularSwaggerSplitView):
    # Static files come from drf-spectacular-sidecar; settings switch off the online validator.
    # The split view loads its start script from a URL instead of inline (Content-Security-Policy).
    title = "Lagebild API – Dokumentation"


class OfflineRedocView(SpectacularRedocView):
    template_name = "api/redoc.html"
    title = "Lagebild API – Referenz"


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown API paths answer JSON, not the HTML page of the web UI (and never redirect)."""
    detail = "Nicht gefunden."
    if not request.path.endswith("/"):
        detail += " API-Pfade enden mit einem Schrägstrich."
    return JsonResponse({"detail": detail}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", OfflineSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", OfflineRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("v1/", include("lagebild.api.v1")),
    re_path(r"^(?P<rest>.*)$", not_found),
]
