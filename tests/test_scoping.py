"""Authority separation is enforced by the data layer, not by each view."""

import pytest

from lagebild.core.scoping import ScopeError, authority_scope, unscoped
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Patrol, Person, Shift

from .conftest import INSIDE


def _record(user, category, now, joint=False):
    with authority_scope(user.authority):
        return services.incident_create(
            user=user,
            category=category,
            occurred_at=now,
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=[MeasureInput(type="dispersal_order")],
            joint=joint,
        )


@pytest.mark.parametrize("model", [Incident, Measure, Patrol, Shift, Person])
def test_query_without_scope_fails(db, model):
    with pytest.raises(ScopeError):
        list(model.objects.all())


def test_city_and_police_see_own_and_joint_only(world, kod, polizei, now):
    begging = world["categories"]["begging"]
    city_only = _record(kod, begging, now)
    police_only = _record(polizei, begging, now)
    joint = _record(kod, begging, now, joint=True)

    with authority_scope(kod.authority):
        city_sees = set(Incident.objects.values_list("pk", flat=True))
        city_measures = set(Measure.objects.values_list("incident_id", flat=True))
    with authority_scope(polizei.authority):
        police_sees = set(Incident.objects.values_list("pk", flat=True))
        police_measures = set(Measure.objects.values_list("incident_id", flat=True))

    assert city_sees == {city_only.pk, joint.pk}
    assert police_sees == {police_only.pk, joint.pk}
    assert city_measures == city_sees
    assert police_measures == police_sees


def test_scope_without_authority_sees_nothing(world, kod, now):
    _record(kod, world["categories"]["begging"], now)
    with authority_scope(None):
        assert Incident.objects.count() == 0
    with unscoped():
        assert Incident.objects.count() == 1
