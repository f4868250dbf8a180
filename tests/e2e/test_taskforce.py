"""The Sonderstab in the browser: a recommendation goes from draft through submission to approval
by the executive board, a meeting from agenda to minutes with an action item that appears on the
next agenda. Every page type on the way passes the axe audit (WCAG 2.1 AA) on the phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lagebild.taskforce import services
from lagebild.taskforce.models import Meeting, Operation, Recommendation
from lagebild.taskforce.operations import evaluate_operation

from ..taskforce_fixtures import *  # noqa: F403
from .test_accessibility import Audit
from .test_field_entry import login, logout

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_recommendation_from_draft_to_the_boards_approval(
    live_server, phone, axe_script, task_force, group, staff, indicators, world
):
    check = Audit(phone, live_server.url, axe_script)
    page = phone
    goal = services.goal_create(
        group,
        staff["lead"],
        title="Konzept für dezentrale Drogenkonsumräume beschlossen",
        kind="qualitative",
        target_date=timezone.localdate() + dt.timedelta(days=90),
    )
    operation = Operation.objects.create(
        task_force=task_force,
        working_group=group,
        code="zentrum",
        name="Schwerpunkt Zentrum",
        area=world["areas"]["centre"],
        start=timezone.localdate() - dt.timedelta(days=20),
        end=timezone.localdate() - dt.timedelta(days=8),
    )
    evaluate_operation(operation, force=True)
    login(page, live_server.url, staff["member"].username)
    check.visit(f"/sonderstab/ziele/{goal.pk}/")
    check.visit(f"/sonderstab/einsaetze/{operation.pk}/")
    check.visit("/sonderstab/")
    page.get_by_role("link", name="Belästigungen bekämpfen").click()
    check.check("Arbeitsgruppe")
    page.get_by_role("link", name="Neue Empfehlung").click()
    check.check("Formular Empfehlung")
    page.get_by_label("Titel").fill("Alkoholverbot am Nordmarkt")
    page.get_by_label("Beschlussvorschlag und Begründung").fill("Der Verwaltungsvorstand möge beschließen: …")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**/sonderstab/empfehlungen/*/")
    assert page.locator("#stand").inner_text() == "Entwurf"
    # A member drafts but does not submit: the page offers no step to her.
    assert page.get_by_role("button", name="Beim Verwaltungsvorstand einreichen").count() == 0
    check.check("Empfehlung (Entwurf)")
    recommendation = Recommendation.objects.get()
    logout(page)

    login(page, live_server.url, staff["lead"].username)  # the police lead of the group
    page.goto(f"{live_server.url}/sonderstab/empfehlungen/{recommendation.pk}/")
    page.get_by_role("button", name="Beim Verwaltungsvorstand einreichen").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#stand").inner_text() == "Eingereicht beim Verwaltungsvorstand"
    logout(page)

    login(page, live_server.url, staff["board"].username)
    page.goto(f"{live_server.url}/sonderstab/")
    page.get_by_role("link", name=f"{recommendation.number} Alkoholverbot am Nordmarkt").click()
    page.get_by_role("button", name="Ablehnen").click()  # without the rationale it asks for
    assert "Für „Ablehnen“ ist eine Begründung nötig." in page.locator("#form-errors").inner_text()
    check.check("Empfehlung mit Fehlermeldung")
    page.get_by_role("button", name="Beschließen").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#stand").inner_text() == "Beschlossen"
    history = page.locator(".tf-history").inner_text()
    assert "Beim Verwaltungsvorstand einreichen" in history and "Beschließen" in history
    check.check("Empfehlung (beschlossen)")
    recommendation.refresh_from_db()
    assert recommendation.state == "approved"
    assert not check.found, check.report()


def test_a_meeting_from_agenda_to_minutes_and_its_action_on_the_next_agenda(
    live_server, phone, axe_script, task_force, group, staff, indicators, kod
):
    from ..taskforce_fixtures import _record_begging

    check = Audit(phone, live_server.url, axe_script)
    page = phone
    day = timezone.localdate() + dt.timedelta(days=1)
    _record_begging(kod, day - dt.timedelta(days=2), 25)
    recommendation = services.recommendation_create(group, staff["lead"], title="Mehr Streetwork", text="…")
    services.recommendation_transition(recommendation, staff["lead"], target="submitted")
    login(page, live_server.url, staff["secretary"].username)
    check.visit("/sonderstab/sitzungen/")
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Ort").fill("Rathaus, Raum 101")
    page.get_by_role("button", name="Planen").click()
    page.wait_for_url("**/sonderstab/sitzungen/*/")
    agenda = page.locator("section").filter(has_text="Tagesordnung").first.inner_text()
    assert "Aggressives Betteln (festgestellt)" in agenda and "Mehr Streetwork" in agenda
    check.check("Sitzung (geplant)")
    page.get_by_role("button", name="Sitzung eröffnen (Zahlen einfrieren)").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#sitzungsstand").inner_text() == "läuft"
    check.check("Sitzung (läuft)")
    page.get_by_label("Aufgabe", exact=True).fill("Lagebericht Nordmarkt vorlegen")
    page.get_by_label("Verantwortlich").select_option(
        label=f"{staff['lead'].username} ({staff['lead'].authority.name})"
    )
    page.get_by_label("Fällig am").fill((day + dt.timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Aufgabe festhalten").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Protokoll", exact=True).fill("TOP 1: Lage. TOP 2: Streetwork.")
    page.get_by_label(f"{staff['mayor'].get_full_name()} ({staff['mayor'].authority.name})").check()
    page.get_by_role("button", name="Sitzung schließen").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#sitzungsstand").inner_text() == "abgeschlossen"
    check.check("Sitzung (abgeschlossen)")

    page.goto(f"{live_server.url}/sonderstab/sitzungen/")
    page.get_by_label("Datum").fill((day + dt.timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Planen").click()
    page.wait_for_url("**/sonderstab/sitzungen/*/")
    agenda = page.locator("section").filter(has_text="Tagesordnung").first.inner_text()
    assert "Offene Aufgaben aus früheren Sitzungen" in agenda
    assert "Lagebericht Nordmarkt vorlegen" in agenda and "aus der 1. Sitzung" in agenda
    assert Meeting.objects.count() == 2
    assert not check.found, check.report()
