"""Administration per authority (issue 13, "found when tried as a new user would", point 1).

A city administrator manages city accounts and city data only: police accounts and police
audit entries answer exactly like ones that do not exist, and no form lets an administrator
escalate (superuser, platform role, permissions) or move an account to the other authority.
Cross-authority administration is the platform role's, and each of its acts is in the audit log.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from lagebild.core import audit
from lagebild.core.admin_scoping import PLATFORM_ACTION
from lagebild.core.models import AuditEvent, Role, User
from lagebild.core.scoping import unscoped

MISSING_PK = 987654


@pytest.fixture
def admins(make_user, city, police, kod, polizei) -> dict[str, User]:
    return {
        "city": make_user("stadt-admin", city, Role.ADMIN, is_staff=True),
        "police": make_user("polizei-admin", police, Role.ADMIN, is_staff=True),
        "platform": make_user("plattform", city, Role.PLATFORM_ADMIN, is_staff=True),
    }


def _user_form(user: User, **changes: object) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "role": user.role,
        "service_number": user.service_number,
        "authority": str(user.authority_id),
    }
    data.update({key: str(value) for key, value in changes.items()})
    return {key: value for key, value in data.items() if value != ""}


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_city_admin_lists_city_accounts_only(client, admins, kod, polizei):
    client.force_login(admins["city"])
    page = client.get(reverse("admin:core_user_changelist")).content.decode()
    assert reverse("admin:core_user_change", args=[kod.pk]) in page
    assert reverse("admin:core_user_change", args=[polizei.pk]) not in page
    assert reverse("admin:core_user_change", args=[admins["police"].pk]) not in page
    # Nor the platform administration's account, although it belongs to the city.
    assert reverse("admin:core_user_change", args=[admins["platform"].pk]) not in page
    assert "Polizeipräsidium" not in page


def test_police_account_answers_like_a_missing_one(client, admins, polizei):
    client.force_login(admins["city"])
    for view in ["admin:core_user_change", "admin:core_user_delete", "admin:core_user_history"]:
        theirs = client.get(reverse(view, args=[polizei.pk]))
        missing = client.get(reverse(view, args=[MISSING_PK]))
        assert theirs.status_code == missing.status_code == 302, view
        assert theirs["Location"] == missing["Location"]
        ours_text = _messages(theirs)[-1].replace(str(polizei.pk), "#")
        assert ours_text == _messages(missing)[-1].replace(str(MISSING_PK), "#")
    theirs = client.get(reverse("admin:auth_user_password_change", args=[polizei.pk]))
    missing = client.get(reverse("admin:auth_user_password_change", args=[MISSING_PK]))
    assert theirs.status_code == missing.status_code == 404


def test_city_admin_cannot_change_or_reset_a_police_account(client, admins, polizei):
    client.force_login(admins["city"])
    old_hash = polizei.password
    client.post(
        reverse("admin:auth_user_password_change", args=[polizei.pk]),
        {"password1": "Neues-Passwort-2026!", "password2": "Neues-Passwort-2026!"},
    )
    client.post(reverse("admin:core_user_change", args=[polizei.pk]), _user_form(polizei, first_name="X"))
    client.post(reverse("admin:core_user_delete", args=[polizei.pk]), {"post": "yes"})
    polizei.refresh_from_db()
    assert polizei.password == old_hash and polizei.first_name == "Pat"


def test_city_admin_cannot_escalate_or_move_an_account(client, admins, kod, police):
    client.force_login(admins["city"])
    url = reverse("admin:core_user_change", args=[kod.pk])
    page = client.get(url).content.decode()
    assert 'value="platform_admin"' not in page
    assert 'name="is_superuser"' not in page and 'name="authority"' not in page

    response = client.post(url, _user_form(kod, role=Role.PLATFORM_ADMIN))
    assert response.status_code == 200  # the form comes back with an error at the field
    assert "role" in response.context["adminform"].form.errors

    client.post(url, _user_form(kod, is_superuser="on", authority=police.pk, first_name="Kira"))
    kod.refresh_from_db()
    assert kod.first_name == "Kira"  # the change itself went through ...
    assert not kod.is_superuser and kod.authority.kind == "city" and kod.role == Role.FIELD_OFFICER

    # ... and the administrator cannot raise itself either.
    own = admins["city"]
    client.post(reverse("admin:core_user_change", args=[own.pk]), _user_form(own, role=Role.PLATFORM_ADMIN))
    client.post(reverse("admin:core_user_change", args=[own.pk]), _user_form(own, is_superuser="on"))
    own.refresh_from_db()
    assert own.role == Role.ADMIN and not own.is_superuser


def test_new_account_of_a_city_admin_belongs_to_the_city(client, admins, city, police):
    client.force_login(admins["city"])
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "neu",
            "password1": "Lange-Passphrase-2026",
            "password2": "Lange-Passphrase-2026",
            "usable_password": "true",
            "role": Role.ANALYST,
            "authority": str(police.pk),
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="neu").authority == city


def test_city_admin_reads_city_audit_entries_only(client, admins, kod, polizei):
    ours = audit.log("incident.create", user=kod, object_type="field.incident", object_id=1)
    theirs = audit.log("incident.create", user=polizei, object_type="field.incident", object_id=2)
    client.force_login(admins["city"])
    page = client.get(reverse("admin:core_auditevent_changelist")).content.decode()
    assert reverse("admin:core_auditevent_change", args=[ours.pk]) in page
    assert reverse("admin:core_auditevent_change", args=[theirs.pk]) not in page
    their_page = client.get(reverse("admin:core_auditevent_change", args=[theirs.pk]))
    missing = client.get(reverse("admin:core_auditevent_change", args=[MISSING_PK]))
    assert their_page.status_code == missing.status_code == 302
    assert their_page["Location"] == missing["Location"]
    # Read-only, for everyone.
    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    client.post(reverse("admin:core_auditevent_delete", args=[ours.pk]), {"post": "yes"})
    assert AuditEvent.objects.filter(pk=ours.pk).exists()


def test_police_admin_is_separated_the_same_way(client, admins, kod, polizei):
    client.force_login(admins["police"])
    page = client.get(reverse("admin:core_user_changelist")).content.decode()
    assert reverse("admin:core_user_change", args=[polizei.pk]) in page
    assert reverse("admin:core_user_change", args=[kod.pk]) not in page
    assert client.get(reverse("admin:auth_user_password_change", args=[kod.pk])).status_code == 404


def test_authorities_are_the_platforms(client, admins, city, police):
    client.force_login(admins["city"])
    page = client.get(reverse("admin:core_authority_changelist")).content.decode()
    assert "Polizeipräsidium" not in page
    assert client.get(reverse("admin:core_authority_add")).status_code == 403
    client.force_login(admins["platform"])
    page = client.get(reverse("admin:core_authority_changelist")).content.decode()
    assert "Polizeipräsidium" in page


def test_shared_data_is_changed_by_whoever_keeps_it(client, admins, world):
    area = world["areas"]["centre"]
    dealing = world["categories"]["dealing"]  # police competence
    begging = world["categories"]["begging"]  # city competence
    client.force_login(admins["police"])
    # The police read the city's geography but do not change it.
    assert client.get(reverse("admin:geo_area_change", args=[area.pk])).status_code == 200
    assert client.post(reverse("admin:geo_area_delete", args=[area.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:geo_area_add")).status_code == 403
    # Each authority changes the categories it is competent for.
    assert (
        client.post(reverse("admin:catalog_category_delete", args=[begging.pk]), {"post": "yes"}).status_code
        == 403
    )
    client.force_login(admins["city"])
    assert (
        client.post(reverse("admin:catalog_category_delete", args=[dealing.pk]), {"post": "yes"}).status_code
        == 403
    )
    page = client.get(reverse("admin:catalog_category_change", args=[begging.pk])).content.decode()
    assert 'name="name"' in page and 'name="competent_authority"' not in page


def test_platform_admin_administers_every_authority_and_is_logged(client, admins, polizei, city):
    client.force_login(admins["platform"])
    page = client.get(reverse("admin:core_user_changelist")).content.decode()
    assert reverse("admin:core_user_change", args=[polizei.pk]) in page
    url = reverse("admin:core_user_change", args=[polizei.pk])
    assert 'value="platform_admin"' in client.get(url).content.decode()
    response = client.post(
        url, _user_form(polizei, role=Role.PLATFORM_ADMIN, is_superuser="on", authority=city.pk)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    polizei.refresh_from_db()
    assert polizei.role == Role.PLATFORM_ADMIN and polizei.is_superuser and polizei.authority == city

    with unscoped():
        entry = AuditEvent.objects.get(action=PLATFORM_ACTION, object_id=str(polizei.pk))
    assert entry.user == admins["platform"]
    assert entry.object_type == "core.user"
    assert entry.detail["change"] == "change"

    client.post(reverse("admin:core_user_delete", args=[polizei.pk]), {"post": "yes"})
    assert not User.objects.filter(pk=polizei.pk).exists()
    with unscoped():
        assert AuditEvent.objects.filter(action=PLATFORM_ACTION, detail__change="delete").count() == 1


def test_authority_admin_acts_are_not_platform_entries(client, admins, kod):
    client.force_login(admins["city"])
    client.post(reverse("admin:core_user_change", args=[kod.pk]), _user_form(kod, first_name="Kai"))
    kod.refresh_from_db()
    assert kod.first_name == "Kai"
    with unscoped():
        assert not AuditEvent.objects.filter(action=PLATFORM_ACTION).exists()


def test_platform_admin_edits_shared_data_with_its_inlines(client, admins, world):
    begging = world["categories"]["begging"]
    client.force_login(admins["platform"])
    page = client.get(reverse("admin:catalog_category_change", args=[begging.pk])).content.decode()
    assert 'name="competent_authority"' in page
    assert re.search(r'name="[a-z_]+-0-legal_basis"', page)
    client.force_login(admins["police"])
    page = client.get(reverse("admin:catalog_category_change", args=[begging.pk])).content.decode()
    assert not re.search(r'name="[a-z_]+-0-legal_basis"', page)  # the city's category: read-only


def test_platform_change_is_filed_under_the_authority_it_touched(client, admins, polizei):
    client.force_login(admins["platform"])
    url = reverse("admin:core_user_change", args=[polizei.pk])
    assert client.post(url, _user_form(polizei, first_name="Paula")).status_code == 302
    with unscoped():
        entry = AuditEvent.objects.get(action=PLATFORM_ACTION)
    assert entry.authority_id == polizei.authority_id and entry.user == admins["platform"]
    client.force_login(admins["police"])
    page = client.get(reverse("admin:core_auditevent_changelist")).content.decode()
    assert reverse("admin:core_auditevent_change", args=[entry.pk]) in page


def test_no_admin_page_shows_a_second_factor_secret(client, make_user, city):
    root = make_user("root", city, Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(root)
    for path in [
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/otp_totp/totpdevice/1/qrcode/",
    ]:
        response = client.get(path)
        assert response.status_code in (302, 404), path
    assert "otp_totp" not in client.get("/admin/").content.decode()


def test_createsuperuser_takes_the_authority_by_its_id(city, police, monkeypatch):
    """The first administrator of an installation is made with Django's own command, which asks
    for the authority by its number (docs/operations.md)."""
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "ein-langes-Passwort-2026")
    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "erste.admin",
        "--email",
        "admin@stadt.example",
        "--authority",
        str(police.pk),
    )
    with unscoped():
        admin = User.objects.get(username="erste.admin")
    assert admin.authority == police and admin.authority != city
    assert admin.is_superuser and admin.role == Role.ADMIN
    assert admin.check_password("ein-langes-Passwort-2026")
