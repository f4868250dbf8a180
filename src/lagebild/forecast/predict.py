"""Forecast models on grid cells: naive baselines, an exponentially weighted KDE and grid ETAS.

Pure numpy/scipy, no Django. Time is measured in days since a Monday 00:00 (local wall clock), so
``t mod 7`` gives the weekday and the hour. Every model returns the expected number of events per
cell in a window ``[start, end)`` (grid shape, 0 outside the study mask) and uses only events with
``t < origin`` (``origin`` defaults to ``start``: the instant the forecast is made).

Windows shorter than a week (a shift) are the weekly forecast from the origin times the share of
the history's time-of-week profile that falls into the window, so the 21 shifts of a week issued
at the week's start add up to that week's forecast exactly. Places and times only: no person data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lagebild.analytics.hotspots import Grid, kde_quartic

from . import etas

DAYS_PER_WEEK = 7.0
HOURS_PER_WEEK = 168
BASELINES = ("last_4_weeks", "same_week_last_year", "long_term_average")
MODELS = (*BASELINES, "ewkde", "etas")
MODEL_LABELS: dict[str, str] = {
    "last_4_weeks": "Letzte 4 Wochen",
    "same_week_last_year": "Gleiche Woche im Vorjahr",
    "long_term_average": "Langjähriger Durchschnitt",
    "ewkde": "Gewichtete Kerndichte (KDE)",
    "etas": "Selbsterregender Punktprozess (ETAS)",
}
# Time-of-week profile: hourly histogram, circularly smoothed with these weights (hour −1, 0, +1),
# plus this many pseudo-events per hour, so hours without history are small but not impossible.
PROFILE_SMOOTHING = (0.25, 0.5, 0.25)
PROFILE_PRIOR_PER_HOUR = 0.1

_DEFAULTS: dict[str, dict[str, float]] = {
    "last_4_weeks": {"weeks": 4.0},
    "same_week_last_year": {"lag_days": 364.0},
    "long_term_average": {},
    "ewkde": {"half_life_days": 28.0, "bandwidth_m": 400.0},
    "etas": {"history_days": 365.0, "bandwidth_m": 0.0, "max_iterations": 60.0, "tolerance": 1e-4},
}
PARAMETER_DOCS: dict[str, dict[str, str]] = {
    "last_4_weeks": {
        "weeks": "Anzahl der Wochen vor dem Prognosezeitpunkt, deren Ereignisse je Zelle gezählt "
        "und auf die Länge des Prognosezeitraums umgerechnet werden.",
    },
    "same_week_last_year": {
        "lag_days": "Verschiebung in Tagen (364 = 52 Wochen, damit die Wochentage übereinstimmen); "
        "die Ereignisse je Zelle im so verschobenen Zeitraum sind die Prognose.",
    },
    "long_term_average": {},
    "ewkde": {
        "half_life_days": "Halbwertszeit in Tagen: ein Ereignis, das so lange zurückliegt, zählt "
        "halb so viel wie ein heutiges.",
        "bandwidth_m": "Suchradius des Quartic-Kerns in Metern: so weit strahlt ein Ereignis auf "
        "benachbarte Zellen aus.",
    },
    "etas": {
        "history_days": "Länge der Vorgeschichte in Tagen, auf der das Modell angepasst wird.",
        "bandwidth_m": "Suchradius in Metern einer Kerndichte, die die Grundrate (nicht ausgelöste "
        "Ereignisse) räumlich glättet, wie Mohler u. a. 2011 (z. B. 250 m); 0 (Standard) = "
        "Grundrate je Zelle ohne Glättung wie bei Mohler u. a. 2015.",
        "max_iterations": "Höchstzahl der EM-Schritte bei der Anpassung.",
        "tolerance": "Die Anpassung endet, wenn sich kein Parameter mehr um mehr als diesen Anteil ändert.",
    },
}


def default_parameters(model: str) -> dict[str, float]:
    if model not in _DEFAULTS:
        raise ValueError(f"Unbekanntes Prognosemodell: {model}")
    return dict(_DEFAULTS[model])


@dataclass(frozen=True)
class Events:
    """Events of one category group, sorted by ``t`` (days); coordinates in EPSG:25832 metres."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray

    @classmethod
    def from_arrays(cls, x, y, t) -> Events:
        t = np.asarray(t, float)
        order = np.argsort(t, kind="stable")
        return cls(np.asarray(x, float)[order], np.asarray(y, float)[order], t[order])

    def __len__(self) -> int:
        return len(self.t)

    def _slice(self, begin: int, stop: int) -> Events:
        return Events(self.x[begin:stop], self.y[begin:stop], self.t[begin:stop])

    def before(self, t: float) -> Events:
        return self._slice(0, int(np.searchsorted(self.t, t, side="left")))

    def between(self, start: float, end: float) -> Events:
        return self._slice(
            int(np.searchsorted(self.t, start, side="left")), int(np.searchsorted(self.t, end, side="left"))
        )


@dataclass(frozen=True)
class Study:
    grid: Grid
    mask: np.ndarray  # bool (nrows, ncols)


def _parameters(model: str, params: Mapping[str, float] | None) -> dict[str, float]:
    merged = default_parameters(model)
    for key, value in (params or {}).items():
        if key not in merged:
            raise ValueError(f"Unbekannter Parameter „{key}“ für das Modell {MODEL_LABELS[model]}.")
        merged[key] = float(value)
    return merged


def _counts(events: Events, study: Study) -> np.ndarray:
    if len(events) == 0:
        return np.zeros(study.grid.shape)
    return np.where(study.mask, study.grid.counts(events.x, events.y), 0.0)


# ---------------------------------------------------------------------------------------------
# Time-of-week profile
# ---------------------------------------------------------------------------------------------


def time_of_week_profile(t: np.ndarray) -> np.ndarray:
    """Share of events per hour of the week (168 values summing to 1), smoothed, with a small prior."""
    hours = np.floor(np.mod(np.asarray(t, float), DAYS_PER_WEEK) * 24).astype(np.int64)
    counts = np.bincount(np.clip(hours, 0, HOURS_PER_WEEK - 1), minlength=HOURS_PER_WEEK).astype(float)
    before, own, after = PROFILE_SMOOTHING
    smoothed = own * counts + before * np.roll(counts, 1) + after * np.roll(counts, -1)
    smoothed += PROFILE_PRIOR_PER_HOUR
    return smoothed / smoothed.sum()


def _cumulative_share(profile: np.ndarray, t: float) -> float:
    """Profile mass from the week's start (Monday 00:00) to ``t``, counting whole weeks as 1."""
    weeks, within = divmod(t, DAYS_PER_WEEK)
    hour_position = within * 24
    whole = min(math.floor(hour_position), HOURS_PER_WEEK - 1)
    partial = hour_position - whole
    cumulative = np.concatenate([[0.0], np.cumsum(profile)])
    return weeks + float(cumulative[whole]) + partial * float(profile[whole])


def window_share(profile: np.ndarray, start: float, end: float) -> float:
    """Share of a week's events expected in [start, end) according to the profile."""
    return _cumulative_share(profile, end) - _cumulative_share(profile, start)


# ---------------------------------------------------------------------------------------------
# Models for a window of at least a week
# ---------------------------------------------------------------------------------------------


def _last_weeks(history: Events, study: Study, origin: float, start: float, end: float, p) -> np.ndarray:
    span = p["weeks"] * DAYS_PER_WEEK
    return _counts(history.between(origin - span, origin), study) * (end - start) / span


def _same_week_last_year(history: Events, study: Study, origin: float, start: float, end: float, p):
    lag = p["lag_days"]
    return _counts(history.between(start - lag, end - lag), study)


def _long_term_average(history: Events, study: Study, origin: float, start: float, end: float, p):
    if len(history) == 0:
        return np.zeros(study.grid.shape)
    weeks = max(1, math.ceil((origin - float(history.t[0])) / DAYS_PER_WEEK))
    return _counts(history, study) / weeks * (end - start) / DAYS_PER_WEEK


def _ewkde(history: Events, study: Study, origin: float, start: float, end: float, p) -> np.ndarray:
    if len(history) == 0:
        return np.zeros(study.grid.shape)
    decay = math.log(2) / p["half_life_days"]
    weights = np.exp(-(origin - history.t) * decay)
    # Rate per day: weighted events over the weighted length of the history (finite window).
    exposure = (1 - math.exp(-(origin - float(history.t[0])) * decay)) / decay
    rate = float(weights.sum()) / max(exposure, 1.0)
    surface = kde_quartic(history.x, history.y, study.grid, p["bandwidth_m"], weights=weights)
    surface = np.where(study.mask, surface, 0.0)
    total = surface.sum()
    if total <= 0:  # every kernel fell outside the area
        return np.zeros(study.grid.shape)
    return surface / total * rate * (end - start)


def fit(
    model: str,
    events: Events,
    study: Study,
    start: float,
    params: Mapping[str, float] | None = None,
    previous: object | None = None,
) -> object:
    """Model state from the events before ``start``: an :class:`etas.EtasFit`, None for the others."""
    p = _parameters(model, params)
    if model != "etas":
        return None
    history = events.between(start - p["history_days"], start)
    return etas.fit_grid(
        history.x,
        history.y,
        history.t,
        study.grid,
        study.mask,
        start - p["history_days"],
        start,
        bandwidth=p["bandwidth_m"],
        previous=previous if isinstance(previous, etas.EtasFit) else None,
        max_iterations=int(p["max_iterations"]),
        tolerance=p["tolerance"],
    )


def _etas(history: Events, study: Study, origin: float, start: float, end: float, p, fitted) -> np.ndarray:
    if not isinstance(fitted, etas.EtasFit) or fitted.end > origin:
        fitted = fit("etas", history, study, origin, p)
    recent = history.between(origin - max(p["history_days"], 1.0), origin)
    return etas.expected_counts(
        fitted, recent.x, recent.y, recent.t, study.grid, study.mask, origin, start, end
    )


_WINDOW_MODELS = {
    "last_4_weeks": _last_weeks,
    "same_week_last_year": _same_week_last_year,
    "long_term_average": _long_term_average,
    "ewkde": _ewkde,
}


def forecast(
    model: str,
    events: Events,
    study: Study,
    start: float,
    end: float,
    params: Mapping[str, float] | None = None,
    fitted: object | None = None,
    origin: float | None = None,
) -> np.ndarray:
    """Expected number of events per cell in [start, end) (0 outside the mask).

    Uses only events with ``t < origin`` (default ``start``). Windows shorter than a week must lie
    within the week after the origin; they get the weekly forecast times the time-of-week share.
    """
    if model not in MODELS:
        raise ValueError(f"Unbekanntes Prognosemodell: {model}")
    if not end > start:
        raise ValueError("Das Ende des Prognosezeitraums muss nach dem Anfang liegen.")
    origin = start if origin is None else float(origin)
    if origin > start:
        raise ValueError("Der Prognosezeitpunkt darf nicht nach dem Anfang des Zeitraums liegen.")
    p = _parameters(model, params)
    history = events.before(origin)
    short = end - start < DAYS_PER_WEEK
    if short and end > origin + DAYS_PER_WEEK + 1e-9:
        raise ValueError("Kurze Zeiträume (Schichten) müssen in der Woche nach dem Prognosezeitpunkt liegen.")
    window = (origin, origin + DAYS_PER_WEEK) if short else (start, end)
    if model == "etas":
        result = _etas(history, study, origin, *window, p, fitted)
    else:
        result = _WINDOW_MODELS[model](history, study, origin, *window, p)
    if short:
        result = result * window_share(time_of_week_profile(history.t), start, end)
    return np.where(study.mask, result, 0.0)
