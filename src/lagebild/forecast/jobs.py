"""The weekly forecast job (``forecast_weekly``, Monday early morning; ``lagebild forecast-week``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from lagebild.core.localtime import monday_of

from . import services

ENV_BACKTEST_WEEKS = "LAGEBILD_FORECAST_BACKTEST_WEEKS"
ENV_REFIT_EVERY = "LAGEBILD_FORECAST_REFIT_EVERY"
# On the demo data a four-weekly ETAS refit gives the same means and choice as a weekly one
# (docs/forecast-backtest.md) in a quarter of the time.
DEMO_REFIT_EVERY = 4


def backtest_weeks() -> int:
    """Weeks of the weekly backtest (``LAGEBILD_FORECAST_BACKTEST_WEEKS``, default 52; 0: none)."""
    raw = os.environ.get(ENV_BACKTEST_WEEKS, "").strip()
    try:
        return max(int(raw), 0) if raw else services.DEFAULT_BACKTEST_WEEKS
    except ValueError:
        return services.DEFAULT_BACKTEST_WEEKS


def refit_every() -> int:
    """ETAS refits in the weekly backtest: every n-th week (``LAGEBILD_FORECAST_REFIT_EVERY``, default 1)."""
    raw = os.environ.get(ENV_REFIT_EVERY, "").strip()
    try:
        return max(int(raw), 1) if raw else 1
    except ValueError:
        return 1


def weekly(week_start: dt.date | None = None) -> services.WeeklyResult:
    """Backtest every group with data, then forecast the week and its shifts with the chosen model."""
    return services.forecast_week(
        week_start, backtest_weeks=backtest_weeks() or None, refit_every=refit_every()
    )


def demo(first_day: dt.date, end_date: dt.date, log: Callable[[str], None] = lambda _msg: None) -> str:
    """The demo's backtest and forecasts (end of ``lagebild demo``): the week from the Monday of
    ``end_date`` and its shifts for every group, each after a backtest of that group over up to
    52 complete weeks before it (as many as the data allow after 4 weeks of history; none with
    less), so every group's model in use is the one that won its backtest. ETAS is refitted every
    fourth held-out week here (DEMO_REFIT_EVERY). Returns a German line."""
    monday = monday_of(end_date)
    weeks_of_data = (monday - first_day).days // 7
    weeks = min(services.DEFAULT_BACKTEST_WEEKS, weeks_of_data - 4)
    log("Prognosen: Backtest und Risikokarten der Woche …")
    result = services.forecast_week(
        monday,
        backtest_weeks=weeks if weeks >= 2 else None,
        refit_every=DEMO_REFIT_EVERY,
    )
    if not result.weeks:
        return "Prognosen: keine berechnet (keine Feststellungen)."
    chosen = ", ".join(f"{group} {model}" for group, model in result.weeks.items())
    return (
        f"Prognosen der Woche ab {monday:%d.%m.%Y}: {len(result.weeks)} Gruppen ({chosen}), "
        f"{result.shifts} Schichtprognosen, Backtest je Gruppe über {max(weeks, 0)} Wochen "
        f"({result.seconds:.0f} s)."
    )
