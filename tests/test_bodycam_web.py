"""Pages under /bodycam/: who sees what, access only with a logged reason, uploads, no direct URL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from lagebild.bodycam import storage
from lagebild.bodycam.checks import recordings_dir_not_served
from lagebild.bodycam.models import CustodyEvent, Recording, RetentionState
from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import unscoped
from lagebild.field.services import incident_create

from .bodycam_fixtures import *  # noqa: F403
from .bodycam_fixtures import upload, video_bytes

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _custody(recording: Recording) -> list[CustodyEvent]:
    with unscoped():
        return list(recording.custody.order_by("pk"))


# --- who sees what -------------------------------------------------------------------------


def test_field_officer_sees_own_shift_lead_sees_the_authoritys(
    kod, kod_lead, make_user, city, register
) -> None:
    colleague = make_user("kod-2", city, Role.FIELD_OFFICER)
    own, other = register(kod, "a"), register(colleague, "b")

    page = client_for(kod).get(reverse("bodycam:list")).content.decode()
    assert reverse("bodycam:detail", args=[own.pk]) in page
    assert reverse("bodycam:detail", args=[other.pk]) not in page
    assert client_for(kod).get(reverse("bodycam:detail", args=[other.pk])).status_code == 404

    page = client_for(kod_lead).get(reverse("bodycam:list")).content.decode()
    assert reverse("bodycam:detail", args=[own.pk]) in page
    assert reverse("bodycam:detail", args=[other.pk]) in page
    assert client_for(kod_lead).get(reverse("bodycam:detail", args=[other.pk])).status_code == 200
    read = AuditEvent.objects.filter(action="bodycam.recording.read", object_id=str(other.pk))
    assert [entry.user for entry in read] == [kod_lead]


@pytest.mark.parametrize(
    "role",
    [
        Role.ANALYST,
        Role.TASKFORCE,
        Role.LEADERSHIP,
        Role.EXECUTIVE_BOARD,
        Role.ADMIN,
        Role.DATA_PROTECTION_OFFICER,
        Role.PLATFORM_ADMIN,
    ],
)
def test_roles_without_a_purpose_see_nothing(role, kod, make_user, city, register) -> None:
    recording = register(kod)
    client = client_for(make_user("ohne-zweck", city, role))
    for name, args in [
        ("list", []),
        ("register", []),
        ("detail", [recording.pk]),
        ("access", [recording.pk]),
    ]:
        assert client.get(reverse(f"bodycam:{name}", args=args)).status_code == 403
    assert b"bodycam/" not in client.get(reverse("field:overview")).content


def test_nav_link_for_field_roles(kod) -> None:
    assert (
        f'href="{reverse("bodycam:list")}"'.encode() in client_for(kod).get(reverse("field:overview")).content
    )


def _not_found_body(response) -> str:  # type: ignore[no-untyped-def]
    # The CSRF token is masked differently on every response; everything else must match.
    body = response.content.decode().replace(response.wsgi_request.path, "PATH")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "TOKEN", body)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "TOKEN", body)


@pytest.mark.parametrize(
    ("owner", "viewer"), [("polizei", "kod"), ("police_lead", "kod_lead"), ("kod", "polizei")]
)
def test_other_authority_sees_nothing_and_not_found_looks_the_same(owner, viewer, request, register) -> None:
    owner_user, viewer_user = request.getfixturevalue(owner), request.getfixturevalue(viewer)
    recording = register(owner_user)
    client = client_for(viewer_user)

    listing = client.get(reverse("bodycam:list")).content.decode()
    assert reverse("bodycam:detail", args=[recording.pk]) not in listing
    assert "Aufnahmen (0)" in listing

    missing = recording.pk + 1000
    for name in ["detail", "access", "file", "handover", "retention"]:
        theirs = client.get(reverse(f"bodycam:{name}", args=[recording.pk]))
        nothing = client.get(reverse(f"bodycam:{name}", args=[missing]))
        assert theirs.status_code == nothing.status_code == 404, name
        assert _not_found_body(theirs) == _not_found_body(nothing)
        assert recording.sha256 not in theirs.content.decode()
    posted = client.post(
        reverse("bodycam:access", args=[recording.pk]), {"purpose": "view", "reason": "Neugier"}
    )
    assert posted.status_code == 404
    assert [event.kind for event in _custody(recording)] == [CustodyEvent.Kind.REGISTERED]


# --- access with a reason ------------------------------------------------------------------


def test_stream_needs_a_reason_and_is_logged(kod, register) -> None:
    recording = register(kod)
    client = client_for(kod)
    file_url = reverse("bodycam:file", args=[recording.pk])
    access_url = reverse("bodycam:access", args=[recording.pk])

    response = client.get(file_url)
    assert response.status_code == 302 and response["Location"] == access_url

    response = client.post(access_url, {"purpose": "view", "reason": "  "})
    assert response.status_code == 200
    assert "Bitte den Grund für den Zugriff angeben." in response.content.decode()
    assert client.get(file_url).status_code == 302
    assert len(_custody(recording)) == 1

    response = client.post(access_url, {"purpose": "view", "reason": "Anzeige wegen Beleidigung schreiben"})
    assert response.status_code == 200
    assert f'src="{file_url}"' in response.content.decode()
    viewed = _custody(recording)[-1]
    assert viewed.kind == CustodyEvent.Kind.VIEWED
    assert viewed.reason == "Anzeige wegen Beleidigung schreiben"
    assert viewed.actor == kod and "Kim Ordnung" in viewed.actor_name
    assert AuditEvent.objects.filter(action="bodycam.recording.view", object_id=str(recording.pk)).exists()

    response = client.get(file_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == video_bytes("a")
    assert response["Content-Type"] == "video/mp4"
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        action="bodycam.recording.streamed", object_id=str(recording.pk)
    ).exists()


def test_the_permission_expires(clock, kod, register) -> None:
    recording = register(kod)
    client = client_for(kod)
    client.post(reverse("bodycam:access", args=[recording.pk]), {"purpose": "view", "reason": "Prüfung"})
    clock.shift(dt.timedelta(minutes=14))
    assert client.get(reverse("bodycam:file", args=[recording.pk])).status_code == 200
    clock.shift(dt.timedelta(minutes=2))  # the session lives on (30 idle minutes), the grant not
    response = client.get(reverse("bodycam:file", args=[recording.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("bodycam:access", args=[recording.pk])


def test_only_the_shift_lead_copies_and_hands_over(kod, kod_lead, register) -> None:
    recording = register(kod)
    officer = client_for(kod)
    response = officer.post(
        reverse("bodycam:access", args=[recording.pk]), {"purpose": "copy", "reason": "x"}
    )
    assert response.status_code == 200  # the form again: field officers may only view
    assert [event.kind for event in _custody(recording)] == [CustodyEvent.Kind.REGISTERED]
    assert officer.get(reverse("bodycam:handover", args=[recording.pk])).status_code == 403

    lead = client_for(kod_lead)
    lead.post(
        reverse("bodycam:access", args=[recording.pk]), {"purpose": "copy", "reason": "Kopie für die StA"}
    )
    response = lead.get(reverse("bodycam:file", args=[recording.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    response = lead.post(
        reverse("bodycam:handover", args=[recording.pk]),
        {"recipient": "Staatsanwaltschaft Dortmund", "reference": "123 Js 456/26", "reason": "Strafanzeige"},
    )
    assert response.status_code == 302
    kinds = [(event.kind, event.recipient) for event in _custody(recording)]
    assert kinds[-2:] == [
        (CustodyEvent.Kind.COPIED, ""),
        (CustodyEvent.Kind.HANDED_OVER, "Staatsanwaltschaft Dortmund"),
    ]
    detail = lead.get(reverse("bodycam:detail", args=[recording.pk])).content.decode()
    assert "Staatsanwaltschaft Dortmund" in detail and "Kopie für die StA" in detail


# --- retention through the pages -------------------------------------------------------------


def test_four_eyes_on_the_pages(kod, kod_lead, register) -> None:
    recording = register(kod)
    officer, lead = client_for(kod), client_for(kod_lead)
    day = (timezone.localdate() + dt.timedelta(days=120)).isoformat()
    response = officer.post(
        reverse("bodycam:retention", args=[recording.pk]),
        {"reason": "criminal", "reference": "123 Js 456/26", "note": "Widerstand", "delete_on": day},
    )
    assert response.status_code == 302
    with unscoped():
        decision = recording.retentions.get()
    confirm = reverse("bodycam:retention-confirm", args=[recording.pk, decision.pk])

    page = officer.get(reverse("bodycam:detail", args=[recording.pk])).content.decode()
    assert confirm not in page  # no button for the second confirmation by the same person
    response = officer.post(confirm, follow=True)
    assert "Vier-Augen-Prinzip" in response.content.decode()
    with unscoped():
        assert Recording.objects.get(pk=recording.pk).state == RetentionState.STORED

    assert confirm in lead.get(reverse("bodycam:detail", args=[recording.pk])).content.decode()
    response = lead.post(confirm, follow=True)
    assert "als Beweismittel gesichert" in response.content.decode()
    with unscoped():
        kept = Recording.objects.get(pk=recording.pk)
    assert kept.state == RetentionState.RETAINED
    assert timezone.localtime(kept.delete_after).date().isoformat() == day


def test_retention_date_in_the_past_is_refused(kod, register) -> None:
    recording = register(kod)
    response = client_for(kod).post(
        reverse("bodycam:retention", args=[recording.pk]),
        {"reason": "owi", "note": "Bußgeldverfahren", "delete_on": "2001-01-01"},
    )
    assert response.status_code == 200
    assert "Das neue Löschdatum muss in der Zukunft liegen." in response.content.decode()


# --- registration ----------------------------------------------------------------------------


def _form(**overrides: object) -> dict:
    start = timezone.localtime() - dt.timedelta(hours=1)
    data = {
        "device_serial": "BC-0042",
        "started_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ended_at": (start + dt.timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M"),
        "activation_reason": "danger",
        "activation_note": "",
        "announced": "on",
        "location_text": "Nordmarkt",
    }
    data.update(overrides)
    return data


def test_register_through_the_page(kod, recordings_dir) -> None:
    client = client_for(kod)
    response = client.post(reverse("bodycam:register"), {**_form(), "file": upload("web")})
    assert response.status_code == 302
    with unscoped():
        recording = Recording.objects.get()
    assert recording.wearer == kod and recording.device.serial == "BC-0042"
    assert recording.legal_basis.startswith("§ 24 Abs. 1 Nr. 6 OBG NRW")
    stored = storage.absolute_path(recording.storage_path)
    assert stored.read_bytes() == video_bytes("web")
    assert recordings_dir in stored.parents
    assert recording.delete_after == recording.started_at + dt.timedelta(days=14)
    # The upload was spooled inside the protected directory, not in /tmp, and is gone.
    assert (recordings_dir / ".incoming").is_dir()
    assert list((recordings_dir / ".incoming").iterdir()) == []


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("leer.mp4", b"", content_type="video/mp4"), "Die Datei ist leer."),
        (
            SimpleUploadedFile("brief.mp4", b"%PDF-1.7 kein Video" * 20, content_type="video/mp4"),
            "Die Datei ist keine Videoaufnahme.",
        ),
        (
            SimpleUploadedFile("foto.jpg", b"\xff\xd8\xff\xe0" + b"0" * 600, content_type="image/jpeg"),
            "keine Videoaufnahme",
        ),
        (None, "Bitte die Videodatei der Aufnahme auswählen."),
    ],
)
def test_bad_uploads_get_a_german_message(kod, recordings_dir, file, message) -> None:
    data = _form()
    if file is not None:
        data["file"] = file
    response = client_for(kod).post(reverse("bodycam:register"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    with unscoped():
        assert not Recording.objects.exists()
    assert not [p for p in Path(recordings_dir).rglob("*") if p.is_file()]


def test_duplicates_and_rule_violations_are_refused(world, kod, polizei, register) -> None:
    existing = register(kod, "dup")
    client = client_for(kod)
    response = client.post(reverse("bodycam:register"), {**_form(), "file": upload("dup")})
    assert f"Diese Datei ist bereits als Aufnahme Nr. {existing.pk} registriert." in response.content.decode()
    assert storage.absolute_path(existing.storage_path).exists()

    with unscoped():
        police_incident = incident_create(
            user=polizei,
            category=world["categories"]["dealing"],
            occurred_at=timezone.now() - dt.timedelta(hours=2),
            lat=51.5147,
            lon=7.4636,
        )
    response = client.post(
        reverse("bodycam:register"),
        {
            **_form(announced="", activation_reason="other", incident=str(police_incident.pk)),
            "file": upload("new"),
        },
    )
    page = response.content.decode()
    assert "Ohne Ankündigung darf nur bei Gefahr im Verzug aufgenommen werden" in page
    assert "Bei „Sonstiger Grund“ bitte den Anlass beschreiben." in page
    assert f"Feststellung Nr. {police_incident.pk} wurde nicht gefunden." in page
    with unscoped():
        assert Recording.objects.count() == 1


def test_field_officer_cannot_register_for_someone_else(kod, make_user, city, recordings_dir) -> None:
    colleague = make_user("kod-2", city, Role.FIELD_OFFICER)
    response = client_for(kod).post(
        reverse("bodycam:register"), {**_form(wearer=str(colleague.pk)), "file": upload("x")}
    )
    # The field is not offered to field officers: the recording is theirs.
    assert response.status_code == 302
    with unscoped():
        assert Recording.objects.get().wearer == kod


# --- no direct access to the directory -------------------------------------------------------


def test_no_url_serves_the_recordings_directory(kod_lead, register) -> None:
    recording = register(kod_lead)
    relative = recording.storage_path
    content = video_bytes("a")
    for client in (Client(), client_for(kod_lead)):
        for url in [
            f"/static/{relative}",
            f"/static/recordings/{relative}",
            f"/media/{relative}",
            f"/recordings/{relative}",
            f"/var/recordings/{relative}",
            f"/bodycam/{relative}",
            f"/bodycam/{recording.pk}/datei/../../{relative}",
        ]:
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert content[:64] not in body, url
            assert response.status_code in (302, 404), url

    # No URL pattern is a static file server.
    def walk(patterns, prefix=""):  # type: ignore[no-untyped-def]
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    served = [
        route for route, view in walk(get_resolver().url_patterns) if view.__module__ == "django.views.static"
    ]
    assert served == []


def test_the_recordings_directory_is_outside_static_and_media(settings) -> None:
    assert recordings_dir_not_served() == []
    root = Path(settings.LAGEBILD_RECORDINGS_DIR)
    for served in (settings.STATIC_ROOT, settings.MEDIA_ROOT, *settings.STATICFILES_DIRS):
        assert Path(served).resolve() not in [root, *root.parents]
    settings.LAGEBILD_RECORDINGS_DIR = Path(settings.STATIC_ROOT) / "aufnahmen"
    assert [error.id for error in recordings_dir_not_served()] == ["lagebild.bodycam.E001"]
    settings.LAGEBILD_RECORDINGS_DIR = Path(settings.MEDIA_ROOT) / "aufnahmen"
    assert [error.id for error in recordings_dir_not_served()] == ["lagebild.bodycam.E001"]


def test_registration_still_checks_the_csrf_token(kod, recordings_dir) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(kod)
    response = client.post(reverse("bodycam:register"), {**_form(), "file": upload("csrf")})
    assert response.status_code == 403
    with unscoped():
        assert not Recording.objects.exists()


def test_every_page_renders_also_for_a_deleted_recording(clock, kod, kod_lead, register) -> None:
    from lagebild.bodycam.retention import purge_due

    recording = register(kod)
    lead = client_for(kod_lead)
    for name in ["detail", "access", "handover", "retention"]:
        assert lead.get(reverse(f"bodycam:{name}", args=[recording.pk])).status_code == 200, name
    assert lead.get(reverse("bodycam:register")).status_code == 200
    assert lead.get(reverse("bodycam:list"), {"status": "unsinn", "seite": "x"}).status_code == 200

    clock.move_to(recording.started_at.astimezone(dt.UTC) + dt.timedelta(days=14), tick=False)
    purge_due(clock.now, dry_run=False)
    lead.force_login(kod_lead)  # two weeks later the session has expired
    page = lead.get(reverse("bodycam:detail", args=[recording.pk])).content.decode()
    assert "Die Datei wurde am" in page and recording.sha256 in page
    for name in ["access", "handover", "retention"]:
        response = lead.get(reverse(f"bodycam:{name}", args=[recording.pk]), follow=True)
        assert "nur ihr Nachweis ist noch vorhanden" in response.content.decode(), name
    assert lead.get(reverse("bodycam:file", args=[recording.pk])).status_code == 404
