"""Security matrix entries of the forecasts (/prognose/, issue 16), merged into security_matrix.py.

Forecasts and backtests are aggregates of both partners' incidents (expected events per cell, hit
figures per week), not scoped by authority: the leak checks run, "not yours = missing" does not.
Which zone a user may open (field officers: their own patrol's area only; task force, leadership
and executive board: the city-wide map only) depends on patrols and areas the matrix does not
seed; tests/test_forecast_web.py checks it, including 404 for a zone that is not the officer's.
"""

from __future__ import annotations

from typing import Any

from lagebild.core.models import Role

from .security_matrix import E, Entry

PLANNERS = (Role.SHIFT_LEAD, Role.ANALYST, Role.ADMIN)
AGGREGATE_READERS = (Role.TASKFORCE, Role.LEADERSHIP, Role.EXECUTIVE_BOARD)

ROUTES: dict[str, Entry] = {
    "prognose/": E(roles=(Role.FIELD_OFFICER, *PLANNERS, *AGGREGATE_READERS), scoped=False),
    "prognose/zone/<int:area_id>/": E(
        area_id="@area",
        scoped=False,
        note="shared aggregate; who sees which zone: tests/test_forecast_web.py",
    ),
    "prognose/zone/<int:area_id>/geojson/": E(
        area_id="@area",
        scoped=False,
        note="shared aggregate; who sees which zone: tests/test_forecast_web.py",
    ),
    "prognose/backtest/": E(
        roles=(*PLANNERS, *AGGREGATE_READERS), scoped=False, params=({"gruppe": "all"}, {"gruppe": "crime"})
    ),
    "prognose/backtest.pdf": E(
        scoped=False, heavy=True, note="404 until a backtest exists; roles as the page"
    ),
}
ADMIN_MODELS: dict[str, Any] = {}
API_OPERATIONS: dict[str, str] = {}
