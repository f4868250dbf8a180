"""A field officer records an incident with a measure using only the keyboard (WCAG 2.1.1).

No mouse or touch event is sent: focus moves with Tab, choices are made with typing, Space
and Enter, and the place is set with Enter on the map, as the page's hint explains.
"""

from __future__ import annotations

import re

import pytest

from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tab_to(page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab within {limit} steps")


def focus_is_visible(page) -> bool:
    """The focused element shows a focus indicator (outline or box shadow; WCAG 2.4.7)."""
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                || style.boxShadow !== 'none';
        }"""
    )


def test_kod_records_an_incident_with_a_measure_by_keyboard_alone(live_server, desktop, world):
    page = desktop
    page.goto(f"{live_server.url}/anmelden/")
    tab_to(page, "#id_username")
    page.keyboard.type("kod")
    page.keyboard.press("Tab")
    page.keyboard.type("geheim-123")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    tab_to(page, "a.nav-record")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/feststellungen/neu/$"))
    page.wait_for_load_state("networkidle")

    tab_to(page, "#id_category")
    assert focus_is_visible(page)
    page.keyboard.type("Aggressives")
    assert page.locator("#id_category option:checked").inner_text() == "Aggressives Betteln"

    tab_to(page, "input[name=measure_types][value=dispersal_order]")
    page.keyboard.press("Space")
    assert page.locator("input[name=measure_types][value=dispersal_order]").is_checked()

    tab_to(page, "#entry-map")
    assert focus_is_visible(page)
    page.keyboard.press("ArrowUp")  # pan a little, then set the point in the middle
    page.keyboard.press("Enter")
    assert page.input_value("input[name=lat]") != ""
    assert page.input_value("input[name=lon]") != ""
    assert page.locator("#location-status").inner_text().strip() != ""

    tab_to(page, "#id_description")
    page.keyboard.type("Tastatur-Test: Gruppe vor dem Eingang")

    tab_to(page, "button[type=submit].primary")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/feststellungen/\d+/$"))
    assert page.get_by_text("Feststellung gespeichert.").is_visible()

    with unscoped():
        incident = Incident.objects.get(description__startswith="Tastatur-Test")
        assert list(incident.measures.values_list("type", flat=True)) == ["dispersal_order"]
        assert incident.category == world["categories"]["begging"]
        assert incident.recorded_by.username == "kod"
        assert incident.lat is not None and incident.lon is not None
