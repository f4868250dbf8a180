"""Issue 11, point 7, on a phone (390 × 844): quick buttons for the date inputs.

The Von/Bis filters of the incident list and the shift list get "Heute", "Gestern",
"Letzte 7 Tage", "Dieser Monat"; the date of a new shift gets "Heute", "Morgen". "Today" is
the server's day on the city's wall clock, so the tests move the frozen clock to a quarter
past midnight on New Year's Day, when yesterday is in another month and year and a device
running on UTC would still think it is 31 December.
"""

from __future__ import annotations

import datetime as dt

import pytest

from lagebild.core.scoping import authority_scope
from lagebild.field import services
from lagebild.field.measures import MeasureInput

from .conftest import PHONE
from .test_accessibility import axe_violations
from .test_field_entry import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_YEAR_AFTER_MIDNIGHT = "2027-01-01T00:15:00+01:00"
BERLIN = dt.timezone(dt.timedelta(hours=1))  # CET all winter


def record(user, category, at: dt.datetime, address: str) -> None:
    with authority_scope(user.authority):
        services.incident_create(
            user=user,
            category=category,
            occurred_at=at,
            lat=51.5147,
            lon=7.4636,
            address_text=address,
            measures=[MeasureInput(type="dispersal_order")],
            joint=False,
        )


def test_yesterday_and_last_seven_days_fill_von_and_bis_and_filter_the_list(
    live_server, phone, world, kod, polizei, clock, axe_script
):
    clock.move_to(NEW_YEAR_AFTER_MIDNIGHT)
    begging = world["categories"]["begging"]
    record(kod, begging, dt.datetime(2026, 12, 31, 21, 0, tzinfo=BERLIN), "Silvesterweg 1")
    record(kod, begging, dt.datetime(2026, 12, 27, 12, 0, tzinfo=BERLIN), "Weihnachtsgasse 4")
    record(kod, begging, dt.datetime(2026, 12, 20, 12, 0, tzinfo=BERLIN), "Adventsplatz 2")
    record(polizei, begging, dt.datetime(2026, 12, 31, 22, 0, tzinfo=BERLIN), "Polizeiwache Nord")

    page = phone
    login(page, live_server.url, "kod")
    page.goto(f"{live_server.url}/feststellungen/")
    page.get_by_text("Filter", exact=True).tap()
    group = page.get_by_role("group", name="Zeitraum schnell setzen")
    assert group.is_visible()
    assert not axe_violations(page, axe_script)
    date_from, date_to = page.get_by_label("Von", exact=True), page.get_by_label("Bis", exact=True)

    group.get_by_role("button", name="Gestern").tap()
    assert (date_from.input_value(), date_to.input_value()) == ("2026-12-31", "2026-12-31")
    assert (
        "31.12.2026 bis 31.12.2026 (Gestern)"
        in page.get_by_role("status").filter(has_text="Zeitraum gesetzt").inner_text()
    )
    page.get_by_role("button", name="Anwenden").tap()
    page.wait_for_url("**date_from=2026-12-31**")
    results = page.locator("#incident-results")
    assert results.get_by_role("heading", name="1 Feststellung").is_visible()
    assert "Silvesterweg 1" in results.inner_text()
    # The police's own incident of the same evening stays the police's.
    assert "Polizeiwache Nord" not in results.inner_text()

    # Keyboard: the filter is open now (active), the buttons are reached and pressed by key.
    group.get_by_role("button", name="Letzte 7 Tage").focus()
    page.keyboard.press("Enter")
    assert (date_from.input_value(), date_to.input_value()) == ("2026-12-26", "2027-01-01")
    page.get_by_role("button", name="Anwenden").tap()
    page.wait_for_url("**date_from=2026-12-26**")
    text = results.inner_text()
    assert "Silvesterweg 1" in text and "Weihnachtsgasse 4" in text
    assert "Adventsplatz 2" not in text and "Polizeiwache Nord" not in text

    group.get_by_role("button", name="Heute").tap()
    assert (date_from.input_value(), date_to.input_value()) == ("2027-01-01", "2027-01-01")


@pytest.fixture
def phone_on_utc(browser):
    """A phone whose own clock runs on UTC: at 00:15 in Berlin it still thinks it is 31 December."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="de-DE",
        timezone_id="UTC",
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_shift_dates_by_touch_this_month_and_tomorrow(live_server, phone_on_utc, world, kod_lead, clock):
    clock.move_to(NEW_YEAR_AFTER_MIDNIGHT)
    page = phone_on_utc
    login(page, live_server.url, "kod-lead")
    page.goto(f"{live_server.url}/schichten/")
    page.get_by_role("group", name="Zeitraum schnell setzen").get_by_role("button", name="Dieser Monat").tap()
    assert page.get_by_label("Von", exact=True).input_value() == "2027-01-01"
    assert page.get_by_label("Bis", exact=True).input_value() == "2027-01-31"
    page.get_by_role("button", name="Anzeigen").tap()
    page.wait_for_url("**date_to=2027-01-31**")
    assert page.get_by_text("01.01.2027 bis 31.01.2027").is_visible()

    page.goto(f"{live_server.url}/schichten/neu/")
    date = page.get_by_role("textbox", name="Datum", exact=True)
    assert date.input_value() == "2026-12-31"  # the night shift that began yesterday evening
    group = page.get_by_role("group", name="Datum schnell setzen")
    group.get_by_role("button", name="Morgen").tap()
    assert date.input_value() == "2027-01-02"
    group.get_by_role("button", name="Heute").focus()
    page.keyboard.press("Space")
    assert date.input_value() == "2027-01-01"
    assert "01.01.2027 (Heute)" in page.locator("#id_date-quick-status").inner_text()


def test_without_javascript_no_quick_buttons_show_and_the_date_fields_work(browser, live_server, world, kod):
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=False, locale="de-DE", timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    try:
        login(page, live_server.url, "kod")
        page.goto(f"{live_server.url}/schichten/")
        assert not page.get_by_role("button", name="Gestern").is_visible()
        page.get_by_label("Von", exact=True).fill("2026-12-28")
        page.get_by_label("Bis", exact=True).fill("2027-01-03")
        page.get_by_role("button", name="Anzeigen").click()
        page.wait_for_url("**date_from=2026-12-28**")
        assert page.get_by_text("28.12.2026 bis 03.01.2027").is_visible()
    finally:
        context.close()
