"""API of the Sonderstab: members of either authority read it, outsiders get 403, records of a task
force one does not see answer 404; recommendation steps go through the same service as the web UI."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lagebild.taskforce import services
from lagebild.taskforce.models import TaskForce, WorkingGroup

from .api_support import token_client
from .taskforce_fixtures import *  # noqa: F403

BASE = "/api/v1/taskforce"


@pytest.fixture
def other(staff) -> dict:
    """A second task force led by the city member, with a recommendation of its own."""
    task_force = TaskForce.objects.create(code="anderer", name="Anderer Stab")
    group = WorkingGroup.objects.create(
        task_force=task_force, code="ag", name="AG Sauberkeit", lead=staff["outsider_police"]
    )
    recommendation = services.recommendation_create(
        group, staff["outsider_police"], title="Mehr Papierkörbe", text="…"
    )
    return {"task_force": task_force, "group": group, "recommendation": recommendation}


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def test_members_of_both_authorities_read_only_their_task_forces(task_force, group, staff, other, indicators):
    mine = services.recommendation_create(
        group, staff["member"], title="Alkoholverbot", text="Beschlussvorschlag"
    )
    services.milestone_create(
        group, staff["lead"], title="Standorte", owner=staff["member"], due=timezone.localdate()
    )
    for name in ("lead", "member", "secretary"):  # police lead, city member, city secretary
        client = token_client(staff[name])
        groups = _results(client.get(f"{BASE}/groups/"))
        assert [g["name"] for g in groups] == ["Belästigungen bekämpfen"], name
        recommendations = _results(client.get(f"{BASE}/recommendations/"))
        assert [r["number"] for r in recommendations] == [mine.number], name
        assert client.get(f"{BASE}/recommendations/{other['recommendation'].pk}/").status_code == 404
        assert client.get(f"{BASE}/groups/{other['group'].pk}/").status_code == 404
    board = token_client(staff["board"])  # the executive board sees every task force
    assert {g["name"] for g in _results(board.get(f"{BASE}/groups/"))} == {
        "Belästigungen bekämpfen",
        "AG Sauberkeit",
    }
    outsider = token_client(staff["outsider_city"])
    response = outsider.get(f"{BASE}/goals/")
    assert response.status_code == 403
    assert response.json()["detail"] == "Ihre Rolle erlaubt diese Aktion nicht."
    assert token_client(staff["outsider_police"]).get(f"{BASE}/recommendations/{mine.pk}/").status_code == 404
    assert outsider.get(f"{BASE}/milestones/").status_code == 403


def test_goals_carry_their_progress_and_recommendations_their_history(task_force, group, staff, indicators):
    today = timezone.localdate()
    services.goal_create(
        group,
        staff["lead"],
        title="Betteln senken",
        indicator_code="begging-observed",
        baseline_start=today - dt.timedelta(days=60),
        baseline_end=today - dt.timedelta(days=33),
        baseline_value=10.0,
        target_value=5.0,
        target_date=today + dt.timedelta(days=90),
    )
    goal = _results(token_client(staff["member"]).get(f"{BASE}/goals/"))[0]
    assert goal["indicator"] == "begging-observed" and goal["baseline_value"] == 10.0
    assert goal["progress"]["status"] == "achieved"  # nothing recorded since: 0 ≤ 5
    assert goal["progress"]["status_label"] == "erreicht"
    recommendation = services.recommendation_create(group, staff["member"], title="T", text="X")
    client = token_client(staff["lead"])
    response = client.post(
        f"{BASE}/recommendations/{recommendation.pk}/transition/", {"target": "submitted"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "submitted" and body["state_label"] == "Eingereicht beim Verwaltungsvorstand"
    assert [h["to_state"] for h in body["history"]] == ["draft", "submitted"]
    assert body["history"][1]["by"]["name"] == (staff["lead"].get_full_name() or staff["lead"].username)


def test_bad_steps_get_structured_errors_and_change_nothing(task_force, group, staff, indicators):
    recommendation = services.recommendation_create(group, staff["member"], title="T", text="X")
    url = f"{BASE}/recommendations/{recommendation.pk}/transition/"
    member = token_client(staff["member"])
    response = member.post(url, {"target": "submitted"}, format="json")
    assert response.status_code == 403
    assert "nicht erlaubt" in response.json()["detail"]
    lead = token_client(staff["lead"])
    response = lead.post(url, {"target": "implemented"}, format="json")
    assert response.status_code == 409  # a known state, but not reachable from the draft
    assert response.json()["target"] == ["Von „Entwurf“ führt kein Schritt nach „Umgesetzt“."]
    response = lead.post(url, {}, format="json")
    assert response.status_code == 400 and "target" in response.json()
    response = lead.post(url, {"target": "gibt-es-nicht"}, format="json")
    assert response.status_code == 400 and "target" in response.json()
    lead.post(url, {"target": "submitted"}, format="json")
    response = token_client(staff["board"]).post(url, {"target": "rejected"}, format="json")
    assert response.status_code == 400
    assert response.json()["rationale"] == ["Für „Ablehnen“ ist eine Begründung nötig."]
    recommendation.refresh_from_db()
    assert recommendation.state == "submitted" and recommendation.events.count() == 2
    assert (
        lead.post(
            f"{BASE}/recommendations/999999/transition/", {"target": "submitted"}, format="json"
        ).status_code
        == 404
    )


def test_meetings_show_their_frozen_figures(task_force, staff, indicators, kod):
    from .taskforce_fixtures import _record_begging

    meeting_day = timezone.localdate() + dt.timedelta(days=1)
    _record_begging(kod, meeting_day - dt.timedelta(days=2), 4)
    meeting = services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    services.meeting_open(meeting, staff["mayor"])
    _record_begging(kod, meeting_day - dt.timedelta(days=2), 1)  # entered after the meeting opened
    body = token_client(staff["president"]).get(f"{BASE}/meetings/{meeting.pk}/").json()
    assert body["state"] == "open" and body["as_of"] == (meeting_day - dt.timedelta(days=1)).isoformat()
    # 28 days: the records lie in the window whatever the weekday (the week may have begun today).
    window = next(f for f in body["frozen_figures"] if f["key"].endswith("begging-observed:28d"))
    assert window["value"] == 4.0
