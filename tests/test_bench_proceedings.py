"""The proceedings benchmark (bench/proceedings.py) runs at a tiny size and reports every figure as a
JSON line with numbers; the deadline rebuild reproduces the stored deadlines exactly (issue 15)."""

from __future__ import annotations

import json

from bench import proceedings as bench_proceedings
from bench.common import emit

FIGURES = {
    "proceedings_seed",
    "proceedings_worklist",
    "proceedings_worklist_page",
    "proceedings_deadlines_rebuild",
    "proceedings_refresh_per_case",
    "proceedings_daily_run",
}


def test_bench_reports_every_figure_as_a_json_line(db, capsys):
    for line in bench_proceedings.run(cases=300, closed=60, runs=3, seed_value=2, refresh_sample=20):
        emit(**line)
    lines = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    figures = {line["bench"]: line for line in lines}
    assert set(figures) == FIGURES and len(lines) == len(FIGURES)

    seed = figures["proceedings_seed"]
    assert seed["open_city"] == 300 and seed["cases"] >= 300 + 60
    assert seed["events"] > seed["cases"] and seed["deadlines"] > 0 and seed["notices"] > 0
    assert sum(seed["by_state"].values()) == seed["cases"]

    worklist = figures["proceedings_worklist"]
    assert worklist["open_cases"] == 300 and worklist["runs"] == 3
    assert 0 <= worklist["min_ms"] <= worklist["median_ms"] <= worklist["p95_ms"] <= worklist["max_ms"]
    assert worklist["rows"] > 0 and 0 <= worklist["overdue_rows"] <= worklist["rows"]
    assert worklist["target_p95_ms"] == 1000.0 and isinstance(worklist["ok"], bool)

    page = figures["proceedings_worklist_page"]
    assert page["limit"] == 500 and page["rows"] == min(500, worklist["rows"]) and page["p95_ms"] >= 0

    rebuild = figures["proceedings_deadlines_rebuild"]
    assert rebuild["cases"] == seed["cases"] and rebuild["deadlines"] == seed["deadlines"]
    assert rebuild["identical"] is True and rebuild["seconds"] >= 0

    refresh = figures["proceedings_refresh_per_case"]
    assert refresh["sample"] == 20 and refresh["ms_per_case"] > 0

    daily = figures["proceedings_daily_run"]
    assert daily["seconds"] >= 0 and daily["second_run_changes"] == 0
    assert daily["became_final"] >= 0 and daily["lapsed"] >= 0
