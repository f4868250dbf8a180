"""The weekly forecast job (``forecast_weekly``, Monday early morning; ``lagebild forecast-week``)."""

from __future__ import annotations

import datetime as dt
import os

from . import services

ENV_BACKTEST_WEEKS = "LAGEBILD_FORECAST_BACKTEST_WEEKS"


def backtest_weeks() -> int:
    """Weeks of the weekly backtest (``LAGEBILD_FORECAST_BACKTEST_WEEKS``, default 52; 0: none)."""
    raw = os.environ.get(ENV_BACKTEST_WEEKS, "").strip()
    try:
        return max(int(raw), 0) if raw else services.DEFAULT_BACKTEST_WEEKS
    except ValueError:
        return services.DEFAULT_BACKTEST_WEEKS


def weekly(week_start: dt.date | None = None) -> services.WeeklyResult:
    """Backtest every group with data, then forecast the week and its shifts with the chosen model."""
    return services.forecast_week(week_start, backtest_weeks=backtest_weeks() or None)
