"""Sonderstab pages: members of either authority work in them, outsiders get 403, another task
force's records 404; steps and forms show German messages at the field, nothing half-written."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from lagebild.taskforce import services
from lagebild.taskforce.models import Meeting, Recommendation, TaskForce, WorkingGroup

from .taskforce_fixtures import *  # noqa: F403
from .taskforce_fixtures import _record_begging


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_members_see_the_workspace_and_outsiders_do_not(task_force, group, staff, indicators):
    for name in ("lead", "member", "president", "board"):
        page = _client(staff[name]).get("/sonderstab/")
        assert page.status_code == 200, name
        text = page.content.decode()
        assert "Belästigungen bekämpfen" in text and 'href="/sonderstab/"' in text
    for name in ("outsider_city", "outsider_police"):
        assert _client(staff[name]).get("/sonderstab/").status_code == 403
        assert ">Sonderstab<" not in _client(staff[name]).get("/").content.decode()
    other = TaskForce.objects.create(code="x", name="Anderer Stab")
    foreign = WorkingGroup.objects.create(task_force=other, code="x", name="Fremde AG")
    assert _client(staff["lead"]).get(f"/sonderstab/ag/{foreign.pk}/").status_code == 404
    assert _client(staff["board"]).get(f"/sonderstab/ag/{foreign.pk}/").status_code == 200


def test_a_goal_is_set_in_the_form_and_its_page_explains_the_status(
    task_force, group, staff, indicators, kod
):
    today = timezone.localdate()
    client = _client(staff["lead"])
    payload = {
        "title": "Betteln senken",
        "kind": "indicator",
        "indicator": "begging-observed",
        "direction": "decrease",
        "baseline_start": str(today - dt.timedelta(days=40)),
        "baseline_end": str(today - dt.timedelta(days=13)),
        "target_value": "12",
        "target_date": str(today + dt.timedelta(days=90)),
    }
    bad = client.post(
        f"/sonderstab/ag/{group.pk}/ziel/neu/",
        payload,
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert (
        "Für diesen Basiszeitraum gibt es keinen Wert der Kennzahl." in text
        or "muss unter dem Basiswert" in text
    )
    _record_begging(kod, today - dt.timedelta(days=20), 20)
    response = client.post(
        f"/sonderstab/ag/{group.pk}/ziel/neu/",
        payload,
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "So wird der Stand bestimmt" in page and "erreicht" in page
    assert "20,0" in page or "20.0" in page


def test_a_recommendation_shows_only_the_steps_the_user_may_take(task_force, group, staff, indicators):
    recommendation = services.recommendation_create(group, staff["member"], title="Alkoholverbot", text="…")
    url = f"/sonderstab/empfehlungen/{recommendation.pk}/"
    assert "Beim Verwaltungsvorstand einreichen" in _client(staff["lead"]).get(url).content.decode()
    assert "Beim Verwaltungsvorstand einreichen" not in _client(staff["board"]).get(url).content.decode()
    forbidden = _client(staff["member"]).post(f"{url}schritt/", {"target": "submitted"})
    assert forbidden.status_code == 403
    assert _client(staff["lead"]).post(f"{url}schritt/", {"target": "submitted"}).status_code == 302
    board = _client(staff["board"])
    page = board.post(f"{url}schritt/", {"target": "rejected", "rationale": ""})
    assert page.status_code == 400
    assert "Für „Ablehnen“ ist eine Begründung nötig." in page.content.decode()
    assert board.post(f"{url}schritt/", {"target": "approved"}).status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.state == "approved"
    page = _client(staff["lead"]).get(url).content.decode()
    assert "Durch neue Empfehlung ersetzen" in page and "Bearbeiten</a>" not in page
    assert _client(staff["lead"]).get(f"{url}bearbeiten/").status_code == 200  # the form
    post = _client(staff["lead"]).post(f"{url}bearbeiten/", {"title": "Neu", "text": "Neu"})
    assert "nicht mehr änderbar" in post.content.decode()
    assert Recommendation.objects.get(pk=recommendation.pk).title == "Alkoholverbot"


def test_a_meeting_from_agenda_to_minutes_in_the_browser_forms(task_force, group, staff, indicators, kod):
    day = timezone.localdate() + dt.timedelta(days=1)
    _record_begging(kod, day - dt.timedelta(days=2), 30)
    secretary = _client(staff["secretary"])
    assert secretary.post("/sonderstab/sitzungen/", {"date": "", "location": "Rathaus"}).status_code == 200
    response = secretary.post(
        "/sonderstab/sitzungen/", {"date": str(day), "starts_at": "10:00", "location": "Rathaus"}
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    page = secretary.get(response["Location"]).content.decode()
    assert "Kennzahlen mit auffälliger Veränderung" in page and "Aggressives Betteln (festgestellt)" in page
    assert _client(staff["lead"]).post(f"/sonderstab/sitzungen/{meeting.pk}/eroeffnen/").status_code == 403
    secretary.post(f"/sonderstab/sitzungen/{meeting.pk}/eroeffnen/")
    _record_begging(kod, day - dt.timedelta(days=2), 2)  # entered after the meeting opened
    page = secretary.get(f"/sonderstab/sitzungen/{meeting.pk}/").content.decode()
    assert "wie die Sitzung sie sah" in page
    assert "(+2)" in re.sub(r"<[^>]+>", "", page)  # today's value next to the frozen one
    bad = secretary.post(
        f"/sonderstab/sitzungen/{meeting.pk}/aufgabe/", {"title": "", "owner": "", "due": ""}
    )
    assert bad.status_code == 400 and "Bitte die Aufgabe benennen." in bad.content.decode()
    secretary.post(
        f"/sonderstab/sitzungen/{meeting.pk}/aufgabe/",
        {"title": "Lagebericht Nordmarkt", "owner": staff["lead"].pk, "due": str(day + dt.timedelta(days=7))},
    )
    closed = secretary.post(f"/sonderstab/sitzungen/{meeting.pk}/schliessen/", {"minutes": ""})
    assert closed.status_code == 400 and "Bitte die Anwesenden angeben." in closed.content.decode()
    secretary.post(
        f"/sonderstab/sitzungen/{meeting.pk}/schliessen/",
        {"minutes": "TOP 1 Lage", "attendees": [staff["mayor"].pk, staff["lead"].pk]},
    )
    assert Meeting.objects.get().state == "closed"
    secretary.post("/sonderstab/sitzungen/", {"date": str(day + dt.timedelta(days=7)), "starts_at": "10:00"})
    second = Meeting.objects.get(number=2)
    assert "Lagebericht Nordmarkt" in secretary.get(f"/sonderstab/sitzungen/{second.pk}/").content.decode()


@pytest.mark.parametrize(
    "path", ["/sonderstab/ziele/999999/", "/sonderstab/empfehlungen/999999/", "/sonderstab/sitzungen/999999/"]
)
def test_unknown_records_answer_404(task_force, staff, path):
    assert _client(staff["mayor"]).get(path).status_code == 404


def test_an_evaluated_operation_has_its_page_and_the_agenda_links_to_it(
    task_force, group, staff, indicators, world, kod
):
    from lagebild.taskforce.models import Operation
    from lagebild.taskforce.operations import evaluate_operation

    today = timezone.localdate()
    operation = Operation.objects.create(
        task_force=task_force,
        working_group=group,
        code="zentrum",
        name="Schwerpunkt Zentrum",
        area=world["areas"]["centre"],
        start=today - dt.timedelta(days=20),
        end=today - dt.timedelta(days=8),
    )
    _record_begging(kod, today - dt.timedelta(days=15), 5)
    url = f"/sonderstab/einsaetze/{operation.pk}/"
    assert "Noch nicht ausgewertet" in _client(staff["member"]).get(url).content.decode()
    evaluate_operation(operation, force=True)
    page = _client(staff["lead"]).get(url).content.decode()  # the police lead reads a city area's figures
    assert "Einsatzbilanz" in page and "Problemzahlen vorher, während, danach" in page
    assert "Schwerpunkt Zentrum" in _client(staff["board"]).get("/sonderstab/einsaetze/").content.decode()
    assert _client(staff["outsider_police"]).get(url).status_code == 403
    other = TaskForce.objects.create(code="y", name="Y")
    foreign = Operation.objects.create(
        task_force=other, code="f", name="F", area=world["areas"]["centre"], start=today, end=today
    )
    assert _client(staff["lead"]).get(f"/sonderstab/einsaetze/{foreign.pk}/").status_code == 404


def test_brief_council_report_calendar_and_notifications_pages(task_force, group, staff, indicators):
    from lagebild.taskforce.models import CalendarToken

    today = timezone.localdate()
    client = _client(staff["lead"])  # a police member of the Sonderstab
    brief = client.get("/sonderstab/kurzbericht.pdf")
    assert brief.status_code == 200 and brief["Content-Type"] == "application/pdf"
    assert brief.content.startswith(b"%PDF")
    bad = client.get(
        "/sonderstab/zwischenbilanz/",
        {"start": str(today), "end": str(today - dt.timedelta(days=9)), "format": "pdf"},
    )
    assert bad.status_code == 200 and "form-errors" in bad.content.decode()
    docx = client.get(
        "/sonderstab/zwischenbilanz/",
        {
            "start": str(today - dt.timedelta(days=90)),
            "end": str(today - dt.timedelta(days=1)),
            "format": "docx",
        },
    )
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    assert "attachment;" in docx["Content-Disposition"]
    page = client.get("/sonderstab/kalender/").content.decode()
    token = CalendarToken.objects.get(user=staff["lead"]).token
    assert f"/sonderstab/kalender/{token}.ics" in page
    assert (
        Client().get(f"/sonderstab/kalender/{token}.ics").status_code == 200
    )  # no login: the token is the key
    client.post("/sonderstab/kalender/")
    assert Client().get(f"/sonderstab/kalender/{token}.ics").status_code == 404
    assert client.post("/sonderstab/benachrichtigungen/", {"in_app_milestone": "on"}).status_code == 302
    page = client.get("/sonderstab/benachrichtigungen/").content.decode()
    assert "Was Sie bekommen möchten" in page
    for path in ("/sonderstab/kurzbericht.pdf", "/sonderstab/zwischenbilanz/", "/sonderstab/kalender/"):
        assert _client(staff["outsider_city"]).get(path).status_code == 403


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_impossible_dates_get_a_german_message_at_the_field_and_write_nothing(
    task_force, group, staff, indicators
):
    from lagebild.taskforce.models import ActionItem, Goal, Milestone

    lead, secretary = _client(staff["lead"]), _client(staff["secretary"])
    goal = lead.post(
        f"/sonderstab/ag/{group.pk}/ziel/neu/",
        {
            "title": "Betteln senken",
            "kind": "indicator",
            "indicator": "begging-observed",
            "direction": "decrease",
            "baseline_start": "2026-02-30",
            "baseline_end": "2026-13-01",
            "target_value": "5",
            "target_date": "31.02.2027",
        },
    )
    assert goal.status_code == 200
    invalid = ["Bitte ein gültiges Datum eingeben."]
    errors = goal.context["form"].errors
    assert (errors["baseline_start"], errors["baseline_end"], errors["target_date"]) == (invalid,) * 3
    assert "Bitte ein gültiges Datum eingeben." in _text(goal)
    milestone = lead.post(
        f"/sonderstab/ag/{group.pk}/meilenstein/neu/",
        {"title": "Standorte prüfen", "owner": staff["member"].pk, "due": "2026-02-29"},  # no leap year
    )
    assert milestone.status_code == 200 and milestone.context["form"].errors["due"] == invalid
    meeting = secretary.post("/sonderstab/sitzungen/", {"date": "2026-04-31", "starts_at": "25:00"})
    assert meeting.status_code == 200 and meeting.context["form"].errors["date"] == invalid
    # Real dates the figures cannot reach: a German message, not a server error.
    far = lead.post(
        f"/sonderstab/ag/{group.pk}/ziel/neu/",
        {
            "title": "Betteln senken",
            "kind": "indicator",
            "indicator": "begging-observed",
            "direction": "decrease",
            "baseline_start": "0001-01-01",
            "baseline_end": "0001-01-28",
            "target_value": "5",
            "target_date": str(timezone.localdate() + dt.timedelta(days=30)),
        },
    )
    assert far.status_code == 200
    assert far.context["form"].errors["baseline_start"] == [
        "Der Basiszeitraum darf nicht vor dem 01.01.1990 beginnen."
    ]
    for day, message in (
        ("1900-01-01", "Eine Sitzung kann nicht vor dem 02.01.2000 liegen."),
        ("9999-12-31", "Eine Sitzung lässt sich höchstens ein Jahr im Voraus planen."),
    ):
        meeting = secretary.post("/sonderstab/sitzungen/", {"date": day})
        assert meeting.status_code == 200 and meeting.context["form"].errors["date"] == [message]
    far_milestone = lead.post(  # the calendar feed would fail on it
        f"/sonderstab/ag/{group.pk}/meilenstein/neu/",
        {"title": "Standorte prüfen", "owner": staff["member"].pk, "due": "9999-12-31"},
    )
    assert far_milestone.context["form"].errors["due"] == [
        "Das Fälligkeitsdatum darf höchstens 10 Jahre in der Zukunft liegen."
    ]
    assert not Goal.objects.exists() and not Milestone.objects.exists() and not Meeting.objects.exists()
    held = services.meeting_schedule(task_force, staff["secretary"], date=timezone.localdate())
    services.meeting_open(held, staff["secretary"])
    action = secretary.post(
        f"/sonderstab/sitzungen/{held.pk}/aufgabe/",
        {"title": "Lagebericht", "owner": staff["lead"].pk, "due": "2026-06-31"},
    )
    assert action.status_code == 400 and "Bitte ein gültiges Datum eingeben." in _text(action)
    assert action.context["action_form"].errors["due"] == invalid
    action = secretary.post(
        f"/sonderstab/sitzungen/{held.pk}/aufgabe/",
        {"title": "Lagebericht", "owner": staff["lead"].pk, "due": "9999-12-31"},
    )
    assert action.status_code == 400 and action.context["action_form"].errors["due"] == [
        "Das Fälligkeitsdatum darf höchstens 10 Jahre in der Zukunft liegen."
    ]
    assert not ActionItem.objects.exists()


def test_a_refused_step_with_an_attachment_writes_nothing_and_an_allowed_one_keeps_it(
    task_force, group, staff, indicators, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    recommendation = services.recommendation_create(group, staff["lead"], title="Alkoholverbot", text="…")
    services.recommendation_transition(recommendation, staff["lead"], target="submitted")
    url = f"/sonderstab/empfehlungen/{recommendation.pk}/schritt/"
    board = _client(staff["board"])

    def vote() -> SimpleUploadedFile:
        return SimpleUploadedFile("vorlage.pdf", b"%PDF-1.4 Vorlage", content_type="application/pdf")

    refused = board.post(url, {"target": "rejected", "rationale": " ", "attachment": vote()})
    assert refused.status_code == 400 and "Für „Ablehnen“ ist eine Begründung nötig." in _text(refused)
    outsider = _client(staff["member"]).post(url, {"target": "approved", "attachment": vote()})
    assert outsider.status_code == 403
    recommendation.refresh_from_db()
    assert recommendation.state == "submitted" and recommendation.events.count() == 2
    assert not list(tmp_path.rglob("*.pdf"))  # no stray file of a step that was not taken
    assert board.post(url, {"target": "approved", "attachment": vote()}).status_code == 302
    recommendation.refresh_from_db()
    step = recommendation.events.get(to_state="approved")
    assert recommendation.state == "approved" and step.by == staff["board"]
    assert step.attachment.read() == b"%PDF-1.4 Vorlage"


def test_a_recommendation_links_milestones_and_flags_the_overdue_one(task_force, group, staff, indicators):
    today = timezone.localdate()
    late = services.milestone_create(
        group,
        staff["lead"],
        title="Standorte prüfen",
        owner=staff["member"],
        due=today - dt.timedelta(days=3),
    )
    services.milestone_create(
        group,
        staff["lead"],
        title="Satzung entwerfen",
        owner=staff["member"],
        due=today + dt.timedelta(days=30),
    )
    other = TaskForce.objects.create(code="z", name="Anderer Stab")
    foreign_group = WorkingGroup.objects.create(
        task_force=other, code="z", name="Fremde AG", lead=staff["lead"]
    )
    foreign = services.milestone_create(
        foreign_group, staff["lead"], title="Fremd", owner=staff["lead"], due=today + dt.timedelta(days=3)
    )
    member = _client(staff["member"])  # a city member drafts; the milestones of the group are offered
    form = member.get(f"/sonderstab/ag/{group.pk}/empfehlung/neu/").content.decode()
    assert "Standorte prüfen" in form and "Satzung entwerfen" in form and "Fremd<" not in form
    refused = member.post(
        f"/sonderstab/ag/{group.pk}/empfehlung/neu/",
        {"title": "Alkoholverbot", "text": "…", "milestones": [late.pk, foreign.pk]},
    )
    assert refused.status_code == 200 and "milestones" in refused.context["form"].errors
    assert not Recommendation.objects.exists()
    response = member.post(
        f"/sonderstab/ag/{group.pk}/empfehlung/neu/",
        {"title": "Alkoholverbot", "text": "…", "milestones": [late.pk]},
    )
    assert response.status_code == 302
    recommendation = Recommendation.objects.get()
    assert list(recommendation.milestones.all()) == [late]
    page = _text(_client(staff["lead"]).get(response["Location"]))  # the police lead sees the same
    assert "Meilensteine: Standorte prüfen (offen, fällig" in page and "überfällig" in page
    own = _text(member.get(f"/sonderstab/meilensteine/{late.pk}/"))  # the milestone's own page
    assert f"fällig am {late.due:%d.%m.%Y} überfällig · offen" in own
