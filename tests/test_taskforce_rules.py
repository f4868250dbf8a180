"""Task force rules without the database: the recommendation workflow as data, goal status."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from lagebild.taskforce import progress
from lagebild.taskforce.workflow import DEFAULT_WORKFLOW_FILE, WorkflowError, load_workflow, parse_workflow

DEFAULT = json.loads(DEFAULT_WORKFLOW_FILE.read_text(encoding="utf-8"))


# --- workflow -----------------------------------------------------------------------------------


def test_the_default_workflow_is_the_german_board_procedure():
    flow = load_workflow()
    assert flow.label(flow.initial) == "Entwurf"
    assert [t.target for t in flow.transitions_from("submitted")] == [
        "approved",
        "rejected",
        "revision",
        "withdrawn",
    ]
    assert all(
        "executive_board" in t.actors for t in flow.transitions_from("submitted") if t.target != "withdrawn"
    )
    assert flow.awaiting_decision == {"submitted"}
    assert flow.state("approved").decided and not flow.state("approved").editable
    assert flow.state("revision").editable
    # A group lead may submit a draft but not decide it; the board may decide but not submit.
    assert [t.target for t in flow.allowed("draft", {"group_lead"})] == ["submitted", "withdrawn"]
    assert flow.allowed("draft", {"executive_board"}) == []
    assert {t.target for t in flow.allowed("submitted", {"executive_board"})} == {
        "approved",
        "rejected",
        "revision",
    }
    assert flow.allowed("rejected", {"executive_board", "chair", "group_lead"}) == []


def test_a_broken_workflow_names_every_problem_at_once():
    data = copy.deepcopy(DEFAULT)
    data["initial"] = "nowhere"
    data["transitions"].append({"from": "approved", "to": "limbo", "label": "X", "by": ["mayor"]})
    data["transitions"].append({"from": "rejected", "to": "draft", "label": "Wieder auf", "by": ["chair"]})
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(data)
    message = str(caught.value)
    assert "Anfangszustand „nowhere“" in message
    assert "„limbo“ ist kein Zustand" in message
    assert "unbekannte Beteiligte mayor" in message
    assert "Aus dem Endzustand „rejected“" in message


def test_a_city_can_configure_its_own_workflow(tmp_path):
    data = {
        "initial": "draft",
        "states": [
            {"code": "draft", "label": "Entwurf", "editable": True},
            {"code": "decided", "label": "Beschlossen", "decided": True, "final": True},
        ],
        "transitions": [{"from": "draft", "to": "decided", "label": "Beschließen", "by": ["chair"]}],
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    flow = load_workflow(path)
    assert flow.awaiting_decision == frozenset()
    assert [t.label for t in flow.allowed("draft", {"chair"})] == ["Beschließen"]
    path.write_text("{kein json", encoding="utf-8")
    with pytest.raises(WorkflowError, match="nicht lesbar"):
        load_workflow(path)


def test_unreachable_states_are_refused():
    data = copy.deepcopy(DEFAULT)
    data["states"].append({"code": "archived", "label": "Archiviert"})
    with pytest.raises(WorkflowError, match="Nicht erreichbare Zustände: archived"):
        parse_workflow(data)


# --- goal status --------------------------------------------------------------------------------

START = dt.date(2026, 1, 4)  # a Sunday: end of the baseline
TARGET_DATE = dt.date(2026, 7, 5)


def _weeks(values: list[float]) -> list[tuple[dt.date, float]]:
    return [(START + dt.timedelta(days=7 * (i + 1)), v) for i, v in enumerate(values)]


def _assess(current: float | None, weekly: list[float], as_of: dt.date, direction: str = "decrease"):
    return progress.assess(
        direction=direction,  # type: ignore[arg-type]
        baseline=100.0 if direction == "decrease" else 50.0,
        target=70.0,
        baseline_end=START,
        target_date=TARGET_DATE,
        as_of=as_of,
        current=current,
        weekly=_weeks(weekly),
    )


def test_a_goal_reached_is_achieved_whatever_the_trend():
    result = _assess(69.0, [100, 101, 102, 103, 104], START + dt.timedelta(days=35))
    assert result.status == "achieved"
    assert result.status_label == "erreicht"
    assert result.share_of_way == pytest.approx((100 - 69) / 30)


def test_a_steady_fall_towards_the_target_is_on_track():
    weekly = [100 - 1.5 * i for i in range(10)]  # reaches 70 after 20 weeks, target in 26
    result = _assess(weekly[-1], weekly, START + dt.timedelta(days=70))
    assert result.status == "on_track"
    assert result.trend is not None and result.trend.slope_per_week == pytest.approx(-1.5)
    assert result.trend.projection < 70


def test_a_noisy_trend_that_just_misses_is_at_risk_and_a_rise_is_off_track():
    noisy = [100, 92, 99, 90, 97, 88, 95, 86, 94, 85]
    result = _assess(noisy[-1], noisy, START + dt.timedelta(days=70))
    assert result.trend is not None and result.trend.projection > 70 > result.trend.low
    assert result.status == "at_risk"
    rising = [100 + i for i in range(10)]
    assert _assess(rising[-1], rising, START + dt.timedelta(days=70)).status == "off_track"


def test_without_enough_weeks_the_planned_path_decides():
    as_of = START + dt.timedelta(days=21)  # three weeks in: planned 100 − 30 · 21/182 ≈ 96.5
    assert _assess(95.0, [99, 97, 95], as_of).status == "on_track"
    behind = _assess(99.0, [99, 99, 99], as_of)
    assert behind.status == "at_risk"
    assert "zu wenige Wochen" in behind.reason_de
    assert behind.planned_now == pytest.approx(100 - 30 * 21 / 182)


def test_after_the_target_date_a_missed_goal_is_off_track_and_increase_goals_mirror():
    assert _assess(80.0, [90] * 30, TARGET_DATE + dt.timedelta(days=1)).status == "off_track"
    assert _assess(71.0, [], START + dt.timedelta(days=7), direction="increase").status == "achieved"
    assert progress.wrong_direction(100, 120, "decrease") and progress.wrong_direction(50, 40, "increase")
    assert not progress.wrong_direction(100, 70, "decrease")
