"""Proceedings figures as analytics indicators for Sonderstab goals (issue 15, item 6).

A goal on the share of lapsed proceedings reads the cases themselves (not the count tables), for the
whole city and the indicator's authorities only; the cockpit and its sets leave these figures out.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lagebild.analytics import selectors as analytics_selectors
from lagebild.analytics.cockpit import build_cockpit
from lagebild.analytics.models import Fact, Indicator, IndicatorSet
from lagebild.analytics.services import load_indicators
from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.proceedings import services
from lagebild.proceedings.models import Case, CaseState, EventKind
from lagebild.proceedings.services import StepInput
from lagebild.taskforce import selectors
from lagebild.taskforce import services as taskforce_services
from lagebild.taskforce.models import Goal

from .taskforce_fixtures import *  # noqa: F403

BERLIN = ZoneInfo("Europe/Berlin")

LAPSED = "proceedings_lapsed_share"
LAPSED_CITY = "proceedings-lapsed-share-city"

INDICATORS = {
    "indicators": [
        {"code": "begging-observed", "name": "Aggressives Betteln", "kind": "problem", "fact": "incident"},
        {
            "code": LAPSED,
            "name": "Bußgeldverfahren: Anteil verjährt",
            "kind": "outcome",
            "fact": "proceedings",
            "value": "amount",
            "unit": "%",
        },
        {
            "code": LAPSED_CITY,
            "name": "Bußgeldverfahren der Stadt: Anteil verjährt",
            "kind": "outcome",
            "fact": "proceedings",
            "value": "amount",
            "unit": "%",
            "details": [LAPSED],
            "authority_kinds": ["city"],
        },
        {
            "code": "proceedings_days_to_notice_median",
            "name": "Bußgeldverfahren: Tage bis zum Bescheid (Median)",
            "kind": "activity",
            "fact": "proceedings",
            "value": "amount",
            "unit": "Tage",
        },
    ],
    "sets": [
        {"code": "wochenlage", "name": "Wochenlage", "indicators": "*"},
        {"code": "mit-verfahren", "name": "Mit Verfahren", "indicators": ["begging-observed", LAPSED]},
    ],
}

BASELINE = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))  # 91 days
AS_OF = dt.date(2026, 1, 31)  # current window: 02.11.2025 – 31.01.2026
TARGET_DATE = dt.date(2026, 12, 31)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(d(day), dt.time(hour), tzinfo=BERLIN)


@pytest.fixture
def proceedings_indicators(db, city, police, tmp_path: Path) -> None:
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(INDICATORS), encoding="utf-8")
    load_indicators(path)


@pytest.fixture
def clerk(make_user, city):
    return make_user("bussgeld", city, Role.PROCEEDINGS)


@pytest.fixture
def police_clerk(make_user, police):
    return make_user("bussgeld-polizei", police, Role.PROCEEDINGS)


def open_case(user, catalogue, day: str) -> Case:
    with authority_scope(user.authority):
        return services.case_open(
            user=user,
            category=catalogue["begging"],
            offence_at=at(day, 14),
            offence_place="Katharinentreppe",
            now=at(day, 18),
        )


def discontinue(user, case: Case, on: str) -> None:
    with authority_scope(user.authority):
        services.case_step(
            user=user,
            case=case,
            step=StepInput(
                kind=EventKind.DISCONTINUED,
                on=d(on),
                reason="Geringfügig",
                data={"reason_code": "opportunity"},
            ),
            now=at(on, 16),
        )


@pytest.fixture
def cases(clock, clerk, police_clerk, catalogue) -> dict[str, Case]:
    """Baseline (April–June 2025), city: one lapsed, one discontinued (50 %).
    Current window (November 2025 – January 2026), city: one lapsed, three discontinued (25 %);
    police: two lapsed (both authorities: 3 of 6, 50 %)."""
    clock.move_to("2026-02-01T12:00:00+01:00")
    old = open_case(clerk, catalogue, "2024-10-15")  # no interruption: limitation ends 14.04.2025
    with unscoped():
        services.daily_run(today=d("2025-04-20"), now=at("2025-04-20"))
    discontinue(clerk, open_case(clerk, catalogue, "2025-04-20"), "2025-05-05")
    late = open_case(clerk, catalogue, "2025-06-02")
    police_cases = [open_case(police_clerk, catalogue, day) for day in ("2025-06-03", "2025-06-04")]
    discontinue(clerk, open_case(clerk, catalogue, "2025-11-20"), "2025-12-01")
    discontinue(clerk, open_case(clerk, catalogue, "2025-11-21"), "2025-12-02")
    with unscoped():
        services.daily_run(today=d("2025-12-10"), now=at("2025-12-10"))
    discontinue(clerk, open_case(clerk, catalogue, "2025-12-20"), "2026-01-10")
    with unscoped():
        closed = dict(Case.objects.values_list("pk", "closed_on"))
        assert Case.objects.filter(state=CaseState.LAPSED).count() == 4
    assert BASELINE[0] <= closed[old.pk] <= BASELINE[1]
    assert AS_OF - dt.timedelta(days=90) <= closed[late.pk] <= AS_OF
    assert all(AS_OF - dt.timedelta(days=90) <= closed[case.pk] <= AS_OF for case in police_cases)
    return {"old": old, "late": late}


def lapsed_goal(group, user, code: str, target: float = 30.0, **kwargs) -> Goal:
    return taskforce_services.goal_create(
        group,
        user,
        title="Weniger verjährte Bußgeldverfahren",
        target_date=TARGET_DATE,
        indicator_code=code,
        direction=Goal.Direction.DECREASE,
        baseline_start=BASELINE[0],
        baseline_end=BASELINE[1],
        target_value=target,
        **kwargs,
    )


def test_goal_on_the_lapsed_share_counts_both_authorities(
    proceedings_indicators, cases, group, staff, client
):
    goal = lapsed_goal(group, staff["lead"], LAPSED)
    # Baseline from the cases, like any other indicator: 1 of 2 closed cases lapsed.
    assert goal.baseline_value == 50.0
    result = selectors.goal_progress(goal, as_of=AS_OF)
    assert result is not None
    # 3 of 6 closed cases lapsed (city 1 of 4, police 2 of 2): behind the planned path.
    assert result.current == 50.0
    assert result.status == "at_risk" and result.trend is None  # only two weeks with closed cases
    assert result.planned_now == pytest.approx(
        50 - 20 * (AS_OF - BASELINE[1]).days / (TARGET_DATE - BASELINE[1]).days
    )
    # The same through the batch read of many goals (agenda, brief, overview).
    assert selectors.goals_progress([goal], as_of=AS_OF)[goal.pk] == result
    # The goal page shows the value with its unit and status; the task force reads no case.
    client.force_login(staff["member"])
    page = client.get(reverse("taskforce:goal-detail", args=[goal.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Bußgeldverfahren: Anteil verjährt" in text and "gefährdet" in text


def test_goal_for_the_city_does_not_count_police_cases(proceedings_indicators, cases, group, staff):
    goal = lapsed_goal(group, staff["lead"], LAPSED_CITY)
    assert goal.baseline_value == 50.0
    result = selectors.goal_progress(goal, as_of=AS_OF)
    assert result is not None
    assert result.current == 25.0 and result.status == "achieved"
    both = lapsed_goal(group, staff["lead"], LAPSED)
    found = selectors.goals_progress([goal, both], as_of=AS_OF)
    assert (found[goal.pk].current, found[both.pk].current) == (25.0, 50.0)
    # Any window is a share as it is (not a count scaled to the window): the city's week of
    # 01.12.2025 closed two discontinued cases and the lapsed one, the police's lapses are left out.
    week = selectors.figures(goal, {"w": (d("2025-12-01"), d("2025-12-07"))})
    assert week == {"w": 33.33}


def test_goal_on_the_median_days_to_notice_without_notices_has_no_baseline(
    proceedings_indicators, cases, group, staff
):
    with pytest.raises(ValidationError) as refused:
        lapsed_goal(group, staff["lead"], "proceedings_days_to_notice_median", target=10.0)
    assert "keinen Wert der Kennzahl" in str(refused.value)


def test_proceedings_goals_are_city_wide_and_no_rate(proceedings_indicators, cases, group, staff, world):
    with pytest.raises(ValidationError) as refused:
        lapsed_goal(group, staff["lead"], LAPSED, area=world["areas"]["centre"], per_100_staff_hours=True)
    messages = refused.value.message_dict
    assert "nur für das ganze Stadtgebiet" in messages["area"][0]
    assert "Personalstunden" in messages["per_100_staff_hours"][0]


def test_indicator_rows_for_proceedings_are_checked(proceedings_indicators):
    wrong = Indicator(code="verfahren", name="Verfahren", kind="outcome", fact=Fact.PROCEEDINGS)
    with pytest.raises(ValidationError) as refused:
        wrong.full_clean()
    assert set(refused.value.message_dict) == {"details", "value"}
    rate = Indicator(
        code=LAPSED + "-je-stunde",
        name="je Stunde",
        kind="outcome",
        fact=Fact.PROCEEDINGS,
        value=Indicator.Value.AMOUNT,
        details=[LAPSED],
        per_100_staff_hours=True,
    )
    with pytest.raises(ValidationError) as refused:
        rate.full_clean()
    assert set(refused.value.message_dict) == {"per_100_staff_hours"}


def test_cockpit_and_sets_leave_the_proceedings_figures_out(proceedings_indicators):
    # "*" takes only the count-table indicators; a set naming one anyway does not show it.
    assert [e.indicator.code for e in IndicatorSet.objects.get(code="wochenlage").entries.all()] == [
        "begging-observed"
    ]
    assert [d.code for d in analytics_selectors.indicators_for("mit-verfahren")] == ["begging-observed"]
    cockpit = build_cockpit(0, "mit-verfahren", AS_OF)
    codes = [row.indicator.code for group_ in cockpit.groups for row in group_.rows]
    assert codes == ["begging-observed"]
    # All indicators (goal form, evaluation filters) still list them, as amounts, not counts.
    everything = {d.code: d for d in analytics_selectors.indicators_for()}
    assert not everything[LAPSED].is_count and everything[LAPSED_CITY].authority_ids


def test_analytics_index_links_the_proceedings_figures_for_those_who_may_see_them(client, analyst, kod):
    client.force_login(analyst)
    page = client.get(reverse("analytics:index"))
    assert page.status_code == 200
    assert reverse("proceedings:figures") in page.content.decode()
    assert "Bußgeldverfahren (Kennzahlen)" in page.content.decode()
    client.force_login(kod)  # the field sees the shared figures, not those of the proceedings
    page = client.get(reverse("analytics:index"))
    assert page.status_code == 200 and reverse("proceedings:figures") not in page.content.decode()
