"""Writes of the forecast app: backtests, weekly and shift forecasts (issue 16).

Every function reads places and times of the incidents of both partners (``data.events``) and
stores aggregates only (expected events per cell, hit figures per week); nothing here is scoped
by authority. The model that forecasts a category group is the one the latest backtest of that
group chose (``model_in_use``); without a backtest it is the naive baseline "last 4 weeks".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from lagebild.core.localtime import monday_of
from lagebild.field.models import Shift
from lagebild.field.services import shift_times

from . import data
from .models import ALL_GROUPS, BacktestReport, ForecastRun

logger = logging.getLogger("lagebild.forecast")

DEFAULT_MODEL = "last_4_weeks"  # a naive baseline: used until a backtest says otherwise
DEFAULT_BACKTEST_WEEKS = 52
SHIFT_KINDS = (Shift.Kind.EARLY, Shift.Kind.LATE, Shift.Kind.NIGHT)
# Forecasts older than this are deleted by the weekly job (they are recomputable aggregates).
KEEP_WEEKS = 12


def _now() -> dt.datetime:
    return timezone.now()


def last_complete_week(now: dt.datetime | None = None) -> dt.date:
    """The Monday of the last week that is over (the last week a backtest can score)."""
    today = timezone.localdate(now or _now())
    return monday_of(today) - dt.timedelta(days=7)


# --- backtests ----------------------------------------------------------------------------------


def run_backtest(
    group: str, weeks: int = DEFAULT_BACKTEST_WEEKS, last_origin: dt.date | None = None, refit_every: int = 1
) -> BacktestReport:
    """Backtest every model and baseline for ``group`` over ``weeks`` held-out weeks, the last
    one starting on ``last_origin`` (a Monday; default: the last complete week), and store it.

    Each week is forecast from the events before its Monday only (rolling origin); the report
    holds BacktestResult.to_dict() and the choice of the model in use. ``refit_every`` = n refits
    ETAS only at every n-th held-out week (warm-started; the last fit forecasts in between).
    """
    from .backtest import rolling_backtest

    if weeks < 1:
        raise ValueError("Mindestens eine Prüfwoche angeben.")
    origin = monday_of(last_origin) if last_origin else last_complete_week()
    started = time.perf_counter()
    study = data.study()
    end = timezone.make_aware(dt.datetime.combine(origin + dt.timedelta(days=7), dt.time()))
    events = data.events(group, until=end)
    result = rolling_backtest(
        events, study, last_origin=data.to_t(origin), weeks=weeks, refit_every=refit_every
    )
    choice = result.choice
    report = BacktestReport.objects.create(
        group=group,
        created_at=_now(),
        last_origin=origin,
        weeks=weeks,
        result=result.to_dict(),
        chosen_model=choice.model,
        beats_baseline=bool(choice.beats_baseline),
        sentence=choice.sentence,
        events=len(events.t),
        seconds=round(time.perf_counter() - started, 2),
    )
    logger.info("Backtest %s: %s (%.1f s)", group, choice.model, report.seconds)
    return report


def model_in_use(group: str) -> str:
    """The model the latest backtest of ``group`` chose; the baseline "last 4 weeks" without one."""
    chosen = (
        BacktestReport.objects.filter(group=group)
        .order_by("-created_at", "-pk")
        .values_list("chosen_model", flat=True)
    ).first()
    return chosen or DEFAULT_MODEL


# --- forecasts ----------------------------------------------------------------------------------


def _scalar_fields(fitted: object) -> dict[str, Any]:
    """The scalar parameters of a model state (e.g. ETAS mu, theta, omega, loglik) for the record."""
    if fitted is None:
        return {}
    if dataclasses.is_dataclass(fitted) and not isinstance(fitted, type):
        items = ((f.name, getattr(fitted, f.name)) for f in dataclasses.fields(fitted))
    else:
        items = ((k, v) for k, v in vars(fitted).items() if not k.startswith("_"))
    summary: dict[str, Any] = {}
    for name, value in items:
        if isinstance(value, bool):
            summary[name] = value
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
            summary[name] = number if math.isfinite(number) else None
    return summary


def _cells(expected: np.ndarray) -> list[list[float]]:
    rows, cols = np.nonzero(expected > 0)
    values = expected[rows, cols]
    order = np.argsort(-values, kind="stable")
    return [[int(rows[i]), int(cols[i]), float(f"{values[i]:.6g}")] for i in order]


@dataclass
class _Prepared:
    """What every forecast of one group and week shares: events, grid, model, fitted state."""

    group: str
    model: str
    study: Any
    events: Any
    fitted: Any = None
    params: dict[str, float] = field(default_factory=dict)
    fit_summary: dict[str, Any] = field(default_factory=dict)


def _prepare(group: str, week_start: dt.date, model: str | None = None) -> _Prepared:
    from . import predict

    model = model or model_in_use(group)
    study = data.study()
    start = timezone.make_aware(dt.datetime.combine(week_start, dt.time()))
    events = data.events(group, until=start)
    params = dict(predict.default_parameters(model))
    fitted = predict.fit(model, events, study, data.to_t(week_start), params=params)
    return _Prepared(group, model, study, events, fitted, params, _scalar_fields(fitted))


@transaction.atomic
def _store(
    prepared: _Prepared,
    *,
    horizon: str,
    origin: dt.date,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    shift_date: dt.date | None = None,
    shift_kind: str = "",
) -> ForecastRun:
    from . import predict

    started = time.perf_counter()
    start_t, end_t = data.to_t(starts_at), data.to_t(ends_at)
    # The forecast is made at the week's Monday 00:00 from the events before it (``_prepare``);
    # a shift gets the week's forecast times its share of the time-of-week profile. The night
    # from Sunday to Monday reaches past the week, so its origin moves to 7 days before its end
    # (the events are still those before the Monday).
    origin_t = max(data.to_t(origin), end_t - 7.0) if horizon == ForecastRun.Horizon.SHIFT else start_t
    history = prepared.events
    expected = np.asarray(
        predict.forecast(
            prepared.model,
            history,
            prepared.study,
            start_t,
            end_t,
            params=prepared.params,
            fitted=prepared.fitted,
            origin=origin_t,
        ),
        dtype=float,
    )
    expected = np.where(prepared.study.mask & np.isfinite(expected), expected, 0.0)
    grid = prepared.study.grid
    ForecastRun.objects.filter(group=prepared.group, horizon=horizon, starts_at=starts_at).delete()
    return ForecastRun.objects.create(
        group=prepared.group,
        model=prepared.model,
        horizon=horizon,
        origin=origin,
        shift_date=shift_date,
        shift_kind=shift_kind,
        starts_at=starts_at,
        ends_at=ends_at,
        parameters=prepared.params,
        fit_summary=prepared.fit_summary,
        x0=grid.x0,
        y0=grid.y0,
        cell_size=grid.cell_size,
        nrows=grid.nrows,
        ncols=grid.ncols,
        cells=_cells(expected),
        total_expected=float(expected.sum()),
        history_events=len(history.t),
        seconds=round(time.perf_counter() - started, 3),
        created_at=_now(),
    )


def _week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(week_start, dt.time(), tzinfo=tz)
    return start, dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time(), tzinfo=tz)


def run_forecast(
    group: str, week_start: dt.date, horizon: str = ForecastRun.Horizon.WEEK, model: str | None = None
) -> ForecastRun:
    """The forecast of ``group`` for the week from ``week_start`` (moved to its Monday) with the
    model in use; stored, replacing an earlier one for the same week. ``horizon`` is "week"
    (shift forecasts: :func:`run_shift_forecasts`)."""
    if horizon != ForecastRun.Horizon.WEEK:
        raise ValueError("Für Schichten run_shift_forecasts verwenden.")
    monday = monday_of(week_start)
    prepared = _prepare(group, monday, model)
    starts_at, ends_at = _week_bounds(monday)
    return _store(
        prepared, horizon=ForecastRun.Horizon.WEEK, origin=monday, starts_at=starts_at, ends_at=ends_at
    )


def shift_windows(week_start: dt.date) -> list[tuple[dt.date, str, dt.datetime, dt.datetime]]:
    """(date, kind, start, end) of the 21 shifts (early, late, night) of the week from Monday."""
    windows = []
    for offset in range(7):
        day = week_start + dt.timedelta(days=offset)
        for kind in SHIFT_KINDS:
            start, end = shift_times(day, kind)
            windows.append((day, str(kind), start, end))
    return windows


def run_shift_forecasts(group: str, week_start: dt.date, model: str | None = None) -> list[ForecastRun]:
    """The forecasts of ``group`` for each shift of the week (the model is fitted once, on the
    events before the Monday; each shift forecast uses the events before its own start)."""
    monday = monday_of(week_start)
    prepared = _prepare(group, monday, model)
    return [
        _store(
            prepared,
            horizon=ForecastRun.Horizon.SHIFT,
            origin=monday,
            starts_at=start,
            ends_at=end,
            shift_date=day,
            shift_kind=kind,
        )
        for day, kind, start, end in shift_windows(monday)
    ]


@dataclass
class WeeklyResult:
    week_start: dt.date
    weeks: dict[str, str] = field(default_factory=dict)  # group → model
    shifts: int = 0
    backtests: dict[str, str] = field(default_factory=dict)  # group → chosen model
    failed: dict[str, str] = field(default_factory=dict)
    deleted: int = 0
    seconds: float = 0.0

    def summary_de(self) -> str:
        if not self.weeks and not self.failed:
            return f"Woche ab {self.week_start:%d.%m.%Y}: keine Feststellungen, keine Prognose berechnet."
        text = (
            f"Woche ab {self.week_start:%d.%m.%Y}: {len(self.weeks)} Wochenprognosen, {self.shifts} "
            f"Schichtprognosen, {len(self.backtests)} Backtests ({self.seconds:.0f} s)."
        )
        if self.failed:
            text += f" Nicht berechnet: {', '.join(sorted(self.failed))}."
        return text


def forecast_week(
    week_start: dt.date | None = None,
    *,
    groups: list[str] | None = None,
    backtest_weeks: int | None = DEFAULT_BACKTEST_WEEKS,
    backtest_groups: list[str] | None = None,
    shift_groups: list[str] | None = None,
    refit_every: int = 1,
) -> WeeklyResult:
    """The weekly job: for each group with data, a fresh backtest (``backtest_weeks``; None: keep
    the last), then the week's forecast with the chosen model and its shift forecasts.

    ``week_start``: default the Monday of the current week (the job runs Monday early morning).
    ``backtest_groups`` / ``shift_groups``: groups that get a backtest / shift forecasts (default
    all); the others keep their last backtest's model.
    """
    started = time.perf_counter()
    monday = monday_of(week_start or timezone.localdate(_now()))
    result = WeeklyResult(week_start=monday)
    try:
        data.city_area()
    except data.NoCityArea:
        return result
    chosen_groups = groups if groups is not None else data.groups_with_data()
    for group in chosen_groups:
        try:
            if backtest_weeks and (backtest_groups is None or group in backtest_groups):
                report = run_backtest(
                    group,
                    weeks=backtest_weeks,
                    last_origin=monday - dt.timedelta(days=7),
                    refit_every=refit_every,
                )
                result.backtests[group] = report.chosen_model
            run = run_forecast(group, monday)
            result.weeks[group] = run.model
            if shift_groups is None or group in shift_groups:
                result.shifts += len(run_shift_forecasts(group, monday))
        except Exception as exc:  # one group's failure must not stop the others
            logger.exception("Forecast for %s failed", group)
            result.failed[group] = f"{exc.__class__.__name__}: {exc}"[:300]
    cutoff = timezone.make_aware(dt.datetime.combine(monday - dt.timedelta(weeks=KEEP_WEEKS), dt.time()))
    result.deleted, _ = ForecastRun.objects.filter(starts_at__lt=cutoff).delete()
    result.seconds = time.perf_counter() - started
    return result


__all__ = [
    "ALL_GROUPS",
    "DEFAULT_MODEL",
    "WeeklyResult",
    "forecast_week",
    "last_complete_week",
    "model_in_use",
    "run_backtest",
    "run_forecast",
    "run_shift_forecasts",
    "shift_windows",
]
