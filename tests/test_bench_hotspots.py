"""The KDE benchmark against KDEpy is fair: same runs, same warm-up, same statistic, accuracy beside speed.

Speed itself is measured by ``make bench`` (bench/hotspots.py), not here; these tests check how it measures.
"""

import argparse
import json

from bench import hotspots as bench_hotspots


def test_every_contender_gets_one_warm_up_and_the_same_interleaved_rounds():
    calls: list[str] = []
    contenders = {name: (lambda name=name: calls.append(name) or name) for name in ("ours", "kdepy")}
    times, results = bench_hotspots.interleaved_timings(3, contenders)
    # Warm-up of each, then three rounds calling each once, in turn.
    assert calls == ["ours", "kdepy"] * 4
    assert {name: len(runs) for name, runs in times.items()} == {"ours": 3, "kdepy": 3}
    assert results == {"ours": "ours", "kdepy": "kdepy"}


def test_kde_bench_reports_speed_and_accuracy_of_every_contender_the_same_way(capsys):
    args = argparse.Namespace(points=3000, grid=100, sklearn_points=500, repeat=2, seed=3)
    bench_hotspots.bench_kde(args)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    contenders = {line["contender"]: line for line in lines if line["bench"] == "kde_quartic"}
    assert set(contenders) == {"ours", "ours_without_oversampling", "kdepy_fftkde", "kdepy_core"}
    statistics = {(line["runs"], line["statistic"]) for line in contenders.values()}
    assert statistics == {(2, "min and median of 2 interleaved runs after one warm-up run each")}
    for line in contenders.values():
        assert 0 <= line["seconds_min"] <= line["seconds_median"]
        assert line["vs_exact"]["max_abs_of_peak"] >= 0
    [comparison] = [line for line in lines if line["bench"] == "kde_quartic_comparison"]
    assert set(comparison["error_of_peak"]) == set(comparison["seconds_median"]) == set(contenders)
    # The radius spans a few cells (as in the real bench), so ours is held to the documented bound.
    assert comparison["bandwidth_in_cells"] >= 3
    assert comparison["error_of_peak"]["ours"] <= bench_hotspots.TARGET_KDE_DIFFERENCE_OF_PEAK
    assert comparison["ok"]
