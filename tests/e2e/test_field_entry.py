"""A field officer records an incident on a phone; the police cannot see the city-only record."""

import re

import pytest

from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/anmelden/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill("geheim-123")
    page.get_by_role("button", name="Anmelden").click()
    # The role's start page (the Bußgeldstelle's is its worklist), not the login page again.
    page.wait_for_url(re.compile(rf"^{re.escape(base_url)}/(bussgeld/)?$"))


def logout(page) -> None:
    # On a phone "Abmelden" is folded behind the "Menü" button, as a user finds it.
    menu = page.get_by_role("button", name="Menü")
    if menu.is_visible() and menu.get_attribute("aria-expanded") == "false":
        menu.click()
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r".*/anmelden/.*"))


def test_kod_records_dispersal_order_by_tapping_the_map_and_police_cannot_see_it(live_server, phone, world):
    page = phone
    login(page, live_server.url, "kod")

    page.goto(f"{live_server.url}/feststellungen/neu/")
    page.select_option("#id_category", label="Aggressives Betteln")
    page.locator("input[name=measure_types][value=dispersal_order]").check(force=True)
    page.fill("#id_description", "Browser-Test: Passanten am Eingang bedrängt")
    entry_map = page.locator("#entry-map")
    entry_map.scroll_into_view_if_needed()
    box = entry_map.bounding_box()
    entry_map.tap(position={"x": box["width"] / 2, "y": box["height"] / 2})
    assert page.input_value("input[name=lat]") != ""
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(re.compile(r".*/feststellungen/\d+/$"))
    assert page.get_by_text("Feststellung gespeichert.").is_visible()

    with unscoped():
        incident = Incident.objects.get(description__startswith="Browser-Test")
        assert list(incident.measures.values_list("type", flat=True)) == ["dispersal_order"]
        assert incident.authority.kind == "city" and incident.joint is False

    page.goto(f"{live_server.url}/feststellungen/")
    row = page.locator(f"a[href='/feststellungen/{incident.pk}/']")
    assert row.count() >= 1
    assert page.locator("#incident-results").get_by_text("Platzverweis").first.is_visible()
    logout(page)

    login(page, live_server.url, "polizei")
    page.goto(f"{live_server.url}/feststellungen/")
    assert page.locator(f"a[href='/feststellungen/{incident.pk}/']").count() == 0
    response = page.goto(f"{live_server.url}/feststellungen/{incident.pk}/")
    assert response.status == 404
