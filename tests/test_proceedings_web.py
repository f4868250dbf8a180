"""Pages of the Bußgeldstelle: the worklist for the role only, a case of another authority answers
like a missing one, a full walk through the forms from opening to payment, and German messages at
the field for bad input with nothing written (issue 15)."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.proceedings import services
from lagebild.proceedings.models import Case, CaseEvent, CaseState, Notice, Payment, ProceedingsPerson

PERSON = {
    "family_name": "Muster",
    "given_names": "Max",
    "date_of_birth": dt.date(1990, 5, 17),
    "place_of_birth": "Dortmund",
    "street": "Kampstraße 1",
    "postcode": "44137",
    "city": "Dortmund",
}


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def clerk(make_user, city):
    return make_user("bussgeld", city, Role.PROCEEDINGS, first_name="Bea", last_name="Bußgeld")


@pytest.fixture
def police_clerk(make_user, police):
    return make_user("bussgeld-polizei", police, Role.PROCEEDINGS)


def open_case(clerk, catalogue, days_ago: int = 5, with_person: bool = True, description: str = "") -> Case:
    now = timezone.now()
    with authority_scope(clerk.authority):
        person = services.person_create(user=clerk, data=dict(PERSON)) if with_person else None
        return services.case_open(
            user=clerk,
            category=catalogue["begging"],
            offence_at=now - dt.timedelta(days=days_ago),
            offence_place="Katharinentreppe",
            offence_description=description,
            person=person,
            now=now,
        )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field_error(response, field_id: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', response.content.decode()
    )
    return match.group(1) if match else ""


def counts(authority) -> tuple[int, int, int, int, int]:
    with authority_scope(authority):
        return (
            Case.objects.count(),
            CaseEvent.objects.count(),
            Notice.objects.count(),
            Payment.objects.count(),
            ProceedingsPerson.objects.count(),
        )


def state_of(case) -> str:
    with unscoped():
        return Case.objects.get(pk=case.pk).state


def today() -> str:
    return timezone.localdate().isoformat()


# --- access ------------------------------------------------------------------------------------------


def test_role_sees_worklist_with_overdue_first_and_nav_link(client, clerk, catalogue):
    soon = open_case(clerk, catalogue, days_ago=170)  # six months (1,000 €): deadline within the warning
    late = open_case(clerk, catalogue, days_ago=200)  # deadline passed, daily run not yet
    quiet = open_case(clerk, catalogue, days_ago=1)
    client.force_login(clerk)
    response = client.get(reverse("proceedings:worklist"))
    assert response.status_code == 200
    body = text_of(response)
    assert "Fristenliste" in body and ">Bußgeldstelle</a>" in body
    assert body.index(late.file_number) < body.index(soon.file_number)
    assert "überfällig seit" in body and quiet.file_number not in body
    assert reverse("proceedings:case-detail", args=[late.pk]) in body
    # Filter by kind: the absolute limitation does not warn yet for any of them.
    filtered = text_of(client.get(reverse("proceedings:worklist"), {"kind": "absolute_limitation"}))
    assert late.file_number not in filtered and "0 Fristen" in filtered
    # An unknown kind is not a 500: all deadlines are shown with a German note.
    unknown = client.get(reverse("proceedings:worklist"), {"kind": "gibt-es-nicht"})
    assert unknown.status_code == 200 and "Diese Frist gibt es nicht" in unknown.content.decode()


@pytest.mark.parametrize(
    "role",
    [
        Role.FIELD_OFFICER,
        Role.SHIFT_LEAD,
        Role.ANALYST,
        Role.LEADERSHIP,
        Role.ADMIN,
        Role.DATA_PROTECTION_OFFICER,
    ],
)
def test_other_roles_get_403_on_every_page(client, make_user, city, clerk, catalogue, role):
    case = open_case(clerk, catalogue)
    user = make_user(f"user-{role}", city, role)
    client.force_login(user)
    for name, args in (
        ("worklist", []),
        ("case-list", []),
        ("case-create", []),
        ("case-detail", [case.pk]),
        ("person-add", [case.pk]),
    ):
        response = client.get(reverse(f"proceedings:{name}", args=args))
        assert response.status_code == 403, name
        assert "Bußgeldstelle" in response.content.decode()
    before = counts(city)
    response = client.post(reverse("proceedings:case-step", args=[case.pk]), {"step": "hearing_sent"})
    assert response.status_code == 403 and counts(city) == before
    assert ">Bußgeldstelle</a>" not in text_of(client.get(reverse("field:overview")))


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("proceedings:worklist"))
    assert response.status_code == 302 and "anmelden" in response["Location"]


def test_police_clerk_gets_404_for_a_city_case_like_for_a_missing_one(
    client, clerk, police_clerk, catalogue, city
):
    case = open_case(clerk, catalogue, description="STADTGEHEIMNIS")
    client.force_login(police_clerk)
    foreign = client.get(reverse("proceedings:case-detail", args=[case.pk]))
    missing = client.get(reverse("proceedings:case-detail", args=[999999]))
    assert foreign.status_code == missing.status_code == 404
    assert "STADTGEHEIMNIS" not in foreign.content.decode()
    before = counts(city)
    for name, data in (
        ("case-step", {"step": "hearing_sent", "step-hearing_sent-on": today()}),
        ("notice-draft", {"notice-fine": "35", "notice-formal_services": "1"}),
        ("payment", {"payment-amount": "10", "payment-paid_on": today()}),
        ("person-add", {"family_name": "X"}),
    ):
        assert client.post(reverse(f"proceedings:{name}", args=[case.pk]), data).status_code == 404, name
    assert counts(city) == before
    listing = text_of(client.get(reverse("proceedings:case-list")))
    assert case.file_number not in listing and "0 Verfahren" in listing
    assert case.file_number not in text_of(client.get(reverse("proceedings:worklist")))


# --- the walk ------------------------------------------------------------------------------------------


def post_step(client, case, kind, **fields):
    data = {"step": kind, f"step-{kind}-on": today()}
    data.update({f"step-{kind}-{k}": v for k, v in fields.items()})
    return client.post(reverse("proceedings:case-step", args=[case.pk]), data)


def test_full_walk_through_the_forms(client, clerk, catalogue, city):
    client.force_login(clerk)
    offence = timezone.localtime(timezone.now() - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    assert client.get(reverse("proceedings:case-create")).status_code == 200
    response = client.post(
        reverse("proceedings:case-create"),
        {
            "category": str(catalogue["begging"].pk),
            "offence_at": offence,
            "offence_place": "Katharinentreppe",
            "offence_description": "Passanten am Ärmel festgehalten und Geld gefordert.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with authority_scope(city):
        case = Case.objects.get()
    assert response["Location"] == reverse("proceedings:case-detail", args=[case.pk])
    page = text_of(client.get(response["Location"]))
    assert "Anzeige eingegangen" in page and "Noch keine betroffene Person" in page
    assert "Verjährungsfrist" in page and "6 Monate" in page and "Absolute Verjährung" in page

    # The person (§ 111 OWiG), mandatory fields marked.
    form = client.get(reverse("proceedings:person-add", args=[case.pk]))
    assert form.status_code == 200 and 'class="required-mark"' in form.content.decode()
    response = client.post(
        reverse("proceedings:person-add", args=[case.pk]),
        {**{k: str(v) for k, v in PERSON.items()}, "date_of_birth": "17.05.1990"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Muster" in page and "Betroffene Person festgestellt" in page

    assert post_step(client, case, "hearing_sent").status_code == 302
    assert state_of(case) == CaseState.HEARING
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Anhörung versandt" in page and "§ 33 Abs. 1 S. 1 Nr. 1 OWiG" in page

    response = client.post(
        reverse("proceedings:notice-draft", args=[case.pk]),
        {
            "notice-fine": "35,00",
            "notice-evidence": "Zeugnis der Einsatzkräfte",
            "notice-formal_services": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert state_of(case) == CaseState.NOTICE_DRAFT
    with authority_scope(city):
        notice = Notice.objects.get()
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "insgesamt 63,50 €" in page or "insgesamt 63.50 €" in page

    response = client.post(
        reverse("proceedings:notice-approve", args=[case.pk]),
        {"approve-notice": str(notice.pk), "approve-issued_on": today()},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert state_of(case) == CaseState.NOTICE_ISSUED
    page = client.get(reverse("proceedings:case-detail", args=[case.pk])).content.decode()
    assert reverse("proceedings:letter-notice", args=[case.pk]) in page
    assert reverse("proceedings:letter-hearing", args=[case.pk]) in page

    assert post_step(client, case, "notice_served").status_code == 302
    assert state_of(case) == CaseState.SERVED
    assert post_step(client, case, "objection_received").status_code == 302
    assert post_step(client, case, "objection_withdrawn").status_code == 302
    assert state_of(case) == CaseState.FINAL
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Rechtskräftig, Zahlung offen" in page and "Zahlung buchen" in page

    response = client.post(
        reverse("proceedings:payment", args=[case.pk]),
        {"payment-amount": "63,50", "payment-paid_on": today(), "payment-reference": "OWi"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert state_of(case) == CaseState.PAID
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Bezahlt" in page and "Nächste Schritte" not in page
    # The full history, in order.
    history = page[page.index("Verlauf") :]
    kinds = [
        "Verfahren eingeleitet",
        "Betroffene Person festgestellt",
        "Anhörung versandt",
        "Bescheid entworfen",
        "Bescheid erlassen",
        "Bescheid zugestellt",
        "Einspruch eingegangen",
        "Einspruch zurückgenommen",
        "Zahlung eingegangen",
    ]
    positions = [history.index(kind) for kind in kinds]
    assert positions == sorted(positions)
    # Listed with its state.
    listing = text_of(
        client.get(reverse("proceedings:case-list"), {"state": "paid", "q": case.file_number[-6:]})
    )
    assert case.file_number in listing and "Bezahlt" in listing


def test_discontinuation_needs_a_reason_code(client, clerk, catalogue, city):
    case = open_case(clerk, catalogue)
    client.force_login(clerk)
    before = counts(city)
    response = post_step(client, case, "discontinued", reason="geringfügig")
    assert response.status_code == 400
    assert (
        field_error(response, "id_step-discontinued-reason_code") == "Bitte einen Einstellungsgrund wählen."
    )
    assert counts(city) == before
    response = post_step(client, case, "discontinued", reason="geringfügig", reason_code="opportunity")
    assert response.status_code == 302
    assert state_of(case) == CaseState.DISCONTINUED
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Geringfügigkeit / Opportunität (§ 47 Abs. 1 OWiG)" in page


# --- bad input -------------------------------------------------------------------------------------------


def test_bad_input_gets_german_messages_at_the_field_and_writes_nothing(client, clerk, catalogue, city):
    case = open_case(clerk, catalogue)
    client.force_login(clerk)
    before = counts(city)

    response = client.post(
        reverse("proceedings:case-step", args=[case.pk]),
        {"step": "hearing_sent", "step-hearing_sent-on": "2025-02-30"},
    )
    assert response.status_code == 400
    assert "gültiges Datum" in field_error(response, "id_step-hearing_sent-on")

    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("proceedings:case-step", args=[case.pk]),
        {"step": "hearing_sent", "step-hearing_sent-on": future},
    )
    assert response.status_code == 400
    assert field_error(response, "id_step-hearing_sent-on") == "Das Datum liegt in der Zukunft."

    response = client.post(reverse("proceedings:case-step", args=[case.pk]), {"step": "fliegen"})
    assert response.status_code == 400 and "Diesen Schritt gibt es nicht." in response.content.decode()
    response = post_step(client, case, "notice_served")  # not allowed in "reported"
    assert response.status_code == 400 and "im aktuellen Stand nicht möglich" in response.content.decode()

    response = client.post(
        reverse("proceedings:notice-draft", args=[case.pk]),
        {"notice-fine": "zwölf", "notice-formal_services": "1"},
    )
    assert response.status_code == 400
    assert field_error(response, "id_notice-fine") == "Bitte einen Betrag in Euro angeben, z. B. 35,00."
    response = client.post(
        reverse("proceedings:notice-draft", args=[case.pk]),
        {"notice-fine": "2", "notice-formal_services": "1"},
    )
    assert response.status_code == 400
    assert "mindestens 5 €" in field_error(response, "id_notice-fine")
    response = client.post(
        reverse("proceedings:notice-draft", args=[case.pk]),
        {"notice-fine": "1e40", "notice-formal_services": "x"},
    )
    assert response.status_code == 400
    assert field_error(response, "id_notice-formal_services")

    response = client.post(
        reverse("proceedings:notice-approve", args=[case.pk]),
        {"approve-notice": "abc", "approve-issued_on": "x"},
    )
    assert response.status_code == 400

    response = client.post(
        reverse("proceedings:payment", args=[case.pk]), {"payment-amount": "10", "payment-paid_on": today()}
    )
    assert response.status_code == 400 and "erst nach Rechtskraft" in response.content.decode()

    # Person: mandatory fields, an impossible date, a child at the time of the act.
    response = client.post(reverse("proceedings:person-add", args=[case.pk]), {"family_name": "Muster"})
    assert response.status_code == 400
    assert field_error(response, "id_given_names") == "Pflichtangabe nach § 111 OWiG."
    assert field_error(response, "id_date_of_birth") == "Pflichtangabe nach § 111 OWiG."
    child = (timezone.localdate() - dt.timedelta(days=365 * 10)).isoformat()
    response = client.post(
        reverse("proceedings:person-add", args=[case.pk]),
        {**{k: str(v) for k, v in PERSON.items()}, "date_of_birth": child},
    )
    assert response.status_code == 400
    assert "§ 12 Abs. 1 OWiG" in field_error(response, "id_date_of_birth")
    response = client.post(
        reverse("proceedings:person-add", args=[case.pk]),
        {**{k: str(v) for k, v in PERSON.items()}, "date_of_birth": "31.02.1990"},
    )
    assert response.status_code == 400 and "gültiges Datum" in field_error(response, "id_date_of_birth")

    # New case: future act, no category, impossible time.
    response = client.post(
        reverse("proceedings:case-create"),
        {
            "category": str(catalogue["begging"].pk),
            "offence_at": (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert field_error(response, "id_offence_at") == "Die Tatzeit liegt in der Zukunft."
    response = client.post(
        reverse("proceedings:case-create"), {"category": "", "offence_at": "2025-13-45T99:99"}
    )
    assert response.status_code == 400
    assert field_error(response, "id_category") == "Bitte den Sachverhalt wählen."
    assert "gültige Tatzeit" in field_error(response, "id_offence_at")
    response = client.post(
        reverse("proceedings:case-create"),
        {"category": str(catalogue["dealing"].pk), "offence_at": "2025-03-10T10:00"},
    )
    assert response.status_code == 400 and "keine Bußgeldvorschrift" in field_error(response, "id_category")

    for extreme in ("0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T10:00"):
        response = client.post(
            reverse("proceedings:case-create"),
            {"category": str(catalogue["begging"].pk), "offence_at": extreme},
        )
        assert response.status_code == 400 and field_error(response, "id_offence_at"), extreme
    for extreme in ("0001-01-01", "9999-12-31"):
        response = client.post(
            reverse("proceedings:case-step", args=[case.pk]),
            {"step": "hearing_sent", "step-hearing_sent-on": extreme},
        )
        assert response.status_code == 400 and field_error(response, "id_step-hearing_sent-on"), extreme
    assert counts(city) == before
    assert state_of(case) == CaseState.REPORTED


def test_case_list_filters_and_pages_without_500(client, clerk, catalogue):
    first = open_case(clerk, catalogue)
    second = open_case(clerk, catalogue)
    client.force_login(clerk)
    body = text_of(client.get(reverse("proceedings:case-list")))
    assert "2 Verfahren" in body and first.file_number in body and second.file_number in body
    body = text_of(client.get(reverse("proceedings:case-list"), {"q": first.file_number}))
    assert first.file_number in body and second.file_number not in body
    for params in ({"state": "unbekannt"}, {"seite": "abc"}, {"seite": "999"}, {"q": "x" * 100}):
        assert client.get(reverse("proceedings:case-list"), params).status_code == 200, params
    body = text_of(client.get(reverse("proceedings:case-list"), {"state": "open"}))
    assert "2 Verfahren" in body


def test_daily_command_prints_german_counts(clerk, catalogue):
    open_case(clerk, catalogue, days_ago=200)
    out = StringIO()
    call_command("proceedings-daily", stdout=out)
    assert "1 verjährt" in out.getvalue() and "Täglicher Lauf zum" in out.getvalue()
    out = StringIO()
    call_command("proceedings-daily", stdout=out)
    assert "0 verjährt" in out.getvalue()
    for bad, message in (("2025-02-30", "kein gültiges Datum"), ("2999-01-01", "nicht in der Zukunft")):
        with pytest.raises(CommandError, match=message):
            call_command("proceedings-daily", date=bad, stdout=StringIO())
    out = StringIO()
    call_command("proceedings-daily", date=timezone.localdate().isoformat(), stdout=out)
    assert "0 verjährt" in out.getvalue()


def test_case_file_explains_limitation_and_flags_a_juvenile(client, clerk, catalogue, city):
    now = timezone.now()
    day = timezone.localdate()
    with authority_scope(city):
        person = services.person_create(
            user=clerk, data={**PERSON, "date_of_birth": day - dt.timedelta(days=365 * 16 + 30)}
        )
        case = services.case_open(
            user=clerk,
            category=catalogue["begging"],
            offence_at=now - dt.timedelta(days=20),
            person=person,
            now=now,
        )
        for days_ago in (10, 5):
            services.case_step(
                user=clerk,
                case=case,
                step=services.StepInput(kind="hearing_sent", on=day - dt.timedelta(days=days_ago)),
            )
    client.force_login(clerk)
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Jugendliche/r zur Tatzeit" in page and "ja, 14 bis 17 Jahre zur Tatzeit" in page
    first = (day - dt.timedelta(days=10)).strftime("%d.%m.%Y")
    second = (day - dt.timedelta(days=5)).strftime("%d.%m.%Y")
    applied = page[page.index("Unterbrechungen") : page.index("Nicht berücksichtigt")]
    assert first in applied and "§ 33 Abs. 1 S. 1 Nr. 1 OWiG: Frist neu bis" in applied
    ignored = page[page.index("Nicht berücksichtigt") : page.index("Absolute Verjährung")]
    assert second in ignored and "unterbricht nur einmal" in ignored
    assert "doppelte Frist ab der Tat" in page


def test_a_person_already_recorded_is_found_and_assigned(client, clerk, police_clerk, catalogue, city):
    earlier = open_case(clerk, catalogue, days_ago=40)
    case = open_case(clerk, catalogue, with_person=False)
    with authority_scope(city):
        person_id = Case.objects.get(pk=earlier.pk).person_id
    url = reverse("proceedings:person-add", args=[case.pk])
    # The police's Bußgeldstelle finds nobody of the city and cannot assign.
    client.force_login(police_clerk)
    assert (
        client.get(url, {"suche-family_name": "Muster", "suche-date_of_birth": "1990-05-17"}).status_code
        == 404
    )
    client.force_login(clerk)
    wrong = text_of(client.get(url, {"suche-family_name": "Muster", "suche-date_of_birth": "1990-05-18"}))
    assert "Keine erfasste Person" in wrong
    bad = client.get(url, {"suche-family_name": "", "suche-date_of_birth": "31.02.1990"})
    assert bad.status_code == 200 and "gültiges Datum" in field_error(bad, "id_suche-date_of_birth")
    found = text_of(client.get(url, {"suche-family_name": "muster", "suche-date_of_birth": "1990-05-17"}))
    assert "Muster, Max, geboren am 17.05.1990" in found
    with unscoped():
        logged = AuditEvent.objects.filter(action="proceedings.person.read", purpose__startswith="Suche")
        assert logged.count() == 1 and logged.get().user_id == clerk.pk
    before = counts(city)
    response = client.post(reverse("proceedings:person-assign", args=[case.pk]), {"person": "abc"})
    assert response.status_code == 400 and "Bitte eine Person wählen." in response.content.decode()
    assert counts(city) == before
    response = client.post(reverse("proceedings:person-assign", args=[case.pk]), {"person": str(person_id)})
    assert response.status_code == 302
    with authority_scope(city):
        assert Case.objects.get(pk=case.pk).person_id == person_id
        assert ProceedingsPerson.objects.count() == before[4]  # no duplicate


def final_case(clerk, catalogue) -> Case:
    case = open_case(clerk, catalogue, days_ago=30)
    day = timezone.localdate()
    with authority_scope(clerk.authority):
        services.case_step(user=clerk, case=case, step=services.StepInput(kind="hearing_sent", on=day))
        notice = services.notice_draft(user=clerk, case=case, fine="35")
        services.notice_approve(user=clerk, notice=notice, issued_on=day)
        for kind in ("notice_served", "objection_received", "objection_withdrawn"):
            services.case_step(user=clerk, case=case, step=services.StepInput(kind=kind, on=day))
    assert state_of(case) == CaseState.FINAL
    return case


def test_instalments_need_a_real_span(client, clerk, catalogue, city):
    case = final_case(clerk, catalogue)
    client.force_login(clerk)
    day = timezone.localdate()
    before = counts(city)
    for until, message in (
        ("", "Bitte angeben, bis wann die Zahlungserleichterung gilt."),
        (
            (day - dt.timedelta(days=1)).isoformat(),
            "Das Ende der Zahlungserleichterung liegt vor ihrem Beginn.",
        ),
        ("9999-12-31", "Eine Zahlungserleichterung gilt höchstens fünf Jahre."),
    ):
        response = post_step(client, case, "instalments_granted", reason="Raten à 10 €", until=until)
        assert response.status_code == 400
        assert field_error(response, "id_step-instalments_granted-until") == message
    response = post_step(client, case, "instalments_granted", until=(day + dt.timedelta(days=90)).isoformat())
    assert response.status_code == 400
    assert field_error(response, "id_step-instalments_granted-reason") == "Bitte den Schritt begründen."
    assert counts(city) == before
    response = post_step(
        client,
        case,
        "instalments_granted",
        reason="Raten à 10 €",
        until=(day + dt.timedelta(days=90)).isoformat(),
    )
    assert response.status_code == 302
    assert state_of(case) == CaseState.INSTALMENTS
    page = text_of(client.get(reverse("proceedings:case-detail", args=[case.pk])))
    assert "Vollstreckungsverjährung" in page and "Zahlung buchen" in page


def test_a_long_worklist_is_cut_after_the_earliest_deadlines(client, clerk, catalogue, monkeypatch):
    from lagebild.proceedings import views

    monkeypatch.setattr(views, "WORKLIST_LIMIT", 1)
    late = open_case(clerk, catalogue, days_ago=200)
    soon = open_case(clerk, catalogue, days_ago=170)
    client.force_login(clerk)
    body = text_of(client.get(reverse("proceedings:worklist")))
    assert "Mehr als 1 Frist" in body and "Gezeigt werden die 1 frühesten Fristen" in body
    assert late.file_number in body and soon.file_number not in body


def test_the_bussgeldstelle_lands_on_its_worklist_after_login_and_others_on_the_overview(client, clerk, kod):
    for user, home in ((clerk, reverse("proceedings:worklist")), (kod, reverse("field:overview"))):
        response = client.post(reverse("login"), {"username": user.username, "password": "geheim-123"})
        assert response.status_code == 302 and response.url == home, (user.username, response)
        client.logout()
    # An explicit target still wins.
    target = reverse("proceedings:case-list")
    response = client.post(
        reverse("login") + f"?next={target}", {"username": clerk.username, "password": "geheim-123"}
    )
    assert response.url == target
