"""Public reporting without login: form, photos, duplicates, abuse protection, status page."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import ExifTags, Image

from lagebild.citizen import photos
from lagebild.citizen import services as intake
from lagebild.citizen.models import Photo, RateCounter, Report, ServiceAttribute, ServiceType
from lagebild.core.scoping import authority_scope, unscoped

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE, OUTSIDE

BERLIN = ZoneInfo("Europe/Berlin")
NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)
NIGHT = dt.datetime(2026, 11, 20, 23, 30, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def jpeg_with_gps(size=(400, 300), color=(200, 50, 50), orientation=6) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Spionagekamera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 53.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (7.0, 27.0, 49.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def png(size=(200, 100), color=(255, 255, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(data: bytes, name: str = "foto.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def form_data(**extra) -> dict:
    data = {
        "lat": f"{INSIDE[0]}",
        "lon": f"{INSIDE[1]}",
        "address_text": "",
        "description": "Am Eingang werden Passanten bedrängt.",
        "attr_personen": "3",
        "attr_tageszeit": ["abends", "nachts"],
        "reporter_name": "",
        "reporter_email": "",
        "website": "",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def all_reports() -> list[Report]:
    with unscoped():
        return list(Report.objects.order_by("id"))


def report_with_photo(service: ServiceType, when: dt.datetime, data: bytes, name: str = "f.jpg") -> Photo:
    report = intake.report_create(
        service=service,
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        attributes={"personen": 2},
        requested_at=when,
    )
    prepared, errors = photos.prepare_uploads([upload(data, name)])
    assert errors == []
    (photo,) = photos.store_photos(report, prepared)
    return photo


# --- the happy path -------------------------------------------------------------------------


def test_anonymous_report_with_answer_and_gps_photo_is_stored_clean_and_hidden_until_released(
    client, services, private_dir
):
    page = client.get("/melden/betteln/")
    assert page.status_code == 200
    assert "Wie viele Personen ungefähr?" in page.content.decode()

    response = client.post("/melden/betteln/", form_data(photos=[upload(jpeg_with_gps())], confirm_new="1"))
    assert response.status_code == 302, response.content.decode()[:2000]
    (report,) = all_reports()
    assert response["Location"] == f"/melden/eingegangen/{report.public_token}/"
    assert report.attributes == {"personen": 3, "tageszeit": ["abends", "nachts"]}
    assert report.reporter_name == "" and report.reporter_email == "" and report.channel == "web"

    (photo,) = Photo.objects.filter(report_id=report.pk)
    path = private_dir / "private" / "photos" / str(report.pk) / photo.file.split("/")[-1]
    assert path.exists() and photos.photo_path(photo) == path.resolve()
    stored = path.read_bytes()
    assert b"Exif" not in stored and b"Spionagekamera" not in stored
    with Image.open(path) as image:
        assert not image.getexif() and "exif" not in image.info
        # Turned upright by the EXIF orientation (6 = rotate 90°) before the tag was dropped.
        assert image.size == (300, 400) and (photo.width, photo.height) == (300, 400)

    confirmation = client.get(response["Location"]).content.decode()
    assert f"/melden/status/{report.public_token}/" in confirmation

    anonymous = Client()
    assert anonymous.get(f"/melden/fotos/{photo.pk}/").status_code == 404
    status_page = anonymous.get(f"/melden/status/{report.public_token}/").content.decode()
    assert f"/melden/fotos/{photo.pk}/" not in status_page

    photos.photo_release(photo)
    released = anonymous.get(f"/melden/fotos/{photo.pk}/")
    assert released.status_code == 200 and released["Content-Type"] == "image/jpeg"
    assert "private" in released["Cache-Control"]
    assert (
        f"/melden/fotos/{photo.pk}/"
        in anonymous.get(f"/melden/status/{report.public_token}/").content.decode()
    )


def test_redaction_blacks_out_the_rectangle_in_the_stored_file(services, after_november_2026_reports):
    photo = report_with_photo(services["begging"], NOON, png((200, 100)), "weiss.png")
    assert photo.content_type == "image/png"
    photos.photo_redact(photo, [{"x": 0.5, "y": 0, "w": 0.5, "h": 0.5}])
    with Image.open(photos.photo_path(photo)) as image:
        rgb = image.convert("RGB")
        assert rgb.getpixel((150, 25)) == (0, 0, 0)  # inside the rectangle
        assert rgb.getpixel((199, 0)) == (0, 0, 0)  # its corner
        assert rgb.getpixel((50, 25)) == (255, 255, 255)  # left of it
        assert rgb.getpixel((150, 75)) == (255, 255, 255)  # below it
    photo.refresh_from_db()
    assert photo.redactions == [{"x": 0.5, "y": 0.0, "w": 0.5, "h": 0.5}]

    jpeg = report_with_photo(services["begging"], NOON, jpeg_with_gps(color=(250, 250, 250), orientation=1))
    photos.photo_redact(jpeg, [(0.25, 0.25, 0.5, 0.5)])
    with Image.open(photos.photo_path(jpeg)) as image:
        assert max(image.convert("RGB").getpixel((200, 150))) < 16
        assert min(image.convert("RGB").getpixel((10, 10))) > 230


def test_redaction_refuses_nonsense_rectangles(services, after_november_2026_reports):
    photo = report_with_photo(services["begging"], NOON, png())
    for bad in ([{"x": "a", "y": 0, "w": 1, "h": 1}], [(2, 0, 1, 1)], [(0, 0, 0, 1)], ["kaputt"]):
        with pytest.raises(Exception) as excinfo:
            photos.photo_redact(photo, bad)
        assert "redactions" in str(excinfo.value.message_dict)


def test_all_six_question_types_render_as_fitting_inputs_and_are_stored(client, services):
    service = ServiceType.objects.create(code="test-alle", name="Alle Fragen", group="Test")
    D = ServiceAttribute.Datatype
    specs = [
        ("kennzeichen", D.STRING, {}),
        ("anzahl", D.NUMBER, {}),
        ("wann", D.DATETIME, {}),
        ("details", D.TEXT, {}),
        (
            "groesse",
            D.SINGLE,
            {"values": [{"key": "klein", "name": "klein"}, {"key": "gross", "name": "groß"}]},
        ),
        ("wo", D.MULTI, {"values": [{"key": "park", "name": "Park"}, {"key": "strasse", "name": "Straße"}]}),
    ]
    for order, (code, datatype, extra) in enumerate(specs, start=1):
        ServiceAttribute.objects.create(
            service=service, code=code, description=f"Frage {code}", datatype=datatype, order=order, **extra
        )
    html = client.get("/melden/test-alle/").content.decode()
    assert re.search(r'<input type="text" name="attr_kennzeichen"', html)
    assert re.search(r'<input type="text" name="attr_anzahl"[^>]*inputmode="decimal"', html)
    assert re.search(r'<input type="datetime-local" name="attr_wann"', html)
    assert re.search(r'<textarea name="attr_details"', html)
    assert re.search(r'<select name="attr_groesse"', html)
    assert html.count('type="checkbox" name="attr_wo"') == 2
    assert '<label for="id_attr_wann">Frage wann' in html

    response = client.post(
        "/melden/test-alle/",
        form_data(
            attr_personen=None,
            attr_tageszeit=None,
            attr_kennzeichen="DO-XY 1",
            attr_anzahl="2,5",
            attr_wann="2026-11-20T14:30",
            attr_details="Zeile 1\nZeile 2",
            attr_groesse="gross",
            attr_wo=["park", "strasse"],
        ),
    )
    assert response.status_code == 302
    (report,) = all_reports()
    assert report.attributes == {
        "kennzeichen": "DO-XY 1",
        "anzahl": 2.5,
        "wann": "2026-11-20T14:30:00+01:00",
        "details": "Zeile 1\nZeile 2",
        "groesse": "gross",
        "wo": ["park", "strasse"],
    }


# --- acute categories ---------------------------------------------------------------------------


def test_acute_category_shows_emergency_numbers_instead_of_the_form_and_refuses_posts(client, services):
    page = client.get("/melden/gewalt/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Notruf 110" in html and "0231 50-28888" in html and 'href="tel:110"' in html
    assert "Akute Gefahr: Rufen Sie sofort den Notruf 110 an." in html
    assert 'id="report-form"' not in html

    refused = client.post("/melden/gewalt/", form_data(attr_personen=None, confirm_new="1"))
    assert refused.status_code == 405 and "Notruf 110" in refused.content.decode()
    assert all_reports() == []

    start = client.get("/melden/").content.decode()
    assert "Akut: bitte anrufen" in start and "Belästigung" in start and "Aggressives Betteln" in start


# --- duplicates ------------------------------------------------------------------------------------


def test_nearby_open_report_is_shown_and_supporting_it_counts_instead_of_a_duplicate(client, services):
    existing = intake.report_create(
        service=services["begging"],
        channel="web",
        lat=INSIDE[0] + 0.0005,  # about 55 m north
        lon=INSIDE[1],
        description="Vertrauliche Beschreibung mit Details zu Personen",
        attributes={"personen": 4},
        requested_at=timezone.now() - dt.timedelta(days=2),
    )

    fragment = client.get("/melden/betteln/in-der-naehe/", {"lat": INSIDE[0], "lon": INSIDE[1]})
    html = fragment.content.decode()
    assert "Diese Meldung unterstützen" in html and f'value="{existing.pk}"' in html
    assert "etwa 56 m entfernt" in html or "etwa 55 m entfernt" in html
    # Reports about people: no text of other reporters leaves the back office.
    assert "Vertrauliche" not in html
    far = client.get("/melden/betteln/in-der-naehe/", {"lat": INSIDE[0] + 0.01, "lon": INSIDE[1]})
    assert "unterstützen" not in far.content.decode()
    assert client.get("/melden/betteln/in-der-naehe/", {"lat": "x", "lon": "\x00"}).status_code == 200

    # Without JavaScript the server stops the first submission and offers both ways.
    first = client.post("/melden/betteln/", form_data(photos=[upload(jpeg_with_gps())]))
    html = first.content.decode()
    assert first.status_code == 200
    assert "Trotzdem neu melden" in html and "Diese Meldung unterstützen" in html
    assert "Ihre Fotos wurden noch nicht übernommen" in html
    assert len(all_reports()) == 1

    supported = client.post("/melden/unterstuetzen/", form_data(support=str(existing.pk)))
    assert supported.status_code == 200 and "Danke für Ihre Unterstützung" in supported.content.decode()
    with unscoped():
        existing.refresh_from_db()
    assert existing.supporters == 1 and len(all_reports()) == 1

    assert client.post("/melden/unterstuetzen/", {"support": "999999"}).status_code == 404
    assert client.post("/melden/unterstuetzen/", {"support": "abc"}).status_code == 404

    anyway = client.post("/melden/betteln/", form_data(confirm_new="1"))
    assert anyway.status_code == 302 and len(all_reports()) == 2


def test_nearby_reports_of_other_categories_or_closed_ones_are_not_offered(client, services):
    intake.report_create(
        service=services["waste"],  # forwarded to the waste company at once, so closed
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        requested_at=timezone.now() - dt.timedelta(hours=1),
    )
    html = client.get("/melden/betteln/in-der-naehe/", {"lat": INSIDE[0], "lon": INSIDE[1]}).content.decode()
    assert "unterstützen" not in html
    assert client.post("/melden/betteln/", form_data()).status_code == 302


# --- abuse protection -------------------------------------------------------------------------------


def test_honeypot_pretends_success_and_stores_nothing(client, services):
    response = client.post("/melden/betteln/", form_data(website="http://spam.example", confirm_new="1"))
    assert response.status_code == 302 and response["Location"] == "/melden/danke/"
    assert client.get("/melden/danke/").status_code == 200
    assert all_reports() == []
    html = client.get("/melden/betteln/").content.decode()
    assert re.search(r'<div class="hp-field" aria-hidden="true">', html)
    assert re.search(r'name="website"[^>]*tabindex="-1"', html)


def test_rate_limit_answers_429_in_german_and_trusts_forwarded_for_only_from_listed_proxies(
    client, services, settings
):
    settings.LAGEBILD_RATE_LIMITS = {"report": ((2, 600),), "post": ((100, 600),)}
    settings.LAGEBILD_TRUSTED_PROXIES = ""
    for _ in range(2):
        assert client.post("/melden/betteln/", form_data(confirm_new="1")).status_code == 302
    blocked = client.post("/melden/betteln/", form_data(confirm_new="1"), HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert blocked.status_code == 429
    assert "Zu viele Meldungen" in blocked.content.decode() and int(blocked["Retry-After"]) > 0
    assert len(all_reports()) == 2

    # Behind a listed proxy the forwarded address counts, so another client may report.
    settings.LAGEBILD_TRUSTED_PROXIES = "127.0.0.1"
    other = client.post("/melden/betteln/", form_data(confirm_new="1"), HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert other.status_code == 302 and len(all_reports()) == 3
    assert RateCounter.objects.filter(key__endswith=":203.0.113.9").exists()

    # Every POST counts in its own bucket, so invalid submissions cannot hammer for free.
    settings.LAGEBILD_RATE_LIMITS = {"report": (), "post": ((1, 600),)}
    settings.LAGEBILD_TRUSTED_PROXIES = ""
    fresh = Client(REMOTE_ADDR="198.51.100.7")
    assert fresh.post("/melden/betteln/", {}).status_code == 200
    assert fresh.post("/melden/betteln/", {}).status_code == 429


# --- status page and mail -----------------------------------------------------------------------------


def test_status_page_shows_public_notes_but_never_internal_notes_or_reporter_data(
    client, services, kod_lead, as_user, after_november_2026_reports
):
    report = intake.report_create(
        service=services["begging"],
        channel="web",
        lat=INSIDE[0],
        lon=INSIDE[1],
        description="Beschreibung nur für das Amt",
        attributes={"personen": 2},
        reporter_name="Erika Mustermann",
        reporter_email="erika@example.org",
        requested_at=NOON,
    )
    with as_user(kod_lead):
        intake.report_transition(
            user=kod_lead,
            report=report,
            to_status="in_progress",
            public_note="Der Ordnungsdienst schaut heute Abend vorbei.",
            internal_note="Bekannte Person, Vorsicht",
        )
    response = client.get(f"/melden/status/{report.public_token}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "In Bearbeitung" in html and "Der Ordnungsdienst schaut heute Abend vorbei." in html
    assert "Ihre Meldung ist eingegangen." in html and "Aggressives Betteln" in html
    assert "20. November 2026" in html
    for secret in ("Bekannte Person", "erika@example.org", "Erika", "Beschreibung nur für das Amt"):
        assert secret not in html
    # A report about people: only a coarsened point (centre of a 100 m cell) is published.
    assert "etwa 100 m genau" in html
    assert f"{INSIDE[0]:.6f}" not in html
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert client.get("/melden/status/unbekannt/").status_code == 404


def state_of(client, report) -> tuple[str, list[str], str]:
    """Label, state sentences and the status card of a reporter's status page."""
    html = client.get(f"/melden/status/{report.public_token}/").content.decode()
    card = re.search(r'<section class="card status-card".*?</section>', html, re.S).group(0)
    label = re.search(r'<span class="report-status[^"]*">([^<]*)</span>', card).group(1)
    return label, re.findall(r'<p class="state-sentence">([^<]*)</p>', card), card


def test_status_page_states_one_thing_for_forwarded_closed_and_forwarded_then_closed_reports(
    client, services, kod_lead, as_user, after_november_2026_reports
):
    def submit(service):
        return intake.report_create(
            service=service,
            channel="web",
            lat=INSIDE[0],
            lon=INSIDE[1],
            attributes={"personen": 2},
            requested_at=NOON,
        )

    forwarded = submit(services["waste"])  # routed to the EDG, outside Lagebild: forwarded on receipt
    label, sentences, card = state_of(client, forwarded)
    assert label == "Weitergeleitet" and len(sentences) == 1
    assert sentences[0] == (
        "Ihre Meldung wurde am 20. November 2026 an die zuständige Stelle weitergeleitet "
        "(EDG Entsorgung) und wird dort weiter bearbeitet."
    )
    # Forwarded is not done: no closing date beside it, nothing that says "erledigt".
    assert "Abgeschlossen" not in card and "erledigt" not in card
    # The page shown after sending names the office as the history does.
    done = client.get(f"/melden/eingegangen/{forwarded.public_token}/").content.decode()
    assert "Für dieses Anliegen ist eine andere Stelle zuständig: EDG Entsorgung." in done
    assert (
        "Weitergeleitet an: EDG Entsorgung."
        in client.get(f"/melden/status/{forwarded.public_token}/").content.decode()
    )

    closed = submit(services["begging"])
    with as_user(kod_lead):
        intake.report_transition(user=kod_lead, report=closed, to_status="resolved")
        # The EDG reports back: the forwarded report is closed as resolved.
        intake.report_transition(user=kod_lead, report=forwarded, to_status="resolved")
    label, sentences, card = state_of(client, closed)
    assert (label, sentences) == ("Erledigt", ["Ihre Meldung wurde am 27. November 2026 erledigt."])
    assert "weitergeleitet" not in card
    label, sentences, card = state_of(client, forwarded)
    assert label == "Erledigt" and sentences == [
        "Ihre Meldung wurde an die zuständige Stelle weitergeleitet (EDG Entsorgung) "
        "und am 27. November 2026 erledigt."
    ]
    assert "Das heißt nicht" not in card and "Abgeschlossen" not in card


def test_hidden_precision_publishes_no_location(client, services):
    services["begging"].publish_precision = ServiceType.Precision.HIDDEN
    services["begging"].save()
    report = intake.report_create(
        service=services["begging"], channel="web", lat=INSIDE[0], lon=INSIDE[1], attributes={"personen": 1}
    )
    html = client.get(f"/melden/status/{report.public_token}/").content.decode()
    assert "nicht veröffentlicht" in html and "data-lagebild-map" not in html


def test_mail_with_the_status_link_and_a_broken_mail_server_never_fails_the_report(
    client, services, mailoutbox, settings
):
    response = client.post(
        "/melden/betteln/",
        form_data(reporter_email="buerger@example.org", reporter_name="Max", confirm_new="1"),
    )
    assert response.status_code == 302 and response["Location"].endswith("?mail=1")
    (report,) = all_reports()
    (mail,) = mailoutbox
    assert mail.to == ["buerger@example.org"]
    assert f"http://testserver/melden/status/{report.public_token}/" in mail.body
    assert "Guten Tag Max," in mail.body
    assert "per E-Mail" in client.get(response["Location"]).content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    second = client.post("/melden/betteln/", form_data(reporter_email="buerger@example.org", confirm_new="1"))
    assert second.status_code == 302 and not second["Location"].endswith("?mail=1")
    assert len(all_reports()) == 2


# --- bad input never gives a 500 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"description": "x" * 100_000}, "viel zu lang"),
        ({"description": "y" * 4001}, "höchstens 4000 Zeichen"),
        ({"lat": "abc", "lon": "7,46"}, "Breite ist keine Zahl"),
        ({"lat": "999", "lon": "7"}, "Breite muss zwischen -90 und 90 liegen"),
        ({"lat": str(OUTSIDE[0]), "lon": str(OUTSIDE[1])}, "außerhalb"),
        ({"lat": "", "lon": ""}, "Bitte den Ort angeben"),
        ({"attr_personen": ""}, "Bitte beantworten"),
        ({"attr_personen": "viele"}, "Bitte eine Zahl angeben"),
        ({"attr_tageszeit": ["immer"]}, "Bitte nur vorgegebene Werte wählen"),
        ({"reporter_email": "keine-adresse"}, "gültige E-Mail"),
        ({"reporter_name": "N" * 500}, "Der Name ist zu lang"),
        ({"photos": [upload(b"\x00\xff" * 500, "kaputt.jpg")]}, "konnte nicht als Bild gelesen werden"),
        (
            {"photos": [upload(b"Nur Text", "brief.jpg", "image/jpeg")]},
            "konnte nicht als Bild gelesen werden",
        ),
        ({"photos": [upload(png(), f"f{i}.png", "image/png") for i in range(4)]}, "Höchstens 3 Fotos"),
        ({"description": "<script>alert(1)</script>\x00", "lat": "\x00"}, "Breite ist keine Zahl"),
    ],
)
def test_bad_input_is_answered_with_german_messages_at_the_fields(client, services, extra, expected):
    response = client.post("/melden/betteln/", form_data(confirm_new="1", **extra))
    html = response.content.decode()
    assert response.status_code == 200
    assert expected in html
    assert "Bitte prüfen Sie Ihre Angaben" in html
    assert all_reports() == []
    assert not Photo.objects.exists()


def test_errors_sit_at_their_fields(client, services):
    html = client.post("/melden/betteln/", form_data(confirm_new="1", attr_personen="")).content.decode()
    assert re.search(r'id="id_attr_personen-error">Bitte beantworten\.', html)
    assert re.search(r'name="attr_personen"[^>]*aria-invalid="true"', html)
    assert 'href="#id_attr_personen"' in html
    html = client.post("/melden/betteln/", form_data(confirm_new="1", lat="", lon="")).content.decode()
    assert re.search(r'id="id_address_text-error">Bitte den Ort angeben', html)


def test_big_photo_is_refused_and_a_good_photo_with_a_bad_one_stores_nothing(client, services):
    big = upload(b"\xff\xd8" + b"0" * (8 * 1024 * 1024 + 10), "riesig.jpg")
    html = client.post("/melden/betteln/", form_data(confirm_new="1", photos=[big])).content.decode()
    assert "größer als 8 MB" in html
    mixed = [upload(png(), "gut.png", "image/png"), upload(b"GIF89a....", "alt.gif", "image/gif")]
    response = client.post("/melden/betteln/", form_data(confirm_new="1", photos=mixed))
    assert response.status_code == 200 and all_reports() == [] and not Photo.objects.exists()


def test_unknown_or_inactive_categories_and_wrong_methods(client, services):
    assert client.get("/melden/gibt-es-nicht/").status_code == 404
    assert client.post("/melden/gibt-es-nicht/", form_data()).status_code == 404
    assert client.get("/melden/gibt-es-nicht/in-der-naehe/").status_code == 404
    services["waste"].active = False
    services["waste"].save()
    assert client.get("/melden/muell/").status_code == 404
    assert "/melden/muell/" not in client.get("/melden/").content.decode()
    assert client.get("/melden/unterstuetzen/").status_code == 405
    assert client.get("/melden/fotos/12345/").status_code == 404
    assert client.put("/melden/betteln/").status_code == 405


# --- public helpers and pages -------------------------------------------------------------------------


def test_public_pages_need_no_login_and_show_no_staff_navigation(client, services):
    for url in ("/melden/", "/melden/betteln/", "/melden/gewalt/", "/melden/danke/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Hauptnavigation" not in html and "Abmelden" not in html
        assert 'href="/melden/"' in html
    html = client.get("/melden/betteln/").content.decode()
    assert "Wer sieht was?" in html and "365 Tage" in html and "Gesichter" in html


def test_public_place_suggestions_and_area_outlines(client, world):
    from lagebild.geo.models import Place

    Place.objects.create(name="Platz von Leeds", kind="place", lat=INSIDE[0], lon=INSIDE[1])
    html = client.get("/melden/orte/", {"address_text": "Leeds"}).content.decode()
    assert "Platz von Leeds" in html and 'data-lat="51.514700"' in html
    assert client.get("/melden/orte/", {"q": "L" * 5000}).status_code == 200
    data = client.get("/melden/gebiete.geojson").json()
    kinds = {feature["properties"]["kind"] for feature in data["features"]}
    assert kinds == {"city", "district"}  # focus areas stay internal


# --- staff access to photos (cross-authority) -------------------------------------------------------------


def test_unreleased_photo_is_visible_to_staff_of_the_responsible_authority_only(
    services, kod, polizei, after_november_2026_reports
):
    photo = report_with_photo(services["begging"], NIGHT, png())  # at night the police is responsible
    with unscoped():
        assert Report.objects.get(pk=photo.report_id).authority.kind == "police"
    url = f"/melden/fotos/{photo.pk}/"

    city_client, police_client = Client(), Client()
    city_client.force_login(kod)
    police_client.force_login(polizei)
    assert city_client.get(url).status_code == 404
    assert Client().get(url).status_code == 404
    seen = police_client.get(url)
    assert seen.status_code == 200 and seen["Content-Type"] == "image/png"
    assert "private" in seen["Cache-Control"]

    with authority_scope(kod.authority), pytest.raises(PermissionDenied):
        photos.photo_redact(photo, [(0, 0, 0.5, 0.5)], user=kod)


def test_city_staff_see_city_photos_and_release_needs_a_triage_role(
    services, kod, kod_lead, polizei, as_user, after_november_2026_reports
):
    photo = report_with_photo(services["begging"], NOON, png())
    city_client = Client()
    city_client.force_login(kod)
    assert city_client.get(f"/melden/fotos/{photo.pk}/").status_code == 200
    police_client = Client()
    police_client.force_login(polizei)
    assert police_client.get(f"/melden/fotos/{photo.pk}/").status_code == 404

    with as_user(kod), pytest.raises(PermissionDenied):
        photos.photo_release(photo, user=kod)
    with as_user(kod_lead):
        photos.photo_release(photo, user=kod_lead)
    photo.refresh_from_db()
    assert photo.released
    assert police_client.get(f"/melden/fotos/{photo.pk}/").status_code == 200  # released = public


# --- rate limit details ------------------------------------------------------------------------------------


def test_client_address_counts_ipv6_per_network_and_walks_only_trusted_proxies(settings, rf):
    from lagebild.citizen.ratelimit import client_address

    settings.LAGEBILD_TRUSTED_PROXIES = ""
    assert client_address(rf.get("/", REMOTE_ADDR="2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::/64"
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "10.0.0.1"
    settings.LAGEBILD_TRUSTED_PROXIES = "10.0.0.0/8"
    forged = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 10.0.0.2")
    assert client_address(forged) == "1.2.3.4"  # the left-most entry is whatever the client claimed
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="kaputt")) == "10.0.0.1"


def test_old_rate_counters_are_cleaned_up(db, settings, rf, monkeypatch):
    from lagebild.citizen import ratelimit

    settings.LAGEBILD_RATE_LIMITS = {"report": ((5, 600),)}
    RateCounter.objects.create(key="report:600:9.9.9.9", window_start=timezone.now() - dt.timedelta(days=3))
    monkeypatch.setattr(ratelimit, "CLEANUP_EVERY", 1)
    assert ratelimit.hit(rf.post("/", REMOTE_ADDR="1.1.1.1"), "report") is None
    assert list(RateCounter.objects.values_list("key", "count")) == [("report:600:1.1.1.1", 1)]
