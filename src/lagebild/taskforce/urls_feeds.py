"""The calendar feed of the Sonderstab: no login, the token in the address is the credential.

Mounted under ``sonderstab/`` (``path("sonderstab/", include("lagebild.taskforce.urls_feeds"))``),
so a user's feed is ``/sonderstab/kalender/<token>.ics``; ``reverse("taskforce_feeds:calendar",
args=[token])`` builds it.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from . import calendar

app_name = "taskforce_feeds"

CONTENT_TYPE = "text/calendar; charset=utf-8"


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's meetings and milestone due dates as iCalendar; 404 for an unknown token."""
    user = calendar.user_for_token(token)
    if user is None:
        raise Http404("Diesen Kalender gibt es nicht (mehr). Bitte die neue Adresse in Lagebild abrufen.")
    data = calendar.feed_ics(user, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(data, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="sonderstab.ics"'
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("kalender/<str:token>.ics", calendar_feed, name="calendar"),
]
