"""The demo Sonderstab: five working groups with goals, milestones and recommendations, and a year of
weekly meetings whose frozen figures equal what the cockpit showed on each day (recomputed here)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from lagebild.analytics.cockpit import build_cockpit
from lagebild.analytics.models import CITY_AREA
from lagebild.demo.service import setup_demo
from lagebild.taskforce import selectors
from lagebild.taskforce.models import (
    ActionItem,
    Goal,
    Meeting,
    Milestone,
    Recommendation,
    TaskForce,
)

from .test_demo import NOVEMBER, SHORT


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db):
    return setup_demo(SHORT)


def test_the_demo_sonderstab_has_five_groups_goals_and_a_year_of_meetings(demo):
    task_force = TaskForce.objects.get()
    assert [g.name for g in task_force.working_groups.all()] == [
        "Stadtbild verschönern",
        "Campieren reduzieren",
        "Belästigungen bekämpfen",
        "Sucht vermeiden",
        "Suchthilfe weiterentwickeln",
    ]
    assert {g.lead.authority.kind for g in task_force.working_groups.all()} == {"city", "police"}
    assert Goal.objects.filter(kind="indicator").count() == 3
    assert Goal.objects.filter(kind="qualitative").count() == 2
    assert (
        Milestone.objects.filter(status="done").exists() and Milestone.objects.filter(status="open").exists()
    )
    states = set(Recommendation.objects.values_list("state", flat=True))
    assert {"implemented", "rejected", "submitted"} <= states
    meetings = Meeting.objects.order_by("date")
    held = [m for m in meetings if m.state == "closed"]
    assert len(held) == 52 and meetings.last().state == "planned"
    assert all(m.date.weekday() == 0 and m.as_of == m.date - dt.timedelta(days=1) for m in meetings)
    assert all(m.date <= SHORT.last_day for m in held) and meetings.last().date > SHORT.last_day
    assert ActionItem.objects.filter(done_at__isnull=False).exists()
    assert demo.taskforce.line().startswith("Sonderstab „Ordnung und Stadtleben“: 5 Arbeitsgruppen")


def test_frozen_figures_equal_the_cockpit_of_that_day_recomputed(demo):
    held = list(Meeting.objects.filter(state="closed").order_by("date").prefetch_related("figures"))
    assert len(held) == 52
    for meeting in held:  # every meeting of the year, each against its own day's cockpit
        cockpit = build_cockpit(CITY_AREA, "wochenlage", meeting.as_of)
        frozen = {f.key: f for f in meeting.figures.all()}
        compared = 0
        for row in cockpit.rows:
            for window in ("week", "28d", "ytd"):
                figure = cockpit.figure(row.code, window)
                stored = frozen[f"cockpit:wochenlage:{CITY_AREA}:{row.code}:{window}"]
                assert (stored.value, stored.prior, stored.flag) == (
                    figure.current,
                    figure.prior,
                    figure.flag,
                )
                compared += 1
        assert compared == 3 * len(cockpit.rows) == 51
        for goal in Goal.objects.filter(kind="indicator"):
            result = selectors.goal_progress(goal, as_of=meeting.as_of)
            assert frozen[f"goal:{goal.pk}"].value == result.current
            assert frozen[f"goal:{goal.pk}"].note == result.status_label
    assert held[-1].agenda_items.exists() and held[-1].minutes.startswith("Lage nach Stichtag")


def test_a_second_run_adds_no_second_sonderstab(demo):
    again = setup_demo(SHORT)
    assert again.taskforce.skipped
    assert TaskForce.objects.count() == 1 and Meeting.objects.count() == 53


def _assert_evaluated_and_on_the_agenda_after_it(operation) -> None:
    from lagebild.taskforce.models import AgendaItem

    assert operation.evaluation is not None and operation.evaluated_at is not None
    titles = AgendaItem.objects.filter(kind="operation", object_id=operation.pk).values_list(
        "title", "meeting__date"
    )
    assert any(title == f"Auswertung: {operation.name}" for title, _ in titles), operation.code
    first = min(day for _, day in titles)
    assert first > operation.end and first.weekday() == 0
    # The meeting right after the operation: the Monday after its last day.
    assert first == operation.end + dt.timedelta(days=7 - operation.end.weekday())


def test_demo_operations_are_evaluated_and_on_the_agenda_of_the_following_meeting(demo):
    from lagebild.taskforce.models import Operation

    for operation in Operation.objects.all():
        _assert_evaluated_and_on_the_agenda_after_it(operation)


def test_three_demo_operations_with_the_november_one_when_the_data_hold_them(db, capsys):
    from lagebild.taskforce.models import AgendaItem, Operation

    end = NOVEMBER.end_date
    call_command(
        "demo", "--no-serve", "--months", "6", "--scale", "0.15", "--seed", "7", "--end-date", f"{end}"
    )
    out = capsys.readouterr().out
    assert "Sondereinsatz KOD in der City 02.11.–15.11.2026 (40–45 Kräfte am Tag" in out
    operations = list(Operation.objects.order_by("start").prefetch_related("authorities"))
    assert [o.code for o in operations] == ["polizei-sommer", "kod-wallring", "kod-city-november"]
    november = operations[-1]
    assert (november.start, november.end) == (dt.date(2026, 11, 2), dt.date(2026, 11, 15))
    assert november.name == "Sondereinsatz KOD in der City (November)"
    assert november.planned_staff_per_day == 45 and november.area.code == "pz-city"
    assert [a.kind for a in november.authorities.all()] == ["city"]
    assert november.working_group.name == "Belästigungen bekämpfen"
    for operation in operations:
        _assert_evaluated_and_on_the_agenda_after_it(operation)
        # The two weeks after each one are in the data: every evaluation is complete.
        assert operation.evaluation["stage"] == "final", operation.code
    # Completed once the two weeks after it have passed (29 November): on the meeting of 30 November.
    assert AgendaItem.objects.filter(
        kind="operation",
        object_id=november.pk,
        title=f"Auswertung vervollständigt: {november.name}",
        meeting__date=dt.date(2026, 11, 30),
    ).exists()
    evaluation = november.evaluation
    assert evaluation["operation"]["planned_staff_days"] == 14 * 45
    balance = {line["key"]: line for line in evaluation["balance"]["lines"]}
    # KOD only (the operation's authority): more Platzverweise than in the two weeks before.
    assert balance["dispersal_order"]["current"] > 3 * balance["dispersal_order"]["previous"]
    # More officers look: more incidents observed in the City, above all the published reasons.
    rows = {row["code"]: row for row in evaluation["indicators"]["rows"]}
    for code in ("incidents", "drug-consumption-observed", "begging-observed"):
        assert rows[code]["during"] > 2 * rows[code]["before"], code
    assert TaskForce.objects.get().operations.count() == 3
