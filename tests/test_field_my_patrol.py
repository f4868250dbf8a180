"""'Meine Streife': the start screen shows the officer's patrol with one-tap start and end, and
the entry form preselects it with a tolerance around its plan and lists the officer's own
patrols first. A patrol of the other authority never appears (issue 11, point 1)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from lagebild.core.scoping import authority_scope
from lagebild.field import selectors, services
from lagebild.field.models import Patrol, Shift
from lagebild.field.selectors import OWN_PATROL_TOLERANCE


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def plan(lead, name: str, members: list, *, start: dt.timedelta, end: dt.timedelta, area=None) -> Patrol:
    """A patrol planned from now + ``start`` to now + ``end`` (negative: in the past)."""
    now = timezone.now()
    with authority_scope(lead.authority):
        shift = Shift.objects.filter(
            authority=lead.authority, date=timezone.localdate(now), kind="early"
        ).first()
        if shift is None:
            shift = services.shift_create(user=lead, date=timezone.localdate(now), kind="early")
        return services.patrol_create(
            user=lead,
            shift=shift,
            name=name,
            members=members,
            area_id=area.pk if area else None,
            planned_start=now + start,
            planned_end=now + end,
        )


def patrol_choices(response) -> tuple[list[str], list[str], str]:
    """(own patrol names, other patrol names, selected patrol name or "") of the entry form."""
    select = re.search(r'<select name="patrol".*?</select>', text_of(response), re.S).group(0)

    def names(group: str) -> list[str]:
        match = re.search(rf'<optgroup label="{re.escape(group)}">(.*?)</optgroup>', select, re.S)
        labels = re.findall(r"<option [^>]*>([^<]+)</option>", match.group(1)) if match else []
        return [label.split(" – ")[0].removesuffix(" (Doppelstreife)").split(", ")[0] for label in labels]

    selected = re.search(r"<option [^>]*selected>([^<]+)</option>", select)
    name = (
        selected.group(1).split(" – ")[0].removesuffix(" (Doppelstreife)").split(", ")[0] if selected else ""
    )
    return names("Meine Streifen"), names("Weitere Streifen (nicht Ihre)"), name


def test_start_screen_shows_my_patrol_with_one_tap_start_and_end(client, world, kod, kod_lead, polizei):
    patrol = plan(
        kod_lead,
        "Doppelstreife City 1",
        [kod, polizei],
        start=-dt.timedelta(minutes=30),
        end=dt.timedelta(hours=4),
        area=world["areas"]["centre"],
    )
    client.force_login(kod)
    start_screen = text_of(client.get(reverse("field:overview")))
    assert "Meine Streife" in start_screen
    assert "Doppelstreife City 1" in start_screen and "Zentrum" in start_screen
    assert "Mit Pat Streife (Polizei)" in start_screen
    assert "geplant" in start_screen and "Streife beginnen" in start_screen

    # One tap: the button posts to the patrol and comes back to the start screen.
    response = client.post(reverse("field:patrol-start", args=[patrol.pk]), {"next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    page = text_of(response)
    assert "Streife Doppelstreife City 1 um " in page and " Uhr begonnen." in page
    assert "läuft seit" in page and "Streife beenden" in page and "Feststellung erfassen" in page

    response = client.post(reverse("field:patrol-end", args=[patrol.pk]), {"next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    page = text_of(response)
    assert "beendet." in page
    assert "Zurzeit sind Sie keiner Streife zugeteilt." in page
    with authority_scope(kod.authority):
        patrol.refresh_from_db()
    assert patrol.actual_start is not None and patrol.actual_end is not None

    # Only local addresses are followed after a tap.
    other = plan(kod_lead, "KOD 2", [kod], start=-dt.timedelta(minutes=5), end=dt.timedelta(hours=2))
    response = client.post(reverse("field:patrol-start", args=[other.pk]), {"next": "https://example.org/"})
    assert response["Location"] == reverse("field:patrol-detail", args=[other.pk])


def test_start_screen_names_the_next_patrol_and_roles_without_patrol_see_no_card(
    client, world, kod, kod_lead, analyst
):
    plan(kod_lead, "KOD Spät 3", [kod], start=dt.timedelta(hours=5), end=dt.timedelta(hours=13))
    client.force_login(kod)
    page = text_of(client.get(reverse("field:overview")))
    assert "Ihre nächste Streife:" in page and "KOD Spät 3" in page
    assert "Streife beginnen" not in page  # not yet: five hours ahead

    client.force_login(analyst)
    assert "Meine Streife" not in text_of(client.get(reverse("field:overview")))


def test_a_patrol_twenty_minutes_over_its_plan_is_still_preselected(client, world, kod, kod_lead, clock):
    patrol = plan(kod_lead, "KOD City 1", [kod], start=-dt.timedelta(hours=6), end=-dt.timedelta(minutes=20))
    client.force_login(kod)
    own, _, selected = patrol_choices(client.get(reverse("field:incident-create")))
    assert selected == "KOD City 1"
    start_screen = text_of(client.get(reverse("field:overview")))
    assert "KOD City 1" in start_screen and "Das geplante Ende war vor 20 min." in start_screen

    # Beyond the tolerance it is no longer "now", but still first among the officer's own.
    clock.shift(OWN_PATROL_TOLERANCE - dt.timedelta(minutes=20) + dt.timedelta(minutes=1))
    own, _, selected = patrol_choices(client.get(reverse("field:incident-create")))
    assert selected == ""
    assert own == ["KOD City 1"]
    with authority_scope(kod.authority):
        assert selectors.current_patrol_for(kod) is None
        assert selectors.entry_patrols(kod).own == [patrol]


def test_the_tolerance_also_holds_before_the_plan_and_a_started_patrol_wins(
    world, kod, kod_lead, polizei, police_lead
):
    early = plan(kod_lead, "KOD früh", [kod], start=dt.timedelta(minutes=50), end=dt.timedelta(hours=8))
    with authority_scope(kod.authority):
        assert selectors.current_patrol_for(kod) == early  # 50 minutes before its plan
    finished_plan = plan(
        kod_lead, "KOD vorher", [kod], start=-dt.timedelta(hours=8), end=-dt.timedelta(minutes=10)
    )
    with authority_scope(kod.authority):
        # Both are within the tolerance; the one whose plan is nearer to now is "now".
        assert selectors.current_patrol_for(kod) == finished_plan
        services.patrol_start(user=kod, patrol=early)
        assert selectors.current_patrol_for(kod) == early  # started: it is the patrol now


def test_entry_lists_my_patrols_first_and_never_a_police_patrol_for_the_city(
    client, world, kod, kod_lead, polizei, police_lead
):
    mine = plan(
        kod_lead,
        "Doppelstreife Nord",
        [kod, polizei],
        start=-dt.timedelta(hours=1),
        end=dt.timedelta(hours=3),
    )
    plan(kod_lead, "KOD Kollegen", [kod_lead], start=-dt.timedelta(hours=1), end=dt.timedelta(hours=3))
    plan(police_lead, "Polizei allein", [polizei], start=-dt.timedelta(hours=1), end=dt.timedelta(hours=3))

    client.force_login(kod)
    own, others, selected = patrol_choices(client.get(reverse("field:incident-create")))
    assert own == ["Doppelstreife Nord"]
    assert others == ["KOD Kollegen"]
    assert selected == "Doppelstreife Nord"
    assert "Polizei allein" not in text_of(client.get(reverse("field:incident-create")))
    assert "Polizei allein" not in text_of(client.get(reverse("field:overview")))

    # The police officer sees the joint patrol as their own and the city-only one not at all.
    client.force_login(polizei)
    own, others, selected = patrol_choices(client.get(reverse("field:incident-create")))
    assert set(own) == {"Doppelstreife Nord", "Polizei allein"}
    assert others == []
    assert "KOD Kollegen" not in text_of(client.get(reverse("field:incident-create")))
    with authority_scope(polizei.authority):
        assert selectors.current_patrol_for(polizei) == mine  # planned a moment earlier

    # A city officer cannot start the police patrol from a forged start-screen button.
    with authority_scope(polizei.authority):
        police_patrol = Patrol.objects.get(name="Polizei allein")
    client.force_login(kod)
    assert (
        client.post(reverse("field:patrol-start", args=[police_patrol.pk]), {"next": "/"}).status_code == 404
    )
