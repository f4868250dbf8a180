"""Forecast metrics against the ptools fixtures, the bootstrap, and the choice of the model in use."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lagebild.forecast import evaluation
from lagebild.forecast.evaluation import (
    Choice,
    Interval,
    bootstrap_mean,
    choose,
    flagged_cell_count,
    german_number,
    hit_metrics,
    metrics_for_cells,
    paired_bootstrap,
)


def _all(observed, predicted, attribute):
    return [
        getattr(metrics_for_cells(predicted, observed, k), attribute) for k in range(1, len(observed) + 1)
    ]


def test_ptools_first_fixture():
    observed, predicted = (6, 3, 0), (3, 2, 1)
    assert _all(observed, predicted, "pai") == pytest.approx([2, 1.5, 1])
    assert _all(observed, predicted, "pei") == pytest.approx([1, 1, 1])
    assert _all(observed, predicted, "recapture") == pytest.approx([0.5, 0.5556, 0.6667], abs=1e-4)


def test_ptools_second_fixture_breaks_ties_against_the_model():
    observed, predicted = (6, 7, 3, 2, 1, 0), (8, 4, 4, 2, 1, 0)
    assert _all(observed, predicted, "pai") == pytest.approx(
        [1.8947, 1.4211, 1.6842, 1.4211, 1.2, 1.0], abs=1e-4
    )
    assert _all(observed, predicted, "pei") == pytest.approx([0.8571, 0.6923, 1, 1, 1, 1], abs=1e-4)
    assert _all(observed, predicted, "recapture") == pytest.approx([1.3333, 1.3333, 1, 1, 1, 1], abs=1e-4)


def test_thirty_of_120_events_in_5_of_100_cells_give_pai_5():
    observed = np.zeros((10, 10))
    predicted = np.zeros((10, 10))
    observed[0, :5] = 6  # 30 events in the five predicted cells
    observed[5:, :] = 90 / 50  # 90 spread over 50 other cells
    predicted[0, :5] = 1
    result = hit_metrics(predicted, observed, np.ones((10, 10), bool), 0.05)
    assert result.cells == 5
    assert result.hit_rate == pytest.approx(0.25)
    assert result.pai == pytest.approx(5.0)


def test_pei_star_does_not_ask_for_events_in_empty_cells():
    # 2 of 10 cells hold events; at 4 flagged cells the oracle needs only those 2.
    observed = [3, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    predicted = [5, 0, 4, 3, 0, 0, 0, 0, 0, 0]  # finds the 3, wastes two cells, misses the 1
    result = metrics_for_cells(predicted, observed, 4)
    assert result.pei == pytest.approx(3 / 4)
    assert result.best_cells == 2
    assert result.pei_star == pytest.approx((3 / 4) / (4 / 2))


def test_only_mask_cells_count_and_the_flagged_cell_rule():
    mask = np.zeros((20, 20), bool)
    mask[:10, :] = True  # 200 cells
    predicted = np.zeros((20, 20))
    observed = np.zeros((20, 20))
    predicted[15, 0] = 99  # outside the mask: never flagged
    observed[15, 0] = 50
    predicted[0, 0], observed[0, 0] = 1, 4
    observed[1, 1] = 4
    result = hit_metrics(predicted, observed, mask, 0.01)
    assert result.cells == 2 and result.area_share == pytest.approx(0.01)
    assert result.observed_total == 8 and result.captured == 4
    assert result.pai == pytest.approx(0.5 / 0.01)
    # Rule: round half up, at least one cell, never more than the mask.
    assert flagged_cell_count(150, 0.01) == 2  # 1.5 → 2
    assert flagged_cell_count(149, 0.01) == 1
    assert flagged_cell_count(20, 0.01) == 1
    assert flagged_cell_count(3, 1.0) == 3


def test_week_without_events_has_no_pai():
    result = hit_metrics(np.ones((4, 4)), np.zeros((4, 4)), np.ones((4, 4), bool), 0.1)
    assert math.isnan(result.pai) and math.isnan(result.hit_rate) and math.isnan(result.pei)
    assert math.isnan(result.recapture)


def test_bootstrap_is_deterministic_and_skips_empty_weeks():
    values = [1.0, 2.0, math.nan, 3.0, 4.0]
    first = bootstrap_mean(values)
    assert first == bootstrap_mean(values)
    assert first.mean == pytest.approx(2.5) and first.weeks == 4
    assert first.low < 2.5 < first.high
    assert first.low >= 1.0 and first.high <= 4.0


def test_paired_bootstrap_sees_a_constant_advantage_despite_noisy_weeks():
    rng = np.random.default_rng(1)
    baseline = rng.uniform(1, 10, size=52)
    model = baseline + 0.5  # always 0.5 better: the paired interval is exactly 0.5
    paired = paired_bootstrap(model, baseline)
    assert paired.mean == pytest.approx(0.5)
    assert paired.low == pytest.approx(0.5) and paired.high == pytest.approx(0.5)
    # The unpaired intervals overlap widely; pairing is what makes the difference visible.
    assert bootstrap_mean(model).low < bootstrap_mean(baseline).high


def test_german_numbers():
    assert german_number(4.06) == "4,1"
    assert german_number(1234.5, 1) == "1.234,5"
    assert german_number(0.9, signed=True) == "+0,9"
    assert german_number(-0.34, signed=True) == "−0,3"
    assert german_number(-0.01, signed=True) == "+0,0"


LABELS = {"last_4_weeks": "letzte 4 Wochen", "long_term_average": "Langzeitmittel", "ewkde": "EW-KDE"}
BASELINES = ("last_4_weeks", "long_term_average")


def _choice(weekly):
    means = {model: bootstrap_mean(values) for model, values in weekly.items()}
    return choose(means, weekly, BASELINES, LABELS)


def test_choice_uses_a_model_that_clearly_beats_the_best_baseline():
    rng = np.random.default_rng(2)
    last = rng.uniform(2, 4, size=52)
    weekly = {"last_4_weeks": last, "long_term_average": last - 1, "ewkde": last + rng.uniform(0.5, 1.5, 52)}
    choice = _choice(weekly)
    assert choice.model == "ewkde" and choice.beats_baseline
    assert choice.best_baseline == "last_4_weeks"
    assert choice.difference.low > 0
    assert choice.sentence.startswith("EW-KDE trifft bei 5 % der Fläche im Mittel ")
    assert "wie die beste Grundlinie (letzte 4 Wochen): PAI " in choice.sentence
    assert "(95 %-KI +" in choice.sentence and "über 52 Wochen." in choice.sentence


def test_choice_keeps_the_baseline_when_the_interval_includes_zero():
    rng = np.random.default_rng(3)
    last = rng.uniform(2, 4, size=52)
    noise = rng.normal(0, 1.0, 52)
    weekly = {"last_4_weeks": last, "long_term_average": last - 1, "ewkde": last + noise - noise.mean() + 0.1}
    choice = _choice(weekly)
    assert choice.best_model == "ewkde"
    assert choice.model == "last_4_weeks" and not choice.beats_baseline
    assert choice.difference.low <= 0 < choice.difference.high
    assert choice.sentence.startswith("Kein Modell schlägt die Grundlinie sicher")
    assert "Verwendet wird daher die Grundlinie (letzte 4 Wochen)." in choice.sentence


def test_choice_when_a_baseline_is_best():
    last = np.full(10, 3.0)
    weekly = {"last_4_weeks": last, "long_term_average": last - 1, "ewkde": last - 0.5}
    choice = _choice(weekly)
    assert choice.model == "last_4_weeks" and not choice.beats_baseline
    assert choice.sentence.startswith("Kein Modell schlägt die Grundlinie:")
    assert "EW-KDE" in choice.sentence and "−0,5" in choice.sentence


def test_choice_without_any_events():
    empty = [math.nan] * 5
    choice = _choice({"last_4_weeks": empty, "long_term_average": empty, "ewkde": empty})
    assert choice.model == "last_4_weeks" and not choice.beats_baseline
    assert "keine Vorfälle" in choice.sentence


def test_choice_round_trips_through_json():
    import json

    rng = np.random.default_rng(4)
    last = rng.uniform(2, 4, size=20)
    choice = _choice({"last_4_weeks": last, "long_term_average": last, "ewkde": last + 1})
    assert Choice.from_dict(json.loads(json.dumps(choice.to_dict()))) == choice
    assert Interval.from_dict(Interval(math.nan, 1.0, 2.0, 3).to_dict()).weeks == 3
    assert evaluation.COVERAGES == (0.01, 0.05, 0.10)


def test_small_differences_get_two_decimals_instead_of_zero():
    rng = np.random.default_rng(5)
    last = rng.uniform(8, 9, size=30)
    choice = _choice(
        {"last_4_weeks": last, "long_term_average": last - 1, "ewkde": last + rng.uniform(0.05, 0.1, 30)}
    )
    assert choice.beats_baseline
    assert "+0,0 " not in choice.sentence and "1,0 Mal" not in choice.sentence
    assert " 1,01 Mal so viele " in choice.sentence
    assert ", Differenz +0,07 (95 %-KI +0,0" in choice.sentence
