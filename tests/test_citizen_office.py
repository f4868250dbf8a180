"""Back office for citizen reports: staff entry, triage queue, detail actions, privacy, patrols."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from lagebild.citizen import selectors
from lagebild.citizen import services as intake
from lagebild.citizen.models import Report, ReportStatus, RoutingRule, StatusChange
from lagebild.core.models import AuditEvent
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

WEST = (51.52, 7.43)  # district west, outside the focus area
EAST = (51.52, 7.50)  # district east


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def at_noon(days_ago: int) -> dt.datetime:
    """Noon (local) some days ago: daytime, so the night rule to the police does not apply."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=timezone.get_current_timezone())


def at_night(days_ago: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(23, 30), tzinfo=timezone.get_current_timezone())


def report(service, *, when=None, point=INSIDE, channel="web", **extra):
    values = {"description": "Mehrere Personen betteln aggressiv.", "attributes": {"personen": "3"}}
    if service.code != "betteln":
        values["attributes"] = {}
    values.update(extra)
    entered_by = values.pop("entered_by", None)
    return intake.report_create(
        service=service,
        channel=channel,
        lat=point[0],
        lon=point[1],
        requested_at=when or at_noon(1),
        entered_by=entered_by,
        **values,
    )


def login(client, user):
    client.force_login(user)
    return client


def ids_in(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/hinweise/(\d+)/"', html)}


# --- queue ------------------------------------------------------------------------------------


def test_queue_shows_open_reports_by_default_and_filters(client, services, kod_lead, geography):
    old = report(services["begging"], when=at_noon(20), point=WEST)  # overdue (2 working days)
    fresh = report(services["begging"], point=EAST)
    waste = report(services["waste"], point=WEST)  # forwarded to EDG by rule: closed
    phoned = report(services["begging"], channel="phone", entered_by=kod_lead, point=EAST)
    login(client, kod_lead)

    page = client.get(reverse("office:queue")).content.decode()
    assert ids_in(page) == {old.pk, fresh.pk, phoned.pk}

    def listed(**params):
        return ids_in(client.get(reverse("office:queue"), params).content.decode())

    assert listed(status="alle") == {old.pk, fresh.pk, waste.pk, phoned.pk}
    assert listed(status="forwarded") == {waste.pk}
    assert listed(status="abgeschlossen") == {waste.pk}
    assert listed(status="alle", service=services["waste"].pk) == {waste.pk}
    assert listed(status="alle", area=geography["west"].pk) == {old.pk, waste.pk}
    assert listed(channel="phone") == {phoned.pk}
    assert listed(overdue="ja") == {old.pk}
    assert listed(overdue="nein") == {fresh.pk, phoned.pk}
    # Bad filter values are ignored, never a 500.
    response = client.get(reverse("office:queue"), {"service": "x", "area": "999999", "status": "kaputt"})
    assert response.status_code == 200 and ids_in(response.content.decode()) == {old.pk, fresh.pk, phoned.pk}


def test_queue_flags_overdue_and_shows_routing_rule(client, services, kod_lead):
    old = report(services["begging"], when=at_noon(20))
    fresh = report(services["begging"])
    login(client, kod_lead)
    html = client.get(reverse("office:queue")).content.decode()
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'href="/hinweise/(\d+)/".*?</tr>', html, re.S)}
    assert "überfällig" in rows[old.pk] and "badge overdue" in rows[old.pk]
    assert "überfällig" not in rows[fresh.pk]
    assert "zugeordnet durch Regel „Alles andere an KOD“" in rows[fresh.pk]
    assert selectors.is_overdue(old) and not selectors.is_overdue(fresh)


def test_city_triage_never_sees_police_routed_reports(client, services, kod_lead, police_lead, police):
    night = report(services["begging"], when=at_night(1))  # night rule: police
    assert night.authority == police
    day = report(services["begging"])
    login(client, kod_lead)
    assert ids_in(client.get(reverse("office:queue"), {"status": "alle"}).content.decode()) == {day.pk}
    assert client.get(reverse("office:report-detail", args=[night.pk])).status_code == 404
    response = client.post(reverse("office:report-transition", args=[night.pk]), {"to_status": "in_progress"})
    assert response.status_code == 404
    points = client.get(reverse("office:report-points"), {"status": "alle"}).json()
    assert {f["id"] for f in points["features"]} == {day.pk}

    client.force_login(police_lead)
    assert ids_in(client.get(reverse("office:queue")).content.decode()) == {night.pk}
    assert client.get(reverse("office:report-detail", args=[day.pk])).status_code == 404
    assert client.get(reverse("office:report-detail", args=[night.pk])).status_code == 200


def ids_in_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="hinweis-(\d+)"', html)]


def test_queue_puts_overdue_reports_first_and_keeps_newest_first_as_a_bookmarkable_choice(
    client, services, kod_lead
):
    fresh = report(services["begging"], when=at_noon(1))
    oldest = report(services["begging"], when=at_noon(30))  # overdue the longest
    older = report(services["begging"], when=at_noon(12))  # overdue
    middle = report(services["begging"], when=at_noon(2))
    forwarded = report(services["waste"], when=at_noon(40))  # closed: never ahead of open ones
    login(client, kod_lead)

    page = client.get(reverse("office:queue")).content.decode()
    assert ids_in_order(page) == [oldest.pk, older.pk, middle.pk, fresh.pk]
    assert "Dringlichkeit (überfällige zuerst)" in page
    assert ids_in_order(client.get(reverse("office:queue"), {"status": "alle"}).content.decode()) == [
        oldest.pk,
        older.pk,
        middle.pk,
        fresh.pk,
        forwarded.pk,
    ]
    # Newest first stays selectable, in the URL (so a bookmark keeps it), with the filters kept.
    newest = client.get(reverse("office:queue"), {"sort": "eingang", "status": "alle"}).content.decode()
    assert ids_in_order(newest) == [fresh.pk, middle.pk, older.pk, oldest.pk, forwarded.pk]
    assert 'href="?sort=eingang"' in page
    assert "status=alle" in re.search(r'<a href="([^"]*sort=faellig[^"]*)"', newest).group(1)
    # A bad sort value falls back to urgency, never a 500.
    odd = client.get(reverse("office:queue"), {"sort": "kaputt"})
    assert odd.status_code == 200 and ids_in_order(odd.content.decode())[0] == oldest.pk


def test_queue_row_says_how_overdue_and_how_old_in_one_line(client, services, kod_lead):
    old = report(services["begging"], when=at_noon(20))
    login(client, kod_lead)
    html = client.get(reverse("office:queue")).content.decode()
    row = re.search(rf'<tr id="hinweis-{old.pk}".*?</tr>', html, re.S).group(0)
    overdue_days = (timezone.localdate() - timezone.localdate(old.due_at)).days
    assert f"{overdue_days} Tage überfällig" in row and "vor 20 Tagen" in row
    assert "Aggressives Betteln" in row and "In Prüfung" in row  # next step offered in the row


def test_one_click_step_changes_the_status_logs_it_and_returns_to_the_list(client, services, kod_lead):
    item = report(services["begging"])
    login(client, kod_lead)
    back = reverse("office:queue") + "?sort=eingang"
    response = client.post(
        reverse("office:report-step", args=[item.pk]), {"status": "triage", "von": "new", "zurueck": back}
    )
    assert response.status_code == 302 and response["Location"] == f"{back}#hinweis-{item.pk}"
    item.refresh_from_db()
    assert item.status == ReportStatus.TRIAGE
    change = StatusChange.objects.filter(report=item).order_by("-at", "-id").first()
    assert (change.from_status, change.to_status, change.user) == ("new", "triage", kod_lead)
    assert AuditEvent.objects.filter(action="citizen.report.status", object_id=str(item.pk)).exists()
    assert f"Nr. {item.pk}: Status jetzt „In Prüfung“." in client.get(response["Location"]).content.decode()

    # With htmx the row comes back in place, with the message for the live region.
    response = client.post(
        reverse("office:report-step", args=[item.pk]),
        {"status": "in_progress", "von": "triage", "zurueck": back},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<tr")
    assert f'id="hinweis-{item.pk}"' in html and ">In Bearbeitung</span>" in html
    assert 'hx-swap-oob="innerHTML:#queue-announce"' in html and "Status jetzt „In Bearbeitung“" in html
    item.refresh_from_db()
    assert item.status == ReportStatus.IN_PROGRESS


def test_closing_step_is_confirmed_first_with_an_optional_note_for_the_reporter(client, services, kod):
    item = report(services["begging"])
    login(client, kod)
    url = reverse("office:report-step", args=[item.pk])
    page = client.get(url, {"status": "resolved", "von": "new", "zurueck": "/hinweise/"})
    assert page.status_code == 200 and "als „Erledigt“ abschließen?" in page.content.decode()
    # A POST without the confirmation shows the same question and changes nothing.
    unconfirmed = client.post(url, {"status": "resolved", "von": "new", "zurueck": "/hinweise/"})
    item.refresh_from_db()
    assert unconfirmed.status_code == 200 and item.status == ReportStatus.NEW
    too_long = client.post(
        url, {"status": "resolved", "von": "new", "bestaetigt": "1", "public_note": "x" * 1001}
    )
    assert too_long.status_code == 400 and "Höchstens 1000 Zeichen." in too_long.content.decode()
    done = client.post(
        url,
        {
            "status": "resolved",
            "von": "new",
            "zurueck": "/hinweise/",
            "bestaetigt": "1",
            "public_note": "Die Personen wurden angesprochen.",
        },
    )
    item.refresh_from_db()
    assert done.status_code == 302 and item.status == ReportStatus.RESOLVED
    assert selectors.public_history(item)[-1].public_note == "Die Personen wurden angesprochen."


def test_step_is_refused_for_the_wrong_role_the_wrong_state_or_a_stale_page(
    client, services, kod, kod_lead, analyst
):
    item = report(services["begging"])
    url = reverse("office:report-step", args=[item.pk])
    login(client, kod)  # field officer: rejecting is for the shift lead
    assert client.post(url, {"status": "rejected", "von": "new", "bestaetigt": "1"}).status_code == 403
    client.force_login(analyst)  # reads only
    assert client.post(url, {"status": "triage", "von": "new"}).status_code == 403
    item.refresh_from_db()
    assert item.status == ReportStatus.NEW

    client.force_login(kod_lead)
    client.post(url, {"status": "resolved", "von": "new", "bestaetigt": "1"})
    # Closed: no other closing without reopening first; the page says so in German.
    refused = client.post(url, {"status": "rejected", "von": "resolved", "bestaetigt": "1"}, follow=True)
    item.refresh_from_db()
    assert item.status == ReportStatus.RESOLVED
    assert "Von „Erledigt“ aus ist „Abgelehnt“ nicht möglich" in refused.content.decode()
    with authority_scope(kod_lead.authority), pytest.raises(ValidationError, match="zuerst wieder öffnen"):
        intake.report_transition(user=kod_lead, report=item, to_status="not_resolvable")
    # A click on a stale list (a colleague reopened it meanwhile) does nothing unexpected.
    client.post(url, {"status": "triage", "von": "resolved"})
    stale = client.post(url, {"status": "in_progress", "von": "resolved"}, follow=True)
    item.refresh_from_db()
    assert item.status == ReportStatus.TRIAGE and "inzwischen geändert" in stale.content.decode()
    # Bad input and foreign return addresses: a German message, never a 500 or an open redirect.
    odd = client.post(url, {"status": "kaputt", "zurueck": "https://example.org/"})
    assert odd.status_code == 302 and odd["Location"] == reverse("office:report-detail", args=[item.pk])
    assert client.get(url, {"status": "x" * 5000}).status_code == 302


def test_city_triage_cannot_see_or_step_police_reports(client, services, kod_lead, police_lead):
    night = report(services["begging"], when=at_night(1))  # night rule: police
    url = reverse("office:report-step", args=[night.pk])
    login(client, kod_lead)
    assert client.get(url, {"status": "resolved", "von": "new"}).status_code == 404
    assert client.post(url, {"status": "triage", "von": "new"}).status_code == 404
    night.refresh_from_db()
    assert night.status == ReportStatus.NEW
    client.force_login(police_lead)
    assert f'id="hinweis-{night.pk}"' in client.get(reverse("office:queue")).content.decode()
    assert client.post(url, {"status": "triage", "von": "new"}).status_code == 302
    night.refresh_from_db()
    assert night.status == ReportStatus.TRIAGE


def test_detail_page_offers_the_next_steps_and_hides_the_status_form_for_duplicates(
    client, services, kod_lead
):
    item = report(services["begging"])
    login(client, kod_lead)
    detail = client.get(reverse("office:report-detail", args=[item.pk])).content.decode()
    assert "Nächster Schritt:" in detail and "In Prüfung<span" in detail
    main = report(services["begging"], when=at_noon(2))
    with authority_scope(kod_lead.authority):
        intake.report_merge(user=kod_lead, duplicate=item, into=main)
    detail = client.get(reverse("office:report-detail", args=[item.pk])).content.decode()
    assert "Nächster Schritt:" not in detail and "Status ändern" not in detail


# --- staff entry ------------------------------------------------------------------------------


def entry_data(services, **overrides):
    begging = services["begging"]
    data = {
        "channel": "phone",
        # Daytime: at night the routing rules hand people-related reports to the police.
        "requested_at": timezone.localtime(at_noon(1)).strftime("%Y-%m-%dT%H:%M"),
        "service": str(begging.pk),
        "description": "Anruferin meldet aggressives Betteln vor dem Eingang.",
        "address_text": "Platz von Leeds",
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        f"q_{begging.pk}_personen": "4",
        f"q_{begging.pk}_tageszeit": ["mittags", "abends"],
        "reporter_name": "Erika Muster",
        "reporter_email": "erika@example.org",
        "reporter_phone": "0231 123456",
    }
    data.update(overrides)
    return data


def test_staff_entry_records_channel_answers_and_reporter(client, services, kod):
    login(client, kod)
    page = client.get(reverse("office:report-create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="citywache"' in html and 'value="web"' not in html
    assert "Wie viele Personen ungefähr?" in html and "Wie viel Müll?" in html

    response = client.post(reverse("office:report-create"), entry_data(services))
    with authority_scope(kod.authority):
        created = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "office:report-detail", args=[created.pk]
    )
    assert created.channel == "phone" and created.entered_by == kod
    assert created.attributes == {"personen": 4, "tageszeit": ["abends", "mittags"]}
    assert created.reporter_email == "erika@example.org" and created.reporter_phone == "0231 123456"
    assert created.target == services["kod"] and created.h3_cell
    with unscoped():
        first = StatusChange.objects.get(report=created)
    assert first.user == kod and first.to_status == ReportStatus.NEW


def test_staff_entry_answers_all_six_question_types(client, services, kod):
    from lagebild.citizen.models import ServiceAttribute, ServiceType

    noise = ServiceType.objects.create(code="laerm", name="Lärm", group="Lärm", service_level_days=3)
    kinds = ServiceAttribute.Datatype
    values = [{"key": "musik", "name": "Musik"}, {"key": "geschrei", "name": "Geschrei"}]
    for order, (code, datatype) in enumerate(
        [
            ("quelle", kinds.STRING),
            ("anzahl", kinds.NUMBER),
            ("seit", kinds.DATETIME),
            ("details", kinds.TEXT),
            ("art", kinds.SINGLE),
            ("zeiten", kinds.MULTI),
        ],
        start=1,
    ):
        ServiceAttribute.objects.create(
            service=noise,
            code=code,
            description=f"Frage {code}",
            datatype=datatype,
            order=order,
            values=values if datatype in (kinds.SINGLE, kinds.MULTI) else [],
        )
    login(client, kod)
    html = client.get(reverse("office:report-create")).content.decode()
    assert f'type="datetime-local" name="q_{noise.pk}_seit"' in html
    assert f'name="q_{noise.pk}_zeiten" value="musik"' in html
    prefix = f"q_{noise.pk}_"
    since = at_noon(2)  # once: midnight may pass before the answer is checked
    data = entry_data(services, service=str(noise.pk))
    data.update(
        {
            prefix + "quelle": "Kneipe",
            prefix + "anzahl": "2,5",
            prefix + "seit": timezone.localtime(since).strftime("%Y-%m-%dT%H:%M"),
            prefix + "details": "Jede Nacht <b>laut</b>.",
            prefix + "art": "musik",
            prefix + "zeiten": ["geschrei", "musik"],
        }
    )
    assert client.post(reverse("office:report-create"), data).status_code == 302
    with authority_scope(kod.authority):
        answers = Report.objects.get().attributes
    assert (
        answers["quelle"] == "Kneipe"
        and answers["anzahl"] == 2.5
        and answers["details"] == "Jede Nacht laut."
    )
    assert answers["art"] == "musik" and answers["zeiten"] == ["geschrei", "musik"]
    assert dt.datetime.fromisoformat(answers["seit"]) == since
    data[prefix + "anzahl"] = "viele"
    html = client.post(reverse("office:report-create"), data).content.decode()
    assert f'id="id_{prefix}anzahl-error"' in html and "Bitte eine Zahl angeben." in html


def test_staff_entry_errors_at_the_field(client, services, kod):
    login(client, kod)
    begging = services["begging"]
    data = entry_data(
        services, **{f"q_{begging.pk}_personen": "", "lat": "52.52", "lon": "13.40", "channel": "web"}
    )
    html = client.post(reverse("office:report-create"), data).content.decode()
    assert 'id="id_channel-error"' in html  # web is no staff channel
    data["channel"] = "letter"
    html = client.post(reverse("office:report-create"), data).content.decode()
    assert f'id="id_q_{begging.pk}_personen-error"' in html and "Bitte beantworten." in html
    assert "außerhalb" in html
    # Answers to another category's questions are ignored, even broken ones.
    data = entry_data(services, **{f"q_{services['waste'].pk}_menge": "unbekannt"})
    assert client.post(reverse("office:report-create"), data).status_code == 302
    with authority_scope(kod.authority):
        assert Report.objects.get().channel == "phone"


def test_staff_entry_routed_to_police_says_so(client, services, kod):
    login(client, kod)
    night = timezone.localtime(at_night(1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("office:report-create"), entry_data(services, requested_at=night), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("office:queue")
    assert "nicht mehr sichtbar" in response.content.decode()
    with unscoped():
        assert Report.objects.get().routing_rule.name == "Nachts an Polizei"


def test_staff_entry_needs_permission(client, services, analyst, leadership):
    for user in (analyst, leadership):
        client.force_login(user)
        assert client.get(reverse("office:report-create")).status_code == 403
        assert client.post(reverse("office:report-create"), entry_data(services)).status_code == 403


# --- status, notes, merge, assign -------------------------------------------------------------


def test_status_change_with_public_and_internal_note(client, services, kod):
    item = report(services["begging"])
    login(client, kod)
    response = client.post(
        reverse("office:report-transition", args=[item.pk]),
        {
            "to_status": "in_progress",
            "public_note": "Der Ordnungsdienst ist unterwegs.",
            "internal_note": "Funkstreife 12 informiert.",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ReportStatus.IN_PROGRESS and item.first_response_at is not None
    public = selectors.public_history(item)
    assert [c.public_note for c in public][-1] == "Der Ordnungsdienst ist unterwegs."
    detail = client.get(reverse("office:report-detail", args=[item.pk])).content.decode()
    assert "Der Ordnungsdienst ist unterwegs." in detail and "Funkstreife 12 informiert." in detail
    assert "Kim Ordnung" in detail  # who changed it

    # The reporter's status page shows the public note, never the internal one.
    client.logout()
    text = client.get(reverse("melden:status", args=[item.public_token])).content.decode()
    assert "Der Ordnungsdienst ist unterwegs." in text and "Funkstreife 12" not in text


def test_field_officer_cannot_forward_and_forwarding_needs_a_note(client, services, kod, kod_lead):
    item = report(services["begging"])
    login(client, kod)
    response = client.post(reverse("office:report-transition", args=[item.pk]), {"to_status": "forwarded"})
    assert response.status_code == 400
    assert "Diesen Status können Sie hier nicht setzen." in response.content.decode()
    client.force_login(kod_lead)
    response = client.post(reverse("office:report-transition", args=[item.pk]), {"to_status": "forwarded"})
    assert response.status_code == 400 and "wohin die Meldung weitergeleitet" in response.content.decode()
    response = client.post(
        reverse("office:report-transition", args=[item.pk]),
        {"to_status": "forwarded", "public_note": "An das Grünflächenamt weitergeleitet."},
    )
    item.refresh_from_db()
    assert response.status_code == 302 and item.status == ReportStatus.FORWARDED


def test_merge_duplicates_counts_supporters(client, services, kod_lead, kod):
    main = report(services["begging"], when=at_noon(2))
    intake.report_support(report_id=main.pk)
    duplicate = report(services["begging"], point=(INSIDE[0] + 0.0005, INSIDE[1]))
    login(client, kod_lead)
    detail = client.get(reverse("office:report-detail", args=[duplicate.pk])).content.decode()
    assert f'name="merge-number" value="{main.pk}"' in detail  # offered as nearby candidate
    response = client.post(
        reverse("office:report-merge", args=[duplicate.pk]), {"merge-number": str(main.pk)}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    main.refresh_from_db()
    assert duplicate.status == ReportStatus.DUPLICATE and duplicate.duplicate_of == main
    assert main.supporters == 2
    html = client.get(reverse("office:report-detail", args=[main.pk])).content.decode()
    assert f"Nr. {duplicate.pk}</a>" in html
    # Unknown numbers and self-merges come back as field errors.
    other = report(services["begging"])
    response = client.post(reverse("office:report-merge", args=[other.pk]), {"merge-number": "999999"})
    assert response.status_code == 400 and "nicht sichtbar" in response.content.decode()
    response = client.post(reverse("office:report-merge", args=[other.pk]), {"merge-number": str(other.pk)})
    assert response.status_code == 400 and "mit sich selbst" in response.content.decode()
    # Field officers do not merge.
    client.force_login(kod)
    assert (
        client.post(
            reverse("office:report-merge", args=[other.pk]), {"merge-number": str(main.pk)}
        ).status_code
        == 403
    )


def test_assign_to_partner_hands_the_report_over(client, services, kod_lead, police):
    item = report(services["begging"])
    login(client, kod_lead)
    response = client.post(reverse("office:report-assign", args=[item.pk]), {"target": services["police"].pk})
    assert response.status_code == 302 and response["Location"] == reverse("office:queue")
    with unscoped():
        item.refresh_from_db()
    assert item.authority == police and item.status == ReportStatus.ASSIGNED and item.routing_rule is None
    assert client.get(reverse("office:report-detail", args=[item.pk])).status_code == 404

    other = report(services["begging"])
    client.post(reverse("office:report-assign", args=[other.pk]), {"target": services["edg"].pk})
    other.refresh_from_db()
    assert other.status == ReportStatus.FORWARDED and other.target == services["edg"]
    html = client.get(reverse("office:report-detail", args=[other.pk])).content.decode()
    assert "gelten nicht als erledigt" in html and "von Hand zugewiesen" in html


# --- reporter data ----------------------------------------------------------------------------


def test_reporter_data_only_for_triage_roles_and_logged(client, services, kod_lead, kod, analyst):
    item = report(services["begging"], reporter_name="Erika Muster", reporter_email="erika@example.org")
    url = reverse("office:report-detail", args=[item.pk])
    login(client, kod_lead)
    html = client.get(url).content.decode()
    assert "erika@example.org" not in html and "Kontaktdaten anzeigen" in html
    assert not AuditEvent.objects.filter(action="citizen.reporter.viewed").exists()
    html = client.get(url, {"kontaktdaten": "1"}).content.decode()
    assert "erika@example.org" in html and "Erika Muster" in html
    event = AuditEvent.objects.get(action="citizen.reporter.viewed")
    assert event.user == kod_lead and event.object_id == str(item.pk)

    for user in (kod, analyst):
        client.force_login(user)
        html = client.get(url, {"kontaktdaten": "1"}).content.decode()
        assert "erika@example.org" not in html and "Erika Muster" not in html
        assert "Kontaktdaten anzeigen" not in html
    assert AuditEvent.objects.filter(action="citizen.reporter.viewed").count() == 1
    # The queue never shows contact data.
    client.force_login(kod_lead)
    assert "erika@example.org" not in client.get(reverse("office:queue")).content.decode()


# --- incidents: from complaint to measure -----------------------------------------------------


def test_link_existing_incident_and_show_it_both_ways(client, services, kod, world):
    item = report(services["begging"], when=at_noon(1))
    with authority_scope(kod.authority):
        incident = field_services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(minutes=30),
            lat=INSIDE[0],
            lon=INSIDE[1] + 0.001,
            measures=[MeasureInput(type="dispersal_order")],
            source="citizen_report",
        )
    login(client, kod)
    detail = client.get(reverse("office:report-detail", args=[item.pk])).content.decode()
    assert f'name="link-number" value="{incident.pk}"' in detail  # nearby candidate
    response = client.post(
        reverse("office:report-link-incident", args=[item.pk]), {"link-number": str(incident.pk)}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ReportStatus.IN_PROGRESS
    detail = client.get(reverse("office:report-detail", args=[item.pk])).content.decode()
    assert f"Feststellung Nr. {incident.pk}" in detail and "Platzverweis" in detail
    incident_page = client.get(reverse("field:incident-detail", args=[incident.pk])).content.decode()
    assert f"Hinweis Nr. {item.pk}" in incident_page
    response = client.post(reverse("office:report-link-incident", args=[item.pk]), {"link-number": "abc"})
    assert response.status_code == 400


def test_field_entry_prefilled_from_report_links_the_new_incident(client, services, kod, world):
    item = report(services["begging"], address_text="Platz von Leeds")
    login(client, kod)
    detail = client.get(reverse("office:report-detail", args=[item.pk])).content.decode()
    match = re.search(r'href="(/feststellungen/neu/\?[^"]+)"', detail)
    assert match, "Feststellung erfassen"
    url = match.group(1).replace("&amp;", "&")
    form = client.get(url).content.decode()
    begging = world["categories"]["begging"]
    assert re.search(rf'<option value="{begging.pk}" [^>]* selected>', form)
    assert f'value="{item.lat:.6f}"' in form and 'value="Platz von Leeds"' in form
    assert re.search(r'<option value="citizen_report" selected>', form)
    response = client.post(
        reverse("field:incident-create"),
        {
            "category": str(begging.pk),
            "measure_types": ["contact"],
            "lat": f"{item.lat:.6f}",
            "lon": f"{item.lon:.6f}",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "source": "citizen_report",
            "address_text": "Platz von Leeds",
        },
        follow=True,
    )
    assert f"Mit Bürgerhinweis Nr. {item.pk} verknüpft." in response.content.decode()
    with authority_scope(kod.authority):
        incident = Incident.objects.get()
        assert list(item.incidents.all()) == [incident]
    # The link is used once: the next incident is not linked.
    client.post(
        reverse("field:incident-create"),
        {
            "category": str(begging.pk),
            "lat": str(INSIDE[0]),
            "lon": str(INSIDE[1]),
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "source": "citizen_report",
        },
    )
    with authority_scope(kod.authority):
        assert item.incidents.count() == 1 and Incident.objects.count() == 2


# --- patrols ----------------------------------------------------------------------------------


def test_patrol_sees_open_reports_of_its_area(client, services, kod, kod_lead, geography):
    west = report(services["begging"], point=WEST)
    east = report(services["begging"], point=EAST)
    report(services["waste"], point=WEST)  # forwarded, not open
    login(client, kod)
    page = client.get(reverse("office:patrol-reports")).content.decode()
    assert "keiner Streife zugeordnet" in page and ids_in(page) == set()
    with authority_scope(kod_lead.authority):
        shift = field_services.shift_create(user=kod_lead, date=timezone.localdate(), kind="early")
        field_services.patrol_create(
            user=kod_lead,
            shift=shift,
            name="KOD 1",
            members=[kod],
            area_id=geography["west"].pk,
            planned_start=timezone.now() - dt.timedelta(hours=1),
            planned_end=timezone.now() + dt.timedelta(hours=3),
        )
    page = client.get(reverse("office:patrol-reports")).content.decode()
    assert "Einsatzraum Ihrer Streife KOD 1" in page and ids_in(page) == {west.pk}
    page = client.get(reverse("office:patrol-reports"), {"area": geography["east"].pk}).content.decode()
    assert ids_in(page) == {east.pk}
    points = client.get(
        reverse("office:report-points"), {"status": "offen", "area": geography["west"].pk}
    ).json()
    assert [f["id"] for f in points["features"]] == [west.pk]


# --- photos -----------------------------------------------------------------------------------


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (250, 250, 250)).save(buffer, format="PNG")
    return SimpleUploadedFile("foto.png", buffer.getvalue(), content_type="image/png")


def test_photos_for_staff_with_redaction_and_release(
    client, services, kod, kod_lead, police_lead, settings, tmp_path
):
    from lagebild.citizen.photos import photo_path, prepare_uploads, store_photos

    settings.VAR_DIR = tmp_path
    item = report(services["begging"])
    prepared, errors = prepare_uploads([_png()])
    assert not errors
    with unscoped():
        photo = store_photos(item, prepared)[0]
    url = reverse("office:photo", args=[item.pk, photo.pk])
    login(client, kod)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    # Opening a citizen's photo is a logged read of personal data (who, which photo, which report).
    viewed = AuditEvent.objects.filter(action="citizen.photo.viewed", object_id=str(photo.pk))
    assert [(entry.user_id, entry.detail["report"]) for entry in viewed] == [(kod.pk, item.pk)]
    redact = reverse("office:photo-redact", args=[item.pk, photo.pk])
    response = client.post(redact, {f"photo{photo.pk}-rectangles": "0, 0, 50, 100"})
    assert response.status_code == 302
    with Image.open(photo_path(photo)) as image:
        assert image.convert("RGB").getpixel((5, 5)) == (0, 0, 0)
        assert image.convert("RGB").getpixel((35, 5)) == (250, 250, 250)
    response = client.post(redact, {f"photo{photo.pk}-rectangles": "90, 0, 20, 10"})
    assert response.status_code == 400 and "Bildrand" in response.content.decode()
    # Releasing is for triage roles.
    release = reverse("office:photo-release", args=[item.pk, photo.pk])
    assert client.post(release, {"released": "1"}).status_code == 403
    client.force_login(kod_lead)
    assert client.post(release, {"released": "1"}).status_code == 302
    photo.refresh_from_db()
    assert photo.released and len(photo.redactions) == 1
    # The other authority does not see the report, nor its photos.
    client.force_login(police_lead)
    assert client.get(url).status_code == 404


# --- statistics page and administration -------------------------------------------------------


def test_statistics_page_and_nav(client, services, kod_lead, analyst):
    report(services["begging"])
    report(services["waste"])
    client.force_login(analyst)
    html = client.get(reverse("office:statistics")).content.decode()
    assert "Statistik der Bürgerhinweise" in html and "Nach Eingangsweg" in html and "Online-Formular" in html
    assert 'href="/hinweise/"' in html  # nav item "Hinweise"
    response = client.get(reverse("office:statistics"), {"date_from": "2026-13-01", "date_to": "x"})
    assert response.status_code == 200


def test_admin_edits_routing_rules_and_sees_reports_read_only(client, services, kod_admin, police):
    night = report(services["begging"], when=at_night(1))  # police
    day = report(services["begging"])
    client.force_login(kod_admin)
    assert client.get(reverse("admin:citizen_routingrule_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:citizen_servicetype_change", args=[services["begging"].pk])).status_code
        == 200
    )
    rule = RoutingRule.objects.get(name="Alles andere an KOD")
    response = client.get(reverse("admin:citizen_routingrule_change", args=[rule.pk]))
    assert response.status_code == 200
    listing = client.get(reverse("admin:citizen_report_changelist")).content.decode()
    assert (
        f"/admin/citizen/report/{day.pk}/" in listing and f"/admin/citizen/report/{night.pk}/" not in listing
    )
    assert client.get(reverse("admin:citizen_report_add")).status_code == 403
    change = client.get(reverse("admin:citizen_report_change", args=[day.pk])).content.decode()
    assert "erika" not in change and "Speichern" not in change
    assert client.get(reverse("admin:citizen_report_change", args=[night.pk])).status_code in (302, 404)
