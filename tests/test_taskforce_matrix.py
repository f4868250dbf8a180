"""Every step of the recommendation workflow against every role of both authorities, in and out of
the Sonderstab: exactly the actors the workflow names may take a step; everyone else is refused
and nothing changes. The matrix is built from the workflow definition, so a new step is covered."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lagebild.core.models import Role
from lagebild.taskforce import rules, selectors, services
from lagebild.taskforce.models import Recommendation, RecommendationEvent, TaskForceMember

from .taskforce_fixtures import *  # noqa: F403

POSITIONS = ["outsider", "group_member", "group_lead", "chair", "secretary"]


def _path_to(state: str) -> list[str]:
    """The shortest series of targets from the initial state to ``state``."""
    flow = selectors.workflow()
    paths = {flow.initial: []}
    frontier = [flow.initial]
    while frontier:
        current = frontier.pop(0)
        for transition in flow.transitions_from(current):
            if transition.target not in paths:
                paths[transition.target] = [*paths[current], transition.target]
                frontier.append(transition.target)
    return paths[state]


def _bring_to(recommendation: Recommendation, state: str, staff: dict) -> None:
    # The mayor chairs the Sonderstab and sits on the executive board: every default step is his.
    for target in _path_to(state):
        services.recommendation_transition(
            recommendation, staff["mayor"], target=target, rationale="Begründung"
        )
        recommendation.refresh_from_db()


@pytest.mark.parametrize(
    ("role", "authority"), list(itertools.product([r.value for r in Role], ["city", "police"]))
)
def test_every_step_is_open_exactly_to_the_actors_the_workflow_names(
    role, authority, task_force, group, staff, make_user, city, police
):
    flow = selectors.workflow()
    users = {}
    for position in POSITIONS:
        user = make_user(f"{role}-{authority}-{position}", city if authority == "city" else police, role)
        if position == "group_member":
            group.members.add(user)
        elif position == "group_lead":
            group.lead = user
            group.save()
        elif position in ("chair", "secretary"):
            TaskForceMember.objects.create(task_force=task_force, user=user, function=position)
        users[position] = user
    checked = 0
    for transition in flow.transitions:
        for position, user in users.items():
            recommendation = services.recommendation_create(group, staff["member"], title="T", text="X")
            _bring_to(recommendation, transition.source, staff)
            group.refresh_from_db()
            actors = rules.actors(user, task_force, group)
            allowed = bool(transition.actors & actors)
            events = RecommendationEvent.objects.filter(recommendation=recommendation).count()
            if allowed:
                services.recommendation_transition(
                    recommendation, user, target=transition.target, rationale="Weil"
                )
                recommendation.refresh_from_db()
                assert recommendation.state == transition.target
            else:
                with pytest.raises(PermissionDenied):
                    services.recommendation_transition(
                        recommendation, user, target=transition.target, rationale="Weil"
                    )
                recommendation.refresh_from_db()
                assert recommendation.state == transition.source
                assert RecommendationEvent.objects.filter(recommendation=recommendation).count() == events
            # Who may act follows position and role, never authority.
            expected = set()
            if position in ("group_member", "group_lead"):
                expected.add("group_member")
            if position == "group_lead":
                expected.add("group_lead")
            if position in ("chair", "secretary"):
                expected.add(position)
            if role == Role.EXECUTIVE_BOARD:
                expected.add("executive_board")
            if role == Role.LEADERSHIP:
                expected.add("leadership")
            if role == Role.ADMIN:
                expected.add("admin")
            assert actors == expected, (role, authority, position)
            checked += 1
    assert checked == len(flow.transitions) * len(POSITIONS)


def test_a_step_the_workflow_does_not_have_is_refused_for_everyone(task_force, group, staff):
    recommendation = services.recommendation_create(group, staff["member"], title="T", text="X")
    for user in staff.values():
        with pytest.raises((ValidationError, PermissionDenied)):
            services.recommendation_transition(recommendation, user, target="implemented", rationale="x")
    assert Recommendation.objects.get(pk=recommendation.pk).state == "draft"
