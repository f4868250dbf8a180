"""Identity data of persons concerned are anonymised a year after their last case closed (end of that
year), never while a case is open, and only the authority's own when run per authority (issue 15, item 1)."""

from __future__ import annotations

import datetime as dt

import pytest

from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.privacy import engine
from lagebild.proceedings import services
from lagebild.proceedings.models import Case, CaseState, EventKind, ProceedingsPerson
from lagebild.proceedings.services import StepInput

from .test_proceedings_workflow import PERSON, at, d


@pytest.fixture
def clerks(make_user, city, police):
    return make_user("bussgeld", city, Role.PROCEEDINGS), make_user("bussgeld-p", police, Role.PROCEEDINGS)


def case_for(clerk, catalogue, family_name, close_on=None):
    with authority_scope(clerk.authority):
        concerned = services.person_create(user=clerk, data={**PERSON, "family_name": family_name})
        case = services.case_open(
            user=clerk, category=catalogue["begging"], offence_at=at("2025-03-10", 14),
            person=concerned, now=at("2025-03-10", 18),
        )  # fmt: skip
        if close_on:
            stop = StepInput(EventKind.DISCONTINUED, d(close_on), "Bagatelle", {"reason_code": "opportunity"})
            services.case_step(user=clerk, case=case, step=stop, now=at(close_on))
    return concerned


def test_person_anonymised_at_the_end_of_the_year_after_the_last_closure(clerks, catalogue):
    city_clerk, police_clerk = clerks
    closed = case_for(city_clerk, catalogue, "Geschlossen", close_on="2025-03-20")
    still_open = case_for(city_clerk, catalogue, "Offen")
    police_person = case_for(police_clerk, catalogue, "Polizeifall", close_on="2025-03-20")

    before = engine.run(types=["proceedings_person"], now=at("2026-12-31", 23))
    assert before.total == 0
    report = engine.run(
        types=["proceedings_person"], now=at("2027-01-01", 1), authority_id=city_clerk.authority_id
    )
    assert report.total == 1
    with unscoped():
        anonymised = ProceedingsPerson.objects.get(pk=closed.pk)
        assert (
            anonymised.family_name == "anonymisiert" and anonymised.street == "" and anonymised.anonymised_at
        )
        assert anonymised.date_of_birth == dt.date(1990, 1, 1)
        # The case and its figures stay.
        assert Case.objects.get(person=anonymised).state == CaseState.DISCONTINUED
        assert ProceedingsPerson.objects.get(pk=still_open.pk).family_name == "Offen"
        assert ProceedingsPerson.objects.get(pk=police_person.pk).family_name == "Polizeifall"
    assert engine.run(types=["proceedings_person"], now=at("2027-01-01", 2)).total == 1  # the police's
    assert engine.run(types=["proceedings_person"], now=at("2027-01-01", 3)).total == 0
