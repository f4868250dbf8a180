"""A citizen reports on a phone without logging in and follows the status link."""

import re

import pytest

from lagebild.citizen.models import Report
from lagebild.core.scoping import unscoped

from ..citizen_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_citizen_reports_by_tapping_the_map_and_sees_the_status(
    live_server, phone, services, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    page = phone
    page.goto(f"{live_server.url}/melden/")
    assert page.get_by_role("heading", name="Hinweis an das Ordnungsamt melden").is_visible()
    assert page.get_by_role("link", name="Notruf 110").first.is_visible()
    page.get_by_role("link", name=re.compile("Aggressives Betteln")).click()
    page.wait_for_url(re.compile(r".*/melden/betteln/$"))

    report_map = page.locator("#report-map")
    report_map.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")  # the city outline has arrived and the map is fitted
    box = report_map.bounding_box()
    report_map.tap(position={"x": box["width"] / 2, "y": box["height"] / 2})
    assert page.input_value("input[name=lat]") != ""
    assert "Ort gesetzt" in page.locator("#location-status").inner_text()

    page.get_by_label("Was ist los?").fill("Browser-Test: Passanten am Eingang bedrängt")
    page.get_by_label("Wie viele Personen ungefähr?").fill("2")
    page.get_by_label("abends").check(force=True)
    page.get_by_role("button", name="Meldung absenden").last.click()

    page.wait_for_url(re.compile(r".*/melden/eingegangen/[^/]+/$"))
    assert page.get_by_role("heading", name=re.compile("Ihre Meldung ist eingegangen")).is_visible()
    with unscoped():
        report = Report.objects.get(description__startswith="Browser-Test")
    assert report.attributes == {"personen": 2, "tageszeit": ["abends"]}
    assert report.reporter_email == "" and report.channel == "web"

    page.locator("#status-link").click()
    page.wait_for_url(re.compile(rf".*/melden/status/{report.public_token}/$"))
    assert page.locator(".current-status").inner_text().strip() == "Neu"
    assert page.get_by_text("Ihre Meldung ist eingegangen.").is_visible()
    assert page.get_by_text("etwa 100 m genau").is_visible()
