"""Session limits and the second factor, enforced for every page, the API and every export.

Both run after Django's ``AuthenticationMiddleware`` and django-otp's ``OTPMiddleware``, so
``request.user`` is the session's user with ``is_verified()``. Requests authenticated by an
API token carry no session user here and pass; the token is their login.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django_otp import user_has_device

from lagebild.core import audit

from .policy import session_idle_timeout, two_factor_required
from .sessionlimits import session_ended

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which would swap the target page into a fragment)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _with_next(url: str, request: HttpRequest) -> str:
    if request.method == "GET" and not getattr(request, "htmx", False):
        return f"{url}?{urlencode({'next': request.get_full_path()})}"
    return url


class SessionLimitsMiddleware:
    """Ends a session 12 hours after its login (a shift plus margin) or after 30 idle minutes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            reason = session_ended(request.session)
            if reason is not None:
                return self._end(request, reason)
        return self.get_response(request)

    def _end(self, request: HttpRequest, reason: str) -> HttpResponse:
        user = request.user
        audit.log("accounts.session.ended", user=user, reason=reason)
        logout(request)
        if reason == "idle":
            minutes = int(session_idle_timeout().total_seconds() // 60)
            text = (
                f"Sie wurden nach {minutes} Minuten ohne Aktivität abgemeldet. "
                "Bitte melden Sie sich erneut an."
            )
        else:
            text = "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
        if _is_api(request):
            response = JsonResponse({"detail": text, "code": f"session_{reason}"}, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        messages.info(request, text)
        return _redirect(request, _with_next(reverse(settings.LOGIN_URL), request))


class TwoFactorMiddleware:
    """A session that logged in with a password only reaches the two-factor pages, nothing else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def open_paths(self) -> frozenset[str]:
        """Exactly these pages (no prefix match: a page added below them is not open by accident)."""
        if self._open_paths is None:
            self._open_paths = frozenset(
                {
                    reverse("accounts:two-factor"),
                    reverse("accounts:two-factor-setup"),
                    reverse(settings.LOGIN_URL),
                    reverse("logout"),
                    "/favicon.ico",
                }
            )
        return self._open_paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or not two_factor_required(user)
            or user.is_verified()
            or request.path_info in self.open_paths()
            or request.path_info.startswith(settings.STATIC_URL)
        ):
            return self.get_response(request)
        if _is_api(request):
            response = JsonResponse(
                {
                    "detail": "Die Anmeldung ist erst mit dem zweiten Faktor abgeschlossen.",
                    "code": "two_factor_required",
                },
                status=401,
            )
            response["WWW-Authenticate"] = "Token"
            return response
        target = (
            "accounts:two-factor" if user_has_device(user, confirmed=True) else "accounts:two-factor-setup"
        )
        return _redirect(request, _with_next(reverse(target), request))
