"""BITV 2.0 / WCAG 2.1 AA, checked: axe-core runs on every page type at a phone and a desktop
viewport, as the user who works there, and any violation of a WCAG 2.0/2.1 A or AA rule fails.

Pages are checked after their scripts, maps and htmx fragments have loaded, and forms also in
their error state, since the messages at the fields are what a screen-reader user needs most.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report
from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.geo.models import Place

from ..citizen_fixtures import *  # noqa: F403
from ..test_deployment_plans import seeded, zones  # noqa: F401  (fixtures)
from ..test_import_export import csv_file, row
from .test_field_entry import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = ["phone", "desktop"]


def axe_violations(page, axe_script: Path) -> list[str]:
    """The WCAG A/AA violations axe-core finds on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: a <script> tag with axe's code inline would be
        # refused by the Content-Security-Policy (script-src 'self'), as it should be.
        page.evaluate(axe_script.read_text(encoding="utf-8") + "\n;true")
    results = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        WCAG_TAGS,
    )
    lines = []
    for violation in results["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        count = len(violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}, {count}×): {violation['help']} – {targets}")
    return lines


class Audit:
    """Visits pages and collects every violation per page, so one run reports all of them."""

    def __init__(self, page, base_url: str, axe_script: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.axe_script = axe_script
        self.found: dict[str, list[str]] = {}
        self.pages = 0

    def visit(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(f"{self.base_url}{path}")
        assert response.status == status, (path, response.status)
        self.page.wait_for_load_state("networkidle")
        self.check(path)

    def check(self, label: str) -> None:
        self.pages += 1
        # Folded sections (reading help, number tables behind charts) are checked open too.
        self.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        violations = axe_violations(self.page, self.axe_script)
        # Reflow (WCAG 1.4.10), which axe does not check: no page is wider than the screen;
        # wide tables scroll inside their own region.
        width, viewport = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width > viewport:
            violations.append(f"reflow: page is {width} px wide on a {viewport} px screen")
        if violations:
            self.found[label] = violations

    def report(self) -> str:
        return "\n".join(f"{label}:\n  " + "\n  ".join(lines) for label, lines in self.found.items())


@pytest.fixture
def audit(request, live_server, axe_script) -> Callable[[str], Audit]:
    def make(viewport: str) -> Audit:
        return Audit(request.getfixturevalue(viewport), live_server.url, axe_script)

    return make


@pytest.fixture
def records(world, kod, kod_lead, polizei, services, settings, tmp_path) -> dict[str, object]:
    """One of each record a page type shows: incident, shift with patrol, citizen report."""
    settings.VAR_DIR = tmp_path
    now = timezone.now()
    with authority_scope(kod.authority_id):
        incident = field.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=now - dt.timedelta(hours=2),
            lat=51.5147,
            lon=7.4636,
            description="Passanten am Eingang bedrängt",
            measures=[MeasureInput(type="dispersal_order"), MeasureInput(type="caution")],
        )
        shift = field.shift_create(user=kod_lead, date=timezone.localdate(now), kind="late")
        # Running now, with an area: the start screen's "Meine Streife" shows its buttons and
        # the entry map its area and the gazetteer's place names.
        patrol = field.patrol_create(
            user=kod_lead,
            shift=shift,
            name="Doppelstreife City 1",
            members=[kod, polizei],
            area_id=world["areas"]["centre"].pk,
            planned_start=now - dt.timedelta(minutes=30),
            planned_end=now + dt.timedelta(hours=3),
        )
    Place.objects.create(name="Hansaplatz", kind="place", lat=51.514, lon=7.464)
    Place.objects.create(name="Kampstraße", kind="street", lat=51.5155, lon=7.4655)
    # Received yesterday at noon: the test world routes night-time reports to the police,
    # and the shift lead of the city must see this one whatever time the suite runs at.
    noon_yesterday = dt.datetime.combine(
        timezone.localdate(now) - dt.timedelta(days=1), dt.time(12), tzinfo=timezone.get_current_timezone()
    )
    report = intake.report_create(
        service=services["begging"],
        channel=Channel.WEB,
        requested_at=noon_yesterday,
        lat=51.5146,
        lon=7.4637,
        description="Am Eingang wird aggressiv gebettelt.",
        attributes={"personen": 2},
    )
    return {"incident": incident, "shift": shift, "patrol": patrol, "report": report}


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_public_pages_have_no_wcag_violations(audit, records, viewport):
    check = audit(viewport)
    report = records["report"]
    check.visit("/anmelden/")
    check.page.get_by_role("button", name="Anmelden").click()
    check.page.wait_for_load_state("networkidle")
    check.check("/anmelden/ (Fehler)")
    check.visit("/melden/")
    check.visit("/melden/betteln/")
    check.page.get_by_role("button", name="Meldung absenden").last.click()
    check.page.wait_for_load_state("networkidle")
    check.check("/melden/betteln/ (Fehler)")
    check.visit("/melden/gewalt/")
    check.visit(f"/melden/eingegangen/{report.public_token}/")
    check.visit(f"/melden/status/{report.public_token}/")
    check.visit("/offene-daten/")
    check.visit("/admin/login/")
    check.visit("/gibt-es-nicht/", status=404)
    assert check.pages == 11
    assert not check.found, check.report()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_field_officer_pages_have_no_wcag_violations(audit, records, viewport):
    check = audit(viewport)
    login(check.page, check.base_url, "kod")
    check.visit("/")
    check.visit("/feststellungen/neu/")
    check.page.get_by_role("button", name="Speichern").click()
    check.page.wait_for_load_state("networkidle")
    assert check.page.locator(".field-error").count() >= 1
    check.check("/feststellungen/neu/ (Fehler)")
    check.visit("/feststellungen/")
    check.visit(f"/feststellungen/{records['incident'].pk}/")
    check.visit("/schichten/")
    check.visit(f"/schichten/{records['shift'].pk}/")
    check.visit(f"/streifen/{records['patrol'].pk}/")
    check.visit("/hinweise/streife/")
    assert check.pages == 9
    assert not check.found, check.report()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_shift_lead_pages_have_no_wcag_violations(audit, records, viewport):
    check = audit(viewport)
    login(check.page, check.base_url, "kod-lead")
    report = records["report"]
    with unscoped():
        assert Report.objects.get(pk=report.pk).authority == records["shift"].authority
    check.visit("/hinweise/")
    check.visit(f"/hinweise/{report.pk}/")
    check.visit(f"/hinweise/{report.pk}/schritt/?status=resolved&von=new&zurueck=/hinweise/")
    check.visit("/hinweise/neu/")
    check.page.get_by_role("button", name=re.compile("speichern|erfassen", re.I)).last.click()
    check.page.wait_for_load_state("networkidle")
    check.check("/hinweise/neu/ (Fehler)")
    check.visit("/hinweise/statistik/")
    check.visit("/schichten/neu/")
    check.visit(f"/schichten/{records['shift'].pk}/streife/")
    check.visit(f"/streifen/{records['patrol'].pk}/mitglieder/")
    check.page.locator("input[name=members]:checked").evaluate_all("boxes => boxes.forEach(b => b.click())")
    check.page.get_by_role("button", name="Mitglieder speichern").click()
    check.page.wait_for_load_state("networkidle")
    assert check.page.get_by_text("Eine Streife braucht mindestens ein Mitglied.").first.is_visible()
    check.check("/streifen/…/mitglieder/ (Fehler)")
    check.visit("/feststellungen/import/")
    bad_file = csv_file(row(), row(category="gibt-es-nicht")).encode()
    check.page.locator("input[type=file]").set_input_files(
        {"name": "feststellungen.csv", "mimeType": "text/csv", "buffer": bad_file}
    )
    check.page.get_by_role("button", name="Prüfen und importieren").click()
    check.page.wait_for_load_state("networkidle")
    assert check.page.get_by_text("Unbekannter Sachverhalt").first.is_visible()
    check.check("/feststellungen/import/ (Fehlertabelle)")
    assert check.pages == 12
    assert not check.found, check.report()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_analytics_pages_have_no_wcag_violations(audit, analytics_world, analyst, world, viewport):
    check = audit(viewport)
    login(check.page, check.base_url, "analyse")
    today = timezone.localdate()
    displacement = (
        f"/auswertung/verdraengung/?target={world['areas']['centre'].pk}&buffer_kind=rings&rings=200%2C+400"
        f"&control={world['areas']['east'].pk}&pre_start={today - dt.timedelta(days=60)}"
        f"&pre_end={today - dt.timedelta(days=31)}&post_start={today - dt.timedelta(days=30)}"
        f"&post_end={today - dt.timedelta(days=1)}&count_kind=indicator&indicator=&alpha=0.05"
    )
    check.visit("/auswertung/")
    check.visit("/auswertung/lage/")
    check.visit("/auswertung/brennpunkte/")
    check.visit("/auswertung/verdraengung/")
    check.visit(displacement)
    assert check.page.locator("table").count() >= 1, "the displacement result is shown"
    check.visit("/auswertung/bilanz/")
    assert check.pages == 6
    assert not check.found, check.report()


def test_admin_pages_have_no_wcag_violations(audit, world, kod_admin):
    check = audit("desktop")
    login(check.page, check.base_url, kod_admin.username)
    check.visit("/admin/")
    check.visit("/admin/catalog/category/")
    check.visit("/admin/citizen/report/")
    check.visit("/admin/catalog/category/add/")
    assert not check.found, check.report()


def test_leadership_reads_the_cockpit_without_wcag_violations(audit, analytics_world, make_user, city):
    make_user("leitung", city, Role.LEADERSHIP)
    check = audit("phone")
    login(check.page, check.base_url, "leitung")
    check.visit("/")
    check.visit("/auswertung/lage/")
    assert not check.found, check.report()


def test_police_get_an_accessible_not_found_page_for_a_city_only_incident(audit, records):
    check = audit("phone")
    login(check.page, check.base_url, "polizei")
    check.visit(f"/feststellungen/{records['incident'].pk}/", status=404)
    assert "Passanten am Eingang" not in check.page.content()
    check.visit(f"/hinweise/{records['report'].pk}/", status=404)
    assert not check.found, check.report()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_proceedings_pages_have_no_wcag_violations(audit, world, make_user, city, viewport):
    from lagebild.proceedings import services as proceedings

    clerk = make_user("bussgeld", city, Role.PROCEEDINGS)
    now = timezone.now()
    with authority_scope(city):
        person = proceedings.person_create(
            user=clerk,
            data={
                "family_name": "Muster",
                "given_names": "Max",
                "date_of_birth": dt.date(1990, 5, 17),
                "place_of_birth": "Dortmund",
                "street": "Kampstraße 1",
                "postcode": "44137",
                "city": "Dortmund",
            },
        )
        # Five and a half months ago: its limitation deadline is on the worklist.
        case = proceedings.case_open(
            user=clerk,
            category=world["categories"]["begging"],
            offence_at=now - dt.timedelta(days=170),
            offence_place="Katharinentreppe",
            person=person,
            now=now,
        )
    check = audit(viewport)
    login(check.page, check.base_url, "bussgeld")
    check.visit("/bussgeld/")
    assert check.page.get_by_text(case.file_number).first.is_visible()
    check.visit("/bussgeld/verfahren/")
    check.visit("/bussgeld/verfahren/neu/")
    check.page.get_by_role("button", name="Verfahren einleiten").click()
    check.page.wait_for_load_state("networkidle")
    assert check.page.locator(".field-error").count() >= 1
    check.check("/bussgeld/verfahren/neu/ (Fehler)")
    check.visit(f"/bussgeld/verfahren/{case.pk}/person/")
    check.page.get_by_role("button", name="Person erfassen und zuordnen").click()
    check.page.wait_for_load_state("networkidle")
    assert check.page.locator(".field-error").count() >= 1
    check.check("/bussgeld/verfahren/<pk>/person/ (Fehler)")
    check.visit(
        f"/bussgeld/verfahren/{case.pk}/person/?suche-family_name=Muster&suche-date_of_birth=1990-05-17"
    )
    check.visit(f"/bussgeld/verfahren/{case.pk}/")
    check.page.get_by_label("Geldbuße (€)").fill("zwölf")
    check.page.get_by_role("button", name="Entwurf speichern").click()
    check.page.wait_for_load_state("networkidle")
    assert check.page.locator(".field-error").count() >= 1
    check.check("/bussgeld/verfahren/<pk>/ (Fehler)")
    assert check.pages == 9
    assert not check.found, check.report()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_forecast_pages_have_no_wcag_violations(audit, world, kod, polizei, analyst, viewport):
    from lagebild.forecast import services as forecast
    from tests.test_forecast_services import WEEK_START, patrol_zones, seed_incidents

    forecast_zones = patrol_zones()
    seed_incidents(world, kod, polizei)
    forecast.run_backtest("all", weeks=2, last_origin=WEEK_START - dt.timedelta(days=7))
    forecast.run_forecast("all", WEEK_START)
    forecast.run_shift_forecasts("all", WEEK_START)
    check = audit(viewport)
    login(check.page, check.base_url, analyst.username)
    check.visit("/prognose/")
    check.visit(f"/prognose/zone/{forecast_zones['centre'].pk}/")
    assert "Zellen mit erwarteten" in check.page.locator("#forecast-map-status").inner_text(), (
        "the map shows the cells"
    )
    check.visit(f"/prognose/zone/{forecast_zones['centre'].pk}/?woche={WEEK_START}&schicht={WEEK_START}:late")
    check.visit("/prognose/backtest/")
    assert check.pages == 4
    assert not check.found, check.report()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_deployment_pages_have_no_wcag_violations(audit, seeded, kod_lead, viewport):  # noqa: F811
    from lagebild.deployment import services as deployment
    from lagebild.deployment.services import StaffInput
    from tests.test_deployment_plans import WEEK

    with authority_scope(kod_lead.authority_id):
        plan = deployment.plan_create(
            user=kod_lead, week=WEEK, staff=StaffInput.uniform(kod=2, police=0, joint=1), focus_minimum=1
        )
        first = plan.assignments.order_by("pk").first()
    check = audit(viewport)
    login(check.page, check.base_url, kod_lead.username)
    check.visit("/einsatzplanung/")
    check.visit(f"/einsatzplanung/{plan.pk}/")
    if first is not None:
        check.visit(f"/einsatzplanung/{plan.pk}/?aendern={first.pk}")
    check.visit("/einsatzplanung/wirkung/")
    assert check.pages == (4 if first is not None else 3)
    assert not check.found, check.report()
