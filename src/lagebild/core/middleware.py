from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
