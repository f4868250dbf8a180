"""Reads of the forecast app: risk maps per area, GeoJSON, risk per patrol zone, backtest reports.

All of it is aggregate (expected events per 250 m cell from a model, hit figures per week):
no incident, free text or person. Which user may see which area is decided in ``rules.py``.

Interface for the deployment app – :func:`zone_risk`::

    zone_risk(group, start, end, kinds=("patrol_zone", "focus_area")) -> dict[area_id, events]

the expected number of events of ``group`` ("all" or a catalogue group) in every active patrol
zone and focus area between ``start`` and ``end`` (aware datetimes), summed over the forecast
cells whose centre lies in the area. It uses the stored shift forecasts whose window lies inside
[start, end) and, for the part of the window no shift forecast covers, the week forecast pro
rata (expected events of the week × uncovered hours / 168).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from django.db.models import QuerySet
from shapely import contains_xy

from lagebild.analytics.hotspots import grid_cells_geojson, utm32_to_wgs84
from lagebild.core.localtime import overlap_hours
from lagebild.geo.models import Area

from . import data
from .models import ALL_GROUPS, GROUP_CHOICES, BacktestReport, ForecastRun

TOP_CELLS = 20
NO_BACKTEST = "Noch kein Backtest: Verwendet wird die Grundlinie „letzte 4 Wochen“."
MAP_KINDS = (Area.Kind.PATROL_ZONE, Area.Kind.FOCUS_AREA, Area.Kind.CITY)
GROUP_LABELS = dict(GROUP_CHOICES)


def group_label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


def model_label(model: str) -> str:
    try:
        from .predict import MODEL_LABELS
    except ImportError:  # the pure module is not there yet
        return model
    return str(MODEL_LABELS.get(model, model))


# --- runs -------------------------------------------------------------------------------------


def runs(group: str) -> QuerySet[ForecastRun]:
    return ForecastRun.objects.filter(group=group).defer("cells")


def latest_week_run(group: str, at: dt.datetime | None = None) -> ForecastRun | None:
    """The week forecast covering ``at`` (default: the latest one that exists)."""
    qs = ForecastRun.objects.filter(group=group, horizon=ForecastRun.Horizon.WEEK)
    if at is not None:
        covering = qs.filter(starts_at__lte=at, ends_at__gt=at).order_by("-created_at").first()
        if covering is not None:
            return covering
    return qs.order_by("-starts_at", "-created_at").first()


def run_for(group: str, week: dt.date | None, shift: str = "") -> ForecastRun | None:
    """The run chosen on the map page: the week from ``week`` (a Monday) or one of its shifts
    (``shift`` = "YYYY-MM-DD:kind"); without ``week`` the newest week forecast."""
    if week is None:
        return latest_week_run(group)
    qs = ForecastRun.objects.filter(group=group, origin=week)
    if shift:
        day_text, _, kind = shift.partition(":")
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            return None
        return qs.filter(horizon=ForecastRun.Horizon.SHIFT, shift_date=day, shift_kind=kind).first()
    return qs.filter(horizon=ForecastRun.Horizon.WEEK).first()


def available_weeks(group: str) -> list[dt.date]:
    return list(
        ForecastRun.objects.filter(group=group, horizon=ForecastRun.Horizon.WEEK)
        .order_by("-origin")
        .values_list("origin", flat=True)
        .distinct()
    )


def available_shifts(group: str, week: dt.date) -> list[tuple[dt.date, str]]:
    return list(
        ForecastRun.objects.filter(group=group, origin=week, horizon=ForecastRun.Horizon.SHIFT)
        .order_by("starts_at")
        .values_list("shift_date", "shift_kind")
    )


def groups_with_runs() -> list[str]:
    present = set(ForecastRun.objects.values_list("group", flat=True).distinct())
    return [g for g, _ in GROUP_CHOICES if g in present]


# --- cells of an area ---------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _area_cells(
    area_id: int, updated: dt.datetime, x0: float, y0: float, size: float, nrows: int, ncols: int
) -> np.ndarray:
    """Boolean (nrows, ncols): cells of the grid whose centre lies in the area."""
    area = Area.objects.get(pk=area_id)
    polygon = data.utm_geometry(area)
    xs = x0 + (np.arange(ncols) + 0.5) * size
    ys = y0 + (np.arange(nrows) + 0.5) * size
    gx, gy = np.meshgrid(xs, ys)
    return np.asarray(contains_xy(polygon, gx, gy), dtype=bool)


def area_mask(area: Area, run: ForecastRun) -> np.ndarray:
    return _area_cells(area.pk, area.updated_at, run.x0, run.y0, run.cell_size, run.nrows, run.ncols)


def surface(run: ForecastRun) -> np.ndarray:
    """The run's expected events per cell as an array of the grid's shape."""
    values = np.zeros((run.nrows, run.ncols))
    if run.cells:
        cells = np.asarray(run.cells, dtype=float)
        values[cells[:, 0].astype(int), cells[:, 1].astype(int)] = cells[:, 2]
    return values


def area_surface(area: Area, run: ForecastRun) -> np.ndarray:
    """Expected events in the cells of ``area``; 0 elsewhere. The city area gets every cell."""
    values = surface(run)
    if area.kind == Area.Kind.CITY:
        return values
    return np.where(area_mask(area, run), values, 0.0)


@dataclass(frozen=True)
class RiskCell:
    rank: int
    row: int
    col: int
    expected: float
    share: float  # of the area's expected events
    lat: float
    lon: float


@dataclass(frozen=True)
class RiskMap:
    area: Area
    run: ForecastRun
    cells: list[RiskCell]
    total: float  # expected events in the area
    cell_count: int  # cells of the area (centre inside)
    nonzero: int


def risk_map(area: Area, run: ForecastRun, top: int = TOP_CELLS) -> RiskMap:
    """The top cells of ``area`` by expected events, with their centres in WGS84 and rank."""
    values = area_surface(area, run)
    total = float(values.sum())
    rows, cols = np.nonzero(values > 0)
    order = np.argsort(-values[rows, cols], kind="stable")[:top]
    rows, cols = rows[order], cols[order]
    size = run.cell_size
    lon, lat = utm32_to_wgs84(run.x0 + (cols + 0.5) * size, run.y0 + (rows + 0.5) * size)
    cells = [
        RiskCell(
            rank=index + 1,
            row=int(r),
            col=int(c),
            expected=float(values[r, c]),
            share=float(values[r, c]) / total if total > 0 else 0.0,
            lat=round(float(lat[index]), 6),
            lon=round(float(lon[index]), 6),
        )
        for index, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True))
    ]
    cell_count = int(values.size) if area.kind == Area.Kind.CITY else int(area_mask(area, run).sum())
    return RiskMap(area, run, cells, total, cell_count, int(np.count_nonzero(values > 0)))


def zone_geojson(area: Area, run: ForecastRun) -> dict[str, Any]:
    """FeatureCollection (WGS84) of the area's cells with expected events > 0: one polygon per
    cell with ``expected``, ``rank`` (1 = highest), ``row``, ``col`` and the run's metadata."""
    values = area_surface(area, run)
    collection = grid_cells_geojson(data.grid_of(run), values)
    ranked = sorted(collection["features"], key=lambda f: -f["properties"]["value"])
    for rank, feature in enumerate(ranked, start=1):
        props = feature["properties"]
        props["expected"] = props.pop("value")
        props["rank"] = rank
    collection["features"] = ranked
    collection["properties"] = {
        "area": area.name,
        "group": run.group,
        "model": run.model,
        "start": run.starts_at.isoformat(),
        "end": run.ends_at.isoformat(),
        "cell_size_m": run.cell_size,
        "crs_of_cells": "EPSG:25832",
        "unit": "erwartete Ereignisse im Zeitraum",
    }
    return collection


# --- risk per patrol zone (interface for the deployment app) ------------------------------------


RISK_KINDS = (Area.Kind.PATROL_ZONE, Area.Kind.FOCUS_AREA)


def zone_risk(
    group: str, start: dt.datetime, end: dt.datetime, kinds: tuple[str, ...] = RISK_KINDS
) -> dict[int, float]:
    """Expected events of ``group`` per active patrol zone and focus area (area id → events) in
    [start, end); ``kinds`` chooses other area kinds.

    Shift forecasts lying inside the window count in full; the rest of the window is covered by
    the week forecast(s) pro rata. Zones without any forecast for the window get 0.0.
    """
    zones = list(Area.objects.filter(kind__in=kinds, active=True))
    risk = {zone.pk: 0.0 for zone in zones}
    if not zones or end <= start:
        return risk
    shifts = list(
        ForecastRun.objects.filter(
            group=group, horizon=ForecastRun.Horizon.SHIFT, starts_at__gte=start, ends_at__lte=end
        ).order_by("starts_at")
    )
    covered_hours = 0.0
    for run in shifts:
        values = surface(run)
        for zone in zones:
            risk[zone.pk] += float(values[area_mask(zone, run)].sum())
        covered_hours += overlap_hours(run.starts_at, run.ends_at, start, end)
    window_hours = (end - start).total_seconds() / 3600.0
    remaining = window_hours - covered_hours
    if remaining > 1e-6:
        weeks = ForecastRun.objects.filter(
            group=group, horizon=ForecastRun.Horizon.WEEK, starts_at__lt=end, ends_at__gt=start
        )
        for run in weeks:
            week_hours = (run.ends_at - run.starts_at).total_seconds() / 3600.0
            overlap = overlap_hours(run.starts_at, run.ends_at, start, end)
            # Shifts already counted inside this week are taken out of the pro-rata part.
            inside = sum(overlap_hours(s.starts_at, s.ends_at, run.starts_at, run.ends_at) for s in shifts)
            factor = max(overlap - inside, 0.0) / week_hours if week_hours > 0 else 0.0
            if factor <= 0:
                continue
            values = surface(run)
            for zone in zones:
                risk[zone.pk] += factor * float(values[area_mask(zone, run)].sum())
    return risk


# --- backtests ----------------------------------------------------------------------------------


def latest_reports() -> dict[str, BacktestReport]:
    """The newest backtest per group, in the order of the groups."""
    latest: dict[str, BacktestReport] = {}
    for report in BacktestReport.objects.order_by("group", "-created_at", "-pk").defer("result"):
        latest.setdefault(report.group, report)
    return {g: latest[g] for g, _ in GROUP_CHOICES if g in latest}


def latest_report(group: str) -> BacktestReport | None:
    return BacktestReport.objects.filter(group=group).order_by("-created_at", "-pk").first()


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def overview_rows() -> list[dict[str, Any]]:
    """Per group: the model in use and by how much it beats the baseline (or that none does)."""
    from .services import model_in_use

    rows = []
    reports = latest_reports()
    groups = list(dict.fromkeys([*reports, *groups_with_runs()]))
    if ALL_GROUPS in groups:
        groups.remove(ALL_GROUPS)
        groups.insert(0, ALL_GROUPS)
    for group in groups:
        report = reports.get(group)
        run = latest_week_run(group)
        rows.append({
            "group": group,
            "label": group_label(group),
            "model": model_in_use(group),
            "model_label": model_label(model_in_use(group)),
            "report": report,
            "sentence": report.sentence if report else NO_BACKTEST,
            "beats": bool(report and report.beats_baseline),
            "run": run,
        })  # fmt: skip
    return rows


# --- backtest report for display (page and PDF) -------------------------------------------------

METRIC_COLUMNS = (
    ("hit_rate", "Trefferquote"),
    ("pai", "PAI"),
    ("pei", "PEI"),
    ("pei_star", "PEI*"),
    ("recapture", "Recapture (RRI)"),
)
PERCENT_METRICS = ("hit_rate", "pei", "pei_star")


def _number(value: float | None, digits: int = 2, sign: bool = False) -> str:
    from lagebild.analytics.documents import number_de

    return "–" if value is None else number_de(value, digits, sign=sign)


def _interval_text(interval: dict[str, Any] | None, metric: str = "", sign: bool = False) -> dict[str, str]:
    """Mean and 95 % interval as German text; shares in percent."""
    if not interval:
        return {"mean": "–", "ci": "", "text": "–"}
    scale, digits, unit = (100.0, 1, " %") if metric in PERCENT_METRICS else (1.0, 2, "")
    mean, low, high = (_finite(interval.get(k)) for k in ("mean", "low", "high"))
    if mean is None:
        return {"mean": "–", "ci": "", "text": "–"}
    mean_text = _number(mean * scale, digits, sign) + unit
    ci = (
        f"{_number(low * scale, digits, sign)} bis {_number(high * scale, digits, sign)}"
        if low is not None and high is not None
        else ""
    )
    return {"mean": mean_text, "ci": ci, "text": f"{mean_text} ({ci})" if ci else mean_text}


def _parameter_value(value: Any) -> str:
    return _number(float(value), 4).rstrip("0").rstrip(",") if isinstance(value, int | float) else str(value)


def _date_of_t(t: float) -> dt.date:
    return data.from_t(t).date()


def backtest_display(report: BacktestReport) -> dict[str, Any]:
    """Everything the report page and the PDF show, as German text."""
    result = report.result or {}
    labels = result.get("labels", {})
    models = result.get("models", [])
    baselines = set(result.get("baselines", []))
    choice = result.get("choice", {})
    means = result.get("means", {})
    comparisons = result.get("comparisons", {})
    coverages = result.get("coverages", [])
    try:
        from .predict import PARAMETER_DOCS
    except ImportError:
        PARAMETER_DOCS = {}

    def label(model: str) -> str:
        return str(labels.get(model) or model_label(model))

    from .backtest import coverage_key

    tables = []
    for coverage in coverages:
        key = coverage_key(coverage)
        rows = []
        for model in models:
            cells = [
                {"metric": metric, **_interval_text(means.get(model, {}).get(metric, {}).get(key), metric)}
                for metric, _ in METRIC_COLUMNS
            ]
            comparison = comparisons.get(model, {}).get(key)
            rows.append({
                "model": model,
                "label": label(model),
                "baseline": model in baselines,
                "chosen": model == report.chosen_model,
                "cells": cells,
                "difference": _interval_text(comparison, "pai", sign=True) if comparison else None,
            })  # fmt: skip
        tables.append({"key": key, "percent": f"{key} %", "rows": rows})
    parameters = []
    for model in models:
        values = result.get("parameters", {}).get(model, {})
        docs = PARAMETER_DOCS.get(model, {})
        parameters.append({
            "model": model,
            "label": label(model),
            "baseline": model in baselines,
            "rows": [
                {"name": name, "value": _parameter_value(value), "doc": docs.get(name, "")}
                for name, value in values.items()
            ],
            "seconds": _number(result.get("seconds", {}).get(model), 1),
        })  # fmt: skip
    origins = result.get("origins", [])
    difference = choice.get("difference") or {}
    return {
        "report": report,
        "group_label": group_label(report.group),
        "sentence": report.sentence,
        "chosen_label": label(report.chosen_model),
        "beats": report.beats_baseline,
        "best_baseline_label": label(choice.get("best_baseline", "")) if choice.get("best_baseline") else "–",
        "best_model_label": label(choice.get("best_model", "")) if choice.get("best_model") else "–",
        "difference": _interval_text(difference, "pai", sign=True),
        "tables": tables,
        "parameters": parameters,
        "first_week": _date_of_t(origins[0]) if origins else None,
        "last_week": _date_of_t(origins[-1]) if origins else None,
        "weeks": len(origins),
        "empty_weeks": result.get("empty_weeks", 0),
        "horizon_days": _number(result.get("horizon"), 0),
        "resamples": result.get("resamples"),
        "refit_every": int(result.get("refit_every", 1) or 1),
        "seed": result.get("seed"),
        "notes": result.get("notes", []),
        "observed": sum(result.get("observed_totals", [])),
        "metric_columns": METRIC_COLUMNS,
    }
