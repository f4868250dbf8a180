"""Demo offence proceedings (issue 15): the cases made from the OWi-Anzeigen are deterministic and
consistent with the services: deadlines as ``deadlines_for`` gives them, lapse and finality recorded
as the daily run would, nobody under 14 with an active case, fines within the rule's maximum."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.demo import proceedings as demo
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Measure, MeasureType, Person
from lagebild.proceedings import limitation as engine
from lagebild.proceedings import services
from lagebild.proceedings.models import (
    CLOSED_STATES,
    Case,
    CaseDeadline,
    CaseState,
    EventKind,
    Notice,
    Payment,
)

from .conftest import INSIDE

# Every path taken often enough in a small world: unknown persons, lapse, objections, instalments.
PROFILE = demo.Profile(
    identified_without=0.6,
    unknown_left_to_lapse=0.5,
    under_14=0.08,
    juvenile=0.1,
    objection=0.3,
    instalments=0.1,
    paid=0.6,
    stall=0.1,
)


class _Undo(Exception):
    pass


@pytest.fixture
def reports(world, kod, make_user, city):
    """About 240 OWi-Anzeigen of the city over the last year, a third with a pseudonymous person."""
    make_user("bussgeld", city, Role.PROCEEDINGS, first_name="Bea", last_name="Bußgeld")
    today = timezone.localdate()
    incidents = []
    for category in (world["categories"]["begging"], world["categories"]["drugs"]):
        with authority_scope(kod.authority):
            incidents.append(
                field_services.incident_create(
                    user=kod,
                    category=category,
                    occurred_at=timezone.now() - dt.timedelta(hours=2),
                    lat=INSIDE[0],
                    lon=INSIDE[1],
                    address_text="Katharinentreppe",
                    measures=[MeasureInput(type="offence_report")],
                )
            )
    groups = ["u14", "14-17", "18-20", "21+", ""]
    with unscoped():
        # Only the measures below count: the ones recorded through the service are dropped.
        Measure.objects.filter(incident__in=incidents).delete()
        persons = [
            Person.objects.create(authority=city, pseudonym=f"P-{i:03d}", age_group=groups[i % len(groups)])
            for i in range(40)
        ]
    tz = timezone.get_current_timezone()
    rows = []
    for i in range(240):
        day = today - dt.timedelta(days=2 + (i * 361) % 363)
        rows.append(
            Measure(
                incident=incidents[i % 2],
                type=MeasureType.OFFENCE_REPORT,
                authority=city,
                taken_at=dt.datetime.combine(day, dt.time(9 + i % 12, 15), tzinfo=tz),
                person=persons[i % 40] if i % 3 == 0 else None,
            )
        )
    with unscoped():
        Measure.objects.bulk_create(rows)
    return today


def _generate(today: dt.date) -> demo.ProceedingsResult:
    return demo.generate(end_date=today, first_day=today - dt.timedelta(days=366), seed=7, profile=PROFILE)


def _snapshot() -> list[tuple]:
    with unscoped():
        return [
            (
                case.offence_report_id,
                case.file_number,
                case.state,
                case.fine,
                case.paid_total,
                case.person.date_of_birth if case.person else None,
                tuple(case.events.values_list("kind", "on", "state_after")),
            )
            for case in Case.objects.select_related("person").order_by("offence_report_id")
        ]


def test_demo_cases_are_deterministic(reports):
    today = reports
    with transaction.atomic():
        try:
            with transaction.atomic():
                _generate(today)
                first = _snapshot()
                raise _Undo
        except _Undo:
            pass
    with unscoped():
        assert Case.objects.count() == 0
    result = _generate(today)
    assert _snapshot() == first
    assert result.written.cases == len(first) == 240
    assert _generate(today).skipped  # a second load adds nothing


def test_demo_cases_agree_with_the_services(reports):
    today = reports
    last_day = today - dt.timedelta(days=1)
    result = _generate(today)
    states = Counter()
    with unscoped():
        cases = list(Case.objects.select_related("person", "category_rule"))
        for case in cases:
            states[case.state] += 1
            events = list(case.events.all())
            stored = set(CaseDeadline.objects.filter(case=case).values_list("kind", "due"))
            assert stored == {(str(kind), due) for kind, due in services.deadlines_for(case, events)}, case
            kinds = [event.kind for event in events]
            assert kinds[0] == EventKind.OPENED
            assert all(a.on <= b.on for a, b in itertools.pairwise(events))
            assert all(event.on <= last_day for event in events)
            if case.state == CaseState.LAPSED:
                assert kinds[-1] == EventKind.LAPSED and case.lapsed_on == events[-1].on
                assert case.lapsed_on == services.limitation_state(case, events).deadline + dt.timedelta(
                    days=1
                )
            if case.person is not None:
                age = services.age_on(case.person.date_of_birth, case.offence_date)
                assert age >= 14, "nobody under 14 has a case with a person"
                assert case.juvenile == (age < 18)
            if case.discontinued_reason == "under_14":
                assert case.person is None and case.state == CaseState.DISCONTINUED
            if case.fine is not None:
                assert 5 <= case.fine <= case.max_fine
                assert case.total_due == engine.fees(case.fine, engine.FORMAL_SERVICE_EUR).total
            if case.state == CaseState.PAID:
                assert case.paid_total >= case.total_due
            if case.state not in CLOSED_STATES:
                assert case.closed_on is None
        for notice in Notice.objects.filter(approved_at__isnull=False):
            assert notice.contents["total"] == str(notice.total) and notice.issued_on is not None
        assert Payment.objects.count() == result.written.payments
        # The daily run of the last day finds nothing left to record.
        done = services.daily_run(today=last_day)
        assert (done.became_final, done.lapsed) == (0, 0)
    assert states[CaseState.LAPSED] > 0 and states[CaseState.PAID] > 0
    assert states[CaseState.DISCONTINUED] > 0
    with unscoped():
        assert Case.objects.filter(discontinued_reason="under_14").exists()
        assert Case.objects.filter(events__kind=EventKind.OBJECTION_RECEIVED).exists()
