"""No request to the API may produce a 500: nasty payloads at every write endpoint, and a
property-based fuzz of the incident payload."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services
from lagebild.field.models import Incident

from .api_support import incident_payload, record, token_client
from .conftest import INSIDE

NASTY_VALUES = [
    None,
    True,
    0,
    -1,
    10**30,
    1e308,
    0.5,
    "",
    "\x00",
    "a\x00b",
    "x" * 100_000,
    "NaN",
    "1e999",
    "1,5",
    "💥",
    "<script>alert(1)</script>",
    "'; DROP TABLE field_incident; --",
    [],
    [1, 2],
    ["dispersal_order"],
    {},
    {"type": "dispersal_order"},
    {"$ne": 1},
    "2025-05-01T14:30:00",
    "2025-05-01",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "2025-05-01T25:61:00+01:00",
    "2025-05-01T14:30:00+99:00",
    "10000-01-01T00:00:00Z",
]

NASTY_MEASURES = [
    [{"type": "teleport"}],
    [{"type": None}],
    [{"type": ["seizure"]}],
    [{"type": "caution_fee", "amount": "Infinity"}],
    [{"type": "caution_fee", "amount": "1e999999999"}],
    [{"type": "caution_fee", "amount": "-1e-999999999"}],
    [{"type": "caution_fee", "amount": 10**40}],
    [{"type": "caution_fee", "amount": {"value": 35}}],
    [{"type": "seizure", "seizure_kind": "cash", "amount": "9999999999.99"}],
    [{"type": "seizure", "seizure_kind": "drugs", "quantity": "123456789012345"}],
    [{"type": "seizure", "seizure_kind": "drugs", "quantity": "0.0001"}],
    [{"type": "seizure", "seizure_kind": ["cash"]}],
    [{"type": "referral", "referral_service": 7}],
    [{"type": "contact", "note": "x" * 501}],
    [{"type": "contact", "note": "\x00"}],
    [{"type": "contact", "person": "\x00"}],
    [{"type": "contact", "person": 12}],
    [{"type": "contact", "quantity_unit": "x" * 100}],
    [{"type": "dispersal_order"}] * 51,
    ["dispersal_order"],
    [None],
    [[]],
    "dispersal_order",
    {"type": "dispersal_order"},
]

RAW_BODIES = [
    b"",
    b"{",
    b"NaN",
    b'{"lat": NaN, "lon": Infinity}',
    b'{"lat": 1e999, "lon": -1e999}',
    b'{"measures": [{"type": "caution_fee", "amount": 1e999}], "amount": -1e999, "type": "contact"}',
    b'{"lat": ' + b"9" * 5000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"\xff\xfe\x00\x00",
    b'"just a string"',
    b"[1, 2, 3]",
    b"null",
    b"12",
]


def _assert_handled(response) -> None:
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"].startswith("application/json")


@pytest.fixture
def endpoints(world, kod, kod_lead, now):
    """Every write endpoint with a valid payload, as (client, url, payload)."""
    incident = record(kod, world["categories"]["begging"], now)
    with authority_scope(kod_lead.authority):
        shift = services.shift_create(user=kod_lead, date=timezone.localdate(), kind="early")
        patrol = services.patrol_create(user=kod_lead, shift=shift, name="Streife", members=[kod])
    lead = token_client(kod_lead)
    day = str(timezone.localdate() + dt.timedelta(days=3))
    return [
        (token_client(kod), "/api/v1/incidents/", incident_payload(now, patrol=patrol.pk, joint=True)),
        (
            token_client(kod),
            f"/api/v1/incidents/{incident.pk}/measures/",
            {
                "type": "seizure",
                "seizure_kind": "drugs",
                "quantity": "2",
                "note": "",
                "person": "",
                "taken_at": None,
            },
        ),
        (lead, "/api/v1/shifts/", {"date": day, "kind": "late", "note": "", "lead": kod_lead.pk}),
        (
            lead,
            "/api/v1/patrols/",
            {
                "shift": shift.pk,
                "name": "B",
                "members": [kod.pk],
                "area": None,
                "clothing": "plain",
                "planned_start": None,
                "planned_end": None,
            },
        ),
        (lead, f"/api/v1/patrols/{patrol.pk}/start/", {"at": None}),
        (lead, f"/api/v1/patrols/{patrol.pk}/end/", {"at": None}),
    ]


def test_nasty_values_in_every_field_of_every_write_endpoint(endpoints):
    for client, url, payload in endpoints:
        for field in payload:
            for value in NASTY_VALUES:
                _assert_handled(client.post(url, {**payload, field: value}, format="json"))


def test_nasty_measures(world, kod, now):
    client = token_client(kod)
    for measures in NASTY_MEASURES:
        response = client.post("/api/v1/incidents/", incident_payload(now, measures=measures), format="json")
        _assert_handled(response)
        assert response.status_code == 400, (measures, response.json())
        assert "measures" in response.json()
    with unscoped():
        assert Incident.objects.count() == 0


def test_nasty_bodies_at_every_write_endpoint(endpoints):
    for client, url, _payload in endpoints:
        for body in RAW_BODIES:
            response = client.post(url, body, content_type="application/json")
            _assert_handled(response)
            # 409: ending a patrol that has not begun (an empty body is a valid "now").
            assert response.status_code in {400, 200, 201, 409} or response.status_code == 415


def test_whole_payloads_of_the_wrong_type(endpoints):
    for client, url, _payload in endpoints:
        for payload in ([], [{}], "x", 1, None, [incident_payload(timezone.now())]):
            _assert_handled(client.post(url, json.dumps(payload), content_type="application/json"))


def test_nasty_query_strings(world, kod):
    client = token_client(kod)
    params = [
        {"page": "-1"},
        {"page": "x"},
        {"page": str(10**30)},
        {"page_size": "-5"},
        {"page_size": "x"},
        {"page_size": str(10**30)},
        {"category": "a" * 10_000},
        {"category": ",,,"},
        {"area": "\x00"},
        {"category": "a\x00"},
        {"authority": "\x00"},
        {"type": "\x00"},
        {"kind": ["\x00"]},
        {"occurred_after": "2025-05-01T14:30:00+99:00"},
        {"q": "\x00"},
        {"joint": "vielleicht"},
        {"date_from": "0000-00-00"},
        {"ordering": "-"},
    ]
    for url in [
        "/api/v1/incidents/",
        "/api/v1/measures/",
        "/api/v1/patrols/",
        "/api/v1/shifts/",
        "/api/v1/areas/",
        "/api/v1/categories/",
    ]:
        for query in params:
            _assert_handled(client.get(url, query))


# --- property-based fuzzing -----------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=60),
    st.sampled_from(
        [
            "dispersal_order",
            "caution_fee",
            "seizure",
            "cash",
            "referral",
            "addiction_help",
            "35,00",
            "2025-05-01T14:30:00+02:00",
            "aggressive-begging",
            str(INSIDE[0]),
            str(INSIDE[1]),
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
measure_strategy = st.fixed_dictionaries(
    {"type": st.sampled_from(["dispersal_order", "caution_fee", "seizure", "referral", "custody", "x"])},
    optional={
        "amount": json_scalars,
        "seizure_kind": st.sampled_from(["cash", "drugs", "weapon", "", "gold"]) | json_scalars,
        "quantity": json_scalars,
        "referral_service": st.sampled_from(["addiction_help", "shelter", ""]) | json_scalars,
        "note": json_scalars,
        "person": json_scalars,
    },
)
FUZZ_KEYS = {"category", "occurred_at", "lat", "lon", "source", "description", "measures"}
incident_strategy = st.fixed_dictionaries(
    {},
    optional={
        "category": st.sampled_from(["aggressive-begging", "littering", "drug-dealing", ""]) | json_values,
        "occurred_at": st.datetimes(
            min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.timezones()
        ).map(lambda value: value.isoformat())
        | json_values,
        "lat": st.floats(min_value=51.4, max_value=51.6) | json_values,
        "lon": st.floats(min_value=7.3, max_value=7.6) | json_values,
        "source": st.sampled_from(["patrol", "camera", "unbekannt"]) | json_values,
        "description": json_values,
        "address_text": json_values,
        "joint": json_values,
        "patrol": json_values,
        "external_id": json_values,
        "measures": st.lists(measure_strategy, max_size=4) | json_values,
    },
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(overrides=incident_strategy, dropped=st.sets(st.sampled_from(sorted(FUZZ_KEYS))))
def test_fuzzed_incident_payloads_never_cause_a_server_error(world, kod, overrides, dropped):
    # Start from a valid payload so that the fuzzed values reach the service, not only the parser.
    payload = {**incident_payload(timezone.now()), **overrides}
    for key in dropped:
        payload.pop(key, None)

    response = token_client(kod).post("/api/v1/incidents/", payload, format="json")

    _assert_handled(response)
    if response.status_code == 201:
        body = response.json()
        assert body["category"] == payload["category"]
        assert len(body["measures"]) == len(payload.get("measures") or [])
    else:
        assert response.status_code == 400, response.json()
