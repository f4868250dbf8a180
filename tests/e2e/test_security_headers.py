"""The main pages run in Chromium under the Content-Security-Policy without a single violation.

Violations are caught two ways: the ``securitypolicyviolation`` event (recorded by a script
the browser injects before any page script) and Chromium's console message "Refused to …".
A deliberately inline script at the end proves the listener would notice one.
"""

from __future__ import annotations

import pytest

from lagebild.core.models import Role
from lagebild.geo.models import Area

from ..citizen_fixtures import *  # noqa: F403
from .test_field_entry import login, logout

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


def _watch(page) -> list[str]:
    console: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return console


def _visit(page, url: str, console: list[str]) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, url
    assert response.headers["server"] == "Lagebild"  # not "WSGIServer/0.2 CPython/3.x"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)  # late style or script insertions of the page's own scripts
    found = page.evaluate("window.__cspViolations") + console
    console.clear()
    return found


def test_main_pages_have_no_csp_violations(
    live_server, desktop, analytics_world, analyst, services, make_user, city
):
    make_user("stadt-admin", city, Role.ADMIN, is_staff=True)
    centre = Area.objects.get(code="centre")
    page = desktop
    console = _watch(page)
    base = live_server.url

    for path in ["/admin/login/", "/melden/", "/melden/betteln/", "/api/docs/"]:
        assert _visit(page, base + path, console) == [], path

    login(page, base, "kod")
    for path in ["/", "/feststellungen/neu/"]:
        assert _visit(page, base + path, console) == [], path
    assert page.locator("#entry-map.leaflet-container, .leaflet-container").count() >= 1
    logout(page)

    # The admin, including the area form with its Leaflet preview.
    login(page, base, "stadt-admin")
    for path in ["/admin/", "/admin/core/user/", f"/admin/geo/area/{centre.pk}/change/"]:
        assert _visit(page, base + path, console) == [], path
    assert page.locator("#area-preview.leaflet-container").count() == 1
    logout(page)

    login(page, base, "analyse")
    for path in ["/auswertung/lage/", "/auswertung/brennpunkte/"]:
        assert _visit(page, base + path, console) == [], path

    # The listener works: an inline script added to the page is refused and reported.
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                   document.body.appendChild(s); }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in entry for entry in page.evaluate("window.__cspViolations"))
