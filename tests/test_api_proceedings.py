# ruff: noqa: F811  (the fixtures imported from test_proceedings_figures are parameters here)
"""API of the offence proceedings (issue 15, item 7): only the Bußgeldstelle reads cases, lists carry
no person data, another authority's case answers 404 and never shows up in a list, the detail read
of a person is logged, figures are for the figure roles, and the schema documents every operation."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from lagebild.api.filters import EMPTY_MESSAGE
from lagebild.core.models import AuditEvent, Role
from lagebild.proceedings.models import CaseState, EventKind

from .api_support import token_client
from .test_proceedings_figures import cases, clerk, police_clerk  # noqa: F401  (fixtures)

BASE = "/api/v1/proceedings"
PERSON_FIELDS = {"person", "family_name", "given_names", "date_of_birth", "street"}


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_list_without_person_data_and_only_own_cases(clerk, police_clerk, cases):
    rows = _results(token_client(clerk).get(f"{BASE}/cases/", {"page_size": "50"}))
    own = {c.pk for c in cases.values()}
    assert own <= {row["id"] for row in rows} and len(rows) == 4  # and the June case
    assert not PERSON_FIELDS & set(rows[0])
    assert "Muster" not in str(rows)
    by_id = {row["id"]: row for row in rows}
    paid = by_id[cases["paid"].pk]
    assert (paid["state"], paid["state_label"], paid["paid_total"], paid["has_person"]) == (
        CaseState.PAID,
        "Bezahlt",
        "63.50",
        True,
    )
    police_rows = _results(token_client(police_clerk).get(f"{BASE}/cases/"))
    assert len(police_rows) == 1 and not own & {row["id"] for row in police_rows}


def test_list_filters_by_state_and_refuses_unknown_or_empty_values(clerk, cases):
    client = token_client(clerk)
    rows = _results(client.get(f"{BASE}/cases/", {"state": CaseState.DISCONTINUED}))
    assert [row["id"] for row in rows] == [cases["dropped"].pk]
    assert rows[0]["discontinued_reason_label"].startswith("Geringfügigkeit")
    open_rows = _results(client.get(f"{BASE}/cases/", {"open": "true"}))
    assert cases["paid"].pk not in {row["id"] for row in open_rows} and len(open_rows) == 2
    march = _results(client.get(f"{BASE}/cases/", {"opened_from": "2025-03-01", "opened_to": "2025-03-31"}))
    assert {row["id"] for row in march} == {c.pk for c in cases.values()}
    for params in ({"state": "gibt-es-nicht"}, {"state": ""}, {"open": "vielleicht"}):
        response = client.get(f"{BASE}/cases/", params)
        assert response.status_code == 400, params
        (name,) = params
        assert response.json()[name], params


def test_detail_has_person_events_deadlines_notices_payments_and_is_logged(clerk, cases):
    case = cases["paid"]
    response = token_client(clerk).get(f"{BASE}/cases/{case.pk}/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["person"]["family_name"] == "Muster" and data["file_number"] == case.file_number
    assert [e["kind"] for e in data["events"]][:2] == [EventKind.OPENED, EventKind.NOTICE_DRAFTED]
    assert data["notices"][0]["total"] == "63.50" and "contents" not in data["notices"][0]
    assert data["payments"][0]["amount"] == "63.50"
    assert data["deadlines"] == []  # paid: nothing left to watch
    assert AuditEvent.objects.filter(action="proceedings.person.read", object_id=str(case.person_id)).exists()
    remedied = token_client(clerk).get(f"{BASE}/cases/{cases['remedied'].pk}/").json()
    assert {d["kind"] for d in remedied["deadlines"]} >= {"prosecution_limitation"}


def test_other_authority_and_missing_case_answer_alike(clerk, police_clerk, cases):
    client = token_client(police_clerk)
    foreign = client.get(f"{BASE}/cases/{cases['paid'].pk}/")
    missing = client.get(f"{BASE}/cases/999999999/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert not AuditEvent.objects.filter(action="proceedings.case.read", user=police_clerk).exists()


@pytest.mark.parametrize(
    "role", [Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ANALYST, Role.TASKFORCE, Role.LEADERSHIP, Role.ADMIN]
)
def test_only_the_proceedings_role_reads_cases(make_user, city, cases, role):
    client = token_client(make_user(f"u-{role}", city, role))
    for url in (f"{BASE}/cases/", f"{BASE}/cases/{cases['paid'].pk}/"):
        response = client.get(url)
        assert response.status_code == 403, (role, url)
        assert (
            response.json()["detail"] == "Bußgeldverfahren sieht nur die Bußgeldstelle der eigenen Behörde."
        )


def test_anonymous_is_refused(cases, client):
    assert client.get(f"{BASE}/cases/").status_code in (401, 403)
    assert client.get(f"{BASE}/figures/").status_code in (401, 403)


def test_figures_for_the_figure_roles_of_the_own_authority(clerk, analyst, kod, make_user, police, cases):
    params = {"start": "2025-03-01", "end": "2025-03-31"}
    for user in (clerk, analyst):
        response = token_client(user).get(f"{BASE}/figures/", params)
        assert response.status_code == 200, response.content
        data = response.json()
        assert (data["start"], data["end"]) == ("2025-03-01", "2025-03-31")
        total = data["total"]
        assert (total["cases"], total["days_to_notice_median"], total["objection_rate"]) == (3, 12.5, 0.5)
        assert total["paid_amount"] == "63.50" and total["by_reason"][0]["reason"] == "opportunity"
        assert total["by_reason"][0]["reason_label"].startswith("Geringfügigkeit")
        assert [g["key"] for g in data["by_authority"]] == [clerk.authority.name]
        assert [g["key"] for g in data["by_category"]] == ["Aggressives Betteln"]
    police_analyst = make_user("analyse-polizei", police, Role.ANALYST)
    police_total = token_client(police_analyst).get(f"{BASE}/figures/", params).json()["total"]
    assert police_total["cases"] == 1
    refused = token_client(kod).get(f"{BASE}/figures/", params)
    assert refused.status_code == 403


def test_figures_parameters(analyst, cases):
    client = token_client(analyst)
    # An end before the start is an empty period, as in the list filters (date_from after date_to).
    reversed_period = client.get(f"{BASE}/figures/", {"start": "2025-03-31", "end": "2025-03-01"})
    assert reversed_period.status_code == 200
    assert reversed_period.json()["total"]["cases"] == 0 and reversed_period.json()["by_category"] == []
    unreadable = client.get(f"{BASE}/figures/", {"start": "gestern"})
    assert unreadable.status_code == 400 and unreadable.json()["start"] == [
        "Bitte ein Datum (JJJJ-MM-TT) angeben."
    ]
    blank = client.get(f"{BASE}/figures/", {"start": ""})
    assert blank.status_code == 400 and blank.json() == {"start": [EMPTY_MESSAGE]}
    far = client.get(f"{BASE}/figures/", {"start": "0001-01-01", "end": "9999-12-31"})
    assert far.status_code == 200 and far.json()["total"]["cases"] == 4
    default = client.get(f"{BASE}/figures/")
    assert default.status_code == 200 and set(default.json()) == {
        "start",
        "end",
        "total",
        "by_category",
        "by_authority",
    }


def test_schema_documents_the_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths[f"{BASE}/cases/"]) == {"get"}
    assert set(paths[f"{BASE}/cases/{{id}}/"]) == {"get"}
    assert set(paths[f"{BASE}/figures/"]) == {"get"}
    listing = paths[f"{BASE}/cases/"]["get"]
    assert {"400", "401", "403"} <= set(listing["responses"])
    assert {p["name"] for p in listing["parameters"]} >= {"state", "open", "opened_from", "opened_to", "page"}
    assert {"401", "403", "404"} <= set(paths[f"{BASE}/cases/{{id}}/"]["get"]["responses"])
    assert {p["name"] for p in paths[f"{BASE}/figures/"]["get"]["parameters"]} == {"start", "end"}
    components = schema["components"]["schemas"]
    listed = components["CaseList"]["properties"]
    assert not PERSON_FIELDS & set(listed)
    assert "person" in components["CaseDetail"]["properties"]
