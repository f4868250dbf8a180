"""A shift lead triages citizen reports on a 1440 × 900 desktop (overdue first, a dozen and
more at a glance, next steps in one click, also by keyboard); a reporter reads one consistent
state on a phone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lagebild.citizen import services as intake
from lagebild.citizen.models import Channel, Report, ReportStatus
from lagebild.core.scoping import authority_scope, unscoped

from ..citizen_fixtures import *  # noqa: F403
from ..conftest import INSIDE
from .test_field_entry import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1440, "height": 900}
OVERDUE, FRESH = 10, 20

HTMX_IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


@pytest.fixture
def wide(browser) -> Iterator[object]:
    context = browser.new_context(viewport=WIDE, locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def noon(days_ago: int, minutes: int = 0) -> dt.datetime:
    """Daytime some days ago: the test world routes night-time reports to the police."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone()) - dt.timedelta(
        minutes=minutes
    )


def submit(service, when: dt.datetime) -> Report:
    return intake.report_create(
        service=service,
        channel=Channel.WEB,
        lat=INSIDE[0],
        lon=INSIDE[1],
        description="Am Eingang wird gebettelt.",
        attributes={"personen": 2},
        requested_at=when,
    )


@pytest.fixture
def queue(services) -> dict[str, list[Report]]:
    """30 open city reports, 10 of them overdue (received 15 to 24 days ago), and one report
    the night rule routes to the police."""
    overdue = [submit(services["begging"], noon(15 + i)) for i in range(OVERDUE)]
    fresh = [submit(services["begging"], noon(1, minutes=i)) for i in range(FRESH)]
    police = submit(
        services["begging"],
        dt.datetime.combine(
            timezone.localdate() - dt.timedelta(days=1),
            dt.time(23, 30),
            tzinfo=timezone.get_current_timezone(),
        ),
    )
    return {"overdue": overdue, "fresh": fresh, "police": [police]}


def rows_in_view(page) -> int:
    """Rows of the list that are completely inside the window, as the user sees it on load."""
    return page.evaluate(
        """() => [...document.querySelectorAll('table tbody tr')].filter(row => {
            const box = row.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }).length"""
    )


def status_of(report: Report) -> str:
    with unscoped():
        return Report.objects.get(pk=report.pk).status


def test_shift_lead_sees_overdue_first_a_dozen_at_once_and_takes_the_next_step_in_one_click(
    live_server, wide, queue
):
    page = wide
    login(page, live_server.url, "kod-lead")
    page.goto(f"{live_server.url}/hinweise/")

    # Before: newest first, about 167 px per row, 2 to 4 reports visible and no overdue one.
    assert rows_in_view(page) >= 12
    row_ids = page.locator("table tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    overdue_ids = {f"hinweis-{r.pk}" for r in queue["overdue"]}
    assert set(row_ids[:OVERDUE]) == overdue_ids and not set(row_ids[OVERDUE:]) & overdue_ids
    assert f"hinweis-{queue['police'][0].pk}" not in row_ids  # routed to the police: not here
    assert page.locator("table tbody tr").first.get_by_text(re.compile(r"\d+ Tage überfällig")).is_visible()

    # One click: "In Prüfung" in the row; the row changes in place and the change is announced.
    first = queue["overdue"][-1]  # received longest ago: due first
    row = page.locator(f"#hinweis-{first.pk}")
    assert row_ids[0] == f"hinweis-{first.pk}"
    row.get_by_role("button", name=re.compile("^In Prüfung")).click()
    expect(row.locator("td[data-label=Status]")).to_have_text("In Prüfung")
    expect(page.locator("#queue-announce")).to_have_text(f"Nr. {first.pk}: Status jetzt „In Prüfung“.")
    assert page.url == f"{live_server.url}/hinweise/"
    assert status_of(first) == ReportStatus.TRIAGE

    # By keyboard: the focus stays in the row; Tab reaches the next step, Enter takes it. The swapped
    # row must have settled first, as it has for a person (a key pressed within htmx's 20 ms settle
    # could reach the form before htmx has wired it, and the plain form would be sent instead).
    page.wait_for_function(HTMX_IDLE)
    assert page.evaluate("() => document.activeElement.closest('tr').id") == f"hinweis-{first.pk}"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent").startswith("In Bearbeitung")
    page.wait_for_function(HTMX_IDLE)
    page.keyboard.press("Enter")
    expect(row.locator("td[data-label=Status]")).to_have_text("In Bearbeitung")
    assert status_of(first) == ReportStatus.IN_PROGRESS

    # Closing tells the reporter the outcome: one click more to confirm, with an optional note.
    row.get_by_role("link", name=re.compile("^Erledigt")).click()
    page.wait_for_url(re.compile(rf".*/hinweise/{first.pk}/schritt/.*"))
    page.get_by_label("Rückmeldung an die meldende Person").fill("Die Personen wurden angesprochen.")
    page.get_by_role("button", name="Als „Erledigt“ abschließen").click()
    page.wait_for_url(re.compile(r".*/hinweise/(#.*)?$"))
    expect(page.get_by_text(f"Nr. {first.pk}: Status jetzt „Erledigt“.")).to_be_visible()
    assert page.locator(f"#hinweis-{first.pk}").count() == 0  # no longer open
    assert status_of(first) == ReportStatus.RESOLVED

    # Newest first stays a choice, kept in the address.
    page.get_by_role("link", name="Neueste zuerst").click()
    page.wait_for_url(re.compile(r".*sort=eingang.*"))
    assert page.locator("table tbody tr").first.get_attribute("id") == f"hinweis-{queue['fresh'][0].pk}"


def test_reporter_reads_one_state_naming_the_office_for_a_forwarded_then_closed_report(
    live_server, phone, services, kod_lead
):
    report = submit(services["waste"], noon(3))  # forwarded to the EDG on receipt
    page = phone
    page.goto(f"{live_server.url}/melden/status/{report.public_token}/")
    assert page.locator(".current-status").inner_text().strip() == "Weitergeleitet"
    assert page.locator(".state-sentence").count() == 1
    assert "(EDG Entsorgung) und wird dort weiter bearbeitet" in page.locator(".state-sentence").inner_text()
    card = page.locator(".status-card").inner_text()
    assert "Abgeschlossen" not in card and "erledigt" not in card

    with authority_scope(kod_lead.authority_id):
        intake.report_transition(user=kod_lead, report=report, to_status=ReportStatus.RESOLVED)
    page.reload()
    assert page.locator(".current-status").inner_text().strip() == "Erledigt"
    sentence = page.locator(".state-sentence")
    assert sentence.count() == 1 and sentence.is_visible()
    assert re.fullmatch(
        r"Ihre Meldung wurde an die zuständige Stelle weitergeleitet \(EDG Entsorgung\) "
        r"und am \d+\. \w+ \d{4} erledigt\.",
        sentence.inner_text(),
    )
    assert "Das heißt nicht" not in page.locator(".status-card").inner_text()
    # The history still tells the way: forwarded, then done.
    assert page.get_by_text("Weitergeleitet an: EDG Entsorgung.").is_visible()
