"""Task force writes and reads: goals on live figures, milestones, the recommendation workflow.

Access follows membership, not authority: police and city members of a group act alike, members
of neither are refused, the executive board alone decides. Every rule is checked for the roles
and authorities it concerns.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lagebild.core.models import AuditEvent
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.taskforce import rules as tf_rules
from lagebild.taskforce import selectors, services
from lagebild.taskforce.models import (
    Goal,
    Milestone,
    Operation,
    Recommendation,
    TaskForce,
    WorkingGroup,
)

from .taskforce_fixtures import *  # noqa: F403
from .taskforce_fixtures import _record_begging

# --- access -------------------------------------------------------------------------------------


def test_members_of_either_authority_see_the_workspace_and_outsiders_do_not(task_force, group, staff):
    for name in ("mayor", "president", "board", "secretary", "lead", "member"):
        assert tf_rules.is_member(staff[name], task_force), name
        assert staff[name].has_perm("taskforce.view_workspace"), name
    for name in ("outsider_city", "outsider_police"):
        assert not tf_rules.is_member(staff[name], task_force), name
        assert not staff[name].has_perm("taskforce.view_workspace"), name
    assert tf_rules.actors(staff["lead"], task_force, group) == {"group_lead", "group_member"}
    assert tf_rules.actors(staff["mayor"], task_force, group) == {"chair", "executive_board"}
    assert tf_rules.actors(staff["president"], task_force) == {"chair", "leadership"}


# --- goals --------------------------------------------------------------------------------------


def test_a_goal_takes_its_baseline_from_the_live_figures(indicators, group, staff, kod, polizei):
    today = timezone.localdate()
    base_start, base_end = today - dt.timedelta(days=60), today - dt.timedelta(days=33)
    _record_begging(kod, base_start + dt.timedelta(days=3), 6)
    _record_begging(polizei, base_end, 4)  # police records count in the shared figure too
    _record_begging(kod, base_end + dt.timedelta(days=1), 9)  # after the baseline: not in it
    goal = services.goal_create(
        group,
        staff["member"],
        title="Aggressives Betteln in der City um ein Drittel senken",
        indicator_code="begging-observed",
        direction="decrease",
        baseline_start=base_start,
        baseline_end=base_end,
        target_value=6.0,
        target_date=today + dt.timedelta(days=120),
    )
    assert goal.baseline_value == 10.0
    assert goal.window_days == 28
    with unscoped():
        assert Incident.objects.count() == 19
    assert AuditEvent.objects.filter(action="taskforce.goal_create", object_id=str(goal.pk)).exists()


def test_bad_goals_get_german_messages_at_the_field(indicators, group, staff):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        services.goal_create(
            group,
            staff["lead"],
            title="",
            indicator_code="gibt-es-nicht",
            baseline_start=today - dt.timedelta(days=10),
            baseline_end=today - dt.timedelta(days=20),
            target_value=None,
            target_date=today - dt.timedelta(days=1),
        )
    errors = caught.value.message_dict
    assert errors["title"] == ["Bitte das Ziel in einem Satz benennen."]
    assert errors["indicator"] == ["Die Kennzahl „gibt-es-nicht“ gibt es nicht."]
    assert errors["baseline_end"] == ["Der Basiszeitraum endet vor seinem Beginn."]
    assert errors["target_value"] == ["Bitte einen Zielwert angeben."]
    assert errors["target_date"] == ["Das Zieldatum muss in der Zukunft liegen."]
    with pytest.raises(ValidationError) as caught:
        services.goal_create(
            group,
            staff["lead"],
            title="Mehr Betteln?",
            indicator_code="begging-observed",
            direction="decrease",
            baseline_start=today - dt.timedelta(days=40),
            baseline_end=today - dt.timedelta(days=13),
            baseline_value=10.0,
            target_value=12.0,
            target_date=today + dt.timedelta(days=30),
        )
    assert caught.value.message_dict["target_value"] == [
        "Der Zielwert muss unter dem Basiswert (10.0) liegen, wenn die Kennzahl gesenkt werden soll."
    ]
    with pytest.raises(ValidationError) as caught:  # before the count tables begin
        services.goal_create(
            group,
            staff["lead"],
            title="Betteln senken",
            indicator_code="begging-observed",
            baseline_start=dt.date(1, 1, 1),
            baseline_end=dt.date(1, 1, 28),
            target_value=5.0,
            target_date=today + dt.timedelta(days=30),
        )
    assert caught.value.message_dict == {
        "baseline_start": ["Der Basiszeitraum darf nicht vor dem 01.01.1990 beginnen."]
    }
    assert not Goal.objects.exists()


def test_only_members_of_the_group_set_its_goals(indicators, group, staff):
    today = timezone.localdate()
    for name in ("outsider_city", "outsider_police", "board"):
        with pytest.raises(PermissionDenied):
            services.goal_create(group, staff[name], title="X", kind="qualitative", target_date=today)
    goal = services.goal_create(
        group,
        staff["lead"],
        title="Konzept für dezentrale Drogenkonsumräume beschlossen",
        kind="qualitative",
        target_date=today + dt.timedelta(days=90),
    )
    assert goal.kind == "qualitative" and goal.indicator is None
    assert selectors.goal_progress(goal) is None
    assert selectors.milestone_share_done(goal) is None


def test_goal_progress_follows_the_records_and_a_correction_changes_it(indicators, group, staff, kod):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    last_sunday = yesterday - dt.timedelta(days=(yesterday.weekday() + 1) % 7)  # yesterday, if a Sunday
    base_end = last_sunday - dt.timedelta(days=7 * 8)  # exactly 8 complete weeks since, whatever the weekday
    base_start = base_end - dt.timedelta(days=27)
    for week in range(4):
        _record_begging(kod, base_start + dt.timedelta(days=7 * week + 2), 10)  # 40 in the baseline
    monday = base_end + dt.timedelta(days=1)
    weekly = [9, 8, 7, 6, 5, 4, 3, 2]
    for week, count in enumerate(weekly):
        _record_begging(kod, monday + dt.timedelta(days=7 * week + 1), count)
    goal = services.goal_create(
        group,
        staff["lead"],
        title="Betteln halbieren",
        indicator_code="begging-observed",
        baseline_start=base_start,
        baseline_end=base_end,
        target_value=20.0,
        target_date=today + dt.timedelta(days=100),
    )
    assert goal.baseline_value == 40.0
    result = selectors.goal_progress(goal, as_of=yesterday)
    assert result is not None
    last_28 = sum(
        count
        for week, count in enumerate(weekly)
        if monday + dt.timedelta(days=7 * week + 1) > yesterday - dt.timedelta(days=28)
    )
    assert result.current == last_28
    assert result.status == "achieved"
    assert result.trend is not None and result.trend.slope_per_week == pytest.approx(-4.0)  # −1 a week × 28/7
    # A record entered late for yesterday shows in the live figure at once.
    _record_begging(kod, yesterday, 3)
    later = selectors.goal_progress(goal, as_of=yesterday)
    assert later is not None and later.current == last_28 + 3


# --- milestones ---------------------------------------------------------------------------------


def test_a_milestone_needs_evidence_to_be_done_and_is_flagged_when_overdue(task_force, group, staff):
    today = timezone.localdate()
    milestone = services.milestone_create(
        group,
        staff["lead"],
        title="Hilfeangebote kartieren",
        owner=staff["member"],
        due=today - dt.timedelta(days=2),
    )
    assert milestone.is_overdue()
    assert list(selectors.overdue_milestones(task_force)) == [milestone]
    with pytest.raises(ValidationError) as caught:
        services.milestone_update(milestone, staff["member"], status="done")
    assert caught.value.message_dict["evidence_note"] == [
        "Bitte den Nachweis angeben: eine Notiz oder eine Datei."
    ]
    with pytest.raises(PermissionDenied):
        services.milestone_update(milestone, staff["outsider_police"], status="in_progress")
    services.milestone_update(
        milestone, staff["member"], status="done", evidence_note="Karte im Ratsinfo, TOP 4"
    )
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.done_on == today
    assert not milestone.is_overdue()
    assert list(selectors.overdue_milestones(task_force)) == []


# --- recommendations ----------------------------------------------------------------------------


def test_a_recommendation_walks_from_draft_to_implemented_only_by_the_right_people(task_force, group, staff):
    draft = services.recommendation_create(
        group,
        staff["member"],
        title="Alkoholverbot am Nordmarkt",
        text="Der Verwaltungsvorstand möge beschließen …",
    )
    assert draft.state == "draft" and draft.number.startswith(f"E-{timezone.localdate().year}-")

    def step(user, target, rationale=""):
        return services.recommendation_transition(draft, user, target=target, rationale=rationale)

    for name in ("member", "board", "outsider_city", "outsider_police"):  # members may draft, not submit
        with pytest.raises(PermissionDenied):
            step(staff[name], "submitted")
    step(staff["lead"], "submitted")  # the police lead of the group submits a city member's draft
    with pytest.raises(PermissionDenied):
        step(staff["lead"], "approved")
    with pytest.raises(PermissionDenied):
        step(staff["president"], "approved")  # leadership chairs, the board decides
    with pytest.raises(ValidationError) as caught:
        step(staff["board"], "rejected")
    assert caught.value.message_dict["rationale"] == ["Für „Ablehnen“ ist eine Begründung nötig."]
    step(staff["board"], "approved")
    with pytest.raises(ValidationError) as caught:
        step(staff["board"], "submitted")
    assert "Von „Beschlossen“ führt kein Schritt nach „Eingereicht beim Verwaltungsvorstand“." in str(
        caught.value
    )
    with pytest.raises(ValidationError, match="nicht mehr änderbar"):
        services.recommendation_edit(draft, staff["lead"], title="Neu", text="Neu")
    step(staff["mayor"], "in_progress")  # the mayor chairs the task force
    step(staff["lead"], "implemented", rationale="Allgemeinverfügung seit 1. des Monats in Kraft")
    draft.refresh_from_db()
    assert draft.state == "implemented"
    history = list(draft.events.values_list("from_state", "to_state", "by__username"))
    assert history == [
        ("", "draft", "ag-stadt"),
        ("draft", "submitted", "ag-leitung"),
        ("submitted", "approved", "dezernent"),
        ("approved", "in_progress", "ob"),
        ("in_progress", "implemented", "ag-leitung"),
    ]


def test_revisions_keep_every_wording_and_a_decision_is_only_superseded(task_force, group, staff):
    recommendation = services.recommendation_create(group, staff["lead"], title="Fassung 1", text="Text 1")
    services.recommendation_transition(recommendation, staff["lead"], target="submitted")
    services.recommendation_transition(
        recommendation, staff["board"], target="revision", rationale="Kosten fehlen"
    )
    services.recommendation_edit(recommendation, staff["member"], title="Fassung 2", text="Text 2 mit Kosten")
    services.recommendation_transition(recommendation, staff["lead"], target="submitted")
    services.recommendation_transition(
        recommendation, staff["board"], target="rejected", rationale="Kein Budget"
    )
    recommendation.refresh_from_db()
    texts = list(recommendation.events.values_list("label", "text_then"))
    assert texts[0] == ("Angelegt", "Text 1")
    assert ("Überarbeitet", "Text 2 mit Kosten") in texts
    assert recommendation.events.get(from_state="submitted", to_state="revision").rationale == "Kosten fehlen"
    with pytest.raises(ValidationError):
        services.recommendation_edit(recommendation, staff["lead"], title="Fassung 3", text="Text 3")
    successor = services.recommendation_create(
        group, staff["lead"], title="Fassung 3", text="Günstiger", supersedes=recommendation
    )
    assert successor.supersedes == recommendation and successor.state == "draft"
    recommendation.refresh_from_db()
    assert recommendation.title == "Fassung 2" and recommendation.state == "rejected"
    with pytest.raises(ValidationError, match="bereits ersetzt"):
        services.recommendation_create(
            group, staff["lead"], title="Noch eine", text="X", supersedes=recommendation
        )
    with pytest.raises(ValidationError, match="noch änderbar"):
        services.recommendation_create(group, staff["lead"], title="Zu früh", text="X", supersedes=successor)


def test_links_to_another_task_force_are_refused_and_nothing_is_half_written(task_force, group, staff, world):
    other = TaskForce.objects.create(code="andere", name="Anderer Stab")
    other_group = WorkingGroup.objects.create(task_force=other, code="x", name="X", lead=staff["lead"])
    foreign_operation = Operation.objects.create(
        task_force=other,
        working_group=other_group,
        code="fremd",
        name="Fremder Einsatz",
        area=world["areas"]["centre"],
        start=dt.date(2026, 7, 1),
        end=dt.date(2026, 8, 31),
    )
    with pytest.raises(ValidationError) as caught:
        services.recommendation_create(
            group, staff["lead"], title="T", text="X", operations=[foreign_operation]
        )
    assert caught.value.message_dict["operations"] == [
        "Ein verknüpfter Einsatz gehört zu einem anderen Sonderstab."
    ]
    assert not Recommendation.objects.exists()
    assert list(selectors.awaiting_decision(task_force)) == []
    mine = services.recommendation_create(group, staff["lead"], title="T", text="X")
    services.recommendation_transition(mine, staff["lead"], target="submitted")
    assert list(selectors.awaiting_decision(task_force)) == [mine]
    assert list(selectors.awaiting_decision(other)) == []
    assert Milestone.objects.count() == 0


def test_a_city_workflow_file_replaces_the_default(task_force, group, staff, settings, tmp_path):
    path = tmp_path / "workflow.json"
    path.write_text(
        json.dumps(
            {
                "initial": "draft",
                "states": [
                    {"code": "draft", "label": "Entwurf", "editable": True},
                    {"code": "agreed", "label": "Im Stab beschlossen", "decided": True, "final": True},
                ],
                "transitions": [
                    {"from": "draft", "to": "agreed", "label": "Im Stab beschließen", "by": ["chair"]}
                ],
            }
        ),
        encoding="utf-8",
    )
    settings.LAGEBILD_RECOMMENDATION_WORKFLOW = str(path)
    recommendation = services.recommendation_create(group, staff["lead"], title="T", text="X")
    with pytest.raises(PermissionDenied):
        services.recommendation_transition(recommendation, staff["board"], target="agreed")
    services.recommendation_transition(recommendation, staff["president"], target="agreed")
    recommendation.refresh_from_db()
    assert recommendation.state == "agreed"
    assert recommendation.events.last().label == "Im Stab beschließen"
