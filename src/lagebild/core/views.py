"""Small site-wide views that belong to no app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """``/favicon.ico`` for what has no ``<link rel="icon">``: API answers, the 500 page, bookmarks.

    Browsers ask for it on their own; without it every such page logged a 404.
    """
    return HttpResponsePermanentRedirect(static("lagebild/img/favicon.ico"))
