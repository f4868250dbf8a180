"""The frame of every page: the phone header folds its menu, the favicon loads, unknown
addresses get the German 404 page (issue 11, point 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput

from .conftest import PHONE
from .test_accessibility import axe_violations
from .test_field_entry import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Before the menu folded, the header of a shift lead took 197 px of the phone's 844 px in the
# test world (brand and user on one line, then three lines of navigation), about 230 px in
# the demo. Folded it is one line of 44 px touch targets.
COLLAPSED_HEADER_MAX_PX = 80


def header_height(page) -> float:
    return page.evaluate("() => document.querySelector('.site-header').getBoundingClientRect().height")


def focused(page) -> str:
    return page.evaluate("() => (document.activeElement.textContent || '').trim()")


def test_phone_header_is_one_line_and_the_menu_works_by_keyboard(live_server, phone, world, axe_script):
    page = phone
    login(page, live_server.url, "kod-lead")
    page.goto(f"{live_server.url}/feststellungen/")
    assert header_height(page) <= COLLAPSED_HEADER_MAX_PX
    menu = page.get_by_role("button", name="Menü")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="Schichten").is_visible()
    assert not page.get_by_role("button", name="Abmelden").is_visible()

    # From the top of the page: skip link, brand, menu button.
    page.locator("body").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
    assert focused(page) == "Menü"
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Schichten").is_visible()
    assert page.get_by_role("button", name="Abmelden").is_visible()
    assert "Stadt Dortmund – Ordnungsamt" in page.locator(".site-header").inner_text()
    assert not axe_violations(page, axe_script)
    # The open menu pushes the page down instead of covering it, and the page stays 390 px wide.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    page.keyboard.press("Tab")
    assert focused(page) == "Übersicht"
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert focused(page) == "Menü"
    assert not page.get_by_role("link", name="Schichten").is_visible()

    # Space opens it too; a link in it is followed with Enter, and the next page starts folded.
    page.keyboard.press("Space")
    while focused(page) != "Schichten":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/schichten/")
    assert header_height(page) <= COLLAPSED_HEADER_MAX_PX
    assert page.get_by_role("button", name="Menü").get_attribute("aria-expanded") == "false"


def test_desktop_shows_the_navigation_without_a_menu_button(live_server, desktop, world):
    login(desktop, live_server.url, "kod-lead")
    desktop.goto(f"{live_server.url}/feststellungen/")
    assert not desktop.get_by_role("button", name="Menü").is_visible()
    for name in ("Übersicht", "Erfassen", "Feststellungen", "Schichten"):
        assert desktop.locator(".main-nav").get_by_role("link", name=name).is_visible()
    assert desktop.get_by_role("button", name="Abmelden").is_visible()


def test_phone_without_javascript_shows_every_link(live_server, browser, world):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/anmelden/")
        page.get_by_label("Benutzername").fill("kod-lead")
        page.get_by_label("Passwort").fill("geheim-123")
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{live_server.url}/")
        assert not page.get_by_role("button", name="Menü").is_visible()
        assert page.get_by_role("link", name="Schichten").is_visible()
        assert page.get_by_role("button", name="Abmelden").is_visible()
    finally:
        context.close()


def test_every_page_links_a_favicon_that_loads(live_server, phone, world):
    page = phone
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    login(page, live_server.url, "kod")
    page.goto(f"{live_server.url}/feststellungen/")
    icons = page.eval_on_selector_all("link[rel~=icon]", "links => links.map(link => link.href)")
    assert any(href.endswith(".svg") for href in icons) and any(href.endswith(".png") for href in icons)
    for href in icons:
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"].startswith("image/")
    # What browsers ask for on their own (pages without the link: API answers, the 500 page).
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.status == 200 and response.headers["content-type"].startswith("image/")
    assert missing == []


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_address_and_hidden_record_get_the_german_404_page(
    live_server, phone, world, kod, settings, debug
):
    """`make demo` runs with DEBUG on; there too a user sees German, not Django's technical page."""
    settings.DEBUG = debug
    page = phone
    response = page.goto(f"{live_server.url}/gibt-es-nicht/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Seite nicht gefunden").is_visible()
    assert page.get_by_role("link", name="Hinweis an das Ordnungsamt melden").is_visible()
    text = page.locator("body").inner_text()
    assert "Page not found" not in text and "URLconf" not in text
    assert page.evaluate("() => document.documentElement.lang") == "de"

    # A city-only incident opened by the police: the same page, and nothing of the record.
    with authority_scope(kod.authority_id):
        incident = field.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            lat=51.5147,
            lon=7.4636,
            description="Nur für die Stadt",
            measures=[MeasureInput(type="dispersal_order")],
        )
    login(page, live_server.url, "polizei")
    response = page.goto(f"{live_server.url}/feststellungen/{incident.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Seite nicht gefunden").is_visible()
    assert "Nur für die Stadt" not in page.content() and "Traceback" not in page.content()
    assert page.get_by_role("button", name="Menü").is_visible()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_expired_form_and_not_found_pages_are_accessible(request, live_server, world, axe_script, viewport):
    page = request.getfixturevalue(viewport)
    login(page, live_server.url, "kod")
    response = page.goto(f"{live_server.url}/gibt-es-nicht/")
    assert response.status == 404
    assert not axe_violations(page, axe_script)
    page.goto(f"{live_server.url}/feststellungen/neu/")
    # The form's token no longer matches (as after a long pause or a new login in another tab).
    page.context.clear_cookies(name="csrftoken")
    with page.expect_navigation():
        page.locator("#incident-form").evaluate("form => form.submit()")
    assert page.get_by_role("heading", name="Formular abgelaufen").is_visible()
    assert "CSRF" not in page.locator("body").inner_text()
    assert not axe_violations(page, axe_script)
