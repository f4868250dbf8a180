"""Letters of the Bußgeldstelle (hearing, notice, caution certificate, reminder), a day's output in one
PDF, and the case file export for the prosecutor (§ 69 Abs. 3 OWiG): what the PDFs say (text read back
with pypdf), that an unapproved notice is never printed, that the day's stack holds exactly that day's
letters of the own authority, that the export validates against its published schema, is PDF/A-style
(embedded fonts, metadata, no encryption or scripts) and is logged (issue 15, items 2, 3 and 5)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema  # a dependency of drf-spectacular, so always installed
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.proceedings import export, letters, selectors, services
from lagebild.proceedings.models import Case, EventKind, Notice
from lagebild.proceedings.services import StepInput

from .bodycam_fixtures import recordings_dir  # noqa: F401  (fixture)
from .conftest import INSIDE

BERLIN = ZoneInfo("Europe/Berlin")
SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "proceedings-export.schema.json"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=BERLIN)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def clerk(make_user, city):
    return make_user("bussgeld", city, Role.PROCEEDINGS, first_name="Bea", last_name="Bußgeld")


@pytest.fixture
def police_clerk(make_user, police):
    return make_user("bussgeld-polizei", police, Role.PROCEEDINGS)


def person(clerk, family_name="Muster", **overrides):
    data = {
        "family_name": family_name,
        "given_names": "Max",
        "date_of_birth": dt.date(1990, 5, 17),
        "place_of_birth": "Dortmund",
        "street": "Kampstraße 1",
        "postcode": "44137",
        "city": "Dortmund",
        **overrides,
    }
    with authority_scope(clerk.authority):
        return services.person_create(user=clerk, data=data)


def open_case(clerk, catalogue, family_name="Muster", offence_day="2025-03-10"):
    concerned = person(clerk, family_name)
    with authority_scope(clerk.authority):
        return services.case_open(
            user=clerk,
            category=catalogue["begging"],
            offence_at=at(offence_day, 14),
            offence_place="Katharinentreppe",
            offence_description="Aggressives Betteln gegenüber Passanten",
            person=concerned,
            now=at(offence_day, 18),
        )


def step(clerk, case, kind, on, reason="", **data):
    with authority_scope(clerk.authority):
        return services.case_step(
            user=clerk,
            case=case,
            step=StepInput(kind=kind, on=d(on), reason=reason, data=data),
            now=at(on, 16),
        )


def draft(clerk, case, day="2025-04-20", fine="35"):
    with authority_scope(clerk.authority):
        return services.notice_draft(user=clerk, case=case, fine=fine, evidence="Zeuge: KOD", now=at(day))


def approve(clerk, notice, day="2025-04-22"):
    with authority_scope(clerk.authority):
        return services.notice_approve(user=clerk, notice=notice, issued_on=d(day), now=at(day, 15))


def loaded(clerk, case) -> Case:
    with authority_scope(clerk.authority):
        return selectors.case_file(user=clerk, pk=case.pk)


@pytest.fixture
def final_case(clerk, catalogue):
    """Heard 20.03.2025, notice issued 22.04., served 25.04., final 10.05., 30 € paid 20.05.,
    reminded 10.06.2025."""
    case = open_case(clerk, catalogue)
    step(clerk, case, EventKind.HEARING_SENT, "2025-03-20")
    approve(clerk, draft(clerk, case))
    step(clerk, case, EventKind.NOTICE_SERVED, "2025-04-25")
    with unscoped():
        services.daily_run(today=d("2025-05-10"))
    with authority_scope(clerk.authority):
        services.payment_record(
            user=clerk, case=case, amount="30", paid_on=d("2025-05-20"), now=at("2025-05-20")
        )
    step(clerk, case, EventKind.REMINDER_SENT, "2025-06-10", pay_by="2025-06-17")
    return case


def test_hearing_letter_names_the_accusation_the_rights_and_the_reply_date(clerk, catalogue):
    case = open_case(clerk, catalogue)
    step(clerk, case, EventKind.HEARING_SENT, "2025-03-20")
    with authority_scope(clerk.authority):
        letter = letters.hearing_letter(loaded(clerk, case), sent_on=d("2025-03-20"))
        text = flat(text_of(letters.letter_pdf(letter)))
    # Two weeks: 03.04.2025, a Thursday and a working day.
    assert letters.hearing_reply_by(d("2025-03-20")) == d("2025-04-03")
    for expected in (
        case.file_number,
        "Anhörung im Bußgeldverfahren (§ 55 OWiG)",
        "Max Muster",
        "Kampstraße 1",
        "44137 Dortmund",
        "am 10.03.2025 gegen 14:00 Uhr in Katharinentreppe",
        "Aggressives Betteln gegenüber Passanten",
        "OBV Dortmund",
        "1.000,00 €",
        "nicht zur Sache auszusagen",
        "§ 136 Abs. 1 Satz 2 StPO",
        "bis zum 03.04.2025",
        "20.03.2025",
    ):
        assert expected in text, expected
    # A reply date on a Saturday moves to Monday (§ 43 Abs. 2 StPO): 22.03.2025 + 14 = Sat 05.04.
    assert letters.hearing_reply_by(d("2025-03-22")) == d("2025-04-07")


def test_reply_and_reminder_periods_are_the_citys_choice(settings):
    settings.LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS = 7
    settings.LAGEBILD_PROCEEDINGS_REMINDER_DAYS = 10
    assert letters.hearing_reply_by(d("2025-03-20")) == d("2025-03-27")
    # 10.06.2025 + 10 days = Friday 20.06.2025 (Corpus Christi, 19.06., is the day before).
    assert letters.reminder_pay_by(d("2025-06-10")) == d("2025-06-20")
    # Easter Monday 21.04.2025 is a holiday in NRW: 11.04. + 10 days moves to Tuesday 22.04.
    assert letters.reminder_pay_by(d("2025-04-11")) == d("2025-04-22")


def positions_mm(pdf: bytes, page: int = 0) -> dict[str, tuple[float, float]]:
    """Each text run of a page with its baseline as (mm from the top edge, mm from the left edge)."""
    reader = PdfReader(io.BytesIO(pdf))
    height = float(reader.pages[page].mediabox.height)
    found: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, _font, _size):  # type: ignore[no-untyped-def]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip():
            found.setdefault(text.strip(), ((height - y) / 72 * 25.4, x / 72 * 25.4))

    reader.pages[page].extract_text(visitor_text=visit)
    return found


def test_the_address_sits_in_the_window_of_a_din_5008_form_b_envelope(clerk, catalogue):
    case = open_case(clerk, catalogue)
    with authority_scope(clerk.authority):
        pdf = letters.letter_pdf(letters.hearing_letter(loaded(clerk, case), sent_on=d("2025-03-20")))
    found = positions_mm(pdf)
    # Address field: 45-90 mm from the top, 20-105 mm from the left; the recipient below the
    # 17.7 mm note zone (from 62.7 mm), the return line inside that zone.
    for line in ("Max Muster", "Kampstraße 1", "44137 Dortmund"):
        top, left = found[line]
        assert 62.7 + 3 <= top <= 90 and 20 <= left <= 105, (line, top, left)
    top, left = next(v for k, v in found.items() if k.endswith("Bußgeldstelle"))
    assert 45 < top < 62.7 and 20 <= left <= 105


def test_notice_letter_prints_only_the_approved_contents(clerk, catalogue):
    case = open_case(clerk, catalogue)
    step(clerk, case, EventKind.HEARING_SENT, "2025-03-20")
    notice = draft(clerk, case)
    with pytest.raises(ValidationError) as refused:
        letters.notice_letter(notice)
    assert "nicht freigegeben" in refused.value.message_dict["notice"][0]
    notice = approve(clerk, notice)
    text = flat(text_of(letters.letter_pdf(letters.notice_letter(notice))))
    for expected in (
        "Bußgeldbescheid",
        case.file_number,
        "Erlassen am",
        "22.04.2025",
        "Max Muster",
        "geboren am 17.05.1990 in Dortmund",
        "Aggressives Betteln gegenüber Passanten",
        "OBV Dortmund",
        "Zeuge: KOD",
        "Geldbuße 35,00 €",
        "25,00 €",
        "3,50 €",
        "Gesamtbetrag 63,50 €",
        "Einspruch",
        "§ 67 OWiG",
        "zwei Wochen nach Zustellung",
        "Erzwingungshaft",
        f"Verwendungszweck: {case.file_number}",
    ):
        assert expected in text, expected
    # The letter comes from the frozen contents, not from the case row: a later change of the case's
    # description does not reach the printed notice.
    with authority_scope(clerk.authority):
        Case.objects.filter(pk=case.pk).update(offence_description="GEÄNDERT")
        stored = Notice.objects.get(pk=notice.pk)
    assert "GEÄNDERT" not in text_of(letters.letter_pdf(letters.notice_letter(stored)))


def give_cautions(world, kod):
    """Two cautions for one incident: one accepted (pay within the week), one refused."""
    with authority_scope(kod.authority):
        incident = field_services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(hours=2),
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=[
                MeasureInput(type="caution_fee", amount=Decimal("35")),
                MeasureInput(type="caution_fee", amount=Decimal("35")),
            ],
        )
        first, second = incident.measures.order_by("pk")
        open_one = services.caution_give(
            user=kod, measure=first, informed_of_right_to_refuse=True, consented=True, paid_on_spot=False
        )
        refused = services.caution_give(
            user=kod, measure=second, informed_of_right_to_refuse=True, consented=False, paid_on_spot=False
        )
    return open_one, refused


def test_caution_certificate_states_amount_payment_no_costs_and_the_right_to_refuse(world, kod):
    open_one, refused = give_cautions(world, kod)
    text = flat(text_of(letters.letter_pdf(letters.caution_certificate(open_one))))
    given = timezone.localtime(open_one.given_at)
    for expected in (
        open_one.certificate_number,
        "Verwarnungsgeld 35,00 €",
        f"Zahlbar bis {open_one.pay_by:%d.%m.%Y}",
        f"{given:%d.%m.%Y}",
        "über ihr Weigerungsrecht belehrt",
        "§ 56 Abs. 2 Satz 1 OWiG",
        "gebührenfrei",
        "§ 56 Abs. 3 Satz 2 OWiG",
    ):
        assert expected in text, expected
    assert open_one.pay_by == given.date() + dt.timedelta(weeks=1)
    with pytest.raises(ValidationError):
        letters.caution_certificate(refused)


def test_reminder_names_what_is_still_owed_and_the_new_date(clerk, final_case):
    with authority_scope(clerk.authority):
        case = loaded(clerk, final_case)
        text = flat(text_of(letters.letter_pdf(letters.reminder_letter(case, sent_on=d("2025-06-10")))))
    for expected in (
        "Zahlungserinnerung (Mahnung)",
        case.file_number,
        "Festgesetzter Gesamtbetrag 63,50 €",
        "Bereits gezahlt 30,00 €",
        "Noch offen 33,50 €",
        "bis zum 17.06.2025",  # one week, a Tuesday
        "26.05.2025",  # due date after finality (§ 95 Abs. 1 OWiG)
        "§ 96 OWiG",
    ):
        assert expected in text, expected


def test_no_reminder_before_a_final_notice(clerk, catalogue):
    case = open_case(clerk, catalogue)
    with authority_scope(clerk.authority), pytest.raises(ValidationError) as refused:
        letters.reminder_letter(loaded(clerk, case), sent_on=d("2025-06-10"))
    assert "rechtskräftigen Bescheid" in refused.value.message_dict["case"][0]


def test_day_output_holds_exactly_that_days_letters_of_the_own_authority(
    clerk, police_clerk, catalogue, final_case
):
    other_day = open_case(clerk, catalogue, "Anderstag")
    step(clerk, other_day, EventKind.HEARING_SENT, "2025-03-21")
    same_day = open_case(clerk, catalogue, "Zweitfall")
    step(clerk, same_day, EventKind.HEARING_SENT, "2025-03-20")
    police_case = open_case(police_clerk, catalogue, "Polizeifall")
    step(police_clerk, police_case, EventKind.HEARING_SENT, "2025-03-20")

    with authority_scope(clerk.authority):
        pdf, count = letters.day_output_pdf(d("2025-03-20"), authority=clerk.authority)
    reader = PdfReader(io.BytesIO(pdf))
    text = flat(text_of(pdf))
    assert count == 2
    assert text.count("Ihnen wird vorgeworfen") == 2
    assert "Max Muster" in text and "Max Zweitfall" in text
    assert "Anderstag" not in text and "Polizeifall" not in text
    # Each letter starts on its own page: the second letter's page begins with the sender.
    starts = [
        i for i, page in enumerate(reader.pages) if "Anhörung im Bußgeldverfahren" in page.extract_text()
    ]
    assert len(starts) == 2 and starts[0] == 0

    with authority_scope(clerk.authority):
        notices, n = letters.day_output_pdf(d("2025-04-22"), authority=clerk.authority)
        reminders, r = letters.day_output_pdf(d("2025-06-10"), authority=clerk.authority)
        nothing, zero = letters.day_output_pdf(d("2025-06-11"), authority=clerk.authority)
    assert n == 1 and "Gesamtbetrag 63,50 €" in flat(text_of(notices))
    assert r == 1 and "Noch offen 33,50 €" in flat(text_of(reminders))
    assert zero == 0 and "keine Schreiben" in text_of(nothing)

    with authority_scope(police_clerk.authority):
        police_pdf, police_count = letters.day_output_pdf(d("2025-03-20"), authority=police_clerk.authority)
    assert police_count == 1 and "Muster" not in text_of(police_pdf)


def assert_pdfa_style(pdf: bytes) -> PdfReader:
    """Embedded fonts, document information, no encryption, no scripts, no open action, no files."""
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted
    root = reader.trailer["/Root"]
    for key in ("/OpenAction", "/AA", "/AcroForm"):
        assert key not in root, key
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        assert "/JavaScript" not in names and "/EmbeddedFiles" not in names
    assert b"/JavaScript" not in pdf and b"/JS " not in pdf and b"/Launch" not in pdf
    fonts = 0
    for page in reader.pages:
        assert "/AA" not in page
        for annotation in page.get("/Annots") or []:
            assert annotation.get_object().get("/Subtype") != "/Link"
        resources = page["/Resources"]
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert descriptor is not None, font.get("/BaseFont")
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            fonts += 1
    assert fonts > 0
    info = reader.metadata
    assert info.title and info.author and info.subject and info.creator
    assert info.get("/Keywords") and info.creation_date is not None
    assert root.get("/Lang") == "de-DE"
    return reader


def test_case_file_export_pdf_and_json_validate_and_are_logged(clerk, final_case):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    with authority_scope(clerk.authority):
        body, name, content_type = export.export_case(
            user=clerk,
            pk=final_case.pk,
            recipient="Staatsanwaltschaft Dortmund",
            purpose="Abgabe nach Einspruch (§ 69 Abs. 3 OWiG)",
            fmt="json",
            now=at("2025-06-12"),
        )
    assert content_type == "application/json" and name.endswith(".json")
    data = json.loads(body)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert data["verfahren"]["aktenzeichen"] == final_case.file_number
    assert data["nachricht"]["empfaenger"] == "Staatsanwaltschaft Dortmund"
    assert [e["art"] for e in data["ereignisse"]] == [
        "opened",
        "hearing_sent",
        "notice_drafted",
        "notice_issued",
        "notice_served",
        "became_final",
        "payment",
        "reminder_sent",
    ]
    assert data["bescheide"][0]["status"] == "erlassen" and data["bescheide"][0]["gesamtbetrag"] == "63.50"
    assert data["summen"] == {"festgesetzt": "63.50", "gezahlt": "30.00", "offen": "33.50"}
    assert {p["rolle"] for p in data["beteiligte"]} == {"Verwaltungsbehörde", "Betroffener"}
    # A broken data set is caught by the schema (the test is not vacuous).
    broken = {**data, "summen": {**data["summen"], "offen": "33,50"}}
    assert list(validator.iter_errors(broken))

    with authority_scope(clerk.authority):
        pdf, name, content_type = export.export_case(
            user=clerk,
            pk=final_case.pk,
            recipient="Amtsgericht Dortmund",
            purpose="Vorlage an das Gericht",
            fmt="pdf",
            now=at("2025-06-12"),
        )
    assert content_type == "application/pdf" and name.endswith(".pdf")
    reader = assert_pdfa_style(pdf)
    assert reader.metadata.title == f"Verfahrensakte {final_case.file_number}"
    text = flat(text_of(pdf))
    for expected in (
        final_case.file_number,
        "Amtsgericht Dortmund",
        "Max Muster",
        "Anhörung versandt (§ 55 OWiG)",
        "Mahnung versandt",
        "63,50 €",
        "33,50 €",
        "Zeuge: KOD",
    ):
        assert expected in text, expected

    logged = AuditEvent.objects.filter(action="proceedings.case.exported", object_id=str(final_case.pk))
    assert logged.count() == 2
    details = [entry.detail for entry in logged.order_by("pk")]
    assert [(x["recipient"], x["format"]) for x in details] == [
        ("Staatsanwaltschaft Dortmund", "json"),
        ("Amtsgericht Dortmund", "pdf"),
    ]
    assert logged.order_by("pk").first().purpose == "Abgabe nach Einspruch (§ 69 Abs. 3 OWiG)"

    with authority_scope(clerk.authority), pytest.raises(ValidationError):
        export.export_case(user=clerk, pk=final_case.pk, recipient="", purpose="", fmt="pdf")


def test_letters_are_pdfa_style_too(clerk, final_case):
    with authority_scope(clerk.authority):
        case = loaded(clerk, final_case)
        assert_pdfa_style(letters.letter_pdf(letters.hearing_letter(case, sent_on=d("2025-03-20"))))


def test_views_serve_the_own_authority_only(client, clerk, police_clerk, kod, final_case):
    urls = [
        reverse("proceedings:letter-hearing", args=[final_case.pk]),
        reverse("proceedings:letter-notice", args=[final_case.pk]),
        reverse("proceedings:letter-reminder", args=[final_case.pk]),
        reverse("proceedings:case-export", args=[final_case.pk]),
    ]
    client.force_login(clerk)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get(urls[0])["Content-Type"] == "application/pdf"
    assert "Bescheid" in text_of(client.get(urls[1]).content)
    day = client.get(reverse("proceedings:letters-day"), {"tag": "2025-03-20"})
    assert day.status_code == 200 and "Max Muster" in text_of(day.content)
    assert client.get(reverse("proceedings:letters-day"), {"tag": "gestern"}).status_code == 400

    exported = client.post(
        urls[3], {"recipient": "staatsanwaltschaft", "purpose": "Abgabe nach Einspruch", "format": "json"}
    )
    assert exported.status_code == 200 and json.loads(exported.content)["nachricht"]["empfaenger"] == (
        "Staatsanwaltschaft"
    )
    assert client.post(urls[3], {"recipient": "other", "purpose": "x", "format": "pdf"}).status_code == 400
    assert AuditEvent.objects.filter(action="proceedings.case.exported").count() == 1

    # Another authority's case answers like a missing one; the field role gets 403.
    missing = final_case.pk + 100000
    client.force_login(police_clerk)
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.get(url.replace(str(final_case.pk), str(missing))).status_code == 404
    police_day = client.get(reverse("proceedings:letters-day"), {"tag": "2025-03-20"})
    assert "Muster" not in text_of(police_day.content)
    client.force_login(kod)
    for url in [*urls, reverse("proceedings:letters-day")]:
        assert client.get(url).status_code == 403, url
    assert AuditEvent.objects.filter(action="proceedings.case.exported").count() == 1


def test_notice_view_refuses_a_draft(client, clerk, catalogue):
    case = open_case(clerk, catalogue)
    step(clerk, case, EventKind.HEARING_SENT, "2025-03-20")
    draft(clerk, case)
    client.force_login(clerk)
    response = client.get(reverse("proceedings:letter-notice", args=[case.pk]))
    assert response.status_code == 409 and "nicht freigegeben" in response.content.decode()
    # No final notice yet: no reminder either.
    assert client.get(reverse("proceedings:letter-reminder", args=[case.pk])).status_code == 409


def test_selector_refuses_other_roles(kod, final_case):
    with authority_scope(kod.authority), pytest.raises(PermissionDenied):
        export.export_case(user=kod, pk=final_case.pk, recipient="StA", purpose="Abgabe", fmt="json")


def test_security_matrix_for_the_document_routes(world, make_user, city, police, now, recordings_dir):  # noqa: F811
    """The matrix (tests/test_security_matrix.py) for this part's routes only: quick to run alone."""
    # security_matrix first: it imports the part modules itself (importing a part first is circular).
    from . import security_matrix as _spec  # noqa: F401
    from . import security_matrix_proceedings_documents as entries
    from .test_security_matrix import run_matrix, seed

    failures, counted, _figures = run_matrix(
        seed(world, make_user, city, police, now), only=set(entries.ROUTES), writes=False
    )
    assert not failures, "\n".join(failures[:50])
    assert counted["requests"] > 0 and counted["not-yours comparisons"] > 0


def test_caution_certificate_view_for_the_own_authority_only(client, world, kod, clerk, police_clerk):
    open_one, refused = give_cautions(world, kod)
    url = reverse("proceedings:letter-caution", args=[open_one.pk])
    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 200 and open_one.certificate_number in text_of(response.content)
    assert client.get(reverse("proceedings:letter-caution", args=[refused.pk])).status_code == 409
    client.force_login(police_clerk)
    assert client.get(url).status_code == 404
    assert client.get(reverse("proceedings:letter-caution", args=[open_one.pk + 100000])).status_code == 404
    # The field hands the certificate over on the spot (tests/test_proceedings_cautions_web.py).
    client.force_login(kod)
    assert client.get(url).status_code == 200
