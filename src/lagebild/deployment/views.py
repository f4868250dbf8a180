"""Pages of the deployment planning under /einsatzplanung/.

Thin: rules are in ``services`` and ``selectors``. Shift leads, analysts and leadership of the
authority read plans (``deployment.view_plans``), shift leads change them
(``deployment.edit_plans``); everyone else gets a German 403. A plan of the partner authority
and a plan that does not exist answer with the same 404. A refused change shows the service's
German message at the field (status 400) and writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from lagebild.field.forms import add_service_errors

from . import rules, selectors, services
from .forms import AssignmentEditForm, PlanCreateForm
from .models import DeploymentPlan

NOT_FOUND = "Nicht gefunden."
NOT_PERMITTED = "Einsatzpläne sehen Schichtleitung, Analyse und Leitung der eigenen Behörde."
NOT_EDITOR = (
    "Einsatzpläne berechnet, ändert, gibt frei und setzt um nur die Schichtleitung der eigenen Behörde."
)
PAGE_SIZE = 50


def forbidden(request: HttpRequest, message: str = NOT_PERMITTED) -> HttpResponse:
    return render(request, "deployment/plan_forbidden.html", {"message": message}, status=403)


def _readers_only(view: Any) -> Any:
    """Login, then a reading role; everyone else gets the same German 403."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not rules.can_view_plans(request.user):
            return forbidden(request)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, str(exc) or NOT_EDITOR)
        except selectors.PlanNotFound:
            raise Http404(NOT_FOUND) from None

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _plan_or_404(pk: int) -> DeploymentPlan:
    try:
        return selectors.plan_get(pk)
    except selectors.PlanNotFound:
        raise Http404(NOT_FOUND) from None


def _zone_choices(plan: DeploymentPlan) -> list[tuple[int, str]]:
    zones = plan.inputs.get("plan_input", {}).get("zones", [])
    return [(int(z["code"]), z["name"] + (" (Schwerpunktraum)" if z.get("focus") else "")) for z in zones]


@require_http_methods(["GET", "POST"])
@_readers_only
def plan_list(request: HttpRequest) -> HttpResponse:
    """The authority's plans and the form to compute a new one."""
    may_edit = rules.can_edit_plans(request.user)
    form = PlanCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_edit:
            return forbidden(request, NOT_EDITOR)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.plan_create(
                    user=request.user,
                    week=data["week"],
                    category_group=data["category_group"],
                    staff=form.staff_input(),
                    focus_minimum=data["focus_minimum"],
                    max_hours={kind: data[f"max_hours_{kind}"] for kind in ("kod", "police", "joint")},
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{plan} wurde berechnet. Prüfen, ändern und freigeben.")
                return redirect("deployment:plan", pk=plan.pk)
        status = 400
    plans = list(selectors.plan_list()[:PAGE_SIZE])
    return render(
        request,
        "deployment/plan_list.html",
        {
            "plans": plans,
            "form": form if may_edit else None,
            "may_edit": may_edit,
            "group_labels": services.GROUP_LABELS,
        },
        status=status,
    )


def _detail_context(request: HttpRequest, plan: DeploymentPlan, **extra: Any) -> dict[str, Any]:
    may_edit = rules.can_edit_plans(request.user)
    zones = _zone_choices(plan)
    grid = selectors.plan_grid(plan)
    forms_by_assignment: dict[int, AssignmentEditForm] = extra.pop("edit_forms", {})
    editable = may_edit and plan.state != DeploymentPlan.State.APPLIED
    # One edit form at a time (the one asked for with ?aendern=<id>, or the refused one): a form
    # per assignment would make the page of a week with 250 assignments slow and long.
    wanted = extra.pop("open_assignment", None) or request.GET.get("aendern", "")
    if editable:
        for day in grid:
            for cell in day.cells:
                for a in cell.assignments:
                    if str(a.pk) != str(wanted):
                        continue
                    a.edit_form = forms_by_assignment.get(a.pk) or AssignmentEditForm(
                        zones=zones,
                        auto_id=f"id_a{a.pk}_%s",
                        initial={"assignment": a.pk, "zone": a.zone_id, "teams": a.teams},
                    )
    now = timezone.now()
    objective = float(plan.result.get("objective", 0.0))
    covered = float(plan.result.get("covered_risk", objective))
    return {
        "plan": plan,
        "grid": grid,
        "may_edit": may_edit,
        "editable": editable,
        "group_label": selectors.group_label(plan),
        "partner_name": selectors.partner_name(plan),
        "partner_requests": list(selectors.partner_requests(plan)),
        "changes": list(selectors.plan_changes(plan)),
        "deviations": services.deviations(plan, now=now),
        "objective": objective,
        "covered": covered,
        "cost": objective - covered,
        "total_risk": float(plan.result.get("total_risk", 0.0)),
        **extra,
    }


@require_http_methods(["GET"])
@_readers_only
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    return render(request, "deployment/plan_detail.html", _detail_context(request, plan))


def _editor_plan(request: HttpRequest, pk: int) -> DeploymentPlan:
    plan = _plan_or_404(pk)
    if not rules.can_edit_plans(request.user):
        raise PermissionDenied(NOT_EDITOR)
    return plan


def _refused(
    request: HttpRequest, plan: DeploymentPlan, error: ValidationError, **extra: Any
) -> HttpResponse:
    context = _detail_context(request, plan, **extra)
    context["action_errors"] = (
        error.messages if not hasattr(error, "error_dict") else error.message_dict.get("__all__", [])
    )
    return render(request, "deployment/plan_detail.html", context, status=400)


@require_POST
@_readers_only
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editor_plan(request, pk)
    assignment = selectors.assignment_get(plan, request.POST.get("assignment"))
    form = AssignmentEditForm(request.POST, zones=_zone_choices(plan), auto_id=f"id_a{assignment.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            change = services.plan_edit(
                user=request.user,
                assignment=assignment,
                zone_id=data["zone"],
                teams=data["teams"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            cost = change.cost or 0.0
            messages.success(
                request,
                "Änderung gespeichert. "
                + (
                    f"Abgedecktes Risiko sinkt um {cost:.2f} erwartete Ereignisse.".replace(".", ",", 1)
                    if cost > 1e-9
                    else "Das abgedeckte Risiko sinkt nicht."
                ),
            )
            return redirect(reverse("deployment:plan", kwargs={"pk": plan.pk}) + f"#a{assignment.pk}")
    plan.refresh_from_db()
    context = _detail_context(request, plan, edit_forms={assignment.pk: form}, open_assignment=assignment.pk)
    if not context["editable"]:  # an applied plan shows no edit form: the message goes on top
        context["action_errors"] = list(form.non_field_errors())
    return render(request, "deployment/plan_detail.html", context, status=400)


@require_POST
@_readers_only
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editor_plan(request, pk)
    try:
        services.plan_approve(user=request.user, plan=plan)
    except ValidationError as exc:
        return _refused(request, plan, exc)
    messages.success(request, f"{plan} ist freigegeben und kann umgesetzt werden.")
    return redirect("deployment:plan", pk=plan.pk)


@require_POST
@_readers_only
def plan_apply(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editor_plan(request, pk)
    try:
        patrols = services.plan_apply(user=request.user, plan=plan)
    except ValidationError as exc:
        return _refused(request, plan, exc)
    messages.success(request, f"{plan} ist umgesetzt: {len(patrols)} Streifen angelegt.")
    return redirect("deployment:plan", pk=plan.pk)


@require_POST
@_readers_only
def deviations_record(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editor_plan(request, pk)
    try:
        found = services.deviations_record(user=request.user, plan=plan)
    except ValidationError as exc:
        return _refused(request, plan, exc)
    messages.success(request, f"{len(found)} Abweichung(en) festgehalten.")
    return redirect("deployment:plan", pk=plan.pk)
