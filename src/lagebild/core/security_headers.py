"""Response headers that harden every page: Content-Security-Policy, Permissions-Policy, Server.

Django's SecurityMiddleware already sets HSTS (when DEBUG is off and HTTPS is on),
Referrer-Policy, X-Content-Type-Options and Cross-Origin-Opener-Policy; django-csp and
django-permissions-policy add the two policies built here; ``ServerHeaderMiddleware``
hides which web server and Python version answer.

The policies are pure data so the settings, the tests and ``lagebild check-deploy`` read
the same source.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.http import HttpRequest, HttpResponse

SERVER_NAME = "Lagebild"


def tile_sources(tile_url: str) -> list[str]:
    """The origin map tiles are loaded from, as a CSP source (``{s}`` subdomains as ``*.``).

    An empty or relative URL (tiles from this server) needs no extra source.
    """
    if not tile_url or "://" not in tile_url:
        return []
    parts = urlsplit(tile_url.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return []
    host = parts.hostname
    if host.startswith("tiles-subdomain."):
        host = "*." + host.removeprefix("tiles-subdomain.")
    port = f":{parts.port}" if parts.port else ""
    return [f"{parts.scheme}://{host}{port}"]


def content_security_policy(tile_url: str = "") -> dict:
    """The django-csp 4 configuration.

    Scripts only from this server, never inline (templates hand data to scripts with
    ``json_script`` and ``data-`` attributes). Styles allow ``'unsafe-inline'``: a few
    templates set a bar width or a legend colour in a ``style`` attribute, the Django admin
    and the API documentation (Swagger UI, Redoc) write inline styles, and the self-contained
    500 page carries its own ``<style>``. Inline styles cannot run code; scripts stay strict.
    Images may be ``data:`` (Leaflet's and the admin's icons) and ``blob:`` (photo previews);
    Redoc runs its search in a ``blob:`` worker.
    """
    tiles = tile_sources(tile_url)
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF, UNSAFE_INLINE],
            "img-src": [SELF, "data:", "blob:", *tiles],
            "font-src": [SELF],
            "connect-src": [SELF],
            "worker-src": [SELF, "blob:"],
            "manifest-src": [SELF],
            "media-src": [SELF],
            "object-src": [NONE],
            "frame-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
    }


# Geolocation for this site only: the field entry form and the citizen form offer
# "Meine Position". Everything else a page could ask the device for stays off (photos
# are chosen with a plain file input, which needs no camera permission).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "geolocation": ["self"],
    "accelerometer": [],
    "ambient-light-sensor": [],
    "autoplay": [],
    "bluetooth": [],
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "interest-cohort": [],
    "local-fonts": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}


NO_STORE = "private, no-store"


class ServerHeaderMiddleware:
    """Answers ``Server: Lagebild`` instead of e.g. ``WSGIServer/0.2 CPython/3.11``; keeps
    what a logged-in user (or an API token) fetched out of every cache.

    WSGI servers (wsgiref in ``lagebild runserver``, waitress) only add their own
    ``Server`` header when the application has not set one. ``no-store`` on answers to a
    login or token means a lost or shared phone holds no page with personal data in its
    browser cache; answers that chose their own ``Cache-Control`` keep it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Server"] = SERVER_NAME
        if "Cache-Control" not in response and _personal(request):
            response["Cache-Control"] = NO_STORE
        return response


def _personal(request: HttpRequest) -> bool:
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    user = getattr(request, "user", None)  # absent for static files (WhiteNoise answers first)
    return bool(user is not None and user.is_authenticated)
