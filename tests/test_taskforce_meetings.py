"""Weekly meetings: the generated agenda, figures frozen when the meeting opens, minutes, decisions,
action items carried to the next agenda until done. Chairs from city and police run meetings alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lagebild.analytics.cockpit import build_cockpit
from lagebild.analytics.models import CITY_AREA
from lagebild.taskforce import agenda, services
from lagebild.taskforce.models import AgendaItem, FrozenFigure, Meeting

from .taskforce_fixtures import *  # noqa: F403
from .taskforce_fixtures import _record_begging


@pytest.fixture
def meeting_day() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def test_only_chair_and_secretary_plan_and_open_meetings(task_force, staff, meeting_day, indicators):
    for name in ("lead", "member", "board", "outsider_police"):
        with pytest.raises(PermissionDenied):
            services.meeting_schedule(task_force, staff[name], date=meeting_day)
    meeting = services.meeting_schedule(
        task_force, staff["secretary"], date=meeting_day, location="Rathaus, Raum 101"
    )
    assert meeting.number == 1 and meeting.as_of == meeting_day - dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="bereits eine Sitzung"):
        services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    with pytest.raises(PermissionDenied):
        services.meeting_open(meeting, staff["lead"])
    services.meeting_open(meeting, staff["president"])  # the police president chairs too
    meeting.refresh_from_db()
    assert meeting.state == "open" and meeting.frozen_at is not None
    with pytest.raises(ValidationError, match="bereits läuft"):
        services.meeting_open(meeting, staff["mayor"])


def test_frozen_figures_equal_the_cockpit_and_a_late_record_changes_only_todays(
    task_force, staff, indicators, kod, polizei
):
    # A meeting today: its Stichtag is yesterday, so a record entered late for that day lies in the
    # past at any hour (also at 03:30 on a DST night).
    meeting_day = timezone.localdate()
    as_of = meeting_day - dt.timedelta(days=1)
    _record_begging(kod, as_of - dt.timedelta(days=2), 30)  # a sharp rise against nothing a year ago
    _record_begging(polizei, as_of - dt.timedelta(days=3), 5)
    meeting = services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    planned = agenda.build(meeting)
    assert [e.kind for e in planned if e.kind == "figures"] == ["figures"]
    assert planned[0].title == "Aggressives Betteln (festgestellt)"
    services.meeting_open(meeting, staff["mayor"])
    cockpit = build_cockpit(CITY_AREA, "wochenlage", as_of)
    frozen = {f.key: f for f in meeting.figures.all()}
    assert len(frozen) == 3  # one indicator × week, 28 days, year to date
    for window in ("week", "28d", "ytd"):
        figure = cockpit.figure("begging-observed", window)
        stored = frozen[f"cockpit:wochenlage:{CITY_AREA}:begging-observed:{window}"]
        assert (stored.value, stored.prior, stored.flag) == (figure.current, figure.prior, figure.flag)
    assert frozen[f"cockpit:wochenlage:{CITY_AREA}:begging-observed:28d"].value == 35
    assert list(meeting.agenda_items.values_list("kind", flat=True)) == ["figures"]
    assert agenda.differences(meeting) == []
    # A record entered afterwards for a day the meeting covered changes today's figure only.
    _record_begging(kod, as_of, 2)
    stored = FrozenFigure.objects.get(
        meeting=meeting, key=f"cockpit:wochenlage:{CITY_AREA}:begging-observed:28d"
    )
    assert stored.value == 35
    changed = {frozen.key: now for frozen, now in agenda.differences(meeting)}
    assert changed[f"cockpit:wochenlage:{CITY_AREA}:begging-observed:28d"] == 37
    week = frozen[f"cockpit:wochenlage:{CITY_AREA}:begging-observed:week"].value  # 30 or 35: weekday
    assert changed[f"cockpit:wochenlage:{CITY_AREA}:begging-observed:week"] == week + 2


def test_minutes_decisions_and_an_open_action_on_the_next_agenda(
    task_force, group, staff, meeting_day, indicators
):
    first = services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    with pytest.raises(ValidationError, match="während der Sitzung"):
        services.decision_record(first, staff["secretary"], text="Zu früh")
    services.meeting_open(first, staff["mayor"])
    recommendation = services.recommendation_create(group, staff["lead"], title="Mehr Streetwork", text="…")
    services.decision_record(
        first, staff["mayor"], text="AG legt Kostenschätzung vor", recommendation=recommendation
    )
    with pytest.raises(ValidationError) as caught:
        services.action_create(
            first, staff["mayor"], title="", owner=None, due=meeting_day - dt.timedelta(days=1)
        )
    assert set(caught.value.message_dict) == {"title", "owner", "due"}
    action = services.action_create(
        first,
        staff["secretary"],
        title="Kostenschätzung Streetwork",
        owner=staff["lead"],
        due=meeting_day + dt.timedelta(days=10),
    )
    with pytest.raises(ValidationError) as caught:
        services.meeting_close(first, staff["mayor"], minutes="", attendees=[])
    assert set(caught.value.message_dict) == {"minutes", "attendees"}
    services.meeting_close(
        first, staff["mayor"], minutes="TOP 1 …", attendees=[staff["mayor"], staff["lead"]]
    )
    first.refresh_from_db()
    assert first.state == "closed" and first.attendees.count() == 2
    with pytest.raises(ValidationError):
        services.decision_record(first, staff["mayor"], text="Nachträglich")

    second = services.meeting_schedule(
        task_force, staff["secretary"], date=meeting_day + dt.timedelta(days=7)
    )
    entries = agenda.build(second)
    assert [(e.kind, e.title) for e in entries if e.kind == "action"] == [
        ("action", "Kostenschätzung Streetwork")
    ]
    assert "aus der 1. Sitzung" in next(e.detail for e in entries if e.kind == "action")
    with pytest.raises(PermissionDenied):
        services.action_done(action, staff["member"])
    services.action_done(action, staff["lead"], note="Liegt vor")  # the owner reports it done
    assert [e for e in agenda.build(second) if e.kind == "action"] == []
    with pytest.raises(ValidationError, match="bereits erledigt"):
        services.action_done(action, staff["mayor"])


def test_the_agenda_lists_recommendations_awaiting_decision_and_overdue_milestones(
    task_force, group, staff, meeting_day, indicators
):
    recommendation = services.recommendation_create(group, staff["lead"], title="Alkoholverbot", text="…")
    services.recommendation_transition(recommendation, staff["lead"], target="submitted")
    services.milestone_create(
        group,
        staff["lead"],
        title="Standorte prüfen",
        owner=staff["member"],
        due=meeting_day - dt.timedelta(days=3),
    )
    services.milestone_create(
        group, staff["lead"], title="Später", owner=staff["member"], due=meeting_day + dt.timedelta(days=30)
    )
    meeting = services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    services.meeting_open(meeting, staff["secretary"])
    items = list(meeting.agenda_items.values_list("kind", "title"))
    assert ("recommendation", f"{recommendation.number} Alkoholverbot") in items
    assert ("milestone", "Standorte prüfen") in items
    assert ("milestone", "Später") not in items
    detail = AgendaItem.objects.get(meeting=meeting, kind="milestone").detail
    assert detail.startswith("überfällig seit")
    assert Meeting.objects.get(pk=meeting.pk).agenda_items.count() == len(items)
