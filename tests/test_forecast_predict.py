"""Forecast models (lagebild.forecast.predict): baselines with hand-made numbers, shapes, no leak, shifts.

Time is days since a Monday 00:00, so day 728 is a Monday and [728, 735) a whole week.
"""

import numpy as np
import pytest

from lagebild.analytics.hotspots import Grid
from lagebild.forecast import etas, predict

ORIGIN = 728.0
WEEK = (ORIGIN, ORIGIN + 7)
CENTRE = {(r, c): (c * 100 + 50.0, r * 100 + 50.0) for r in range(3) for c in range(3)}


def tiny_study() -> predict.Study:
    mask = np.ones((3, 3), bool)
    mask[2, 2] = False
    return predict.Study(Grid(0.0, 0.0, 100.0, 3, 3), mask)


def events_at(cells_and_times) -> predict.Events:
    x = [CENTRE[cell][0] for cell, _ in cells_and_times]
    y = [CENTRE[cell][1] for cell, _ in cells_and_times]
    return predict.Events.from_arrays(x, y, [t for _, t in cells_and_times])


def tiny_events() -> predict.Events:
    last_four_weeks = [((0, 0), 700.0), ((0, 0), 710.0), ((0, 0), 720.5)]
    same_week_last_year = [((1, 1), 365.0), ((1, 1), 370.9), ((1, 1), 371.0)]  # 2 of 3 in [364, 371)
    outside_the_study_area = [((2, 2), 720.0)]
    return events_at([*last_four_weeks, *same_week_last_year, *outside_the_study_area])


def random_events(seed: int = 3, n: int = 1500) -> predict.Events:
    rng = np.random.default_rng(seed)
    hot = rng.random(n) < 0.5
    x = np.where(hot, 120 + rng.normal(0, 30, n), rng.uniform(0, 300, n))
    y = np.where(hot, 180 + rng.normal(0, 30, n), rng.uniform(0, 300, n))
    t = rng.uniform(ORIGIN - 400, ORIGIN + 30, n)
    return predict.Events.from_arrays(np.clip(x, 0, 299), np.clip(y, 0, 299), t)


def test_every_model_has_a_label_documented_parameters_and_defaults():
    assert (*predict.BASELINES, "ewkde", "etas") == predict.MODELS
    for model in predict.MODELS:
        assert predict.MODEL_LABELS[model]
        assert set(predict.PARAMETER_DOCS[model]) == set(predict.default_parameters(model))
        for text in predict.PARAMETER_DOCS[model].values():
            assert text.endswith(".")
    with pytest.raises(ValueError, match="Unbekannter Parameter"):
        predict.forecast("ewkde", tiny_events(), tiny_study(), *WEEK, params={"radius": 5})


def test_last_four_weeks_counts_and_scales_to_the_window():
    result = predict.forecast("last_4_weeks", tiny_events(), tiny_study(), *WEEK)
    expected = np.zeros((3, 3))
    expected[0, 0] = 3 * 7 / 28
    np.testing.assert_allclose(result, expected)
    fortnight = predict.forecast("last_4_weeks", tiny_events(), tiny_study(), ORIGIN, ORIGIN + 14)
    assert fortnight[0, 0] == pytest.approx(1.5)


def test_same_week_last_year_counts_the_window_364_days_earlier():
    result = predict.forecast("same_week_last_year", tiny_events(), tiny_study(), *WEEK)
    expected = np.zeros((3, 3))
    expected[1, 1] = 2  # 365.0 and 370.9 lie in [364, 371); 371.0 does not
    np.testing.assert_allclose(result, expected)


def test_long_term_average_is_the_weekly_mean_of_all_history():
    result = predict.forecast("long_term_average", tiny_events(), tiny_study(), *WEEK)
    weeks = 52  # ceil((728 − 365) / 7)
    expected = np.zeros((3, 3))
    expected[0, 0] = 3 / weeks
    expected[1, 1] = 3 / weeks
    np.testing.assert_allclose(result, expected)


def test_weighted_kde_total_is_the_weighted_weekly_rate():
    # Events every day at the same place: the weighted rate is one per day whatever the half-life.
    events = events_at([((1, 1), day + 0.5) for day in range(int(ORIGIN) - 200, int(ORIGIN))])
    result = predict.forecast("ewkde", events, tiny_study(), *WEEK)
    assert result.sum() == pytest.approx(7.0, rel=0.02)
    assert result[1, 1] == result.max()
    # A short half-life follows a recent rise: 4 per day in the last week.
    rising = events_at(
        [((1, 1), day + 0.5) for day in range(int(ORIGIN) - 200, int(ORIGIN))]
        + [((1, 1), ORIGIN - 7 + k / 4) for k in range(21)]
    )
    quick = predict.forecast("ewkde", rising, tiny_study(), *WEEK, params={"half_life_days": 3})
    slow = predict.forecast("ewkde", rising, tiny_study(), *WEEK, params={"half_life_days": 60})
    assert quick.sum() > slow.sum() > 7.0


@pytest.mark.parametrize("model", predict.MODELS)
def test_shape_and_zero_outside_the_study_area(model):
    study = tiny_study()
    result = predict.forecast(model, random_events(), study, *WEEK)
    assert result.shape == study.grid.shape
    assert result[2, 2] == 0
    assert (result >= 0).all()
    assert result.sum() > 0


@pytest.mark.parametrize("model", predict.MODELS)
def test_no_event_at_or_after_the_origin_is_used(model):
    study = tiny_study()
    events = random_events()
    honest = predict.forecast(model, events.before(ORIGIN), study, *WEEK)
    with_future = predict.forecast(model, events, study, *WEEK)
    np.testing.assert_array_equal(with_future, honest)
    # Also not with a fit handed in, and not for a later window issued at the origin.
    fitted = predict.fit(model, events, study, ORIGIN)
    later = predict.forecast(model, events, study, ORIGIN + 7, ORIGIN + 14, fitted=fitted, origin=ORIGIN)
    later_honest = predict.forecast(
        model, events.before(ORIGIN), study, ORIGIN + 7, ORIGIN + 14, origin=ORIGIN
    )
    np.testing.assert_array_equal(later, later_honest)


@pytest.mark.parametrize("model", predict.MODELS)
def test_the_21_shifts_of_a_week_add_up_to_the_weekly_forecast(model):
    study = tiny_study()
    events = random_events()
    fitted = predict.fit(model, events, study, ORIGIN)  # ETAS: fit once, as a weekly plan does
    weekly = predict.forecast(model, events, study, *WEEK, fitted=fitted)
    shifts = [
        predict.forecast(
            model, events, study, ORIGIN + k / 3, ORIGIN + (k + 1) / 3, fitted=fitted, origin=ORIGIN
        )
        for k in range(21)
    ]
    np.testing.assert_allclose(np.sum(shifts, axis=0), weekly, rtol=1e-9, atol=1e-12)


def test_shift_forecasts_follow_the_time_of_week_profile():
    # All history at night (22–06): the night shift carries almost the whole day.
    rng = np.random.default_rng(4)
    days = rng.integers(int(ORIGIN) - 56, int(ORIGIN), 400)
    hours = rng.choice([22, 23, 0, 1, 2, 3, 4, 5], 400)
    t = days + (hours + rng.random(400)) / 24
    events = predict.Events.from_arrays(np.full(400, 150.0), np.full(400, 150.0), t)
    study = tiny_study()
    night = predict.forecast(
        "last_4_weeks", events, study, ORIGIN + 2 - 2 / 24, ORIGIN + 2 + 6 / 24, origin=ORIGIN
    )
    early = predict.forecast(
        "last_4_weeks", events, study, ORIGIN + 2 + 6 / 24, ORIGIN + 2 + 14 / 24, origin=ORIGIN
    )
    assert night.sum() > 10 * early.sum()
    weekly = predict.forecast("last_4_weeks", events, study, *WEEK)
    assert night.sum() == pytest.approx(weekly.sum() / 7, rel=0.25)


def test_time_of_week_shares_of_a_whole_week_sum_to_one():
    profile = predict.time_of_week_profile(np.array([0.1, 0.2, 3.5, 6.99]))
    assert profile.sum() == pytest.approx(1.0)
    assert predict.window_share(profile, 14.0, 21.0) == pytest.approx(1.0)
    assert predict.window_share(profile, 3.2, 10.2) == pytest.approx(1.0)
    parts = [predict.window_share(profile, 5 + k / 3, 5 + (k + 1) / 3) for k in range(21)]
    assert sum(parts) == pytest.approx(1.0)


def test_etas_fit_is_reused_by_the_forecast():
    study = tiny_study()
    events = random_events()
    fitted = predict.fit("etas", events, study, ORIGIN)
    assert isinstance(fitted, etas.EtasFit)
    assert fitted.end == ORIGIN
    year = events.between(ORIGIN - 365, ORIGIN)
    in_masked_cell = (year.x >= 200) & (year.y >= 200)
    assert fitted.events == len(year) - int(in_masked_cell.sum())
    np.testing.assert_allclose(
        predict.forecast("etas", events, study, *WEEK, fitted=fitted),
        predict.forecast("etas", events, study, *WEEK),
    )
    # Warm start from last week's fit: same forecast within a few per cent.
    earlier = predict.fit("etas", events, study, ORIGIN - 7)
    warm = predict.fit("etas", events, study, ORIGIN, previous=earlier)
    np.testing.assert_allclose(
        predict.forecast("etas", events, study, *WEEK, fitted=warm),
        predict.forecast("etas", events, study, *WEEK, fitted=fitted),
        rtol=0.05,
    )


def test_shorter_windows_must_lie_in_the_week_after_the_origin():
    with pytest.raises(ValueError, match="Schichten"):
        predict.forecast("last_4_weeks", tiny_events(), tiny_study(), ORIGIN + 8, ORIGIN + 8.3, origin=ORIGIN)
    with pytest.raises(ValueError, match="Prognosezeitpunkt"):
        predict.forecast("last_4_weeks", tiny_events(), tiny_study(), ORIGIN, ORIGIN + 7, origin=ORIGIN + 1)
