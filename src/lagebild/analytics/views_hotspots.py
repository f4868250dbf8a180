"""Hotspot page (/auswertung/brennpunkte/), its map data and its downloads.

The views parse one GET form and present :mod:`lagebild.analytics.hotspot_service`. Page, map
data and downloads take the same parameters, so what is downloaded is what the map shows.
Unusable parameters are answered in German at the field (HTTP 400), an empty selection with a
friendly message. Every output is an aggregate over grid cells, identical for both partners.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from lagebild.catalog.selectors import category_list
from lagebild.field.forms import DateInput, LagebildForm, grouped_category_choices

from . import hotspot_service as service
from . import hotspots, selectors
from .documents import file_response, number_de, stand_de
from .models import CITY_AREA, Fact
from .periods import parse_date

DEFAULT_DAYS = 28
EARLIEST_DAY = dt.date(2000, 1, 1)
GEOJSON_TYPE = "application/geo+json"
TEXT_TYPE = "text/plain; charset=utf-8"
# Sequential purples for the density classes: distinct from the red/blue of Gi* hot and cold cells.
KDE_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
NUMBER_FIELDS = ("bandwidth", "cell_size", "gi_cell_size", "distance_band", "alpha")
EMPTY_MESSAGE = (
    "Im gewählten Gebiet und Zeitraum gibt es keine Feststellungen der gewählten Sachverhalte. "
    "Bitte einen längeren Zeitraum, ein größeres Gebiet oder andere Sachverhalte wählen."
)


# --- form ----------------------------------------------------------------------------------


def _decimal_input(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": placeholder})


class HotspotForm(LagebildForm):
    area = forms.TypedChoiceField(
        label="Gebiet",
        coerce=int,
        required=False,
        empty_value=CITY_AREA,
        error_messages={"invalid_choice": "Dieses Gebiet gibt es nicht."},
    )
    start = forms.CharField(
        label="Von",
        required=False,
        max_length=20,
        widget=DateInput(),
        help_text="Ohne Angabe: 28 Tage bis heute.",
    )
    end = forms.CharField(label="Bis", required=False, max_length=20, widget=DateInput())
    categories = forms.TypedMultipleChoiceField(
        label="Sachverhalte",
        coerce=int,
        required=False,
        help_text="Keine Auswahl: alle Sachverhalte. Mehrfachauswahl mit Strg bzw. Cmd.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"invalid_choice": "Diesen Sachverhalt gibt es nicht."},
    )
    indicator = forms.ChoiceField(
        label="oder Kennzahl",
        required=False,
        help_text="Zählt die Feststellungen, die die Kennzahl zählt.",
        error_messages={"invalid_choice": "Diese Kennzahl gibt es nicht."},
    )
    bandwidth = forms.CharField(
        label="Bandbreite (m)",
        required=False,
        max_length=20,
        help_text="Suchradius der Kerndichte. Leer: Standardregel (ArcGIS).",
        widget=_decimal_input("automatisch"),
    )
    cell_size = forms.CharField(
        label="Zellgröße Kerndichte (m)",
        required=False,
        max_length=20,
        help_text="Leer: kürzere Seite des Ausschnitts / 250, mindestens 25 m.",
        widget=_decimal_input("automatisch"),
    )
    gi_cell_size = forms.CharField(
        label="Zellgröße Gi* und Konzentration (m)",
        required=False,
        max_length=20,
        help_text="Leer: 100 m.",
        widget=_decimal_input("100"),
    )
    distance_band = forms.CharField(
        label="Gi*-Distanzbereich (m)",
        required=False,
        max_length=20,
        help_text="Nachbarzellen bis zu diesem Abstand der Mittelpunkte. Leer: 1,5 × Zellgröße (8 Nachbarn).",
        widget=_decimal_input("1,5 × Zelle"),
    )
    alpha = forms.CharField(
        label="Signifikanzniveau (FDR)",
        required=False,
        max_length=20,
        help_text="Falscherkennungsrate nach Benjamini-Hochberg. Leer: 0,05.",
        widget=_decimal_input("0,05"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {}
        for choice in selectors.area_choices():
            groups.setdefault(choice.kind_label, []).append((choice.id, choice.name))
        self.fields["area"].choices = list(groups.items())
        self.categories = list(category_list())
        self.fields["categories"].choices = grouped_category_choices(self.categories)
        self.indicators = {
            d.code: d
            for d in selectors.indicators_for()
            if d.fact == Fact.INCIDENT and d.is_count  # counts per 100 staff hours are no point pattern
        }
        self.fields["indicator"].choices = [("", "– keine –")] + [
            (c, d.name) for c, d in self.indicators.items()
        ]

    def _clean_day(self, name: str, what: str) -> dt.date | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            day = parse_date(text, what=what)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if day < EARLIEST_DAY:
            raise forms.ValidationError(f"Das Datum darf nicht vor dem {EARLIEST_DAY:%d.%m.%Y} liegen.")
        return day

    def clean_start(self) -> dt.date | None:
        return self._clean_day("start", "Startdatum")

    def clean_end(self) -> dt.date | None:
        return self._clean_day("end", "Enddatum")

    def _clean_number(self, name: str) -> float | None:
        text = (self.cleaned_data.get(name) or "").strip().replace(" ", "")
        if not text:
            return None
        try:
            number = float(text.replace(",", "."))
        except ValueError as exc:
            raise forms.ValidationError("Bitte eine Zahl angeben, z. B. 150 oder 0,05.") from exc
        if not math.isfinite(number):
            raise forms.ValidationError("Bitte eine endliche Zahl angeben.")
        return number

    def clean_bandwidth(self) -> float | None:
        return self._clean_number("bandwidth")

    def clean_cell_size(self) -> float | None:
        return self._clean_number("cell_size")

    def clean_gi_cell_size(self) -> float | None:
        return self._clean_number("gi_cell_size")

    def clean_distance_band(self) -> float | None:
        return self._clean_number("distance_band")

    def clean_alpha(self) -> float | None:
        return self._clean_number("alpha")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        today = timezone.localdate()
        if "start" not in self.errors and "end" not in self.errors:
            end = data.get("end") or today
            start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
            if end < start:
                self.add_error("end", "Das Enddatum liegt vor dem Startdatum.")
            else:
                data["start"], data["end"] = start, end
        if data.get("indicator") and data.get("categories"):
            self.add_error(
                "indicator", "Bitte entweder Sachverhalte oder eine Kennzahl wählen, nicht beides."
            )
        try:
            service.check_parameters(self.parameters())
        except service.ParameterError as exc:
            for name, message in exc.errors.items():
                if name not in self.errors:
                    self.add_error(name, message)
        return data

    def parameters(self) -> service.HotspotParameters:
        """The method parameters; a field with an error counts as not given (its default)."""
        data = self.cleaned_data
        return service.HotspotParameters(
            **{name: None if name in self.errors else data.get(name) for name in NUMBER_FIELDS}
        )

    def selection(self) -> service.Selection:
        data = self.cleaned_data
        category_ids: tuple[int, ...] = tuple(sorted(data.get("categories") or ()))
        sources: tuple[str, ...] = ()
        authority_ids: tuple[int, ...] = ()
        indicator = self.indicators.get(data.get("indicator") or "")
        if indicator is not None:
            category_ids = tuple(sorted(indicator.category_ids))
            sources = tuple(sorted(indicator.details))
            authority_ids = tuple(sorted(indicator.authority_ids))
        return service.Selection(
            area_id=data.get("area") or CITY_AREA,
            start=data["start"],
            end=data["end"],
            category_ids=category_ids,
            sources=sources,
            authority_ids=authority_ids,
        )

    def query(self) -> str:
        """The canonical query string of a valid form (dates resolved, defaults left out)."""
        data = self.cleaned_data
        pairs: list[tuple[str, str]] = [
            ("area", str(data.get("area") or CITY_AREA)),
            ("start", data["start"].isoformat()),
            ("end", data["end"].isoformat()),
        ]
        pairs += [("categories", str(c)) for c in sorted(data.get("categories") or ())]
        if data.get("indicator"):
            pairs.append(("indicator", data["indicator"]))
        for name in NUMBER_FIELDS:
            if data.get(name) is not None:
                pairs.append((name, f"{data[name]:g}"))
        return urlencode(pairs)

    def what_text(self) -> str:
        data = self.cleaned_data
        indicator = self.indicators.get(data.get("indicator") or "")
        if indicator is not None:
            return f"Kennzahl „{indicator.name}“"
        chosen = set(data.get("categories") or ())
        if not chosen:
            return "alle Sachverhalte"
        return ", ".join(c.name for c in self.categories if c.pk in chosen)


def add_parameter_errors(form: forms.Form, error: service.ParameterError) -> None:
    for name, message in error.errors.items():
        form.add_error(name if name in form.fields else None, message)


def _form_errors(form: forms.Form) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


def _errors_text(form: forms.Form) -> str:
    lines = ["Die Angaben sind ungültig:"]
    for name, messages in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Allgemein"
        lines += [f"- {label}: {message}" for message in messages]
    return "\n".join(lines) + "\n"


def _run(request: HttpRequest) -> tuple[HotspotForm, service.HotspotAnalysis | None]:
    """The bound form and, when it is valid, the analysis (parameter errors go to the form)."""
    form = HotspotForm(request.GET)
    if not form.is_valid():
        return form, None
    # Show the resolved default period in the date fields.
    shown = form.data.copy()
    shown["start"] = form.cleaned_data["start"].isoformat()
    shown["end"] = form.cleaned_data["end"].isoformat()
    form.data = shown
    try:
        return form, service.analyse(form.selection(), form.parameters())
    except service.ParameterError as exc:
        add_parameter_errors(form, exc)
        return form, None


# --- presentation helpers ------------------------------------------------------------------


def _metres(value: float) -> str:
    return f"{number_de(value, 0 if value >= 10 else 1)} m"


def _share(value: float, decimals: int = 1) -> str:
    return f"{number_de(100 * value, decimals)} %"


def _density(value: float) -> str:
    return number_de(value, 1 if value < 100 else 0)


def _svg(value: float) -> str:
    """An SVG coordinate: always a dot as decimal separator, whatever the page locale."""
    return f"{value:.1f}"


def lorenz_chart(concentration: service.CellConcentration) -> dict[str, Any]:
    """Coordinates of the Lorenz curve as an inline SVG (200 × 200 plot area, y upwards).

    All coordinates are preformatted strings: the German locale would render 94.5 as "94,5",
    which SVG reads as two coordinates.
    """
    size, left, top = 200, 44, 10
    result = concentration.result
    points = " ".join(
        f"{_svg(left + size * c)},{_svg(top + size * (1 - i))}"
        for c, i in zip(result.lorenz_cells, result.lorenz_incidents, strict=True)
    )
    bottom, right = top + size, left + size
    ticks = [
        {
            "label": f"{p} %",
            "x": _svg(left + size * p / 100),
            "y": _svg(top + size * (1 - p / 100)),
            "below": _svg(bottom + 16),
            "beside": _svg(left - 4),
        }
        for p in (0, 50, 100)
    ]
    y_label_x, y_label_y = 12, top + size / 2
    return {
        "width": _svg(right + 16),
        "height": _svg(bottom + 44),
        "left": _svg(left),
        "top": _svg(top),
        "right": _svg(right),
        "bottom": _svg(bottom),
        "size": _svg(size),
        "points": points,
        "ticks": ticks,
        "x_label_x": _svg(left + size / 2),
        "x_label_y": _svg(bottom + 36),
        "y_label_x": _svg(y_label_x),
        "y_label_y": _svg(y_label_y),
    }


def _concentration_context(concentration: service.CellConcentration) -> dict[str, Any]:
    result = concentration.result
    rows = [
        {
            "label": f"Top {p} % der Zellen",
            "cells": number_de(result.top_cells[p]),
            "share": _share(result.top_share[p]),
        }
        for p in sorted(result.top_share)
    ]
    deciles = [
        {"cells": _share(cells, 0), "incidents": _share(incidents), "top": _share(1 - incidents)}
        for cells, incidents in concentration.deciles
    ]
    return {
        "rows": rows,
        "cells": number_de(concentration.cells),
        "cell_size": _metres(concentration.cell_size),
        "incidents": number_de(result.incidents),
        "half": _share(result.cells_for_half),
        "quarter": _share(result.cells_for_quarter),
        "gini": number_de(result.gini, 3),
        "generalized_gini": number_de(result.generalized_gini, 3),
        "sparse": result.incidents < concentration.cells,
        "deciles": deciles,
        "chart": lorenz_chart(concentration),
        "description": (
            f"Lorenzkurve: Die {_share(1 - concentration.deciles[9][0], 0)} der Zellen mit den meisten "
            f"Feststellungen enthalten {_share(1 - concentration.deciles[9][1])} der Feststellungen; "
            f"Gini {number_de(result.gini, 3)}. Die Zahlen stehen in der Tabelle darunter."
        ),
    }


def _kde_context(kde: service.KdeSurface) -> dict[str, Any]:
    legend = service.kde_legend(kde)
    for entry in legend:
        entry["colour"] = KDE_COLOURS[entry["class"] - 1]
        entry["cells_text"] = number_de(entry["cells"])
    return {
        "bandwidth": _metres(kde.bandwidth),
        "bandwidth_note": kde.bandwidth_note,
        "cell_size": _metres(kde.grid.cell_size),
        "cell_size_note": kde.cell_size_note,
        "grid": f"{number_de(kde.grid.ncols)} × {number_de(kde.grid.nrows)} Zellen",
        "method": service.KDE_METHOD_LABELS.get(kde.method, kde.method),
        "mean": _density(kde.mean_density),
        "max": _density(kde.max_density),
        "hotspot_cells": number_de(kde.hotspot_cells()),
        "hotspot_area": number_de(kde.hotspot_cells() * kde.grid.cell_area_km2, 2),
        "legend": legend,
    }


def _gi_context(gi: service.GiStarCells) -> dict[str, Any]:
    return {
        "cell_size": _metres(gi.cell_size),
        "band": _metres(gi.distance_band),
        "neighbours": gi.neighbours,
        "alpha": number_de(gi.alpha, 4).rstrip("0").rstrip(","),
        "cells": number_de(gi.cells.cell_count),
        "hot": number_de(gi.hot_count),
        "cold": number_de(gi.cold_count),
        "informative": gi.informative,
    }


def _top_cells_context(analysis: service.HotspotAnalysis) -> list[dict[str, Any]]:
    labels = {1: "Brennpunkt", -1: "Kaltpunkt", 0: "nicht signifikant"}
    return [
        {
            "rank": cell.rank,
            "places": cell.places or "–",
            "position": f"{number_de(cell.lat, 5)}° N, {number_de(cell.lon, 5)}° O",
            "count": number_de(cell.count),
            "share": _share(cell.share),
            "z": number_de(cell.z, 2) if analysis.gi is not None and analysis.gi.informative else "–",
            "class": labels[cell.hot_cold],
            "css": {1: "hot", -1: "cold", 0: ""}[cell.hot_cold],
        }
        for cell in analysis.top_cells
    ]


def _base_name(form: HotspotForm, stem: str) -> str:
    selection = form.selection()
    names = {choice.id: choice.name for choice in selectors.area_choices()}
    area = slugify(names.get(selection.area_id, "")) or "gebiet"
    return f"{stem}_{area}_{selection.start.isoformat()}_{selection.end.isoformat()}"


# --- views ---------------------------------------------------------------------------------


@login_required
@permission_required("analytics.view", raise_exception=True)
def hotspots_page(request: HttpRequest) -> HttpResponse:
    form, analysis = _run(request)
    context: dict[str, Any] = {
        "form": form,
        "current": "analytics",
        "stand": stand_de(),
        "analysis": analysis,
    }
    if analysis is None:
        return render(request, "analytics/hotspots.html", context, status=400)
    query = form.query()
    selection = analysis.selection
    context.update({
        "area_name": analysis.area.name,
        "period": f"{selection.start:%d.%m.%Y} bis {selection.end:%d.%m.%Y}",
        "what": form.what_text(),
        "points": number_de(analysis.points),
        "empty_message": EMPTY_MESSAGE if analysis.points == 0 else "",
        "map_url": f"{reverse('analytics:hotspots-map')}?{query}",
        "areas_url": f"{reverse('geo:areas-geojson')}?kind=district",
        "downloads": {
            "kde_geojson": f"{reverse('analytics:hotspots-kde-geojson')}?{query}",
            "kde_asc": f"{reverse('analytics:hotspots-kde-asc')}?{query}",
            "kde_prj": f"{reverse('analytics:hotspots-kde-prj')}?{query}",
            "gi_geojson": f"{reverse('analytics:hotspots-gi-geojson')}?{query}",
        },
        "asc_name": _base_name(form, "kerndichte") + f"_EPSG{hotspots.CRS_EPSG}.asc",
    })  # fmt: skip
    if analysis.kde is not None:
        context["kde"] = _kde_context(analysis.kde)
    if analysis.gi is not None:
        context["gi"] = _gi_context(analysis.gi)
    context["gi_message"] = analysis.gi_message
    context["cell_size_text"] = _metres(analysis.params.gi_cell)
    if analysis.concentration is not None:
        context["concentration"] = _concentration_context(analysis.concentration)
    context["top_cells"] = _top_cells_context(analysis)
    return render(request, "analytics/hotspots.html", context)


@login_required
@permission_required("analytics.view", raise_exception=True)
def hotspots_map(request: HttpRequest) -> JsonResponse:
    """Map layers of the page: density classes, significant Gi* cells, area outline (WGS84)."""
    form, analysis = _run(request)
    if analysis is None:
        return JsonResponse({"errors": _form_errors(form)}, status=400)
    payload: dict[str, Any] = {
        "area": {"type": "FeatureCollection", "features": [analysis.area.outline_feature()]},
        "points": analysis.points,
        "message": EMPTY_MESSAGE if analysis.points == 0 else "",
        "kde": {"type": "FeatureCollection", "features": []},
        "kde_legend": [],
        "gi": {"type": "FeatureCollection", "features": []},
    }
    if analysis.kde is not None:
        kde = service.kde_class_features(analysis.kde)
        for feature in kde["features"]:
            feature["properties"]["colour"] = KDE_COLOURS[feature["properties"]["class"] - 1]
        payload["kde"] = kde
        payload["kde_legend"] = [
            {**entry, "colour": KDE_COLOURS[entry["class"] - 1]} for entry in service.kde_legend(analysis.kde)
        ]
        payload["bandwidth_m"] = round(analysis.kde.bandwidth, 1)
        payload["cell_size_m"] = analysis.kde.grid.cell_size
        payload["unit"] = analysis.kde.unit
    if analysis.gi is not None:
        payload["gi"] = service.gi_features(analysis.gi, significant_only=True)
        payload["gi_cell_size_m"] = analysis.gi.cell_size
        payload["distance_band_m"] = analysis.gi.distance_band
        payload["alpha"] = analysis.gi.alpha
    return JsonResponse(payload)


def _download_inputs(request: HttpRequest) -> tuple[HotspotForm, HttpResponse | None]:
    form = HotspotForm(request.GET)
    if not form.is_valid():
        return form, HttpResponse(_errors_text(form), content_type=TEXT_TYPE, status=400)
    return form, None


def _empty_download() -> HttpResponse:
    return HttpResponse(f"Nichts herunterzuladen: {EMPTY_MESSAGE}\n", content_type=TEXT_TYPE, status=404)


def _parameter_failure(form: HotspotForm, error: service.ParameterError) -> HttpResponse:
    add_parameter_errors(form, error)
    return HttpResponse(_errors_text(form), content_type=TEXT_TYPE, status=400)


def _selection_metadata(form: HotspotForm, area: service.StudyArea) -> dict[str, Any]:
    selection = form.selection()
    return {
        "area": area.name,
        "start": selection.start.isoformat(),
        "end": selection.end.isoformat(),
        "what": form.what_text(),
    }


@login_required
@permission_required("analytics.export", raise_exception=True)
def kde_geojson(request: HttpRequest) -> HttpResponse:
    """Every density cell above 0 as a WGS84 polygon with value, row, col and unit."""
    form, failure = _download_inputs(request)
    if failure is not None:
        return failure
    try:
        area, kde = service.kde_only(form.selection(), form.parameters())
    except service.ParameterError as exc:
        return _parameter_failure(form, exc)
    if kde is None:
        return _empty_download()
    collection = service.kde_cells_geojson(kde)
    collection["metadata"] = {**_selection_metadata(form, area), **service.kde_metadata(kde)}
    data = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    return file_response(data, _base_name(form, "kerndichte") + "_WGS84.geojson", GEOJSON_TYPE)


@login_required
@permission_required("analytics.export", raise_exception=True)
def kde_ascii(request: HttpRequest) -> HttpResponse:
    """The density grid as ESRI ASCII grid in EPSG:25832 (north row first)."""
    form, failure = _download_inputs(request)
    if failure is not None:
        return failure
    try:
        _area, kde = service.kde_only(form.selection(), form.parameters())
    except service.ParameterError as exc:
        return _parameter_failure(form, exc)
    if kde is None:
        return _empty_download()
    data = hotspots.ascii_grid(kde.grid, kde.values).encode()
    return file_response(data, _base_name(form, "kerndichte") + f"_EPSG{hotspots.CRS_EPSG}.asc", TEXT_TYPE)


@login_required
@permission_required("analytics.export", raise_exception=True)
def kde_prj(request: HttpRequest) -> HttpResponse:
    """The projection file for the ASCII grid, named like it so GIS software finds it."""
    form, failure = _download_inputs(request)
    if failure is not None:
        return failure
    data = hotspots.ascii_grid_prj().encode()
    return file_response(data, _base_name(form, "kerndichte") + f"_EPSG{hotspots.CRS_EPSG}.prj", TEXT_TYPE)


@login_required
@permission_required("analytics.export", raise_exception=True)
def gi_geojson(request: HttpRequest) -> HttpResponse:
    """All Gi* cells of the area as WGS84 polygons: z, p, significant, class, count."""
    form, failure = _download_inputs(request)
    if failure is not None:
        return failure
    try:
        area, gi = service.gi_only(form.selection(), form.parameters())
    except service.ParameterError as exc:
        return _parameter_failure(form, exc)
    if gi is None:
        return _empty_download()
    collection = service.gi_features(gi, significant_only=False)
    collection["metadata"] = {
        **_selection_metadata(form, area),
        "crs_of_grid": f"EPSG:{hotspots.CRS_EPSG}",
        "cell_size_m": gi.cell_size,
        "distance_band_m": gi.distance_band,
        "weights": "binär, Zelle selbst eingeschlossen (Gi*)",
        "p_values": "zweiseitig, Normalverteilung",
        "fdr": f"Benjamini-Hochberg, alpha = {gi.alpha:g}",
        "cells": gi.cells.cell_count,
        "hot": gi.hot_count,
        "cold": gi.cold_count,
    }
    data = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    return file_response(data, _base_name(form, "gistar") + "_WGS84.geojson", GEOJSON_TYPE)
