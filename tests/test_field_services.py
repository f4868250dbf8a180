"""Recording incidents, measures, shifts and patrols through the service layer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lagebild.core.models import AuditEvent
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import selectors, services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Patrol

from .conftest import INSIDE, OUTSIDE


def record(user, category, when, *measures, **extra):
    with authority_scope(user.authority):
        return services.incident_create(
            user=user,
            category=category,
            occurred_at=when,
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=list(measures),
            **extra,
        )


def test_incident_with_measures_is_stored_with_location_rule_and_audit(world, kod, now):
    begging = world["categories"]["begging"]
    incident = record(
        kod,
        begging,
        now,
        MeasureInput(type="dispersal_order"),
        MeasureInput(type="caution_fee"),  # amount defaults to the catalogue's 35 €
        description="Passanten am Eingang bedrängt",
    )
    with unscoped():
        stored = Incident.objects.get(pk=incident.pk)
        measures = list(stored.measures.order_by("type"))
    assert stored.authority == kod.authority and stored.recorded_by == kod
    assert stored.category_rule.caution_amount == Decimal("35")
    assert 390_000 < stored.x_utm < 400_000 and stored.h3_cell
    assert {a.code for a in stored.areas.all()} == {"testcity", "east", "centre"}
    assert [m.type for m in measures] == ["caution_fee", "dispersal_order"]
    assert measures[0].amount == Decimal("35")
    assert AuditEvent.objects.filter(action="field.incident.created", object_id=str(incident.pk)).exists()


def test_old_record_keeps_the_rule_of_its_time(world, kod):
    litter = world["categories"]["litter"]
    old = record(kod, litter, dt.datetime(2018, 6, 1, 12, tzinfo=dt.UTC), MeasureInput(type="caution_fee"))
    new = record(kod, litter, dt.datetime(2020, 6, 1, 12, tzinfo=dt.UTC), MeasureInput(type="caution_fee"))
    with unscoped():
        assert Measure.objects.get(incident=old).amount == Decimal("15")
        assert Measure.objects.get(incident=new).amount == Decimal("50")


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (MeasureInput(type="exclusion_order"), "nur die Polizei"),
        (MeasureInput(type="custody"), "nur die Polizei"),
        (MeasureInput(type="caution_fee", amount=Decimal("70")), "zwischen 5 und 55"),
        (MeasureInput(type="caution_fee", amount=Decimal("4.99")), "zwischen 5 und 55"),
        (MeasureInput(type="seizure"), "was sichergestellt"),
        (MeasureInput(type="seizure", seizure_kind="cash"), "Bargeldbetrag"),
        (MeasureInput(type="referral"), "Hilfeangebot"),
        (MeasureInput(type="dispersal_order", amount=Decimal("5")), "nicht vorgesehen"),
        (MeasureInput(type="teleport"), "Unbekannte Maßnahme"),
    ],
)
def test_invalid_measures_are_refused_and_nothing_is_stored(world, kod, now, measure, message):
    with pytest.raises(ValidationError) as excinfo:
        record(kod, world["categories"]["begging"], now, MeasureInput(type="contact"), measure)
    assert message in " ".join(excinfo.value.message_dict["measures"])
    with unscoped():
        assert Incident.objects.count() == 0 and Measure.objects.count() == 0


def test_police_may_take_police_only_measures(world, polizei, now):
    incident = record(
        polizei,
        world["categories"]["dealing"],
        now,
        MeasureInput(type="custody"),
        MeasureInput(type="exclusion_order"),
        MeasureInput(type="seizure", seizure_kind="cash", amount=Decimal("1250")),
        MeasureInput(type="seizure", seizure_kind="weapon", quantity=Decimal("1"), quantity_unit="Stück"),
    )
    with unscoped():
        assert incident.measures.count() == 4


def test_caution_fee_refused_where_the_catalogue_forbids_it(world, kod, now):
    with pytest.raises(ValidationError) as excinfo:
        record(kod, world["categories"]["drugs"], now, MeasureInput(type="caution_fee", amount=Decimal("20")))
    assert "kein Verwarnungsgeld" in excinfo.value.message_dict["measures"][0]


def test_field_errors_for_place_time_and_category(world, kod, now):
    with authority_scope(kod.authority), pytest.raises(ValidationError) as excinfo:
        services.incident_create(
            user=kod, category=None, occurred_at=now + dt.timedelta(days=1), lat=OUTSIDE[0], lon=OUTSIDE[1]
        )
    errors = excinfo.value.message_dict
    assert "Sachverhalt" in errors["category"][0]
    assert "Zukunft" in errors["occurred_at"][0]
    assert "außerhalb" in errors["lat"][0]


def test_read_only_roles_cannot_record(world, analyst, leadership, now):
    for user in (analyst, leadership):
        with pytest.raises(PermissionDenied):
            record(user, world["categories"]["begging"], now)


def test_person_pseudonym_is_scoped_to_the_authority(world, kod, polizei, now):
    with authority_scope(kod.authority):
        person = services.person_create(user=kod, age_group="18-20")
    assert person.pseudonym.startswith("P-")
    record(
        kod,
        world["categories"]["drugs"],
        now,
        MeasureInput(type="dispersal_order", person_pseudonym=person.pseudonym),
    )
    with pytest.raises(ValidationError, match="unbekannt"):
        record(
            polizei,
            world["categories"]["drugs"],
            now,
            MeasureInput(type="contact", person_pseudonym=person.pseudonym),
        )


def test_joint_patrol_staff_hours_and_current_patrol(world, kod, kod_lead, polizei, police_lead, now):
    day = dt.date.today()
    with authority_scope(kod_lead.authority):
        shift = services.shift_create(user=kod_lead, date=day, kind="late")
        patrol = services.patrol_create(
            user=kod_lead,
            shift=shift,
            name="City 1",
            members=[kod, polizei],
            planned_start=now - dt.timedelta(hours=1),
            planned_end=now + dt.timedelta(hours=3),
        )
    assert patrol.joint is True and patrol.member_count == 2
    assert patrol.staff_hours == Decimal("8.00")
    with authority_scope(polizei.authority):
        assert selectors.current_patrol_for(polizei) == patrol
        # The partner sees the joint patrol and incidents recorded on it.
        assert Patrol.objects.filter(pk=patrol.pk).exists()
    incident = record(kod, world["categories"]["begging"], now, MeasureInput(type="contact"), patrol=patrol)
    assert incident.joint is True
    with authority_scope(polizei.authority):
        assert Incident.objects.filter(pk=incident.pk).exists()
    with authority_scope(kod.authority):
        services.patrol_start(user=kod, patrol=patrol, at=now - dt.timedelta(hours=2))
        ended = services.patrol_end(user=kod, patrol=patrol, at=now)
    assert ended.staff_hours == Decimal("4.00")


def test_single_authority_patrol_is_not_joint_and_invisible_to_partner(world, kod, kod_lead, polizei, now):
    with authority_scope(kod_lead.authority):
        shift = services.shift_create(user=kod_lead, date=dt.date.today(), kind="early")
        patrol = services.patrol_create(user=kod_lead, shift=shift, name="KOD 3", members=[kod])
    assert patrol.joint is False
    with authority_scope(polizei.authority):
        assert not Patrol.objects.filter(pk=patrol.pk).exists()
        with pytest.raises(PermissionDenied):
            services.patrol_start(user=polizei, patrol=patrol)


def test_patrol_validation(world, kod, kod_lead, now):
    with authority_scope(kod_lead.authority):
        shift = services.shift_create(user=kod_lead, date=dt.date.today(), kind="night")
        assert shift.ends_at - shift.starts_at == dt.timedelta(hours=8)
        with pytest.raises(ValidationError, match="bereits angelegt"):
            services.shift_create(user=kod_lead, date=dt.date.today(), kind="night")
        with pytest.raises(ValidationError):
            services.patrol_create(user=kod_lead, shift=shift, name="X", members=[])
        with pytest.raises(ValidationError):
            services.patrol_create(
                user=kod_lead,
                shift=shift,
                name="X",
                members=[kod],
                planned_start=now,
                planned_end=now - dt.timedelta(hours=1),
            )
    with authority_scope(kod.authority), pytest.raises(PermissionDenied):
        services.shift_create(user=kod, date=dt.date.today(), kind="early")


def test_overview_counts_equal_direct_counts(world, kod, polizei, now):
    begging, drugs = world["categories"]["begging"], world["categories"]["drugs"]
    record(kod, begging, now, MeasureInput(type="dispersal_order"), MeasureInput(type="contact"))
    record(kod, drugs, now, MeasureInput(type="dispersal_order"))
    record(polizei, drugs, now, MeasureInput(type="dispersal_order"))  # not visible to the city
    with authority_scope(kod.authority):
        overview = selectors.overview(selectors.IncidentFilter(date_from=now.date() - dt.timedelta(days=1)))
    assert overview.incident_count == 2
    assert overview.measure_count == 3
    assert {row["type"]: row["count"] for row in overview.by_measure} == {"dispersal_order": 2, "contact": 1}
    assert {row["area__name"]: row["count"] for row in overview.by_area} == {"Bezirk Ost": 2}


def test_external_id_is_unique_per_authority(world, kod, polizei, now):
    begging = world["categories"]["begging"]
    record(kod, begging, now, external_id="A-1")
    with pytest.raises(ValidationError, match="bereits vergeben"):
        record(kod, begging, now, external_id="A-1")
    # The police may use the same reference for its own record.
    record(polizei, begging, now, external_id="A-1")


def test_shift_date_and_patrol_times_are_bounded(world, kod, kod_lead, now):
    with authority_scope(kod_lead.authority):
        with pytest.raises(ValidationError, match="planbaren Zeitraums"):
            services.shift_create(user=kod_lead, date=dt.date(9999, 12, 31), kind="early")
        shift = services.shift_create(user=kod_lead, date=dt.date.today(), kind="early")
        patrol = services.patrol_create(user=kod_lead, shift=shift, name="KOD 1", members=[kod])
        with pytest.raises(ValidationError, match="zu weit"):
            services.patrol_start(user=kod_lead, patrol=patrol, at=now - dt.timedelta(days=400))


def test_night_patrol_when_clocks_go_back_counts_nine_hours(world, kod, kod_lead):
    # 25 Oct 2026: clocks go back from 03:00 to 02:00 in Germany.
    night = dt.date(2026, 10, 24)
    with authority_scope(kod_lead.authority):
        shift = services.shift_create(user=kod_lead, date=night, kind="night")
        patrol = services.patrol_create(user=kod_lead, shift=shift, name="Nacht", members=[kod])
    assert patrol.staff_hours == Decimal("9.00")
