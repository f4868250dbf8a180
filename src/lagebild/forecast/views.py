"""Pages under /prognose/: overview, risk map per zone (+ GeoJSON), backtest report (+ PDF).

Access (``rules.py``): a role without any forecast permission gets 403; an area the user may
not see answers exactly like an area that does not exist (404), so a field officer cannot tell
other zones from missing ones. Everything shown is aggregate (expected events per cell, hit
figures), the same for city and police.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from lagebild.analytics.documents import PDF_TYPE, file_response, stand_de
from lagebild.geo.models import Area

from . import documents, rules, selectors
from .forms import RiskMapForm
from .models import ALL_GROUPS, BacktestReport, ForecastRun

DENIED = "Ihre Rolle sieht keine Prognosen."
BACKTEST_DENIED = "Ihre Rolle sieht den Backtest der Prognosen nicht."
NO_AREA = "Für dieses Gebiet gibt es keine Prognosekarte."


def _require(request: HttpRequest, perm: str, message: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(message)


def _area(request: HttpRequest, area_id: int) -> Area:
    """The area if this user may see its map; otherwise 404, like a missing one."""
    _require(request, "forecast.view_forecasts", DENIED)
    area = Area.objects.filter(pk=area_id, active=True).first()
    if area is None or not request.user.has_perm("forecast.view_risk_map", area):
        raise Http404(NO_AREA)
    return area


def visible_areas(user: Any) -> list[Area]:
    """The areas whose map the user may open, most specific first (for the overview)."""
    if user.has_perm("forecast.view_all_zones"):
        areas = Area.objects.filter(kind__in=selectors.MAP_KINDS, active=True)
    elif rules.is_aggregate_reader(user):
        areas = Area.objects.filter(kind=Area.Kind.CITY, active=True)
    elif rules.is_field_officer(user):
        areas = Area.objects.filter(pk__in=rules.own_area_ids(user), active=True)
    else:
        return []
    order = {kind: i for i, kind in enumerate((Area.Kind.PATROL_ZONE, Area.Kind.FOCUS_AREA, Area.Kind.CITY))}
    return sorted(areas, key=lambda a: (order.get(a.kind, 9), a.name))


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _require(request, "forecast.view_forecasts", DENIED)
    can_backtest = request.user.has_perm("forecast.view_backtest")
    return render(
        request,
        "forecast/index.html",
        {
            "rows": selectors.overview_rows() if can_backtest else [],
            "areas": visible_areas(request.user),
            "can_backtest": can_backtest,
            "field_officer": rules.is_field_officer(request.user),
            "stand": stand_de(),
        },
    )


def _run(request: HttpRequest) -> tuple[RiskMapForm, ForecastRun | None]:
    form = RiskMapForm(request.GET)
    group, week, shift = form.selection()
    return form, selectors.run_for(group, week, shift)


def _period(run: ForecastRun) -> str:
    start, end = timezone.localtime(run.starts_at), timezone.localtime(run.ends_at)
    if run.horizon == ForecastRun.Horizon.SHIFT:
        return f"{run.get_horizon_display()} {start:%d.%m.%Y %H:%M}–{end:%H:%M} Uhr"
    return f"Woche {start:%d.%m.}–{(end - dt.timedelta(days=1)):%d.%m.%Y}"


@login_required
@require_GET
def zone(request: HttpRequest, area_id: int) -> HttpResponse:
    area = _area(request, area_id)
    form, run = _run(request)
    context: dict[str, Any] = {"area": area, "form": form, "run": run, "stand": stand_de()}
    if run is not None:
        risk = selectors.risk_map(area, run)
        query = request.GET.urlencode()
        context.update(
            risk=risk,
            period=_period(run),
            group_label=selectors.group_label(run.group),
            model_label=selectors.model_label(run.model),
            geojson_url=reverse("forecast:zone-geojson", args=[area.pk]) + (f"?{query}" if query else ""),
            area_geometry={"type": "Feature", "geometry": area.geometry, "properties": {}},
        )
    return render(request, "forecast/zone.html", context)


@login_required
@require_GET
def zone_geojson(request: HttpRequest, area_id: int) -> HttpResponse:
    area = _area(request, area_id)
    _form, run = _run(request)
    if run is None:
        raise Http404("Für die Auswahl gibt es keine Prognose.")
    collection = selectors.zone_geojson(area, run)
    body = json.dumps(collection, ensure_ascii=False).encode()
    name = f"prognose-{area.code}-{run.group}-{timezone.localtime(run.starts_at):%Y-%m-%d-%H%M}.geojson"
    return file_response(body, name, "application/geo+json")


def _report(request: HttpRequest) -> BacktestReport | None:
    _require(request, "forecast.view_backtest", BACKTEST_DENIED)
    group = request.GET.get("gruppe") or ALL_GROUPS
    return selectors.latest_report(group)


@login_required
@require_GET
def backtest(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    reports = selectors.latest_reports()
    context: dict[str, Any] = {
        "report": report,
        "groups": [(g, selectors.group_label(g)) for g in reports],
        "current_group": report.group if report else request.GET.get("gruppe") or ALL_GROUPS,
        "stand": stand_de(),
    }
    if report is not None:
        context.update(selectors.backtest_display(report))
    return render(request, "forecast/backtest.html", context)


@login_required
@require_GET
def backtest_pdf(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    if report is None:
        raise Http404("Für diese Sachverhalte gibt es noch keinen Backtest.")
    # Not logged: hit figures per week are aggregates without any personal data.
    body = documents.backtest_pdf(report)
    return file_response(body, f"backtest-{report.group}-{report.created_at:%Y-%m-%d}.pdf", PDF_TYPE)
