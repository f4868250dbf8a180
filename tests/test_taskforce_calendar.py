"""The Sonderstab calendar feed: what Outlook or Thunderbird shows a subscriber, read back with
icalendar; the token in the address is the only key, and each shows its own user's dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import include, path, reverse
from django.utils import timezone

from lagebild.taskforce import calendar, services
from lagebild.taskforce.models import Meeting, TaskForce, TaskForceMember, WorkingGroup

from .taskforce_fixtures import *  # noqa: F403

BERLIN = ZoneInfo("Europe/Berlin")

# The feed mounted as the site mounts it (/sonderstab/kalender/<token>.ics), beside the site's pages
# (the 404 page links to them).
urlpatterns = [
    path("sonderstab/", include("lagebild.taskforce.urls_feeds")),
    path("", include("lagebild.urls")),
]
pytestmark = pytest.mark.urls(__name__)


def _last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 31)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def _next_switch(month: int) -> dt.date:
    """The next night the clocks change in ``month`` (3: spring forward, 10: fall back)."""
    today = timezone.localdate()
    switch = _last_sunday(today.year, month)
    return switch if switch > today else _last_sunday(today.year + 1, month)


def _feed(client, user) -> icalendar.Calendar:
    token = calendar.token_for(user).token
    response = client.get(f"/sonderstab/kalender/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def _events(feed: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}


def test_meetings_keep_their_local_time_across_the_clock_change(client, task_force, group, staff):
    spring, autumn = _next_switch(3), _next_switch(10)
    for day in (spring - dt.timedelta(days=1), spring, autumn):
        services.meeting_schedule(
            task_force, staff["secretary"], date=day, starts_at=dt.time(10, 0), location="Rathaus, Saal 1"
        )
    feed = _feed(client, staff["lead"])
    zones = [str(z["TZID"]) for z in feed.walk("VTIMEZONE")]
    assert zones == ["Europe/Berlin"]
    starts = {}
    for event in feed.walk("VEVENT"):
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and (start.hour, start.minute) == (10, 0)
        assert event.decoded("DTEND") - start == dt.timedelta(minutes=90)
        assert str(event["LOCATION"]) == "Rathaus, Saal 1"
        starts[start.date()] = start.astimezone(dt.UTC).hour
    # 10:00 in Dortmund is 09:00 UTC in winter time and 08:00 UTC in summer time.
    assert starts == {spring - dt.timedelta(days=1): 9, spring: 8, autumn: 9}
    assert "\r\n" in feed.to_ical().decode()


def test_each_token_shows_its_own_users_meetings_and_milestones(
    client, task_force, group, staff, make_user, police
):
    meeting = services.meeting_schedule(
        task_force, staff["secretary"], date=timezone.localdate() + dt.timedelta(days=3)
    )
    due = timezone.localdate() + dt.timedelta(days=10)
    services.milestone_create(group, staff["lead"], title="Standorte prüfen", owner=staff["member"], due=due)
    # Another task force with a group of its own (police only).
    other = TaskForce.objects.create(code="nordstadt", name="Runder Tisch Nordstadt")
    stranger = staff["outsider_police"]
    other_lead = make_user("nord-chair", police, "taskforce")
    TaskForceMember.objects.create(task_force=other, user=other_lead, function="chair")
    other_group = WorkingGroup.objects.create(task_force=other, code="ag", name="AG Nord", lead=stranger)
    services.meeting_schedule(other, other_lead, date=timezone.localdate() + dt.timedelta(days=4))
    services.milestone_create(other_group, stranger, title="Nordstadt-Konzept", owner=stranger, due=due)

    meeting_title = f"{task_force.name}: 1. Sitzung"
    police_lead = _events(_feed(client, staff["lead"]))
    city_member = _events(_feed(client, staff["member"]))
    # Police lead and city member of the group see the same: access follows membership.
    assert set(police_lead) == set(city_member) == {meeting_title, "Meilenstein fällig: Standorte prüfen"}
    milestone = city_member["Meilenstein fällig: Standorte prüfen"]
    assert milestone.decoded("DTSTART") == due and milestone.decoded("DTEND") == due + dt.timedelta(days=1)
    assert str(milestone["TRANSP"]) == "TRANSPARENT"
    assert str(city_member[meeting_title]["UID"]) == f"sitzung-{meeting.pk}@lagebild-dortmund"
    assert set(_events(_feed(client, stranger))) == {
        "Runder Tisch Nordstadt: 1. Sitzung",
        "Meilenstein fällig: Nordstadt-Konzept",
    }
    # The mayor chairs the Sonderstab and, as a board member, sees every meeting; no milestones.
    assert set(_events(_feed(client, staff["mayor"]))) == {
        meeting_title,
        "Runder Tisch Nordstadt: 1. Sitzung",
    }
    assert _events(_feed(client, staff["outsider_city"])) == {}


def test_a_moved_meeting_keeps_its_uid(client, task_force, group, staff):
    meeting = services.meeting_schedule(
        task_force, staff["secretary"], date=timezone.localdate() + dt.timedelta(days=2)
    )
    before = {str(e["UID"]) for e in _feed(client, staff["member"]).walk("VEVENT")}
    Meeting.objects.filter(pk=meeting.pk).update(date=meeting.date + dt.timedelta(days=1))
    after = list(_feed(client, staff["member"]).walk("VEVENT"))
    assert {str(e["UID"]) for e in after} == before
    assert after[0].decoded("DTSTART").date() == meeting.date + dt.timedelta(days=1)


def test_unknown_rotated_or_deactivated_tokens_get_404(client, task_force, staff):
    user = staff["lead"]
    old = calendar.token_for(user).token
    assert calendar.token_for(user).token == old  # stable until rotated
    for token in ("unbekannt-aber-lang-genug-1234567890", "kurz", "../../etc/passwd", "x" * 80):
        assert client.get(f"/sonderstab/kalender/{token}.ics").status_code == 404
    new = calendar.token_rotate(user).token
    assert new != old and len(new) >= 40
    assert client.get(f"/sonderstab/kalender/{old}.ics").status_code == 404
    url = reverse("taskforce_feeds:calendar", args=[new])
    assert url == f"/sonderstab/kalender/{new}.ics"
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_an_overdue_milestone_is_flagged_in_the_feed(client, task_force, group, staff):
    services.milestone_create(
        group,
        staff["lead"],
        title="Standorte prüfen",
        owner=staff["member"],
        due=timezone.localdate() - dt.timedelta(days=2),
    )
    events = _events(_feed(client, staff["lead"]))  # a police lead, a city owner: the same entry
    assert (
        set(events)
        == set(_events(_feed(client, staff["member"])))
        == {"Meilenstein überfällig: Standorte prüfen"}
    )
    assert "Stand: offen, überfällig" in str(
        events["Meilenstein überfällig: Standorte prüfen"]["DESCRIPTION"]
    )
    assert _events(_feed(client, staff["outsider_police"])) == {}
