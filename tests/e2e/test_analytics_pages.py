"""The analytic pages run their scripts in a real browser without errors and show their maps.

City and police analysts see the same shared figures.
"""

from __future__ import annotations

import re

import pytest

from .test_field_entry import login, logout

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _visit(page, url: str) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    return errors


def test_analytic_pages_render_maps_without_script_errors(live_server, phone, analytics_world, analyst):
    page = phone
    login(page, live_server.url, "analyse")
    for path, heading in (
        ("/auswertung/lage/", re.compile("Lagebild")),
        ("/auswertung/brennpunkte/", re.compile("Brennpunkte")),
        ("/auswertung/verdraengung/", re.compile("Verdrängung")),
        ("/auswertung/bilanz/", re.compile("Einsatzbilanz")),
    ):
        errors = _visit(page, f"{live_server.url}{path}")
        assert page.get_by_role("heading", level=1).first.inner_text() != ""
        assert heading.search(page.content()), path
        assert not errors, (path, errors)
        if page.locator(".leaflet-container").count():
            # Without tiles the map still draws the areas (SVG paths or a canvas).
            drawn = page.locator(".leaflet-container path, .leaflet-container canvas")
            drawn.first.wait_for(state="attached")
    cockpit_city = _table_text(page, f"{live_server.url}/auswertung/lage/")
    logout(page)

    login(page, live_server.url, "polizei-analyse")
    assert _table_text(page, f"{live_server.url}/auswertung/lage/") == cockpit_city


def _table_text(page, url: str) -> str:
    page.goto(url)
    return page.locator("table").first.inner_text()
