"""Issue 11 on a phone (390 × 844): "Meine Streife" on the start screen, a patrol over its plan
still preselected, a map tap that names the place, a map that opens at the patrol area,
one-pass validation and quick time buttons. Also counts the taps and typed inputs from the
start screen to a saved incident with Platzverweis and Verwarnung."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.models import Incident, Patrol
from lagebild.geo.models import Area, Place
from lagebild.geo.services import area_save

from .test_field_entry import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ZONE = (7.457, 51.511, 7.472, 51.517)  # min lon, min lat, max lon, max lat: about 1 × 0.7 km
ZONE_CENTRE = ((ZONE[1] + ZONE[3]) / 2, (ZONE[0] + ZONE[2]) / 2)


@pytest.fixture
def patrol_zone(world) -> Area:
    zone = Area(kind=Area.Kind.PATROL_ZONE, code="pz-zentrum", name="Streifenbereich Zentrum")
    min_lon, min_lat, max_lon, max_lat = ZONE
    ring = [
        [min_lon, min_lat],
        [max_lon, min_lat],
        [max_lon, max_lat],
        [min_lon, max_lat],
        [min_lon, min_lat],
    ]
    area_save(area=zone, geometry={"type": "Polygon", "coordinates": [ring]})
    Place.objects.create(name="Hansaplatz", kind="place", lat=ZONE_CENTRE[0], lon=ZONE_CENTRE[1])
    Place.objects.create(name="Kampstraße", kind="street", lat=51.5155, lon=7.4655)
    Place.objects.create(name="Westpark", kind="place", lat=51.512, lon=7.448)
    return zone


def plan(lead, name: str, members: list, *, start: dt.timedelta, end: dt.timedelta, area=None) -> Patrol:
    now = timezone.now()
    with authority_scope(lead.authority):
        shift = services.shift_create(user=lead, date=timezone.localdate(now), kind="early")
        return services.patrol_create(
            user=lead,
            shift=shift,
            name=name,
            members=members,
            area_id=area.pk if area else None,
            planned_start=now + start,
            planned_end=now + end,
        )


class Effort:
    """Counts what the officer does: a tap on a control, a native select (open and pick: two
    taps, as on a phone) and typed inputs."""

    def __init__(self, page) -> None:
        self.page = page
        self.taps = 0
        self.typed = 0

    def tap(self, locator, **options) -> None:
        locator.tap(**options)
        self.taps += 1

    def choose(self, select, label: str) -> None:
        select.select_option(label=label)
        self.taps += 2

    def type(self, locator, text: str) -> None:
        locator.fill(text)
        self.typed += 1


def map_bounds(page) -> tuple[float, float, float, float]:
    return tuple(
        page.evaluate(
            "() => { const b = Lagebild.entryMap.getBounds();"
            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
        )
    )


def test_start_screen_starts_and_ends_my_patrol_with_one_tap_each(
    live_server, phone, world, kod, kod_lead, polizei, police_lead
):
    patrol = plan(
        kod_lead,
        "Doppelstreife City 1",
        [kod, polizei],
        start=-dt.timedelta(minutes=10),
        end=dt.timedelta(hours=4),
    )
    police_only = plan(
        police_lead, "Polizei Nord 2", [polizei], start=-dt.timedelta(minutes=10), end=dt.timedelta(hours=4)
    )
    page = phone
    login(page, live_server.url, "kod")
    card = page.locator("section.my-patrol")
    assert card.get_by_role("heading", name="Meine Streife").is_visible()
    assert card.get_by_text("Doppelstreife City 1").is_visible()
    assert card.get_by_text("Mit Pat Streife (Polizei)").is_visible()
    assert "Polizei Nord 2" not in page.content()  # the police-only patrol is not the city's
    # The card is on the first screen of the phone, without scrolling.
    assert card.get_by_role("button", name="Streife beginnen").bounding_box()["y"] < 844

    with page.expect_navigation():
        card.get_by_role("button", name="Streife beginnen").tap()
    assert page.url == f"{live_server.url}/"
    page.screenshot(path="/tmp/start-screen-running.png", full_page=True)
    assert page.get_by_text(
        re.compile(r"Streife Doppelstreife City 1 um \d\d:\d\d Uhr begonnen\.")
    ).is_visible()
    assert card.get_by_text(re.compile(r"läuft seit \d\d:\d\d")).is_visible()
    with page.expect_navigation():
        card.get_by_role("button", name="Streife beenden").tap()
    assert page.url == f"{live_server.url}/"
    assert page.get_by_text(re.compile(r"Uhr beendet\.")).is_visible()
    with authority_scope(kod.authority):
        patrol.refresh_from_db()
    assert patrol.actual_start is not None and patrol.actual_end is not None
    with unscoped():
        assert Patrol.objects.get(pk=police_only.pk).actual_start is None


def test_recording_from_the_start_screen_takes_seven_taps_and_nothing_typed(
    live_server, phone, world, patrol_zone, kod, kod_lead, polizei
):
    """Platzverweis and Verwarnung mit Verwarnungsgeld, recorded on the own patrol that runs
    20 minutes over its plan; the place gets its name from the gazetteer."""
    patrol = plan(
        kod_lead,
        "Doppelstreife City 1",
        [kod, polizei],
        start=-dt.timedelta(hours=6),
        end=-dt.timedelta(minutes=20),
        area=patrol_zone,
    )
    page = phone
    login(page, live_server.url, "kod")
    effort = Effort(page)
    card = page.locator("section.my-patrol")
    assert card.get_by_text("Das geplante Ende war vor 20 min.").is_visible()

    effort.tap(card.get_by_role("link", name="Feststellung erfassen"))
    page.wait_for_url(re.compile(r".*/feststellungen/neu/$"))
    page.wait_for_load_state("networkidle")
    # The own patrol is preselected although it runs 20 minutes over its plan.
    assert page.locator("#id_patrol option:checked").inner_text().startswith("Doppelstreife City 1")
    assert page.locator("#id_patrol optgroup").first.get_attribute("label") == "Meine Streifen"
    # The map opens at the patrol zone (about 1 km wide), not at the whole city.
    west, south, east, north = map_bounds(page)
    assert west <= ZONE[0] and south <= ZONE[1] and east >= ZONE[2] and north >= ZONE[3]
    assert (east - west) < 0.05, "the map shows much more than the patrol zone"
    assert page.locator(".leaflet-tooltip.place-label", has_text="Hansaplatz").is_visible()

    effort.choose(page.locator("#id_category"), "Aggressives Betteln")
    effort.tap(page.locator("label.toggle", has_text="Platzverweis"))
    effort.tap(page.locator("label.toggle", has_text="Verwarnung mit Verwarnungsgeld"))
    assert page.input_value("#id_caution_amount") == "35"  # the catalogue's amount, nothing typed
    entry_map = page.locator("#entry-map")
    entry_map.scroll_into_view_if_needed()
    box = entry_map.bounding_box()
    effort.tap(entry_map, position={"x": box["width"] / 2, "y": box["height"] / 2})
    page.wait_for_function("() => document.getElementById('id_address_text').value !== ''")
    address = page.input_value("#id_address_text")
    assert "Hansaplatz" in address
    assert "Hansaplatz" in page.locator("#location-status").inner_text()
    page.screenshot(path="/tmp/entry-filled.png", full_page=True)
    effort.tap(page.get_by_role("button", name="Speichern"))
    page.wait_for_url(re.compile(r".*/feststellungen/\d+/$"))
    assert page.get_by_text("Feststellung gespeichert.").is_visible()
    assert page.get_by_text(address).first.is_visible()
    assert not page.get_by_text("keine Ortsangabe").count()

    with unscoped():
        incident = Incident.objects.get()
        assert incident.patrol_id == patrol.pk and incident.joint
        assert incident.address_text == address
        assert sorted(incident.measures.values_list("type", flat=True)) == ["caution_fee", "dispersal_order"]
    print(f"\nEFFORT after: {effort.taps} taps, {effort.typed} typed inputs")
    assert (effort.taps, effort.typed) == (7, 0)


def test_an_empty_submit_lists_category_and_place_in_one_go(live_server, phone, world, kod):
    page = phone
    login(page, live_server.url, "kod")
    page.goto(f"{live_server.url}/feststellungen/neu/")
    page.get_by_role("button", name="Speichern").tap()
    page.wait_for_load_state("networkidle")
    summary = page.locator("#form-errors")
    assert summary.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "form-errors"
    items = [text.strip() for text in summary.locator("li").all_inner_texts()]
    assert items == [
        "Sachverhalt: Bitte einen Sachverhalt wählen.",
        "Bitte den Ort wählen: auf die Karte tippen, Standort verwenden oder eine Ortsangabe eingeben.",
    ]
    assert "Breite" not in summary.inner_text()
    summary.get_by_role("link", name=re.compile("Bitte den Ort wählen")).tap()
    assert page.locator("#entry-map").is_visible()
    with unscoped():
        assert Incident.objects.count() == 0


def test_quick_buttons_set_the_time_by_touch_and_keyboard(live_server, phone, world, kod, clock):
    clock.move_to("2027-03-28T03:20:00+02:00")  # 20 minutes after summer time began
    page = phone
    login(page, live_server.url, "kod")
    page.goto(f"{live_server.url}/feststellungen/neu/")
    field = page.locator("#id_occurred_at")
    group = page.get_by_role("group", name="Zeitpunkt schnell setzen")
    assert field.input_value() == "2027-03-28T03:20"
    group.get_by_role("button", name="vor 15 min").tap()
    assert field.input_value() == "2027-03-28T03:05"
    group.get_by_role("button", name="vor 1 h").focus()
    page.keyboard.press("Enter")
    assert field.input_value() == "2027-03-28T01:20"  # an hour ago, across the skipped hour
    group.get_by_role("button", name="jetzt").focus()
    page.keyboard.press("Space")
    assert field.input_value() == "2027-03-28T03:20"
    assert "03:20 Uhr (jetzt)" in page.locator("#quick-time-status").inner_text()
    group.get_by_role("button", name="vor 15 min").tap()

    page.select_option("#id_category", label="Aggressives Betteln")
    entry_map = page.locator("#entry-map")
    entry_map.scroll_into_view_if_needed()
    entry_map.tap()
    page.get_by_role("button", name="Speichern").tap()
    page.wait_for_url(re.compile(r".*/feststellungen/\d+/$"))
    with unscoped():
        incident = Incident.objects.get()
    assert incident.occurred_at == dt.datetime(2027, 3, 28, 1, 5, tzinfo=dt.UTC)  # 03:05 CEST


def test_without_javascript_the_time_field_works_and_no_quick_buttons_show(browser, live_server, world, kod):
    from .conftest import PHONE

    context = browser.new_context(
        viewport=PHONE, java_script_enabled=False, locale="de-DE", timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    try:
        login(page, live_server.url, "kod")
        page.goto(f"{live_server.url}/feststellungen/neu/")
        assert not page.get_by_role("group", name="Zeitpunkt schnell setzen").is_visible()
        assert page.locator("#id_occurred_at").input_value() != ""
    finally:
        context.close()


FOCUS_AREA = (7.455, 51.509, 7.475, 51.519)  # "Zentrum" of the test world
WESTPARK = (51.512, 7.448)  # district West, outside the focus area


def map_shows(page, kind: str) -> bool:
    """The entry map holds an area of this kind (drawn on the canvas, so asked of Leaflet)."""
    return page.evaluate(
        "kind => Object.values(Lagebild.entryMap._layers)"
        ".some(layer => layer.feature && layer.feature.properties.kind === kind)",
        kind,
    )


@pytest.mark.parametrize("position_allowed", [True, False], ids=["position-allowed", "not-asked"])
def test_without_a_patrol_the_map_opens_at_the_allowed_position_else_at_the_focus_areas(
    live_server, browser, world, patrol_zone, kod, position_allowed
):
    """No patrol today: a phone that already allows the position opens the map there, zoomed in
    with the named places around; otherwise the map opens at the focus area (never asking on
    load), not at the whole city. Without tiles it shows outlines, the focus area and names."""
    from .conftest import PHONE

    options = {"geolocation": {"latitude": WESTPARK[0], "longitude": WESTPARK[1]}} if position_allowed else {}
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="de-DE",
        timezone_id="Europe/Berlin",
        permissions=["geolocation"] if position_allowed else [],
        **options,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, live_server.url, "kod")
        assert (
            page.locator("section.my-patrol")
            .get_by_text("Zurzeit sind Sie keiner Streife zugeteilt.")
            .is_visible()
        )
        page.goto(f"{live_server.url}/feststellungen/neu/")
        page.wait_for_load_state("networkidle")
        assert "map-no-tiles" in page.locator("#entry-map").get_attribute("class")
        page.wait_for_function("() => Object.values(Lagebild.entryMap._layers).some(l => l.feature)")
        assert map_shows(page, "focus_area") and map_shows(page, "district")
        if position_allowed:
            page.wait_for_function("() => Lagebild.entryMap.getZoom() >= 16")
            centre = page.evaluate(
                "() => { const c = Lagebild.entryMap.getCenter(); return [c.lat, c.lng]; }"
            )
            assert abs(centre[0] - WESTPARK[0]) < 0.0005 and abs(centre[1] - WESTPARK[1]) < 0.0005
            label = page.locator(".leaflet-tooltip.place-label", has_text="Westpark")
        else:
            page.wait_for_timeout(500)  # a position that came late would move the map
            west, south, east, north = map_bounds(page)
            assert west <= FOCUS_AREA[0] and south <= FOCUS_AREA[1]
            assert east >= FOCUS_AREA[2] and north >= FOCUS_AREA[3]
            assert (east - west) < 0.06, "the map shows the whole city, not the focus area"
            label = page.locator(".leaflet-tooltip.place-label", has_text="Hansaplatz")
        label.wait_for()
        assert label.is_visible()
        # Nothing was set: the officer still chooses the point.
        assert page.input_value("input[name=lat]") == "" and page.input_value("#id_address_text") == ""
    finally:
        context.close()


class Keys:
    """Counts keystrokes: a pressed key is one, typed text one per character."""

    def __init__(self, page) -> None:
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.count += len(text)

    def tab_to(self, selector: str, *, limit: int = 120) -> int:
        """Tab until ``selector`` has the focus; returns the Tabs it took."""
        for tabs in range(limit):
            if self.page.evaluate(
                "s => document.activeElement && document.activeElement.matches(s)", selector
            ):
                return tabs
            self.press("Tab")
        raise AssertionError(f"{selector} is not reachable with Tab within {limit} steps")


def test_recording_from_the_start_screen_by_keyboard_alone_counts_its_keystrokes(
    live_server, desktop, world, patrol_zone, kod, kod_lead, polizei
):
    """The same incident as above (own patrol 20 minutes over its plan, Platzverweis and
    Verwarnung mit Verwarnungsgeld) with the keyboard alone, from the start screen: Tab to the
    first "Feststellung erfassen", the category by typing, Space on both measures, Enter on the
    map (its centre is the patrol zone's), Enter on "Speichern", and "Zum Inhalt springen" past
    the navigation of the form page. Login is not counted."""
    plan(
        kod_lead,
        "Doppelstreife City 1",
        [kod, polizei],
        start=-dt.timedelta(hours=6),
        end=-dt.timedelta(minutes=20),
        area=patrol_zone,
    )
    page = desktop
    login(page, live_server.url, "kod")
    keys = Keys(page)
    steps = {"to the form": keys.tab_to("a[href$='/feststellungen/neu/']")}
    keys.press("Enter")
    page.wait_for_url(re.compile(r".*/feststellungen/neu/$"))
    page.wait_for_load_state("networkidle")
    assert page.locator("#id_patrol option:checked").inner_text().startswith("Doppelstreife City 1")

    steps["to the skip link"] = keys.tab_to("a.skip-link")
    keys.press("Enter")  # "Zum Inhalt springen": past the navigation
    steps["to the category"] = keys.tab_to("#id_category")
    keys.type("Ag")
    assert page.locator("#id_category option:checked").inner_text() == "Aggressives Betteln"
    steps["to Platzverweis"] = keys.tab_to("input[name=measure_types][value=dispersal_order]")
    keys.press("Space")
    steps["to Verwarnungsgeld"] = keys.tab_to("input[name=measure_types][value=caution_fee]")
    keys.press("Space")
    assert page.input_value("#id_caution_amount") == "35"
    steps["to the map"] = keys.tab_to("#entry-map")
    keys.press("Enter")
    page.wait_for_function("() => document.getElementById('id_address_text').value !== ''")
    assert "Hansaplatz" in page.input_value("#id_address_text")
    steps["to Speichern"] = keys.tab_to("button[type=submit].primary")
    keys.press("Enter")
    page.wait_for_url(re.compile(r".*/feststellungen/\d+/$"))
    assert page.get_by_text("Feststellung gespeichert.").is_visible()
    with unscoped():
        incident = Incident.objects.get()
        assert incident.patrol is not None and "Hansaplatz" in incident.address_text
        assert sorted(incident.measures.values_list("type", flat=True)) == ["caution_fee", "dispersal_order"]
    print(f"\nKEYS after: {keys.count} keystrokes, Tabs {steps}")
    # 37 Tabs, 2 letters, 6 Enter or Space (docs/field-entry.md: 43 before issue 11).
    assert keys.count == 45, steps
