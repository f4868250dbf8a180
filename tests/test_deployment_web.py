"""Pages of the deployment planning (/einsatzplanung/): who sees what, the partner's plan answers
like a missing one, a walk from the form to the patrols, German messages at the field for bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.deployment import services
from lagebild.deployment.models import DeploymentPlan, PlanAssignment, PlanChange
from lagebild.deployment.services import StaffInput
from lagebild.field.models import Patrol

from .bodycam_fixtures import recordings_dir  # noqa: F401  (fixture)
from .security_matrix import normalise
from .test_deployment_plans import BEFORE, WEEK, seeded, zones  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Tests run without collectstatic; the manifest storage would fail on {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _plan(user, **staff) -> DeploymentPlan:
    with authority_scope(user.authority_id):
        return services.plan_create(user=user, week=WEEK, staff=StaffInput.uniform(**(staff or {"kod": 1})))


def _form_data(**overrides) -> dict[str, str]:
    data = {
        "week": "2026-10-21",  # a Wednesday: the plan is for the week from Monday 19 October
        "category_group": "all",
        "focus_minimum": "1",
        "max_hours_kod": "",
        "max_hours_police": "",
        "max_hours_joint": "",
    }
    for kind, default in (("kod", "2"), ("police", "0"), ("joint", "1")):
        for day in range(7):
            for shift in ("early", "late", "night"):
                data[f"{kind}_{day}_{shift}"] = default
    data.update(overrides)
    return data


def test_a_shift_lead_computes_reviews_edits_approves_and_applies(client, seeded, kod_lead):  # noqa: F811
    client.force_login(kod_lead)
    page = client.get(reverse("deployment:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Neuen Plan berechnen" in html
    assert (
        '<label class="visually-hidden" for="id_kod_0_early">KOD-Streifen Montag Frühschicht</label>' in html
    )
    assert '<th scope="col">Doppelstreifen</th>' in html

    created = client.post(reverse("deployment:index"), _form_data())
    assert created.status_code == 302
    with unscoped():
        plan = DeploymentPlan.objects.get()
    assert plan.week == WEEK and plan.inputs["focus_minimum"] == 1
    assert created["Location"] == reverse("deployment:plan", kwargs={"pk": plan.pk})

    detail = client.get(created["Location"])
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Einsatzplan KW 43/2026" in html
    assert "<caption>Einteilung je Tag und Schicht: Raum, Streifen und warum</caption>" in html
    assert '<th scope="row" class="nowrap">Samstag 24.10.</th>' in html
    assert "Warum?" in html and "erwartete Vorfälle" in html
    assert "Status „optimal“" in html
    assert "Plan freigeben" in html
    assert "?aendern=" in html and "Einteilung ändern" not in html

    with unscoped():
        target = plan.assignments.filter(kind="kod").order_by("pk").first()
    form_page = client.get(created["Location"], {"aendern": target.pk}).content.decode()
    assert "Einteilung ändern" in form_page
    assert f'<label for="id_a{target.pk}_reason">Begründung der Abweichung' in form_page
    missing_reason = client.post(
        reverse("deployment:plan-edit", kwargs={"pk": plan.pk}),
        {"assignment": target.pk, "zone": target.zone_id, "teams": 0, "reason": ""},
    )
    assert missing_reason.status_code == 400
    assert "Bitte begründen Sie die Abweichung vom berechneten Plan." in missing_reason.content.decode()
    edited = client.post(
        reverse("deployment:plan-edit", kwargs={"pk": plan.pk}),
        {"assignment": target.pk, "zone": target.zone_id, "teams": 0, "reason": "Personal krank"},
    )
    assert edited.status_code == 302
    with unscoped():
        change = PlanChange.objects.get(action=PlanChange.Action.EDITED)
    assert change.reason == "Personal krank" and change.cost is not None
    assert "Personal krank" in client.get(created["Location"]).content.decode()

    assert client.post(reverse("deployment:plan-approve", kwargs={"pk": plan.pk})).status_code == 302
    applied = client.post(reverse("deployment:plan-apply", kwargs={"pk": plan.pk}))
    assert applied.status_code == 302
    with unscoped():
        plan.refresh_from_db()
        assert plan.state == DeploymentPlan.State.APPLIED
        assert Patrol.objects.filter(shift__authority=kod_lead.authority).exists()
    html = client.get(created["Location"]).content.decode()
    assert "Abweichungen vom Plan" in html and "Abweichungen festhalten" in html
    assert client.post(reverse("deployment:plan-deviations", kwargs={"pk": plan.pk})).status_code == 302
    too_late = client.post(
        reverse("deployment:plan-edit", kwargs={"pk": plan.pk}),
        {"assignment": target.pk, "zone": target.zone_id, "teams": 1, "reason": "Nachträglich"},
    )
    assert too_late.status_code == 400
    assert "Der Plan ist bereits umgesetzt" in too_late.content.decode()


def test_bad_input_gets_german_messages_at_the_field(client, seeded, kod_lead):  # noqa: F811
    client.force_login(kod_lead)
    answer = client.post(
        reverse("deployment:index"),
        _form_data(week="kein-datum", kod_2_late="-3", focus_minimum="x", category_group="gibt-es-nicht"),
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "Bitte ein Datum angeben." in html
    assert "Nicht weniger als 0." in html
    assert 'aria-invalid="true"' in html
    too_few = client.post(reverse("deployment:index"), _form_data(kod_0_early="0", joint_0_early="0"))
    assert too_few.status_code == 400
    assert "reichen nicht für die Mindestpräsenz" in too_few.content.decode()
    with unscoped():
        assert not DeploymentPlan.objects.exists()
    plan = _plan(kod_lead)
    with unscoped():
        target = plan.assignments.first()
    for data in (
        {"assignment": "kaputt", "zone": "1", "teams": "1", "reason": "x"},
        {"assignment": target.pk, "zone": "999999", "teams": "1", "reason": "x"},
        {"assignment": target.pk, "zone": target.zone_id, "teams": "-1", "reason": "x"},
        {"assignment": target.pk, "zone": target.zone_id, "teams": str(target.teams), "reason": "x"},
    ):
        answer = client.post(reverse("deployment:plan-edit", kwargs={"pk": plan.pk}), data)
        assert answer.status_code in (400, 404), data
    apply_draft = client.post(reverse("deployment:plan-apply", kwargs={"pk": plan.pk}))
    assert apply_draft.status_code == 400
    assert "Nur ein freigegebener Plan kann umgesetzt werden." in apply_draft.content.decode()


def _answer(client, url: str, method: str = "get"):
    response = getattr(client, method)(url)
    return response.status_code, normalise(response.content.decode(), url)


def test_the_partners_plan_answers_like_a_missing_one(client, seeded, kod_lead, police_lead):  # noqa: F811
    city_plan = _plan(kod_lead)
    police_plan = _plan(police_lead, police=1)
    missing = max(city_plan.pk, police_plan.pk) + 1000
    for user, foreign in ((police_lead, city_plan), (kod_lead, police_plan)):
        client.force_login(user)
        for name, method in (
            ("deployment:plan", "get"),
            ("deployment:plan-approve", "post"),
            ("deployment:plan-apply", "post"),
            ("deployment:plan-edit", "post"),
            ("deployment:plan-deviations", "post"),
        ):
            theirs = _answer(client, reverse(name, kwargs={"pk": foreign.pk}), method)
            nothing = _answer(client, reverse(name, kwargs={"pk": missing}), method)
            assert theirs == nothing and theirs[0] == 404, name
        listed = client.get(reverse("deployment:index")).content.decode()
        assert reverse("deployment:plan", kwargs={"pk": foreign.pk}) not in listed
    with unscoped():
        assert DeploymentPlan.objects.filter(state=DeploymentPlan.State.DRAFT).count() == 2
        assert not Patrol.objects.exists()


def test_field_officers_get_403_readers_read_only(client, seeded, kod_lead, kod, analyst, leadership):  # noqa: F811
    plan = _plan(kod_lead)
    with unscoped():
        target = plan.assignments.first()
    client.force_login(kod)
    for url in (reverse("deployment:index"), reverse("deployment:plan", kwargs={"pk": plan.pk})):
        answer = client.get(url)
        assert answer.status_code == 403
        assert "Einsatzpläne sehen Schichtleitung, Analyse und Leitung" in answer.content.decode()
    for reader in (analyst, leadership):
        client.force_login(reader)
        listed = client.get(reverse("deployment:index"))
        assert listed.status_code == 200
        assert "Neuen Plan berechnen" not in listed.content.decode()
        detail = client.get(reverse("deployment:plan", kwargs={"pk": plan.pk}))
        assert detail.status_code == 200
        assert "Plan freigeben" not in detail.content.decode()
        assert client.post(reverse("deployment:index"), _form_data()).status_code == 403
        assert client.post(reverse("deployment:plan-approve", kwargs={"pk": plan.pk})).status_code == 403
        edit = client.post(
            reverse("deployment:plan-edit", kwargs={"pk": plan.pk}),
            {"assignment": target.pk, "zone": target.zone_id, "teams": 0, "reason": "x"},
        )
        assert edit.status_code == 403
    with unscoped():
        assert DeploymentPlan.objects.get().state == DeploymentPlan.State.DRAFT
        assert not PlanAssignment.objects.filter(source=PlanAssignment.Source.EDITED).exists()


def test_anonymous_is_sent_to_login(client, db):
    answer = client.get(reverse("deployment:index"))
    assert answer.status_code == 302 and reverse("login") in answer["Location"]


@pytest.mark.parametrize("role", [Role.TASKFORCE, Role.PROCEEDINGS, Role.ADMIN])
def test_other_roles_get_403(client, make_user, city, role):
    client.force_login(make_user(f"u-{role}", city, role))
    assert client.get(reverse("deployment:index")).status_code == 403


def test_security_matrix_for_the_deployment_routes(
    world,
    make_user,
    city,
    police,
    now,
    recordings_dir,  # noqa: F811
    monkeypatch,
):
    """The matrix (tests/test_security_matrix.py) for this app's routes only: quick to run alone."""
    # security_matrix first: it imports the part modules itself (importing a part first is circular).
    from . import security_matrix as spec
    from . import security_matrix_deployment as entries
    from .test_security_matrix import run_matrix, seed

    for route, entry in entries.ROUTES.items():  # until the entries are merged into security_matrix.py
        monkeypatch.setitem(spec.ROUTES, route, entry)
    failures, counted, _figures = run_matrix(
        seed(world, make_user, city, police, now), only=set(entries.ROUTES), writes=True
    )
    assert not failures, "\n".join(failures[:50])
    assert counted["requests"] > 0 and counted["not-yours comparisons"] > 0
