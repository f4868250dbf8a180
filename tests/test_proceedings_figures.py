"""Figures of the offence proceedings (issue 15, item 6): the pure figures with hand-computed values
(empty input, one row, a small set), the rows from the database in the authority scope, the
figures page and the case export (CSV) for a city that keeps its own offence software."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import URLResolver, include, path, reverse

from lagebild import urls as project_urls
from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.proceedings import figures_queries, services, urls_figures
from lagebild.proceedings import urls as proceedings_urls
from lagebild.proceedings.figures import CaseRow, Figures, ReasonCount, as_json, figures, quantile, report
from lagebild.proceedings.models import CaseState, EventKind
from lagebild.proceedings.services import StepInput

BERLIN = ZoneInfo("Europe/Berlin")


# The project's URLs with the figures pages under /bussgeld/ (until proceedings/urls.py includes
# urls_figures; then this is the same).
def _urlpatterns() -> list:
    names = {getattr(p, "name", None) for p in proceedings_urls.urlpatterns}
    patterns = []
    for pattern in project_urls.urlpatterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "proceedings" and "figures" not in names:
            extended = [*proceedings_urls.urlpatterns, *urls_figures.urlpatterns]
            pattern = path("bussgeld/", include((extended, "proceedings")))
        patterns.append(pattern)
    return patterns


urlpatterns = _urlpatterns()
pytestmark = pytest.mark.urls(__name__)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def row(**kwargs) -> CaseRow:
    defaults = {
        "authority": "Stadt",
        "category": "Betteln",
        "state": "reported",
        "offence_date": d("2025-03-01"),
    }
    return CaseRow(**{**defaults, **kwargs})


# --- pure ----------------------------------------------------------------------------------------


def test_quantile_interpolates_between_the_closest_ranks():
    assert quantile([], 0.5) is None
    assert quantile([7], 0.5) == quantile([7], 0.9) == 7.0
    assert quantile([1, 2], 0.9) == pytest.approx(1.9)  # h = 0.9
    assert quantile([40, 10, 30, 20, 100], 0.5) == 30.0
    assert quantile([40, 10, 30, 20, 100], 0.9) == pytest.approx(76.0)  # h = 3.6: 40 + 0.6 · 60
    with pytest.raises(ValueError):
        quantile([1], 1.5)


def test_no_cases_give_counts_of_zero_and_no_rates():
    empty = figures([])
    assert empty == Figures(
        cases=0,
        notices=0,
        days_to_notice_median=None,
        days_to_notice_p90=None,
        discontinued=0,
        discontinued_share=None,
        by_reason=(),
        lapsed=0,
        lapsed_share=None,
        served=0,
        objections=0,
        objection_rate=None,
        final=0,
        paid_in_full=0,
        payment_rate=None,
        fined_amount=Decimal("0.00"),
        due_amount=Decimal("0.00"),
        paid_amount=Decimal("0.00"),
        paid_amount_share=None,
    )
    whole = report([])
    assert whole.total == empty and whole.by_category == () and whole.by_authority == ()


def test_one_open_case_has_shares_of_zero_but_no_objection_or_payment_rate():
    one = figures([row()])
    assert (one.cases, one.discontinued_share, one.lapsed_share) == (1, 0.0, 0.0)
    assert one.days_to_notice_median is None and one.objection_rate is None and one.payment_rate is None


def test_one_paid_case():
    one = figures(
        [
            row(
                state="paid",
                first_notice_on=d("2025-03-15"),
                first_served_on=d("2025-03-18"),
                final_on=d("2025-04-02"),
                fine=Decimal("35.00"),
                total_due=Decimal("63.50"),
                paid_total=Decimal("63.50"),
            )
        ]
    )
    assert one.notices == 1 and one.days_to_notice_median == one.days_to_notice_p90 == 14.0
    assert (one.served, one.objections, one.objection_rate) == (1, 0, 0.0)
    assert (one.final, one.paid_in_full, one.payment_rate) == (1, 1, 1.0)
    assert (one.fined_amount, one.due_amount, one.paid_amount, one.paid_amount_share) == (
        Decimal("35.00"),
        Decimal("63.50"),
        Decimal("63.50"),
        1.0,
    )


ROWS = [
    # Notice 10 days after the act, served, objection (after service), still open.
    row(
        state="objection",
        first_notice_on=d("2025-03-11"),
        first_served_on=d("2025-03-14"),
        first_objection_on=d("2025-03-20"),
    ),
    # Notice after 20 days, served, final, paid in part.
    row(
        state="final",
        first_notice_on=d("2025-03-21"),
        first_served_on=d("2025-03-24"),
        final_on=d("2025-04-08"),
        fine=Decimal("35.00"),
        total_due=Decimal("63.50"),
        paid_total=Decimal("30.00"),
    ),
    # Notice after 30 days, served, final, paid in full; another category and authority.
    row(
        authority="Polizei",
        category="Drogen",
        state="paid",
        first_notice_on=d("2025-03-31"),
        first_served_on=d("2025-04-02"),
        final_on=d("2025-04-17"),
        fine=Decimal("100.00"),
        total_due=Decimal("128.50"),
        paid_total=Decimal("128.50"),
    ),
    # Notice after 40 days, never served; lapsed.
    row(state="lapsed", first_notice_on=d("2025-04-10")),
    # Notice after 100 days, an objection recorded before the (later) service does not count.
    row(
        category="Drogen",
        state="served",
        first_notice_on=d("2025-06-09"),
        first_served_on=d("2025-06-12"),
        first_objection_on=d("2025-06-10"),
    ),
    # Discontinued twice for opportunity, once because the person is unknown; no notice.
    row(state="discontinued", discontinued_reason="opportunity"),
    row(state="discontinued", discontinued_reason="person_unknown"),
    row(category="Drogen", state="discontinued", discontinued_reason="opportunity"),
]


def test_a_small_set_computed_by_hand():
    total = figures(ROWS)
    assert total.cases == 8 and total.notices == 5
    # Days 10, 20, 30, 40, 100: median 30; p90 at h = 3.6 → 40 + 0.6 · 60 = 76.
    assert total.days_to_notice_median == 30.0 and total.days_to_notice_p90 == pytest.approx(76.0)
    assert total.discontinued == 3 and total.discontinued_share == pytest.approx(3 / 8)
    assert total.by_reason == (
        ReasonCount("opportunity", 2, pytest.approx(2 / 3)),
        ReasonCount("person_unknown", 1, pytest.approx(1 / 3)),
    )
    assert total.lapsed == 1 and total.lapsed_share == pytest.approx(1 / 8)
    # Served: rows 1, 2, 3, 5; objection after service: row 1 only.
    assert (total.served, total.objections, total.objection_rate) == (4, 1, 0.25)
    # Final: rows 2 and 3; paid in full: row 3.
    assert (total.final, total.paid_in_full, total.payment_rate) == (2, 1, 0.5)
    assert total.fined_amount == Decimal("135.00")
    assert total.due_amount == Decimal("192.00")
    assert total.paid_amount == Decimal("158.50")
    assert total.paid_amount_share == pytest.approx(158.5 / 192)


def test_groups_by_category_and_authority_sorted_by_name():
    whole = report(ROWS)
    assert whole.total == figures(ROWS)
    assert [g.key for g in whole.by_category] == ["Betteln", "Drogen"]
    assert [g.figures.cases for g in whole.by_category] == [5, 3]
    assert [g.key for g in whole.by_authority] == ["Polizei", "Stadt"]
    police = whole.by_authority[0].figures
    assert (police.cases, police.payment_rate, police.days_to_notice_median) == (1, 1.0, 30.0)
    drugs = whole.by_category[1].figures
    # Drogen: rows 3, 5, 8 → days 30 and 100, median 65; one of three discontinued.
    assert drugs.days_to_notice_median == 65.0 and drugs.discontinued_share == pytest.approx(1 / 3)


def test_json_keeps_money_exact():
    data = as_json(report(ROWS))
    assert data["total"]["due_amount"] == "192.00" and data["total"]["fined_amount"] == "135.00"
    assert data["by_category"][0]["key"] == "Betteln"
    assert data["total"]["by_reason"][0] == {"reason": "opportunity", "count": 2, "share": 2 / 3}


# --- database ------------------------------------------------------------------------------------


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(d(day), dt.time(hour), tzinfo=BERLIN)


PERSON = {
    "family_name": "Muster",
    "given_names": "Max",
    "date_of_birth": dt.date(1990, 5, 17),
    "place_of_birth": "Dortmund",
    "street": "Kampstraße 1",
    "postcode": "44137",
    "city": "Dortmund",
}


@pytest.fixture
def clerk(make_user, city):
    return make_user("bussgeld", city, Role.PROCEEDINGS)


@pytest.fixture
def police_clerk(make_user, police):
    return make_user("bussgeld-polizei", police, Role.PROCEEDINGS)


def open_case(user, catalogue, day="2025-03-10", with_person=True, **kwargs):
    with authority_scope(user.authority):
        concerned = services.person_create(user=user, data=PERSON) if with_person else None
        return services.case_open(
            user=user,
            category=catalogue["begging"],
            offence_at=at(day, 14),
            offence_place=kwargs.pop("place", "Katharinentreppe"),
            person=concerned,
            now=at(day, 18),
            **kwargs,
        )


def step(user, case, kind, on, reason="", **data):
    with authority_scope(user.authority):
        return services.case_step(
            user=user,
            case=case,
            step=StepInput(kind=kind, on=d(on), reason=reason, data=data),
            now=at(on, 16),
        )


def issue_notice(user, case, issued="2025-03-25", fine="35"):
    with authority_scope(user.authority):
        notice = services.notice_draft(
            user=user, case=case, fine=fine, evidence="Zeuge: KOD", now=at(issued, 9)
        )
        return services.notice_approve(user=user, notice=notice, issued_on=d(issued), now=at(issued, 15))


@pytest.fixture
def cases(clerk, police_clerk, catalogue):
    """City: one paid (notice after 15 days), one withdrawn on objection (remedy), one discontinued.
    Police: one open case. One city case opened outside the period."""
    paid = open_case(clerk, catalogue)
    issue_notice(clerk, paid, issued="2025-03-25")
    step(clerk, paid, EventKind.NOTICE_SERVED, "2025-03-27")
    with unscoped():
        services.daily_run(today=d("2025-04-11"), now=at("2025-04-11"))
    with authority_scope(clerk.authority):
        services.payment_record(
            user=clerk, case=paid, amount="63.50", paid_on=d("2025-04-14"), now=at("2025-04-14")
        )
    remedied = open_case(clerk, catalogue, day="2025-03-12")
    issue_notice(clerk, remedied, issued="2025-03-22")
    step(clerk, remedied, EventKind.NOTICE_SERVED, "2025-03-24")
    step(clerk, remedied, EventKind.OBJECTION_RECEIVED, "2025-03-28")
    step(clerk, remedied, EventKind.REMEDY, "2025-04-02", reason="Zeugenaussage widersprüchlich")
    dropped = open_case(clerk, catalogue, day="2025-03-14", with_person=False, place="=1+2")
    step(
        clerk, dropped, EventKind.DISCONTINUED, "2025-03-20", reason="Geringfügig", reason_code="opportunity"
    )
    open_case(clerk, catalogue, day="2025-06-02")
    open_case(police_clerk, catalogue, day="2025-03-11")
    return {"paid": paid, "remedied": remedied, "dropped": dropped}


PERIOD = figures_queries.Period(d("2025-03-01"), d("2025-03-31"))


def test_rows_are_the_cohort_of_the_period_in_the_active_scope(clerk, police_clerk, cases):
    with authority_scope(clerk.authority):
        rows = figures_queries.rows(PERIOD)
    assert len(rows) == 3 and {r.authority for r in rows} == {clerk.authority.name}
    with authority_scope(police_clerk.authority):
        assert [r.authority for r in figures_queries.rows(PERIOD)] == [police_clerk.authority.name]
    with authority_scope(clerk.authority):
        total = figures_queries.report(PERIOD).total
    # Notices 15 (paid) and 10 days (remedied: the withdrawn notice still counts) after the act.
    assert (total.notices, total.days_to_notice_median, total.days_to_notice_p90) == (2, 12.5, 14.5)
    # Both were served; the remedied case had an objection (its case row no longer shows the service).
    assert (total.served, total.objections, total.objection_rate) == (2, 1, 0.5)
    assert (total.discontinued, total.by_reason[0].reason) == (1, "opportunity")
    assert (total.final, total.paid_in_full, total.paid_amount) == (1, 1, Decimal("63.50"))
    assert total.lapsed == 0 and total.cases == 3


def test_figures_page_for_analysts_in_german_and_closed_to_the_field(client, analyst, kod, cases):
    client.force_login(analyst)
    response = client.get(reverse("proceedings:figures"), {"start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kennzahlen Bußgeldverfahren" in body and "Nach Sachverhalt" in body and "Nach Behörde" in body
    assert "Aggressives Betteln" in body and "12,5" in body and "50,0 %" in body
    assert "Geringfügigkeit / Opportunität" in body
    assert "Muster" not in body  # no person data
    assert reverse("proceedings:case-export-csv") not in body  # the analyst does not export
    client.force_login(kod)
    assert client.get(reverse("proceedings:figures")).status_code == 403


def test_figures_page_refuses_an_end_before_the_start_in_german(client, analyst, cases):
    client.force_login(analyst)
    response = client.get(reverse("proceedings:figures"), {"start": "2025-03-31", "end": "2025-03-01"})
    assert response.status_code == 200
    assert "Das Ende des Zeitraums liegt vor dem Anfang." in response.content.decode()


def _export(client, user, **params) -> tuple[str, list[list[str]]]:
    client.force_login(user)
    response = client.get(reverse("proceedings:case-export-csv"), params)
    assert response.status_code == 200, response
    raw = b"".join(response.streaming_content).decode("utf-8")
    return raw, list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))


def test_case_export_for_the_own_offence_software(client, clerk, cases):
    raw, rows = _export(client, clerk, start="2025-03-01", end="2025-03-31")
    assert raw.startswith("\ufeffAktenzeichen;Behörde;Sachverhalt;") and "\r\n" in raw
    header, *lines = rows
    assert "Familienname" in header and "Einstellungsgrund" in header
    by_number = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_number) == {c.file_number for c in cases.values()}
    paid = by_number[cases["paid"].file_number]
    assert (paid["Stand"], paid["Gezahlt (€)"], paid["Gesamtbetrag (€)"]) == ("Bezahlt", "63,50", "63,50")
    assert (paid["Tattag"], paid["Familienname"], paid["Geburtsdatum"]) == (
        "10.03.2025",
        "Muster",
        "17.05.1990",
    )
    dropped = by_number[cases["dropped"].file_number]
    assert dropped["Tatort"] == "'=1+2"  # formula-safe (core.csvsafe)
    assert dropped["Einstellungsgrund"].startswith("Geringfügigkeit") and dropped["Familienname"] == ""
    entry = AuditEvent.objects.filter(action="proceedings.cases.exported").get()
    assert entry.detail["count"] == 3


def test_case_export_by_state_and_only_for_the_proceedings_role(client, clerk, analyst, police_clerk, cases):
    _raw, rows = _export(client, clerk, start="2025-03-01", end="2025-03-31", stand=CaseState.DISCONTINUED)
    assert [line[0] for line in rows[1:]] == [cases["dropped"].file_number]
    _raw, rows = _export(client, police_clerk, start="2025-03-01", end="2025-03-31")
    assert len(rows) == 2 and rows[1][1] == police_clerk.authority.name
    client.force_login(clerk)
    refused = client.get(reverse("proceedings:case-export-csv"), {"stand": "gibt-es-nicht"})
    assert refused.status_code == 400 and "Stand" in refused.content.decode()
    client.force_login(analyst)
    assert client.get(reverse("proceedings:case-export-csv")).status_code == 403


def test_indicators_for_goals_count_what_happened_in_the_window(clerk, cases):
    with authority_scope(clerk.authority):
        # Closed in March/April: paid (14.04.) and discontinued (20.03.), none lapsed.
        assert (
            figures_queries.indicator_value("proceedings_lapsed_share", d("2025-03-01"), d("2025-04-30"))
            == 0.0
        )
        assert (
            figures_queries.indicator_value("proceedings_lapsed_share", d("2024-01-01"), d("2024-12-31"))
            is None
        )
        # First notices in March: 22.03. (10 days after the act, later withdrawn) and 25.03. (15 days).
        median = "proceedings_days_to_notice_median"
        assert figures_queries.indicator_value(median, d("2025-03-01"), d("2025-03-31")) == 12.5
        assert figures_queries.indicator_value(median, d("2025-03-23"), d("2025-03-31")) == 15.0
        assert figures_queries.indicator_value(median, d("2025-04-01"), d("2025-04-30")) is None
    with unscoped():
        services.daily_run(today=d("2026-01-31"), now=at("2026-01-31"))
    everything = (d("2025-01-01"), d("2026-01-31"))
    with authority_scope(clerk.authority):
        # The remedied case and the June case (no hearing) lapse: 2 of 4 closed cases.
        assert figures_queries.indicator_value("proceedings_lapsed_share", *everything) == 50.0
    with unscoped():
        # With the police's case (lapsed too): 3 of 5.
        assert figures_queries.indicator_value("proceedings_lapsed_share", *everything) == 60.0
    assert set(figures_queries.INDICATORS) == {"proceedings_lapsed_share", median}
    with pytest.raises(KeyError):
        figures_queries.indicator_value("gibt-es-nicht", *everything)
