"""Offence proceedings as dated scenarios: open, hear, notice, serve, object, final, pay, enforce,
discontinue, lapse; persons under 14 refused; cautions block; every step by role, and the other
authority never sees a case (issue 15, items 1–4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.field import services as field_services
from lagebild.field.measures import MeasureInput
from lagebild.proceedings import limitation as engine
from lagebild.proceedings import selectors, services
from lagebild.proceedings.models import (
    AppendOnlyError,
    Case,
    CaseEvent,
    CaseState,
    Caution,
    DeadlineKind,
    EventKind,
    Notice,
)
from lagebild.proceedings.services import StepInput

from .conftest import INSIDE

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=BERLIN)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


@pytest.fixture
def clerk(make_user, city):
    return make_user("bussgeld", city, Role.PROCEEDINGS, first_name="Bea", last_name="Bußgeld")


@pytest.fixture
def police_clerk(make_user, police):
    return make_user("bussgeld-polizei", police, Role.PROCEEDINGS)


PERSON = {
    "family_name": "Muster",
    "given_names": "Max",
    "date_of_birth": dt.date(1990, 5, 17),
    "place_of_birth": "Dortmund",
    "street": "Kampstraße 1",
    "postcode": "44137",
    "city": "Dortmund",
}


def person(clerk, **overrides):
    with authority_scope(clerk.authority):
        return services.person_create(user=clerk, data={**PERSON, **overrides})


def open_case(clerk, catalogue, offence_day="2025-03-10", **kwargs):
    with authority_scope(clerk.authority):
        return services.case_open(
            user=clerk,
            category=catalogue["begging"],
            offence_at=at(offence_day, 14),
            offence_place="Katharinentreppe",
            now=at(offence_day, 18),
            **kwargs,
        )


def step(clerk, case, kind, on, reason="", now=None, **data):
    with authority_scope(clerk.authority):
        return services.case_step(
            user=clerk,
            case=case,
            step=StepInput(kind=kind, on=d(on), reason=reason, data=data),
            now=now or at(on, 16),
        )


def refreshed(clerk, case) -> Case:
    with authority_scope(clerk.authority):
        return Case.objects.get(pk=case.pk)


def deadlines(clerk, case) -> dict[str, dt.date]:
    with authority_scope(clerk.authority):
        return dict(case.deadlines.values_list("kind", "due"))


def issue_notice(clerk, case, drafted="2025-04-20", issued="2025-04-22", fine="35"):
    with authority_scope(clerk.authority):
        notice = services.notice_draft(
            user=clerk, case=case, fine=fine, evidence="Zeuge: KOD", now=at(drafted)
        )
        return services.notice_approve(user=clerk, notice=notice, issued_on=d(issued), now=at(issued, 15))


def test_case_runs_from_report_to_payment_with_every_date_from_the_law(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    assert case.file_number.startswith("OWi 2025/") and case.state == CaseState.REPORTED
    # Offence 10.03.2025, 1,000 € maximum: six months, ends 09.09.2025 (§ 31 Abs. 2 Nr. 4 OWiG).
    assert deadlines(clerk, case)[DeadlineKind.PROSECUTION_LIMITATION] == d("2025-09-09")

    step(clerk, case, EventKind.HEARING_SENT, "2025-03-20")
    # The first hearing interrupts: six months from 20.03.2025 (§ 33 Abs. 1 Nr. 1, Abs. 3 S. 1).
    assert deadlines(clerk, case)[DeadlineKind.PROSECUTION_LIMITATION] == d("2025-09-19")

    notice = issue_notice(clerk, case)
    # § 107: 5 % of 35 € is below the minimum, so 25 € fee, plus 3.50 € formal service.
    assert (notice.fine, notice.fee, notice.expenses, notice.total) == (
        Decimal("35.00"),
        Decimal("25.00"),
        Decimal("3.50"),
        Decimal("63.50"),
    )
    case = refreshed(clerk, case)
    assert case.state == CaseState.NOTICE_ISSUED and case.total_due == Decimal("63.50")
    assert deadlines(clerk, case)[DeadlineKind.SERVICE] == d("2025-05-06")

    step(clerk, case, EventKind.NOTICE_SERVED, "2025-04-25")
    case = refreshed(clerk, case)
    # Served within two weeks: the issue date interrupts (§ 33 Abs. 1 Nr. 9): 22.10.2025 - 1 day.
    assert deadlines(clerk, case)[DeadlineKind.PROSECUTION_LIMITATION] == d("2025-10-21")
    # Objection until 09.05.2025, a Friday (§ 67 Abs. 1 OWiG).
    assert deadlines(clerk, case)[DeadlineKind.OBJECTION] == d("2025-05-09")

    with unscoped():
        assert services.daily_run(today=d("2025-05-09")).became_final == 0
        assert services.daily_run(today=d("2025-05-10")).became_final == 1
        assert services.daily_run(today=d("2025-05-10")).became_final == 0  # idempotent
    case = refreshed(clerk, case)
    assert case.state == CaseState.FINAL and case.final_on == d("2025-05-10")
    # Payment two weeks after finality: 24.05.2025 is a Saturday, so Monday 26.05.2025.
    assert case.payment_due_on == d("2025-05-26")
    due = deadlines(clerk, case)
    assert due[DeadlineKind.PAYMENT] == d("2025-05-26")
    assert due[DeadlineKind.ENFORCEMENT_ALLOWED] == engine.enforcement_allowed_from(d("2025-05-26"))
    assert due[DeadlineKind.ENFORCEMENT_LIMITATION] == d("2028-05-09")  # § 34: three years

    with authority_scope(clerk.authority):
        services.payment_record(
            user=clerk, case=case, amount="30", paid_on=d("2025-05-20"), now=at("2025-05-20")
        )
        assert refreshed(clerk, case).state == CaseState.FINAL
        services.payment_record(
            user=clerk,
            case=case,
            amount="33,50".replace(",", "."),
            paid_on=d("2025-05-22"),
            now=at("2025-05-22"),
        )
    case = refreshed(clerk, case)
    assert case.state == CaseState.PAID and case.closed_on == d("2025-05-22")
    assert case.paid_total == Decimal("63.50")
    assert deadlines(clerk, case) == {}
    with authority_scope(clerk.authority):
        kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.OPENED,
        EventKind.HEARING_SENT,
        EventKind.NOTICE_DRAFTED,
        EventKind.NOTICE_ISSUED,
        EventKind.NOTICE_SERVED,
        EventKind.BECAME_FINAL,
        EventKind.PAYMENT,
        EventKind.PAYMENT,
    ]


def test_service_more_than_two_weeks_after_issue_counts_from_service(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    issue_notice(clerk, case, drafted="2025-04-01", issued="2025-04-01")
    step(clerk, case, EventKind.NOTICE_SERVED, "2025-04-20")  # 19 days after issue
    assert deadlines(clerk, refreshed(clerk, case))[DeadlineKind.PROSECUTION_LIMITATION] == d("2025-10-19")


def test_a_case_lapses_explicitly_on_the_day_after_its_deadline_and_is_warned_before(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    with authority_scope(clerk.authority):
        warned = selectors.worklist(user=clerk, today=d("2025-08-10"))
        assert [(row.file_number, row.kind, row.days_left) for row in warned] == [
            (case.file_number, DeadlineKind.PROSECUTION_LIMITATION, 30)
        ]
        assert selectors.worklist(user=clerk, today=d("2025-08-09")) == []
        # Overdue stays on the list until the daily run records the lapse.
        assert selectors.worklist(user=clerk, today=d("2025-09-12"))[0].overdue
    with unscoped():
        assert services.daily_run(today=d("2025-09-09")).lapsed == 0
        assert services.daily_run(today=d("2025-09-10")).lapsed == 1
        assert services.daily_run(today=d("2025-09-11")).lapsed == 0
    case = refreshed(clerk, case)
    assert case.state == CaseState.LAPSED and case.lapsed_on == d("2025-09-10")
    with authority_scope(clerk.authority):
        lapse = case.events.get(kind=EventKind.LAPSED)
        assert "09.09.2025" in lapse.reason and lapse.user_name == "System"
        assert selectors.worklist(user=clerk, today=d("2025-09-12")) == []
    assert AuditEvent.objects.filter(action="proceedings.case.lapsed", object_id=str(case.pk)).count() == 1


def test_person_under_14_at_the_act_is_refused_and_a_juvenile_is_flagged(clerk, catalogue):
    child = person(clerk, date_of_birth=dt.date(2011, 3, 11))  # 13 on 10.03.2025, 14 the next day
    with pytest.raises(ValidationError) as refused:
        open_case(clerk, catalogue, person=child)
    assert "§ 12 Abs. 1 OWiG" in str(refused.value.message_dict["date_of_birth"])
    with authority_scope(clerk.authority):
        assert Case.objects.count() == 0
    case = open_case(clerk, catalogue, offence_day="2025-03-11", person=child)
    assert case.juvenile is True
    assert open_case(clerk, catalogue, person=person(clerk)).juvenile is False


def test_person_requires_the_111_owig_fields(clerk):
    with pytest.raises(ValidationError) as missing:
        person(clerk, place_of_birth="", street="")
    assert set(missing.value.message_dict) >= {"place_of_birth", "street"}


def test_steps_out_of_order_wrong_dates_and_missing_reasons_write_nothing(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    with authority_scope(clerk.authority):
        before = CaseEvent.objects.filter(case=case).count()
    refusals = [
        (EventKind.NOTICE_SERVED, "2025-03-20", "", {}, "kind"),
        (EventKind.OBJECTION_RECEIVED, "2025-03-20", "", {}, "kind"),
        (EventKind.HEARING_SENT, "2025-03-01", "", {}, "on"),  # before the act
        (EventKind.HEARING_SENT, "2099-01-01", "", {}, "on"),  # in the future
        (EventKind.DISCONTINUED, "2025-03-20", "", {"reason_code": "opportunity"}, "reason"),
        (EventKind.DISCONTINUED, "2025-03-20", "Bagatelle", {"reason_code": "nonsense"}, "reason_code"),
    ]
    for kind, on, reason, data, field in refusals:
        with pytest.raises(ValidationError) as refused:
            step(clerk, case, kind, on, reason, now=at("2025-03-25"), **data)
        assert field in refused.value.message_dict, (kind, refused.value.message_dict)
    with authority_scope(clerk.authority):
        assert CaseEvent.objects.filter(case=case).count() == before
    step(clerk, case, EventKind.DISCONTINUED, "2025-03-20", "Bagatelle", reason_code="opportunity")
    case = refreshed(clerk, case)
    assert case.state == CaseState.DISCONTINUED and case.discontinued_reason == "opportunity"


def test_objection_then_transfer_to_prosecutor_or_remedy(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    issue_notice(clerk, case)
    step(clerk, case, EventKind.NOTICE_SERVED, "2025-04-25")
    step(clerk, case, EventKind.OBJECTION_RECEIVED, "2025-05-02")
    with authority_scope(clerk.authority):
        assert case.events.get(kind=EventKind.OBJECTION_RECEIVED).data["in_time"] is True
    step(clerk, case, EventKind.REMEDY, "2025-05-12", "Tatzeit im Bescheid falsch")
    case = refreshed(clerk, case)
    assert case.state == CaseState.HEARING and case.fine is None
    with authority_scope(clerk.authority):
        assert Notice.objects.get(case=case, approved_at__isnull=False).withdrawn_on == d("2025-05-12")
    issue_notice(clerk, case, drafted="2025-05-13", issued="2025-05-14")
    step(clerk, case, EventKind.NOTICE_SERVED, "2025-05-16")
    step(clerk, case, EventKind.OBJECTION_RECEIVED, "2025-05-29")  # deadline 30.05.2025
    step(clerk, case, EventKind.TRANSFERRED, "2025-06-03")
    case = refreshed(clerk, case)
    assert case.state == CaseState.TRANSFERRED and not case.is_open


def test_enforcement_only_two_weeks_after_due(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    issue_notice(clerk, case)
    step(clerk, case, EventKind.NOTICE_SERVED, "2025-04-25")
    with unscoped():
        services.daily_run(today=d("2025-05-10"))
    earliest = engine.enforcement_allowed_from(d("2025-05-26"))
    with pytest.raises(ValidationError) as early:
        step(clerk, case, EventKind.ENFORCEMENT_STARTED, (earliest - dt.timedelta(days=1)).isoformat())
    assert "§ 95" in early.value.message_dict["on"][0]
    step(clerk, case, EventKind.ENFORCEMENT_STARTED, earliest.isoformat())
    assert refreshed(clerk, case).state == CaseState.ENFORCEMENT


def test_notice_checks_fine_and_is_immutable_once_approved(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    with authority_scope(clerk.authority):
        for fine, field in (("1000.01", "fine"), ("4.99", "fine"), ("abc", "fine")):
            with pytest.raises(ValidationError) as refused:
                services.notice_draft(user=clerk, case=case, fine=fine, now=at("2025-04-01"))
            assert field in refused.value.message_dict
    notice = issue_notice(clerk, case, fine="1000")
    # 5 % of 1,000 € = 50 € (§ 107 Abs. 1 OWiG).
    assert notice.fee == Decimal("50.00")
    assert notice.contents["act"]["legal_basis"] == "OBV Dortmund"
    notice.fine = Decimal("10")
    with pytest.raises(AppendOnlyError), authority_scope(clerk.authority):
        notice.save()
    with pytest.raises(AppendOnlyError), authority_scope(clerk.authority):
        CaseEvent.objects.filter(case=case).update(reason="geändert")


def test_four_eyes_when_the_city_chooses_it(clerk, make_user, city, catalogue, settings):
    settings.LAGEBILD_PROCEEDINGS_FOUR_EYES = True
    case = open_case(clerk, catalogue, person=person(clerk))
    with authority_scope(clerk.authority):
        notice = services.notice_draft(user=clerk, case=case, fine="35", now=at("2025-04-01"))
        with pytest.raises(PermissionDenied):
            services.notice_approve(
                user=clerk, notice=notice, issued_on=d("2025-04-02"), now=at("2025-04-02")
            )
        second = make_user("bussgeld-2", city, Role.PROCEEDINGS)
        services.notice_approve(user=second, notice=notice, issued_on=d("2025-04-02"), now=at("2025-04-02"))
    assert refreshed(clerk, case).state == CaseState.NOTICE_ISSUED


def test_only_the_proceedings_role_of_the_own_authority_handles_cases(
    clerk, police_clerk, kod, kod_lead, analyst, kod_admin, catalogue
):
    case = open_case(clerk, catalogue, person=person(clerk))
    for other in (kod, kod_lead, analyst, kod_admin):
        with authority_scope(other.authority), pytest.raises(PermissionDenied):
            selectors.case_file(user=other, pk=case.pk)
        with authority_scope(other.authority), pytest.raises(PermissionDenied):
            services.case_step(user=other, case=case, step=StepInput(EventKind.HEARING_SENT, d("2025-03-20")))
    with authority_scope(police_clerk.authority):
        assert not Case.objects.filter(pk=case.pk).exists()
        with pytest.raises(selectors.CaseNotFound):
            selectors.case_file(user=police_clerk, pk=case.pk)
        assert selectors.worklist(user=police_clerk, today=d("2025-09-01")) == []
    with authority_scope(clerk.authority):
        assert len(selectors.worklist(user=clerk, today=d("2025-09-01"))) == 1


def test_every_read_of_a_person_is_logged(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    with authority_scope(clerk.authority):
        selectors.case_file(user=clerk, pk=case.pk)
        selectors.case_file(user=clerk, pk=case.pk)
    reads = AuditEvent.objects.filter(action="proceedings.person.read", object_id=str(case.person_id))
    assert reads.count() == 2 and {e.user_id for e in reads} == {clerk.pk}


# --- cautions and the automatic opening from the field ----------------------------------------------


@pytest.fixture
def caution_incident(world, kod):
    with authority_scope(kod.authority):
        incident = field_services.incident_create(
            user=kod,
            category=world["categories"]["begging"],
            occurred_at=timezone.now() - dt.timedelta(hours=2),
            lat=INSIDE[0],
            lon=INSIDE[1],
            measures=[MeasureInput(type="caution_fee", amount=Decimal("35"))],
        )
        return incident, incident.measures.get()


def test_effective_caution_blocks_proceedings_for_the_same_act(kod, clerk, caution_incident):
    incident, measure = caution_incident
    with authority_scope(kod.authority):
        caution = services.caution_give(
            user=kod, measure=measure, informed_of_right_to_refuse=True, consented=True, paid_on_spot=True
        )
    assert caution.status == Caution.Status.EFFECTIVE and caution.amount == Decimal("35.00")
    with authority_scope(clerk.authority), pytest.raises(ValidationError) as blocked:
        services.case_open(
            user=clerk, category=incident.category, offence_at=incident.occurred_at, incident=incident
        )
    assert "§ 56 Abs. 4 OWiG" in blocked.value.message_dict["incident"][0]


def test_refused_or_unpaid_caution_lets_proceedings_follow(kod, clerk, caution_incident):
    incident, measure = caution_incident
    with authority_scope(kod.authority):
        with pytest.raises(ValidationError) as uninformed:
            services.caution_give(
                user=kod,
                measure=measure,
                informed_of_right_to_refuse=False,
                consented=True,
                paid_on_spot=True,
            )
        assert "informed_of_right_to_refuse" in uninformed.value.message_dict
        caution = services.caution_give(
            user=kod, measure=measure, informed_of_right_to_refuse=True, consented=True, paid_on_spot=False
        )
    assert caution.status == Caution.Status.OPEN
    with authority_scope(clerk.authority), pytest.raises(ValidationError):
        services.case_open(
            user=clerk, category=incident.category, offence_at=incident.occurred_at, incident=incident
        )
    with unscoped():
        services.daily_run(today=caution.pay_by)
        assert Caution.objects.get(pk=caution.pk).status == Caution.Status.OPEN
        services.daily_run(today=caution.pay_by + dt.timedelta(days=1))
        assert Caution.objects.get(pk=caution.pk).status == Caution.Status.UNPAID
    with authority_scope(clerk.authority):
        case = services.case_open(
            user=clerk, category=incident.category, offence_at=incident.occurred_at, incident=incident
        )
    assert case.state == CaseState.REPORTED


def test_offence_report_from_the_field_opens_a_case_if_the_category_says_so(world, kod, clerk):
    category = world["categories"]["begging"]

    def record():
        with authority_scope(kod.authority):
            return field_services.incident_create(
                user=kod,
                category=category,
                occurred_at=timezone.now() - dt.timedelta(hours=1),
                lat=INSIDE[0],
                lon=INSIDE[1],
                address_text="Katharinentreppe",
                measures=[MeasureInput(type="offence_report")],
            )

    record()
    with authority_scope(clerk.authority):
        assert Case.objects.count() == 0
    category.opens_proceedings = True
    category.save()
    incident = record()
    with authority_scope(clerk.authority):
        case = Case.objects.get()
        assert case.incident_id == incident.pk and case.offence_place == "Katharinentreppe"
        assert case.events.get().kind == EventKind.OPENED and case.events.get().user_name == "System"


def test_instalments_need_an_end_within_five_years_and_rest_enforcement_limitation(clerk, catalogue):
    case = open_case(clerk, catalogue, person=person(clerk))
    issue_notice(clerk, case)
    step(clerk, case, EventKind.NOTICE_SERVED, "2025-04-25")
    with unscoped():
        services.daily_run(today=d("2025-05-10"))
    for until, message in (
        ("", "als Datum"),
        ("2025-05-01", "vor der Bewilligung"),
        ("2030-06-02", "fünf Jahre"),
    ):
        with pytest.raises(ValidationError) as refused:
            step(clerk, case, EventKind.INSTALMENTS_GRANTED, "2025-05-20", "Raten à 10 €", until=until)
        assert message in refused.value.message_dict["until"][0]
    step(clerk, case, EventKind.INSTALMENTS_GRANTED, "2025-05-20", "Raten à 10 €", until="2025-11-19")
    # § 34 Abs. 4 OWiG: the 184 days of the instalments are added to the three years.
    due = deadlines(clerk, refreshed(clerk, case))
    assert due[DeadlineKind.ENFORCEMENT_LIMITATION] == d("2028-05-09") + dt.timedelta(days=184)
    step(clerk, case, EventKind.REMINDER_SENT, "2025-12-01")
    with authority_scope(clerk.authority):
        reminder = case.events.get(kind=EventKind.REMINDER_SENT)
    pay_by = dt.date.fromisoformat(reminder.data["pay_by"])
    assert pay_by > d("2025-12-01")
    assert deadlines(clerk, refreshed(clerk, case))[DeadlineKind.PAYMENT] == pay_by
