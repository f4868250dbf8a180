"""Web UI of shifts and patrols: planning, joint patrols, start/end and staff hours."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.models import Patrol, Shift

from .conftest import INSIDE


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def error_text(response, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</p>', text_of(response), re.S)
    assert match, f"no error shown at {field_id}"
    return match.group(1)


def make_shift(user, day=None, kind="early") -> Shift:
    with authority_scope(user.authority):
        return services.shift_create(user=user, date=day or timezone.localdate(), kind=kind)


def running_shift(user) -> Shift:
    """The shift that is on now (the night shift of yesterday between midnight and 06:00)."""
    now = timezone.localtime()
    if now.hour < 6:
        return make_shift(user, now.date() - dt.timedelta(days=1), kind="night")
    return make_shift(
        user, now.date(), kind="early" if now.hour < 14 else "late" if now.hour < 22 else "night"
    )


def make_patrol(lead, shift, members, name="Streife 1") -> Patrol:
    with authority_scope(lead.authority):
        return services.patrol_create(user=lead, shift=shift, name=name, members=members)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("field:shift-list", []),
        ("field:shift-create", []),
        ("field:shift-detail", [1]),
        ("field:patrol-create", [1]),
        ("field:patrol-detail", [1]),
    ],
)
def test_shift_pages_require_login(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_shift_list_defaults_to_current_week(client, world, kod_lead, clock):
    clock.move_to(clock.now, tick=False)  # the test's week and the page's: Sunday midnight may pass
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    this_week = make_shift(kod_lead, monday + dt.timedelta(days=2))
    last_week = make_shift(kod_lead, monday - dt.timedelta(days=3))
    client.force_login(kod_lead)
    response = client.get(reverse("field:shift-list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("field:shift-detail", args=[this_week.pk]) in page
    assert reverse("field:shift-detail", args=[last_week.pk]) not in page
    previous = client.get(
        reverse("field:shift-list"),
        {
            "date_from": (monday - dt.timedelta(days=7)).isoformat(),
            "date_to": (monday - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert reverse("field:shift-detail", args=[last_week.pk]) in previous.content.decode()
    bad = client.get(reverse("field:shift-list"), {"date_from": "morgen"})
    assert bad.status_code == 200
    assert "Bitte ein Datum" in error_text(bad, "id_date_from")


def test_shift_lead_creates_shift_and_duplicate_is_refused(client, world, kod_lead):
    client.force_login(kod_lead)
    day = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        reverse("field:shift-create"), {"date": day.isoformat(), "kind": "late", "note": "Sonderlage"}
    )
    with authority_scope(kod_lead.authority):
        shift = Shift.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("field:shift-detail", args=[shift.pk])
    assert shift.kind == "late" and shift.authority == kod_lead.authority
    assert timezone.localtime(shift.starts_at).hour == 14

    again = client.post(reverse("field:shift-create"), {"date": day.strftime("%d.%m.%Y"), "kind": "late"})
    assert again.status_code == 200
    assert "bereits angelegt" in error_text(again, "id_kind")
    empty = client.post(reverse("field:shift-create"), {"date": "", "kind": ""})
    assert "Bitte ein Datum angeben." in error_text(empty, "id_date")
    assert "Bitte die Schicht wählen." in error_text(empty, "id_kind")


@pytest.mark.parametrize(
    "instant",
    [
        "2027-01-01T02:00:00+01:00",  # New Year's night: the night shift of 31 December
        "2027-03-28T05:59:00+02:00",  # the short night the clocks go forward
        "2027-10-31T02:30:00+01:00",  # the second 02:30 of the long night
        "2027-01-04T06:00:00+01:00",
        "2027-01-04T13:59:00+01:00",
        "2027-01-04T14:00:00+01:00",
        "2027-01-04T22:30:00+01:00",
    ],
)
def test_new_shift_form_suggests_the_shift_that_is_on_now(client, world, kod_lead, clock, instant):
    now = clock.move_to(instant, tick=False)
    client.force_login(kod_lead)
    form = client.get(reverse("field:shift-create")).context["form"]
    day, kind = form["date"].value(), form["kind"].value()
    response = client.post(reverse("field:shift-create"), {"date": day.isoformat(), "kind": kind})
    assert response.status_code == 302
    with authority_scope(kod_lead.authority):
        shift = Shift.objects.get()
    assert shift.starts_at <= now < shift.ends_at


@pytest.mark.parametrize("role", [Role.FIELD_OFFICER, Role.LEADERSHIP, Role.ANALYST, Role.TASKFORCE])
def test_roles_without_planning_get_403(client, world, kod_lead, make_user, city, role):
    user = make_user(f"user-{role}", city, role)
    shift = make_shift(kod_lead)
    client.force_login(user)
    assert client.get(reverse("field:shift-create")).status_code == 403
    assert (
        client.post(reverse("field:shift-create"), {"date": "2025-01-01", "kind": "early"}).status_code == 403
    )
    assert client.get(reverse("field:patrol-create", args=[shift.pk])).status_code == 403
    listing = client.get(reverse("field:shift-list"))
    assert listing.status_code == 200
    assert reverse("field:shift-create") not in listing.content.decode()
    detail = client.get(reverse("field:shift-detail", args=[shift.pk]))
    assert detail.status_code == 200
    assert reverse("field:patrol-create", args=[shift.pk]) not in detail.content.decode()


def test_patrol_form_defaults_to_shift_times_and_lists_both_authorities(
    client, world, kod_lead, kod, polizei
):
    shift = make_shift(kod_lead, kind="late")
    client.force_login(kod_lead)
    response = client.get(reverse("field:patrol-create", args=[shift.pk]))
    page = text_of(response)
    start = timezone.localtime(shift.starts_at).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{start}"' in page
    assert "<legend>Stadt Dortmund – Ordnungsamt</legend>" in page
    assert "<legend>Polizeipräsidium Dortmund</legend>" in page
    assert f'value="{polizei.pk}"' in page and f'value="{kod.pk}"' in page


def test_joint_patrol_planned_started_and_ended_through_the_views(client, world, kod_lead, kod, polizei):
    shift = running_shift(kod_lead)
    # 8 hours, or 7 or 9 when the clocks change during a night shift.
    hours = (shift.ends_at.astimezone(dt.UTC) - shift.starts_at.astimezone(dt.UTC)).total_seconds() / 3600
    client.force_login(kod_lead)
    response = client.post(
        reverse("field:patrol-create", args=[shift.pk]),
        {
            "name": "Doppelstreife City",
            "area": world["areas"]["centre"].pk,
            "clothing": "uniform",
            "planned_start": timezone.localtime(shift.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "planned_end": timezone.localtime(shift.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "members": [kod.pk, polizei.pk],
        },
        follow=True,
    )
    with authority_scope(kod.authority):
        patrol = Patrol.objects.get()
    assert patrol.joint and patrol.member_count == 2
    page = text_of(response)
    assert "Doppelstreife Doppelstreife City geplant." in page
    assert f"{2 * hours:.2f}".replace(".", ",") in page  # 2 members × the shift's hours
    assert "Polizeipräsidium Dortmund" in page and "Kim Ordnung" in page
    shift_page = text_of(client.get(reverse("field:shift-detail", args=[shift.pk])))
    assert "Doppelstreife City" in shift_page and f"{2 * hours:.1f}".replace(".", ",") in shift_page

    # A member starts and ends the patrol; the staff hours follow the actual times.
    client.force_login(kod)
    assert client.get(reverse("field:patrol-start", args=[patrol.pk])).status_code == 405
    started = client.post(reverse("field:patrol-start", args=[patrol.pk]), follow=True)
    assert "begonnen" in text_of(started)
    assert "Streife beenden" in text_of(started)
    twice = client.post(reverse("field:patrol-start", args=[patrol.pk]), follow=True)
    assert "bereits begonnen" in text_of(twice)
    ended = client.post(reverse("field:patrol-end", args=[patrol.pk]), follow=True)
    assert "beendet" in text_of(ended)
    with authority_scope(kod.authority):
        patrol.refresh_from_db()
    assert patrol.actual_start and patrol.actual_end
    assert patrol.staff_hours < 1

    # The police partner sees the joint patrol too.
    client.force_login(polizei)
    police_view = client.get(reverse("field:patrol-detail", args=[patrol.pk]))
    assert police_view.status_code == 200
    assert "Doppelstreife" in text_of(police_view)


def test_patrol_of_one_authority_is_not_joint_and_times_are_checked(client, world, kod_lead, kod):
    shift = make_shift(kod_lead)
    client.force_login(kod_lead)
    url = reverse("field:patrol-create", args=[shift.pk])
    start = timezone.localtime(shift.starts_at)
    bad = client.post(
        url,
        {
            "name": "KOD 2",
            "clothing": "plain",
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "members": [kod.pk],
        },
    )
    assert bad.status_code == 200
    assert "Das Ende muss nach dem Beginn liegen." in error_text(bad, "id_planned_end")
    none = client.post(url, {"name": "", "clothing": "plain", "planned_start": "", "planned_end": "x"})
    assert "mindestens ein Mitglied" in error_text(none, "id_members")
    assert "Bitte eine Bezeichnung angeben." in error_text(none, "id_name")
    ok = client.post(
        url,
        {
            "name": "KOD 2",
            "clothing": "plain",
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (start + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "members": [kod.pk],
        },
    )
    assert ok.status_code == 302
    with authority_scope(kod.authority):
        patrol = Patrol.objects.get()
    assert not patrol.joint and patrol.clothing == "plain" and str(patrol.staff_hours) == "4.00"


def test_non_member_officer_cannot_start_patrol(client, world, kod_lead, kod, make_user, city):
    other = make_user("kod-andere", city, Role.FIELD_OFFICER)
    patrol = make_patrol(kod_lead, make_shift(kod_lead), [kod])
    client.force_login(other)
    detail = client.get(reverse("field:patrol-detail", args=[patrol.pk]))
    assert detail.status_code == 200
    assert "Streife beginnen" not in text_of(detail)
    assert client.post(reverse("field:patrol-start", args=[patrol.pk])).status_code == 403
    client.force_login(kod)
    assert "Streife beginnen" in text_of(client.get(reverse("field:patrol-detail", args=[patrol.pk])))


def test_shifts_and_patrols_are_separated_by_authority(client, world, kod_lead, police_lead, kod, polizei):
    day = timezone.localdate()  # once, and listed explicitly: midnight may pass during the test
    city_shift = make_shift(kod_lead, day)
    city_patrol = make_patrol(kod_lead, city_shift, [kod], name="Nur Stadt")
    police_shift = make_shift(police_lead, day)
    police_patrol = make_patrol(police_lead, police_shift, [polizei], name="Nur Polizei")
    joint_patrol = make_patrol(police_lead, police_shift, [polizei, kod], name="Gemeinsam")

    client.force_login(kod)
    assert client.get(reverse("field:shift-detail", args=[police_shift.pk])).status_code == 404
    assert client.get(reverse("field:patrol-detail", args=[police_patrol.pk])).status_code == 404
    joint_page = client.get(reverse("field:patrol-detail", args=[joint_patrol.pk]))
    assert joint_page.status_code == 200
    # The partner's shift is not linked: the city cannot open it.
    assert reverse("field:shift-detail", args=[police_shift.pk]) not in joint_page.content.decode()
    listing = text_of(
        client.get(reverse("field:shift-list"), {"date_from": day.isoformat(), "date_to": day.isoformat()})
    )
    assert "Nur Stadt" in listing and "Gemeinsam" in listing and "Nur Polizei" not in listing
    assert "Ihre Streife" in listing

    client.force_login(police_lead)
    assert client.get(reverse("field:shift-detail", args=[city_shift.pk])).status_code == 404
    assert client.get(reverse("field:patrol-detail", args=[city_patrol.pk])).status_code == 404
    assert client.get(reverse("field:patrol-create", args=[city_shift.pk])).status_code == 404
    assert client.post(reverse("field:patrol-start", args=[city_patrol.pk])).status_code == 404


def test_patrol_detail_lists_its_incidents(client, world, kod_lead, kod, polizei):
    patrol = make_patrol(kod_lead, make_shift(kod_lead), [kod, polizei])
    with authority_scope(kod.authority):
        incident = services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now(),
            lat=INSIDE[0],
            lon=INSIDE[1],
            patrol=patrol,
        )
    assert incident.joint  # recorded on a joint patrol
    client.force_login(polizei)
    page = client.get(reverse("field:patrol-detail", args=[patrol.pk])).content.decode()
    assert reverse("field:incident-detail", args=[incident.pk]) in page


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2027, 3, 27), 7), (dt.date(2027, 10, 30), 9), (dt.date(2027, 6, 5), 8)],
)
def test_night_shift_when_the_clocks_change_counts_the_hours_worked(
    client, world, kod_lead, kod, day, hours, clock
):
    # Shifts are planned at most 366 days ahead: all three nights must be within reach.
    clock.move_to("2027-01-15T12:00:00+01:00")
    shift = make_shift(kod_lead, day, kind="night")
    client.force_login(kod_lead)
    response = client.post(
        reverse("field:patrol-create", args=[shift.pk]),
        {
            "name": "Nachtstreife",
            "clothing": "uniform",
            "planned_start": f"{day:%Y-%m-%d}T22:00",
            "planned_end": f"{day + dt.timedelta(days=1):%Y-%m-%d}T06:00",
            "members": [kod.pk],
        },
    )
    assert response.status_code == 302
    with authority_scope(kod.authority):
        patrol = Patrol.objects.get()
    assert patrol.staff_hours == hours
    assert f"{hours},0" in text_of(client.get(reverse("field:shift-detail", args=[shift.pk])))


def test_a_planned_patrol_without_members_gets_them_from_its_shift_lead(
    client, world, kod_lead, kod, polizei, police_lead
):
    """A deployment plan creates its patrols without members; the shift lead names them, the
    patrol becomes joint with a police officer and counts its staff hours; the partner's shift
    lead and officers cannot change them."""
    shift = running_shift(kod_lead)
    hours = (shift.ends_at.astimezone(dt.UTC) - shift.starts_at.astimezone(dt.UTC)).total_seconds() / 3600
    with authority_scope(kod_lead.authority):
        patrol = Patrol.objects.create(  # as deployment.services.plan_apply creates them
            authority=kod_lead.authority, shift=shift, name="Plan KW – Innenstadt 1",
            planned_start=shift.starts_at, planned_end=shift.ends_at,
        )  # fmt: skip
    url = reverse("field:patrol-members", args=[patrol.pk])
    client.force_login(kod_lead)
    detail = text_of(client.get(reverse("field:patrol-detail", args=[patrol.pk])))
    assert "Keine Mitglieder. Ohne Mitglieder zählt die Streife keine Personalstunden" in detail
    assert url in detail

    empty = client.post(url, {})
    assert empty.status_code == 200
    assert "Eine Streife braucht mindestens ein Mitglied." in error_text(empty, "id_members")
    named = client.post(url, {"members": [kod.pk, polizei.pk]}, follow=True)
    assert "Mitglieder der Streife Plan KW – Innenstadt 1 gespeichert." in text_of(named)
    with authority_scope(kod_lead.authority):
        patrol.refresh_from_db()
    assert patrol.joint and patrol.member_count == 2
    assert patrol.staff_hours == pytest.approx(2 * hours, abs=0.01)
    assert f"{2 * hours:.2f}".replace(".", ",") in text_of(named)
    # The form opens with who is on the patrol now.
    again = text_of(client.get(url))
    assert re.search(rf'value="{kod.pk}" id="id_members_{kod.pk}" checked', again)

    # The officer now finds it as "Meine Streife".
    client.force_login(kod)
    assert "Plan KW – Innenstadt 1" in text_of(client.get(reverse("field:overview")))
    assert client.get(url).status_code == 403  # officers do not plan

    # The partner sees the joint patrol but does not change who goes on it.
    client.force_login(police_lead)
    assert client.get(reverse("field:patrol-detail", args=[patrol.pk])).status_code == 200
    assert client.get(url).status_code == 403
    assert client.post(url, {"members": [polizei.pk]}).status_code == 403

    client.force_login(kod_lead)
    alone = client.post(url, {"members": [kod.pk]}, follow=True)
    assert alone.status_code == 200
    with authority_scope(kod_lead.authority):
        patrol.refresh_from_db()
    assert not patrol.joint and patrol.member_count == 1
    assert patrol.staff_hours == pytest.approx(hours, abs=0.01)

    # Now a city-only patrol: the police's shift lead cannot even see it.
    client.force_login(police_lead)
    assert client.get(url).status_code == 404


def test_an_ended_patrol_keeps_its_members(client, world, kod_lead, kod, polizei):
    shift = running_shift(kod_lead)
    patrol = make_patrol(kod_lead, shift, [kod])
    with authority_scope(kod_lead.authority):
        services.patrol_start(user=kod_lead, patrol=patrol, at=timezone.now() - dt.timedelta(minutes=30))
        services.patrol_end(user=kod_lead, patrol=patrol)
    client.force_login(kod_lead)
    detail = text_of(client.get(reverse("field:patrol-detail", args=[patrol.pk])))
    assert reverse("field:patrol-members", args=[patrol.pk]) not in detail
    refused = client.post(
        reverse("field:patrol-members", args=[patrol.pk]), {"members": [kod.pk, polizei.pk]}
    )
    assert "Die Streife ist beendet" in error_text(refused, "id_members")
    with authority_scope(kod_lead.authority):
        patrol.refresh_from_db()
    assert patrol.member_count == 1 and not patrol.joint
