"""Fixtures for citizen-report tests: services with questions, routing targets and rules."""

from __future__ import annotations

import pytest

from lagebild.citizen.models import ApiClient, RoutingRule, RoutingTarget, ServiceAttribute, ServiceType

# Tests that submit reports at fixed times of November 2026 (routing by time of day, due dates
# on given weekdays, hand-computed figures) run at this instant: the intake refuses receipt
# times in the future, so they would fail whenever the suite runs before those times
# (LAGEBILD_TEST_NOW, tests/clock.py).
AFTER_NOVEMBER_2026_REPORTS = "2026-11-27T12:00:00+01:00"


@pytest.fixture
def after_november_2026_reports(clock) -> None:
    clock.move_to(AFTER_NOVEMBER_2026_REPORTS)


@pytest.fixture
def services(world, city, police) -> dict[str, ServiceType]:
    begging = ServiceType.objects.create(
        code="betteln",
        name="Aggressives Betteln",
        group="Belästigung",
        category=world["categories"]["begging"],
        about_people=True,
        publish_precision=ServiceType.Precision.COARSE,
        public_in_open311=True,
        service_level_days=2,
    )
    ServiceAttribute.objects.create(
        service=begging,
        code="personen",
        description="Wie viele Personen ungefähr?",
        datatype=ServiceAttribute.Datatype.NUMBER,
        required=True,
        order=1,
    )
    ServiceAttribute.objects.create(
        service=begging,
        code="tageszeit",
        description="Wann kommt es meistens vor?",
        datatype=ServiceAttribute.Datatype.MULTI,
        order=2,
        values=[
            {"key": "morgens", "name": "morgens"},
            {"key": "mittags", "name": "mittags"},
            {"key": "abends", "name": "abends"},
            {"key": "nachts", "name": "nachts"},
        ],
    )
    waste = ServiceType.objects.create(
        code="muell",
        name="Wilder Müll",
        group="Sauberkeit",
        public_in_open311=True,
        service_level_days=5,
    )
    ServiceAttribute.objects.create(
        service=waste,
        code="menge",
        description="Wie viel Müll?",
        datatype=ServiceAttribute.Datatype.SINGLE,
        required=False,
        order=1,
        values=[{"key": "klein", "name": "ein Sack"}, {"key": "gross", "name": "Sperrmüll"}],
    )
    violence = ServiceType.objects.create(
        code="gewalt",
        name="Gewalt oder Bedrohung",
        group="Akut",
        acute=True,
        acute_notice="Akute Gefahr: Rufen Sie sofort den Notruf 110 an.",
        about_people=True,
        publish_precision=ServiceType.Precision.HIDDEN,
    )
    kod = RoutingTarget.objects.create(name="KOD", kind=RoutingTarget.Kind.KOD, authority=city)
    police_target = RoutingTarget.objects.create(
        name="Polizei", kind=RoutingTarget.Kind.POLICE, authority=police
    )
    edg = RoutingTarget.objects.create(name="EDG Entsorgung", kind=RoutingTarget.Kind.WASTE, authority=None)
    RoutingRule.objects.create(position=10, name="Müll an EDG", service=waste, target=edg)
    RoutingRule.objects.create(
        position=20, name="Nachts an Polizei", time_from="22:00", time_to="06:00", target=police_target
    )
    RoutingRule.objects.create(position=90, name="Alles andere an KOD", target=kod)
    return {
        "begging": begging,
        "waste": waste,
        "violence": violence,
        "kod": kod,
        "police": police_target,
        "edg": edg,
    }


@pytest.fixture
def api_client_key(db) -> ApiClient:
    return ApiClient.objects.create(name="Test-App", api_key="test-key")
