from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.defaults import page_not_found

from . import scoping


class AuthorityScopeMiddleware:
    """Activates the logged-in user's authority scope for the whole request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        authority_id = user.authority_id if user is not None and user.is_authenticated else None
        token = scoping.activate(authority_id)
        try:
            return self.get_response(request)
        finally:
            scoping.deactivate(token)


class GermanNotFoundMiddleware:
    """The German 404 page also when DEBUG is on (``make demo`` runs with LAGEBILD_DEBUG=1).

    With DEBUG on, Django answers an unknown URL, and any ``Http404`` a view raises, with its
    English technical page, which lists every URL pattern: nothing a demo user should see.
    This middleware answers both with the same German page production shows. It sits last in
    ``MIDDLEWARE``, so its 404 still passes ``CommonMiddleware``, which redirects
    ``/feststellungen`` to ``/feststellungen/``. With DEBUG off it does nothing: Django's own
    ``handler404`` renders the same template.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
