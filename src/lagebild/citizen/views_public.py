"""Public reporting pages: no login, German, mobile first, usable without JavaScript.

Anonymous requests have no authority scope, so every read of reports here goes through
selectors that say ``unscoped()`` explicitly and return only public fields. Staff who are
logged in keep their scope (photo view).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lagebild.geo.models import Area
from lagebild.geo.selectors import area_list, areas_feature_collection, place_search

from . import mail, photos, ratelimit, selectors, services
from .forms_public import PublicReportForm
from .models import Photo, ReportStatus, ServiceType
from .open311.serialize import coarsen

logger = logging.getLogger(__name__)

EMERGENCY_NUMBER = "110"
# Demo value: the KOD service number Dortmund publishes. A city replaces it with its own.
KOD_HOTLINE = "0231 50-28888"
KOD_HOTLINE_TEL = "+492315028888"
NEARBY_RADIUS_M = 250
NEARBY_DAYS = 30


def _private(response: HttpResponse, **extra: Any) -> HttpResponse:
    """Pages with a reporter's token or a photo: never in shared caches or search engines."""
    patch_cache_control(response, private=True, **extra)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _service_or_404(code: str) -> ServiceType:
    service = ServiceType.objects.filter(code=code, active=True).first()
    if service is None:
        raise Http404("Unbekannte Kategorie")
    return service


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    minutes = max(1, round(wait / 60))
    response = render(request, "citizen/public/too_many.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _hotline_context(service: ServiceType | None = None) -> dict[str, Any]:
    return {
        "emergency_number": EMERGENCY_NUMBER,
        "kod_hotline": KOD_HOTLINE,
        "kod_hotline_tel": KOD_HOTLINE_TEL,
        "service": service,
    }


# --- choosing a category ---------------------------------------------------------------------


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    groups: dict[str, list[ServiceType]] = {}
    for service in ServiceType.objects.filter(active=True).order_by("sort_order", "name"):
        groups.setdefault(service.group or "Sonstiges", []).append(service)
    return render(
        request,
        "citizen/public/start.html",
        {
            "groups": [{"name": name, "services": items} for name, items in groups.items()],
            **_hotline_context(),
        },
    )


# --- the form ----------------------------------------------------------------------------------


class _Rollback(Exception):
    """Raised inside the transaction to undo a created report when photos were refused."""


def _render_form(
    request: HttpRequest,
    service: ServiceType,
    form: PublicReportForm,
    *,
    nearby: list[dict] | None = None,
    photos_dropped: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "service": service,
        "form": form,
        "questions": form.questions(),
        "nearby": nearby or [],
        "photos_dropped": photos_dropped,
        "show_coordinates": bool(form.location_errors()),
        "has_errors": bool(form.is_bound and form.errors),
        "nearby_radius": NEARBY_RADIUS_M,
        "nearby_days": NEARBY_DAYS,
        "show_summary": not service.about_people,
        **_hotline_context(service),
    }
    return render(request, "citizen/public/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest, code: str) -> HttpResponse:
    service = _service_or_404(code)
    if service.acute:
        # Acute situations belong on the phone, not in a queue: no form, and no POST either.
        response = render(
            request,
            "citizen/public/acute.html",
            _hotline_context(service),
            status=405 if request.method == "POST" else 200,
        )
        if request.method == "POST":
            response["Allow"] = "GET"
        return response
    if request.method != "POST":
        return _render_form(request, service, PublicReportForm(service=service))

    wait = ratelimit.hit(request, "post") or ratelimit.retry_after(request, "report")
    if wait:
        return _too_many(request, wait)
    form = PublicReportForm(request.POST, service=service)
    if form.honeypot_filled:
        # Look like success to the bot, store nothing, and still count it.
        ratelimit.hit(request, "report")
        logger.info("Honeypot filled on the public report form; nothing stored")
        return redirect("melden:thanks")
    form.is_valid()
    uploads = request.FILES.getlist("photos")

    if not form.confirmed_new:
        point = form.point()
        nearby = (
            selectors.nearby_open_reports(service, *point, radius_m=NEARBY_RADIUS_M, days=NEARBY_DAYS)
            if point
            else []
        )
        if nearby:
            return _render_form(request, service, form, nearby=nearby, photos_dropped=bool(uploads))

    prepared, photo_errors = photos.prepare_uploads(uploads)
    for message in photo_errors:
        form.add_error("photos", message)
    report = None
    fields = {
        "service": service,
        "channel": "web",
        "lat": form.data.get("lat", ""),
        "lon": form.data.get("lon", ""),
        "address_text": form.value("address_text"),
        "description": form.value("description"),
        "attributes": form.attribute_values(),
        "reporter_name": form.value("reporter_name"),
        "reporter_email": form.value("reporter_email"),
    }
    try:
        if form.errors:
            # Collect the service's own errors as well, so all are shown at once; store nothing.
            with transaction.atomic():
                services.report_create(**fields)
                raise _Rollback
        # Only report_create's own short transaction (photos included): on SQLite a longer one
        # would hold the write lock during validation and locating and serialise parallel intake.
        report = services.report_create(**fields, store_with=lambda new: photos.store_photos(new, prepared))
    except ValidationError as exc:
        form.add_service_errors(exc)
        report = None
    except _Rollback:
        report = None
    if report is None:
        # Browsers cannot refill file inputs: say so instead of silently losing the photos.
        return _render_form(request, service, form, photos_dropped=bool(uploads))

    ratelimit.hit(request, "report")
    status_url = request.build_absolute_uri(reverse("melden:status", args=[report.public_token]))
    mailed = mail.send_status_link(report, status_url)
    target = reverse("melden:done", args=[report.public_token])
    return redirect(f"{target}?mail=1" if mailed else target)


@require_GET
def nearby(request: HttpRequest, code: str) -> HttpResponse:
    """htmx fragment: open reports of this category near the chosen place."""
    service = _service_or_404(code)
    form = PublicReportForm(request.GET, service=service)
    point = form.point()
    reports = (
        selectors.nearby_open_reports(service, *point, radius_m=NEARBY_RADIUS_M, days=NEARBY_DAYS)
        if point and not service.acute
        else []
    )
    return render(
        request,
        "citizen/public/_nearby.html",
        {
            "nearby": reports,
            "service": service,
            "fragment": True,
            "nearby_radius": NEARBY_RADIUS_M,
            "nearby_days": NEARBY_DAYS,
            "show_summary": not service.about_people,
        },
    )


@require_POST
def support(request: HttpRequest) -> HttpResponse:
    wait = ratelimit.retry_after(request, "support")
    if wait:
        return _too_many(request, wait)
    try:
        report_id = int(str(request.POST.get("support", "")).strip())
    except ValueError:
        report_id = 0
    supporters = None
    if 0 < report_id < 2**62:
        try:
            supporters = services.report_support(report_id=report_id)
        except ValidationError:
            supporters = None
    ratelimit.hit(request, "support")
    status = 200 if supporters is not None else 404
    return render(request, "citizen/public/support_thanks.html", {"supporters": supporters}, status=status)


# --- after submitting -------------------------------------------------------------------------


@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "citizen/public/thanks.html")


@require_GET
def done(request: HttpRequest, token: str) -> HttpResponse:
    report = selectors.report_by_token(token)
    if report is None:
        raise Http404("Unbekannte Meldung")
    status_url = request.build_absolute_uri(reverse("melden:status", args=[report.public_token]))
    return _private(
        render(
            request,
            "citizen/public/done.html",
            {
                "report": report,
                "status_url": status_url,
                "mailed": request.GET.get("mail") == "1",
                "forwarded": report.status == ReportStatus.FORWARDED,
                "forwarded_to": selectors.forwarded_to(report, selectors.public_history(report)),
            },
        ),
        no_store=True,
    )


def public_location(report: Any) -> dict[str, Any] | None:
    """The location as far as it may be published for the report's category.

    Same rules as the Open311 output: reports about people are never published exactly;
    coarsened points are the centre of their 100 m grid cell (ETRS89/UTM32).
    """
    precision = report.service.effective_precision
    if precision == ServiceType.Precision.HIDDEN:
        return {"precision": "hidden"}
    if report.lat is None or report.lon is None:
        if precision == ServiceType.Precision.EXACT and report.address_text:
            return {"precision": "exact", "address": report.address_text}
        return None
    if precision == ServiceType.Precision.EXACT:
        return {"precision": "exact", "lat": report.lat, "lon": report.lon, "address": report.address_text}
    if report.x_utm is None or report.y_utm is None:
        return {"precision": "hidden"}
    lats, lons = coarsen([report.x_utm], [report.y_utm])
    return {"precision": "coarse", "lat": round(lats[0], 5), "lon": round(lons[0], 5)}


@require_GET
def status(request: HttpRequest, token: str) -> HttpResponse:
    report = selectors.report_by_token(token)
    if report is None:
        raise Http404("Unbekannte Meldung")
    history = selectors.public_history(report)
    released = list(Photo.objects.filter(report_id=report.pk, released=True).order_by("id"))
    return _private(
        render(
            request,
            "citizen/public/status.html",
            {
                "report": report,
                "state": selectors.public_state(report, history),
                "history": [
                    {"at": change.at, "label": change.get_to_status_display(), "note": change.public_note}
                    for change in history
                ],
                "photos": released,
                "location": public_location(report),
            },
        ),
        no_store=True,
    )


# --- photos --------------------------------------------------------------------------------------


@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A stored photo: public once released; before that only staff who can see the report."""
    item = Photo.objects.filter(pk=pk).first()
    if item is None or not photos.photo_visible(item, request.user):
        raise Http404("Foto nicht gefunden")
    try:
        data = photos.photo_path(item).read_bytes()
    except OSError as exc:
        raise Http404("Foto nicht gefunden") from exc
    response = HttpResponse(data, content_type=item.content_type)
    response["Content-Disposition"] = f'inline; filename="foto-{item.pk}.{item.file.rsplit(".", 1)[-1]}"'
    return _private(response, max_age=300)


# --- helpers for the form without login -----------------------------------------------------------


@require_GET
def place_suggestions(request: HttpRequest) -> HttpResponse:
    """The offline gazetteer for the public form (places are public data)."""
    query = request.GET.get("q", request.GET.get("address_text", ""))[:100]
    places = place_search(query)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"results": [{"name": p.name, "kind": p.kind, "lat": p.lat, "lon": p.lon} for p in places]}
        )
    return render(request, "geo/place_suggestions.html", {"places": places})


@require_GET
def areas_geojson(request: HttpRequest) -> JsonResponse:
    """City and district outlines for the public map (focus areas and patrol zones stay internal)."""
    data = areas_feature_collection(area_list(kinds=[Area.Kind.CITY, Area.Kind.DISTRICT]))
    response = JsonResponse(data)
    patch_cache_control(response, public=True, max_age=3600)
    return response
