"""A double tap on "Speichern" records one incident (issue 14, idempotent writes); the other
authority cannot open it."""

import re

import pytest

from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident

from .test_field_entry import login, logout

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_double_tap_on_save_records_one_incident(live_server, phone, world):
    page = phone
    login(page, live_server.url, "kod")
    page.goto(f"{live_server.url}/feststellungen/neu/")
    page.select_option("#id_category", label="Aggressives Betteln")
    page.locator("input[name=measure_types][value=dispersal_order]").check(force=True)
    page.fill("#id_description", "Doppeltipp-Test")
    page.locator("summary", has_text="Koordinaten").click()
    page.fill("input[name=lat]", "51.5147")
    page.fill("input[name=lon]", "7.4636")

    page.get_by_role("button", name="Speichern").dblclick()
    page.wait_for_url(re.compile(r".*/feststellungen/\d+/$"))

    with unscoped():
        incidents = list(Incident.objects.filter(description="Doppeltipp-Test"))
    assert len(incidents) == 1
    assert page.url.endswith(f"/feststellungen/{incidents[0].pk}/")
    logout(page)
    login(page, live_server.url, "polizei")
    assert page.goto(f"{live_server.url}/feststellungen/{incidents[0].pk}/").status == 404
