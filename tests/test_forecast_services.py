"""Forecast services on a small seeded world: Events/Study from the database, backtests, week and
shift forecasts, risk per patrol zone, the weekly job (issue 16).

The world (also used by test_forecast_web.py): the test city, two patrol zones and 16 weeks of
incidents of both partners – a busy spot in the zone "Zentrum" (about 6 a week), a quieter one in
"Nord" (one a week), a thin background. Every incident carries its authority's marker in the free
text, which must never appear in a forecast page or file.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.geo.models import Area
from lagebild.geo.points import h3_cell, to_utm32_many
from lagebild.geo.services import area_save

from .conftest import CITY_BOUNDS, _box
from .security_matrix import CITY_MARKER, POLICE_MARKER

NOW = "2026-06-10T10:00:00+02:00"  # a Wednesday; the week runs from Monday 8 June
WEEK_START = dt.date(2026, 6, 8)
WEEKS = 16
HOT = (51.5140, 7.4640)  # inside the zone "Zentrum"
NORTH = (51.5420, 7.4850)  # inside the zone "Nord"


def _points(rng: np.random.Generator, centre: tuple[float, float], count: int, spread: float) -> np.ndarray:
    lat = centre[0] + rng.normal(0, spread, count)
    lon = centre[1] + rng.normal(0, spread * 1.6, count)
    return np.column_stack([lat, lon])


def seed_incidents(world: dict, kod, polizei, *, weeks: int = WEEKS, seed: int = 16) -> int:
    rng = np.random.default_rng(seed)
    cats = world["categories"]
    start = timezone.make_aware(dt.datetime.combine(WEEK_START - dt.timedelta(weeks=weeks), dt.time()))
    rows = []
    min_lon, min_lat, max_lon, max_lat = CITY_BOUNDS
    for week in range(weeks):
        hot = _points(rng, HOT, 6, 0.0006)
        north = _points(rng, NORTH, 1, 0.0006)
        background = np.column_stack([
            rng.uniform(min_lat + 0.002, max_lat - 0.002, 3), rng.uniform(min_lon + 0.002, max_lon - 0.002, 3)
        ])  # fmt: skip
        for lat, lon in np.vstack([hot, north, background]):
            when = start + dt.timedelta(days=7 * week + float(rng.uniform(0, 7)))
            rows.append((float(lat), float(lon), when))
    lats = np.array([r[0] for r in rows])
    lons = np.array([r[1] for r in rows])
    xs, ys = to_utm32_many(lats, lons)
    incidents = []
    for i, (lat, lon, when) in enumerate(rows):
        city_side = i % 2 == 0
        incidents.append(
            Incident(
                authority=kod.authority if city_side else polizei.authority,
                recorded_by=kod if city_side else polizei,
                category=cats["begging"] if city_side else cats["dealing"],
                occurred_at=when,
                description=f"Beschreibung {CITY_MARKER if city_side else POLICE_MARKER}",
                address_text=f"Ort {CITY_MARKER if city_side else POLICE_MARKER}",
                lat=round(lat, 6),
                lon=round(lon, 6),
                x_utm=float(xs[i]),
                y_utm=float(ys[i]),
                h3_cell=h3_cell(lat, lon),
            )
        )
    with unscoped():
        Incident.objects.bulk_create(incidents)
    return len(incidents)


def patrol_zones() -> dict[str, Area]:
    zones = {
        "centre": Area(kind=Area.Kind.PATROL_ZONE, code="pz-zentrum", name="Streifenbereich Zentrum"),
        "north": Area(kind=Area.Kind.PATROL_ZONE, code="pz-nord", name="Streifenbereich Nord"),
    }
    area_save(area=zones["centre"], geometry=_box(7.455, 51.509, 7.475, 51.519))
    area_save(area=zones["north"], geometry=_box(7.475, 51.535, 7.495, 51.550))
    return zones


@pytest.fixture
def forecast_world(clock, world, kod, polizei) -> dict:
    clock.move_to(NOW)
    zones = patrol_zones()
    count = seed_incidents(world, kod, polizei)
    return {**world, "zones": zones, "incidents": count}


# --- data the models see -------------------------------------------------------------------------


def test_events_read_both_partners_places_and_times_only(forecast_world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lagebild.forecast import data

    with CaptureQueriesContext(connection) as queries:
        everything = data.events("all")
    assert len(everything.t) == forecast_world["incidents"]
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "description" not in sql and "address_text" not in sql and "person" not in sql
    # Category groups: the city's begging is "nuisance", the police's dealing "crime".
    assert len(data.events("nuisance").t) + len(data.events("crime").t) == len(everything.t)
    assert data.groups_with_data() == ["all", "nuisance", "crime"]
    assert np.all(np.diff(everything.t) >= 0)


def test_time_axis_is_days_since_a_monday_on_the_local_wall_clock(forecast_world):
    from lagebild.forecast import data

    wednesday_ten = timezone.make_aware(dt.datetime(2026, 6, 10, 10, 0))
    t = data.to_t(wednesday_ten)
    assert t % 7 == pytest.approx(2 + 10 / 24)  # Wednesday, 10:00
    # Summer time or not, 10:00 local stays 10:00 on the axis.
    winter = timezone.make_aware(dt.datetime(2026, 1, 14, 10, 0))
    assert data.to_t(winter) % 7 == pytest.approx(2 + 10 / 24)
    assert data.from_t(t) == wednesday_ten
    assert data.to_t(WEEK_START) % 7 == 0


def test_study_is_the_city_grid_of_250_m_cells_with_the_city_mask(forecast_world, settings):
    from lagebild.forecast import data

    study = data.study()
    assert study.grid.cell_size == 250
    assert study.grid.x0 % 250 == 0 and study.grid.y0 % 250 == 0
    assert study.mask.shape == study.grid.shape
    # The test city is a lon/lat box: in UTM a slightly skewed quadrilateral, so nearly all cells
    # of its bounding box count, but not every one.
    share = study.mask.mean()
    assert 0.85 < share < 1.0
    settings.LAGEBILD_FORECAST_CELL_SIZE = 500
    assert data.study().grid.cell_size == 500


# --- backtests and forecasts ---------------------------------------------------------------------


def test_without_a_backtest_the_model_in_use_is_the_naive_baseline(forecast_world):
    from lagebild.forecast import services

    assert services.model_in_use("all") == "last_4_weeks"


def test_backtest_is_stored_with_every_model_and_its_choice(forecast_world):
    from lagebild.forecast import predict, services
    from lagebild.forecast.models import BacktestReport

    report = services.run_backtest("all", weeks=4)
    assert report.last_origin == WEEK_START - dt.timedelta(days=7)  # the last complete week
    assert report.weeks == 4 and report.events == forecast_world["incidents"]
    result = report.result
    assert set(result["models"]) == set(predict.MODELS)
    assert len(result["origins"]) == 4
    assert report.chosen_model in predict.MODELS and report.sentence
    assert result["choice"]["model"] == report.chosen_model
    # The busy spot makes every model find most incidents in few cells.
    assert result["means"]["last_4_weeks"]["pai"]["5"]["mean"] > 1
    assert BacktestReport.objects.get() == report
    assert services.model_in_use("all") == report.chosen_model


def test_backtest_can_refit_etas_every_n_weeks(forecast_world):
    from lagebild.forecast import selectors, services

    report = services.run_backtest("crime", weeks=4, refit_every=2)
    assert report.result["refit_every"] == 2 and report.events == forecast_world["incidents"] // 2
    assert selectors.backtest_display(report)["refit_every"] == 2


def test_week_forecast_is_stored_with_the_model_in_use_and_only_mask_cells(forecast_world):
    from lagebild.forecast import data, services
    from lagebild.forecast.models import BacktestReport, ForecastRun

    BacktestReport.objects.create(
        group="all", created_at=timezone.now(), last_origin=WEEK_START, weeks=1, result={},
        chosen_model="long_term_average", sentence="Test",
    )  # fmt: skip
    run = services.run_forecast("all", WEEK_START + dt.timedelta(days=3))  # any day: its Monday
    assert run.origin == WEEK_START and run.model == "long_term_average"
    assert timezone.localtime(run.starts_at) == timezone.make_aware(dt.datetime(2026, 6, 8))
    assert timezone.localtime(run.ends_at) == timezone.make_aware(dt.datetime(2026, 6, 15))
    study = data.study()
    assert (run.nrows, run.ncols) == study.grid.shape and run.cell_size == 250
    assert run.cells and all(study.mask[r, c] for r, c, _ in run.cells)
    values = [v for _, _, v in run.cells]
    assert values == sorted(values, reverse=True) and run.total_expected == pytest.approx(
        sum(values), rel=1e-4
    )
    # Long-term average over 16 weeks of about 10 incidents a week.
    assert 5 < run.total_expected < 15
    assert run.history_events == forecast_world["incidents"]
    # A second run for the same week replaces the first.
    services.run_forecast("all", WEEK_START)
    assert ForecastRun.objects.count() == 1


def test_forecast_sees_only_incidents_before_its_start(forecast_world, kod):
    from lagebild.forecast import services

    before = services.run_forecast("all", WEEK_START, model="last_4_weeks")
    # Incidents inside the forecast week must not change it (they are the future to predict).
    with unscoped():
        template = Incident.objects.order_by("pk").first()
        template.pk = None
        template.occurred_at = timezone.now() - dt.timedelta(hours=1)
        template.save()
    again = services.run_forecast("all", WEEK_START, model="last_4_weeks")
    assert again.cells == before.cells and again.history_events == before.history_events


def test_shift_forecasts_cover_the_21_shifts_of_the_week(forecast_world):
    from lagebild.forecast import services
    from lagebild.forecast.models import ForecastRun

    week = services.run_forecast("all", WEEK_START, model="long_term_average")
    shifts = services.run_shift_forecasts("all", WEEK_START, model="long_term_average")
    assert len(shifts) == 21
    assert [(s.shift_date, s.shift_kind) for s in shifts[:3]] == [
        (WEEK_START, "early"), (WEEK_START, "late"), (WEEK_START, "night")
    ]  # fmt: skip
    night = shifts[2]
    assert timezone.localtime(night.starts_at).hour == 22 and timezone.localtime(night.ends_at).hour == 6
    total = sum(s.total_expected for s in shifts)
    # The shifts together expect about what the week expects.
    assert total == pytest.approx(week.total_expected, rel=0.25)
    services.run_shift_forecasts("all", WEEK_START, model="long_term_average")
    assert ForecastRun.objects.filter(horizon="shift").count() == 21


def test_zone_risk_sums_the_cells_whose_centre_lies_in_each_patrol_zone(forecast_world):
    from lagebild.forecast import selectors, services

    zones = forecast_world["zones"]
    week = services.run_forecast("all", WEEK_START, model="long_term_average")
    start, end = week.starts_at, week.ends_at
    risk = selectors.zone_risk("all", start, end)
    # Patrol zones and focus areas (the test world's focus area "Zentrum" lies in the zone "Zentrum").
    focus = forecast_world["areas"]["centre"]
    assert set(risk) == {zones["centre"].pk, zones["north"].pk, focus.pk}
    assert 0 < risk[focus.pk] <= risk[zones["centre"].pk]
    # About 6 a week in the centre, 1 in the north.
    assert 3 < risk[zones["centre"].pk] < 9
    assert 0.3 < risk[zones["north"].pk] < 3
    assert risk[zones["centre"].pk] == pytest.approx(selectors.risk_map(zones["centre"], week).total)
    # One day without shift forecasts: the week's figure pro rata.
    day = selectors.zone_risk("all", start, start + dt.timedelta(days=1))
    assert day[zones["centre"].pk] == pytest.approx(risk[zones["centre"].pk] / 7)
    # With shift forecasts, a shift's window uses its own forecast.
    shifts = services.run_shift_forecasts("all", WEEK_START, model="long_term_average")
    late = shifts[1]
    by_shift = selectors.zone_risk("all", late.starts_at, late.ends_at)
    assert by_shift[zones["centre"].pk] == pytest.approx(selectors.risk_map(zones["centre"], late).total)
    assert selectors.zone_risk("all", end, end + dt.timedelta(hours=8)) == dict.fromkeys(risk, 0.0)
    assert set(selectors.zone_risk("all", start, end, kinds=("patrol_zone",))) == {
        zones["centre"].pk,
        zones["north"].pk,
    }


def test_weekly_job_backtests_and_forecasts_every_group(forecast_world, monkeypatch):
    from lagebild.forecast.models import BacktestReport, ForecastRun
    from lagebild.ops import jobs

    monkeypatch.setenv("LAGEBILD_FORECAST_BACKTEST_WEEKS", "2")
    run = jobs.run_job("forecast_weekly", jobs.JOB_FUNCTIONS["forecast_weekly"])
    assert run.outcome == "ok", run.summary
    assert "3 Wochenprognosen, 63 Schichtprognosen, 3 Backtests" in run.summary
    assert set(BacktestReport.objects.values_list("group", flat=True)) == {"all", "nuisance", "crime"}
    assert ForecastRun.objects.filter(horizon="week", origin=WEEK_START).count() == 3
    assert jobs.JOBS["forecast_weekly"].when_de == "montags 04:30 Uhr"


def test_weekly_job_without_a_city_area_does_nothing(db):
    from lagebild.ops import jobs

    run = jobs.run_job("forecast_weekly", jobs.JOB_FUNCTIONS["forecast_weekly"])
    assert run.outcome == "skipped" and "keine Prognose" in run.summary
