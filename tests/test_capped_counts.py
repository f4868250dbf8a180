"""Long lists count exactly only up to a cap: the incident list page and the API.

Counting half a million visible incidents for every page view cost PostgreSQL ~70 ms per page
(the load test); above the cap the list says "mehr als …" and pages on, and the last page is
exact. The cap is lowered here so a handful of incidents shows the behaviour.
"""

from __future__ import annotations

import re

import pytest

from lagebild.core import pagination
from lagebild.field import views as field_views

from .api_support import record, token_client

URL = "/feststellungen/"
API = "/api/v1/incidents/"


@pytest.fixture
def seven_and_three(world, kod, polizei, now, monkeypatch) -> None:
    """Seven incidents of the city, three of the police; the cap at 5, pages of 2."""
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    monkeypatch.setattr(field_views, "PAGE_SIZE", 2)
    category = world["categories"]["begging"]
    for _ in range(7):
        record(kod, category, now)
    for _ in range(3):
        record(polizei, world["categories"]["begging"], now)


def _heading(html: str) -> str:
    found = re.search(r'<h2 id="results-heading">(.*?)</h2>', html, re.S)
    assert found
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_the_list_says_more_than_the_cap_and_pages_on(client, kod_lead, seven_and_three):
    client.force_login(kod_lead)
    first = client.get(URL).content.decode()
    assert _heading(first) == "Mehr als 5 Feststellungen – Seite 1"
    assert 'rel="next"' in first and "mehr als 5 Feststellungen" in first  # the export note too

    # The last page of the capped range counts exactly: 7 incidents, 4 pages.
    third = client.get(URL, {"seite": 3}).content.decode()
    assert _heading(third) == "7 Feststellungen – Seite 3 von 4"
    last = client.get(URL, {"seite": 4}).content.decode()
    assert 'rel="next"' not in last and last.count("/feststellungen/") >= 1
    # A page far behind the end is the last page, as before.
    assert _heading(client.get(URL, {"seite": 99}).content.decode()) == "7 Feststellungen – Seite 4 von 4"


def test_below_the_cap_the_count_is_exact_and_other_authorities_stay_out(
    client, police_lead, seven_and_three
):
    client.force_login(police_lead)
    # The police lead sees the police's three (no joint incidents here), exactly counted.
    assert _heading(client.get(URL).content.decode()) == "3 Feststellungen – Seite 1 von 2"


def test_the_api_marks_a_capped_count_and_its_links_reach_every_record(kod_lead, polizei, seven_and_three):
    client = token_client(kod_lead)
    first = client.get(API, {"page_size": 2}).json()
    assert (first["count"], first["count_capped"]) == (5, True)
    ids, page = [], first
    while True:
        ids += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert len(ids) == len(set(ids)) == 7
    assert (page["count"], page["count_capped"]) == (7, False)  # the last page counted exactly
    assert client.get(API, {"page_size": 2, "page": 5}).status_code == 404

    police = token_client(polizei).get(API).json()
    assert (police["count"], police["count_capped"]) == (3, False)
    assert not set(ids) & {row["id"] for row in police["results"]}
