"""Public open data under /offene-daten/: no login, cacheable, a German 404 for months without a file.

Only aggregates leave these views (the protected monthly tables of ``opendata``); nothing here reads a
record, so they need no authority scope and give every visitor, signed in or not, the same figures.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from . import opendata
from .documents import number_de, stand_de
from .opendata import DATASETS, INCIDENTS, REPORTS, Dataset, MonthlyTable, MonthNotPublished

CACHE_MAX_AGE = 3600  # complete months change only through late records; an hour is fresh enough
CSV_TYPE = "text/csv; charset=utf-8"
GEOJSON_TYPE = "application/geo+json"
_MONTH_PARAMETER = re.compile(r"^(\d{1,4})-(\d{1,2})$")


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {"current": "opendata", **context}
    if not request.user.is_authenticated:
        # No CSRF token (and cookie) in the page: there is nothing to post, and a response that sets a
        # cookie must not be stored by shared caches.
        context["csrf_token"] = ""
    response = render(request, template, context, status=status)
    if status == 200:
        if request.user.is_authenticated:  # the header shows the user's name
            patch_cache_control(response, private=True, max_age=CACHE_MAX_AGE)
        else:
            patch_cache_control(response, public=True, max_age=CACHE_MAX_AGE)
    else:
        patch_cache_control(response, public=not request.user.is_authenticated, max_age=300)
    return response


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return _page(
        request,
        "analytics/opendata_404.html",
        {"message": message, "index_url": reverse("opendata:index")},
        status=404,
    )


def _file(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # The same public aggregates for everybody: shared caches and other web pages may use them.
    patch_cache_control(response, public=True, max_age=CACHE_MAX_AGE)
    response["Access-Control-Allow-Origin"] = "*"
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def _dataset(slug: str) -> Dataset | None:
    return DATASETS.get(slug)


def _month_links(dataset: Dataset, months: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Available months grouped by year (newest first), with the file URLs."""
    # One reverse per kind of file and the numbers put in afterwards: reversing each of the
    # hundred or so links was a tenth of the page's time. The sentinel numbers are accepted by the
    # patterns; rpartition finds the last occurrence, which is the one before the extension.
    month_csv = reverse("opendata:month-csv", args=[dataset.slug, "1111", "22"]).rpartition("1111-22")
    month_geojson = reverse("opendata:month-geojson", args=[dataset.slug, "1111", "22"]).rpartition("1111-22")
    year_csv = reverse("opendata:year-csv", args=[dataset.slug, "1111"]).rpartition("1111")
    years: dict[int, dict[str, Any]] = {}
    for year, month in months:
        entry = years.setdefault(
            year,
            {"year": year, "csv": f"{year_csv[0]}{year:04d}{year_csv[2]}", "months": []},
        )
        period = f"{year:04d}-{month:02d}"
        entry["months"].append(
            {
                "label": opendata.month_label(year, month),
                "value": period,
                "csv": f"{month_csv[0]}{period}{month_csv[2]}",
                "geojson": f"{month_geojson[0]}{period}{month_geojson[2]}",
            }
        )
    return list(years.values())


def _shown(value: int | None) -> str | None:
    """German number text, or None for a suppressed value (the template shows the legend's mark)."""
    return None if value is None else number_de(value)


_SUPPRESSED_CELL = "".join(
    (
        '<td class="num suppressed"><span aria-hidden="true">•</span>',
        '<span class="visually-hidden">geheim gehalten</span></td>',
    )
)


def _cells(values: list[str | None]) -> SafeString:
    """The value cells of a preview line, built here: as template loops they were most of the page's
    rendering time (a few hundred cells)."""
    # Fixed markup around escaped values.
    return mark_safe(
        "".join(
            _SUPPRESSED_CELL if value is None else f'<td class="num">{escape(value)}</td>' for value in values
        )
    )


def _preview(table: MonthlyTable) -> dict[str, Any]:
    """The table transposed for the page: categories as rows, districts as columns (fits a screen)."""
    published = table.published()
    column_totals = table.column_totals
    lines = [
        {
            "name": column.name,
            "cells": _cells([_shown(published[i][j]) for i in range(len(table.rows))]),
            "total": _shown(column_totals[j]),
        }
        for j, column in enumerate(table.columns)
    ]
    return {
        "table": table,
        "districts": table.rows,
        "lines": lines,
        "totals": [_shown(value) for value in table.row_totals],
        "grand_total": _shown(table.grand_total),
        "stand": stand_de(table.stand),
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    incident_months = opendata.published_months(INCIDENTS)
    shown: tuple[int, int] | None = incident_months[0] if incident_months else None
    requested = request.GET.get("monat", "").strip()
    if requested:
        match = _MONTH_PARAMETER.match(requested)
        if match is None:
            return _not_found(request, "Den Monat bitte als JJJJ-MM angeben, zum Beispiel 2026-03.")
        shown = (int(match.group(1)), int(match.group(2)))
        try:
            opendata.check_month(*shown)
        except MonthNotPublished as exc:
            return _not_found(request, str(exc))
    preview = _preview(opendata.monthly_table(*shown, INCIDENTS)) if shown else None
    datasets = [
        {"dataset": INCIDENTS, "years": _month_links(INCIDENTS, incident_months)},
        {"dataset": REPORTS, "years": _month_links(REPORTS, opendata.published_months(REPORTS))},
    ]
    context = {
        "preview": preview,
        "datasets": datasets,
        "month_choices": [
            {"value": f"{y:04d}-{m:02d}", "label": opendata.month_label(y, m)} for y, m in incident_months
        ],
        "licence_name": opendata.LICENCE_NAME,
        "licence_url": opendata.LICENCE_URL,
        "attribution": opendata.attribution(),
        "rule": opendata.SUPPRESSION_RULE_DE,
        "coordinate_decimals": opendata.COORDINATE_DECIMALS,
        "first_year": opendata.FIRST_YEAR,
        "city_name": settings.CITY_NAME,
    }
    if preview:
        table = preview["table"]
        period = (f"{table.year:04d}", f"{table.month:02d}")
        context["preview_csv"] = reverse("opendata:month-csv", args=[INCIDENTS.slug, *period])
        context["preview_geojson"] = reverse("opendata:month-geojson", args=[INCIDENTS.slug, *period])
    return _page(request, "analytics/opendata.html", context)


def _month(request: HttpRequest, dataset_slug: str, year: str, month: str) -> MonthlyTable | HttpResponse:
    dataset = _dataset(dataset_slug)
    if dataset is None:
        return _not_found(request, "Diesen Datensatz gibt es nicht.")
    try:
        return opendata.monthly_table(int(year), int(month), dataset)
    except MonthNotPublished as exc:
        return _not_found(request, str(exc))


@require_GET
def month_csv(request: HttpRequest, dataset: str, year: str, month: str) -> HttpResponse:
    table = _month(request, dataset, year, month)
    if isinstance(table, HttpResponse):
        return table
    return _file(opendata.csv_bytes([table]), f"{table.dataset.slug}-{table.period}.csv", CSV_TYPE)


@require_GET
def month_geojson(request: HttpRequest, dataset: str, year: str, month: str) -> HttpResponse:
    table = _month(request, dataset, year, month)
    if isinstance(table, HttpResponse):
        return table
    return _file(opendata.geojson_bytes(table), f"{table.dataset.slug}-{table.period}.geojson", GEOJSON_TYPE)


@require_GET
def year_csv(request: HttpRequest, dataset: str, year: str) -> HttpResponse:
    chosen = _dataset(dataset)
    if chosen is None:
        return _not_found(request, "Diesen Datensatz gibt es nicht.")
    try:
        tables = opendata.year_tables(int(year), chosen)
    except MonthNotPublished as exc:
        return _not_found(request, str(exc))
    return _file(opendata.csv_bytes(tables), f"{chosen.slug}-{int(year):04d}.csv", CSV_TYPE)
