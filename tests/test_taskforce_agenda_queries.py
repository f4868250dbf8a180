"""The meeting page reads the live figures once per request: its number of database queries does not
grow with the number of goals or agenda items (a planned meeting, before and after its figures were
frozen), and what it shows stays what the agenda and the figures say. Another task force's goals
never appear on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from lagebild.taskforce import agenda, services
from lagebild.taskforce.models import Meeting, TaskForce, WorkingGroup

from .taskforce_fixtures import *  # noqa: F403
from .taskforce_fixtures import _record_begging


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _add_work(group: WorkingGroup, staff: dict, meeting_day: dt.date, number: int) -> None:
    """Two indicator goals (a count and a rate), a milestone due and a recommendation awaiting decision."""
    today = timezone.localdate()
    for per_staff_hours in (False, True):
        services.goal_create(
            group,
            staff["lead"],
            title=f"Betteln senken {number}{'r' if per_staff_hours else ''}",
            indicator_code="begging-observed",
            per_100_staff_hours=per_staff_hours,
            baseline_start=today - dt.timedelta(days=60),
            baseline_end=today - dt.timedelta(days=33),
            baseline_value=40.0 + number,
            target_value=10.0,
            target_date=today + dt.timedelta(days=120),
        )
    services.milestone_create(
        group,
        staff["lead"],
        title=f"Standorte prüfen {number}",
        owner=staff["member"],
        due=meeting_day + dt.timedelta(days=2),
    )
    recommendation = services.recommendation_create(
        group, staff["lead"], title=f"Alkoholverbot {number}", text="…"
    )
    services.recommendation_transition(recommendation, staff["lead"], target="submitted")


def _page(client: Client, meeting: Meeting) -> tuple[int, str]:
    """The meeting page's number of database queries and its text."""
    statements: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(f"/sonderstab/sitzungen/{meeting.pk}/")
    assert response.status_code == 200
    assert statements  # the wrapper sees the page's queries
    return len(statements), response.content.decode()


@pytest.fixture
def meeting_day() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def test_the_agenda_page_reads_as_often_with_many_goals_as_with_few(
    task_force, group, staff, indicators, kod, meeting_day
):
    _record_begging(kod, timezone.localdate() - dt.timedelta(days=3), 4)
    _add_work(group, staff, meeting_day, 1)
    meeting = services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    client = _client(staff["secretary"])
    _page(client, meeting)  # first request: sessions, indicator cache and the like
    few, text = _page(client, meeting)
    assert "Alkoholverbot 1" in text and "Standorte prüfen 1" in text

    for number in range(2, 6):
        _add_work(group, staff, meeting_day, number)
    many, text = _page(client, meeting)
    entries = agenda.build(meeting)
    assert sum(1 for e in entries if e.kind == "recommendation") == 5
    assert sum(1 for e in entries if e.kind == "milestone") == 5
    assert "Alkoholverbot 5" in text and "Standorte prüfen 5" in text
    assert many == few, f"{few} queries with 2 goals, {many} with 10"
    assert few < 60
    assert "Betteln senken 5r" in text or all(e.kind != "goal" for e in entries)

    # Frozen before the meeting opens: the page also shows today's value beside each frozen
    # figure, from the same reads as the agenda.
    services.meeting_freeze(meeting)
    frozen_few, text = _page(client, meeting)
    assert "Betteln senken 1r" in text
    assert agenda.differences(meeting) == []
    _add_work(group, staff, meeting_day, 6)
    services.meeting_freeze(meeting)
    frozen_many, _ = _page(client, meeting)
    assert frozen_many == frozen_few
    assert meeting.figures.filter(section="Ziele").count() == 12


def test_a_late_record_shows_on_the_next_request_and_other_task_forces_stay_out(
    task_force, group, staff, indicators, kod, polizei
):
    # A meeting today: its Stichtag is yesterday, so a late record for that day lies in the past.
    meeting_day = timezone.localdate()
    _add_work(group, staff, meeting_day, 1)
    other = TaskForce.objects.create(code="anderer", name="Anderer Stab")
    foreign = WorkingGroup.objects.create(task_force=other, code="x", name="Fremde AG", lead=staff["lead"])
    services.goal_create(
        foreign,
        staff["lead"],
        title="Fremdes Ziel",
        indicator_code="begging-observed",
        baseline_start=timezone.localdate() - dt.timedelta(days=60),
        baseline_end=timezone.localdate() - dt.timedelta(days=33),
        baseline_value=30.0,
        target_value=5.0,
        target_date=timezone.localdate() + dt.timedelta(days=120),
    )
    meeting = services.meeting_schedule(task_force, staff["secretary"], date=meeting_day)
    services.meeting_freeze(meeting)
    client = _client(staff["secretary"])
    _, text = _page(client, meeting)
    assert "Fremdes Ziel" not in text
    assert agenda.differences(meeting) == []

    # Records entered after the freeze, by either authority, show as a difference on the very
    # next request: nothing of the live figures is kept between requests.
    _record_begging(kod, meeting.as_of, 3)
    _record_begging(polizei, meeting.as_of, 1)
    changed = {frozen.key: now for frozen, now in agenda.differences(meeting)}
    week = meeting.figures.get(key__endswith="begging-observed:week")
    assert changed[week.key] == (week.value or 0) + 4
    _, again = _page(client, meeting)
    assert again != text
