"""Pages of the Sonderstab. Thin: objects come through the task forces the user sees (else 404),
writes go through the services, whose German messages land at the form fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from . import agenda, hotspot_maps, rules, selectors, services
from .forms import (
    ActionForm,
    CloseMeetingForm,
    CouncilReportForm,
    DecisionForm,
    GoalForm,
    MeetingForm,
    MilestoneForm,
    MilestoneUpdateForm,
    RecommendationForm,
    TransitionForm,
    add_service_errors,
)
from .models import ActionItem, Goal, Meeting, Milestone, Operation, Recommendation, WorkingGroup
from .progress import CONFIDENCE, MIN_WEEKS_FOR_TREND, STATUS_LABELS, TREND_WEEKS

workspace_required = permission_required("taskforce.view_workspace", raise_exception=True)


def _visible(request: HttpRequest, queryset: QuerySet, path: str, pk: int) -> Any:
    task_forces = selectors.visible_task_forces(request.user)
    obj = queryset.filter(**{f"{path}__in": task_forces}, pk=pk).first()
    if obj is None:
        raise Http404("Nicht gefunden.")
    return obj


def _group(request: HttpRequest, pk: int) -> WorkingGroup:
    return _visible(request, WorkingGroup.objects.select_related("task_force", "lead"), "task_force", pk)


def _goal_rows(goals: QuerySet[Goal]) -> list[dict[str, Any]]:
    rows = []
    for goal in goals:
        result = selectors.goal_progress(goal)
        rows.append(
            {
                "goal": goal,
                "progress": result,
                "share_done": selectors.milestone_share_done(goal) if result is None else None,
            }
        )
    return rows


@login_required
@workspace_required
def workspace(request: HttpRequest) -> HttpResponse:
    task_forces = list(selectors.visible_task_forces(request.user))
    blocks = []
    for task_force in task_forces:
        groups = []
        for group in selectors.groups(task_force):
            statuses = [row["progress"].status for row in _goal_rows(group.goals.all()) if row["progress"]]
            groups.append(
                {
                    "group": group,
                    "goal_count": group.goals.count(),
                    "statuses": {label: statuses.count(code) for code, label in STATUS_LABELS.items()},
                    "open_recommendations": group.recommendations.exclude(
                        state__in=[s.code for s in selectors.workflow().states if s.final]
                    ).count(),
                }
            )
        blocks.append(
            {
                "task_force": task_force,
                "groups": groups,
                "next_meeting": task_force.meetings.filter(state__in=["planned", "open"])
                .order_by("date")
                .first(),
                "overdue": list(selectors.overdue_milestones(task_force)),
                "awaiting": list(selectors.awaiting_decision(task_force)),
                "can_run": rules.can_run_meetings(request.user, task_force),
            }
        )
    return render(request, "taskforce/workspace.html", {"blocks": blocks})


@login_required
@workspace_required
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    flow = selectors.workflow()
    recommendations = group.recommendations.order_by("-created_at")
    return render(
        request,
        "taskforce/group_detail.html",
        {
            "group": group,
            "goal_rows": _goal_rows(group.goals.select_related("indicator", "area")),
            "milestones": group.milestones.select_related("owner", "goal").order_by("due"),
            "recommendations": [(r, flow.label(r.state)) for r in recommendations],
            "can_edit": rules.can_edit_group(request.user, group),
        },
    )


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def goal_create(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            goal = services.goal_create(
                group,
                request.user,
                title=data["title"],
                kind=data["kind"],
                indicator_code=data["indicator"].code if data["indicator"] else "",
                area=data["area"],
                per_100_staff_hours=data["per_100_staff_hours"],
                direction=data["direction"],
                baseline_start=data["baseline_start"],
                baseline_end=data["baseline_end"],
                target_value=data["target_value"],
                target_date=data["target_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Das Ziel ist angelegt.")
            return redirect("taskforce:goal-detail", goal.pk)
    return render(request, "taskforce/form.html", {"form": form, "group": group, "title": "Neues Ziel"})


@login_required
@workspace_required
def goal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    goal = _visible(
        request,
        Goal.objects.select_related("working_group__task_force", "indicator", "area"),
        "working_group__task_force",
        pk,
    )
    result = selectors.goal_progress(goal)
    return render(
        request,
        "taskforce/goal_detail.html",
        {
            "goal": goal,
            "progress": result,
            "share_done": selectors.milestone_share_done(goal),
            "milestones": goal.milestones.select_related("owner").order_by("due"),
            "min_weeks": MIN_WEEKS_FOR_TREND,
            "trend_weeks": TREND_WEEKS,
            "confidence": round(CONFIDENCE * 100),
        },
    )


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    form = MilestoneForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.milestone_create(
                group,
                request.user,
                title=data["title"],
                owner=data["owner"],
                due=data["due"],
                goal=data["goal"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Der Meilenstein ist angelegt.")
            return redirect("taskforce:group-detail", group.pk)
    return render(
        request, "taskforce/form.html", {"form": form, "group": group, "title": "Neuer Meilenstein"}
    )


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def milestone_update(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _visible(
        request,
        Milestone.objects.select_related("working_group__task_force"),
        "working_group__task_force",
        pk,
    )
    form = MilestoneUpdateForm(
        request.POST or None, request.FILES or None, initial={"status": milestone.status}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.milestone_update(
                milestone,
                request.user,
                status=data["status"],
                evidence_note=data["evidence_note"],
                evidence_file=data["evidence_file"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Der Stand des Meilensteins ist gespeichert.")
            return redirect("taskforce:group-detail", milestone.working_group_id)
    return render(
        request,
        "taskforce/form.html",
        {
            "form": form,
            "group": milestone.working_group,
            "title": f"Meilenstein: {milestone.title}",
            "milestone": milestone,
            "multipart": True,
        },
    )


# --- recommendations ---------------------------------------------------------------------------


def _recommendation(request: HttpRequest, pk: int) -> Recommendation:
    return _visible(
        request,
        Recommendation.objects.select_related("working_group__task_force", "supersedes"),
        "working_group__task_force",
        pk,
    )


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def recommendation_create(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    supersedes = None
    if request.GET.get("ersetzt"):
        try:
            supersedes = _recommendation(request, int(request.GET["ersetzt"]))
        except ValueError as exc:
            raise Http404 from exc
    initial = {"title": supersedes.title, "text": supersedes.text} if supersedes else None
    form = RecommendationForm(request.POST or None, group=group, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recommendation = services.recommendation_create(
                group,
                request.user,
                title=data["title"],
                text=data["text"],
                goals=data["goals"],
                milestones=data["milestones"],
                operations=data["operations"],
                supersedes=supersedes,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Die Empfehlung {recommendation.number} ist als Entwurf angelegt.")
            return redirect("taskforce:recommendation-detail", recommendation.pk)
    title = f"Neue Empfehlung (ersetzt {supersedes.number})" if supersedes else "Neue Empfehlung"
    return render(request, "taskforce/form.html", {"form": form, "group": group, "title": title})


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def recommendation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = _recommendation(request, pk)
    group = recommendation.working_group
    form = RecommendationForm(
        request.POST or None,
        group=group,
        initial={
            "title": recommendation.title,
            "text": recommendation.text,
            "goals": recommendation.goals.all(),
            "milestones": recommendation.milestones.all(),
            "operations": recommendation.operations.all(),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.recommendation_edit(
                recommendation,
                request.user,
                title=data["title"],
                text=data["text"],
                goals=data["goals"],
                milestones=data["milestones"],
                operations=data["operations"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Die Änderungen sind gespeichert; die alte Fassung steht im Verlauf.")
            return redirect("taskforce:recommendation-detail", recommendation.pk)
    return render(
        request,
        "taskforce/form.html",
        {"form": form, "group": group, "title": f"{recommendation.number} bearbeiten"},
    )


@login_required
@workspace_required
def recommendation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = _recommendation(request, pk)
    return _recommendation_page(request, recommendation)


def _recommendation_page(
    request: HttpRequest,
    recommendation: Recommendation,
    form: TransitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    flow = selectors.workflow()
    group = recommendation.working_group
    who = rules.actors(request.user, group.task_force, group)
    state = flow.state(recommendation.state)
    return render(
        request,
        "taskforce/recommendation_detail.html",
        {
            "recommendation": recommendation,
            "state": state,
            "steps": flow.allowed(recommendation.state, who),
            "events": [
                (e, flow.label(e.to_state)) for e in recommendation.events.select_related("by__authority")
            ],
            "can_edit": state.editable and rules.can_edit_group(request.user, group),
            "can_supersede": state.decided
            and rules.can_edit_group(request.user, group)
            and not Recommendation.objects.filter(supersedes=recommendation).exists(),
            "successor": Recommendation.objects.filter(supersedes=recommendation).first(),
            "form": form,
            "flow": flow,
        },
        status=status,
    )


@login_required
@workspace_required
@require_POST
def recommendation_transition(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = _recommendation(request, pk)
    form = TransitionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.recommendation_transition(
                recommendation,
                request.user,
                target=form.cleaned_data["target"],
                rationale=form.cleaned_data["rationale"],
                attachment=form.cleaned_data["attachment"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"target": "rationale"})
        else:
            messages.success(request, "Der Schritt ist gespeichert.")
            return redirect("taskforce:recommendation-detail", recommendation.pk)
    recommendation.refresh_from_db()
    return _recommendation_page(request, recommendation, form, status=400)


# --- meetings ----------------------------------------------------------------------------------


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    return _visible(request, Meeting.objects.select_related("task_force"), "task_force", pk)


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def meeting_list(request: HttpRequest) -> HttpResponse:
    task_forces = list(selectors.visible_task_forces(request.user))
    runnable = [tf for tf in task_forces if rules.can_run_meetings(request.user, tf)]
    form = MeetingForm(request.POST or None)
    if request.method == "POST":
        task_force = runnable[0] if runnable else None
        if task_force is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.meeting_schedule(
                    task_force,
                    request.user,
                    date=data["date"],
                    starts_at=data["starts_at"],
                    location=data["location"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Die {meeting.number}. Sitzung ist geplant.")
                return redirect("taskforce:meeting-detail", meeting.pk)
    meetings = Meeting.objects.filter(task_force__in=task_forces).order_by("-date")[:60]
    return render(
        request,
        "taskforce/meeting_list.html",
        {"meetings": meetings, "form": form, "can_schedule": bool(runnable)},
    )


def _figure_sections(
    meeting: Meeting, live: agenda.LiveData | None = None
) -> list[tuple[str, list[dict[str, Any]]]]:
    changed = (
        {frozen.pk: now for frozen, now in agenda.differences(meeting, live)} if meeting.frozen_at else {}
    )
    sections: dict[str, list[dict[str, Any]]] = {}
    for frozen in meeting.figures.all():
        now = changed.get(frozen.pk, frozen.value)
        difference = None
        if frozen.pk in changed and now is not None and frozen.value is not None:
            difference = now - frozen.value
        sections.setdefault(frozen.section, []).append(
            {"figure": frozen, "changed": frozen.pk in changed, "today": now, "difference": difference}
        )
    return list(sections.items())


AGENDA_LINKS = {
    "operation": "taskforce:operation-detail",
    "goal": "taskforce:goal-detail",
    "recommendation": "taskforce:recommendation-detail",
}


def _agenda_link(kind: str, object_id: int | None) -> str:
    name = AGENDA_LINKS.get(kind)
    return reverse(name, args=[object_id]) if name and object_id else ""


@login_required
@workspace_required
def meeting_detail(
    request: HttpRequest, pk: int, forms: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    meeting = _meeting(request, pk)
    task_force = meeting.task_force
    can_run = rules.can_run_meetings(request.user, task_force)
    labels = dict(agenda.AgendaItem.Kind.choices)
    # The cockpit and the goals' progress are read once: a planned meeting's agenda and today's values
    # beside its frozen figures (when it was frozen before opening) both come from them.
    planned = meeting.state == Meeting.State.PLANNED
    live = agenda.live_data(meeting) if planned or meeting.frozen_at else None
    source = agenda.build(meeting, live) if planned else meeting.agenda_items.all()
    items = [
        {
            "kind": item.kind,
            "kind_label": labels[item.kind],
            "title": item.title,
            "detail": item.detail,
            "url": _agenda_link(item.kind, item.object_id),
        }
        for item in source
    ]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        grouped.setdefault(item["kind_label"], []).append(item)
    forms = forms or {}
    return render(
        request,
        "taskforce/meeting_detail.html",
        {
            "meeting": meeting,
            "agenda": list(grouped.items()),
            "figure_sections": _figure_sections(meeting, live),
            "decisions": meeting.decisions.select_related("recommendation"),
            "actions": meeting.actions.select_related("owner"),
            "open_actions": ActionItem.objects.filter(
                task_force=task_force, done_at__isnull=True
            ).select_related("owner", "meeting"),
            "can_run": can_run,
            "decision_form": forms.get("decision") or DecisionForm(),
            "action_form": forms.get("action") or ActionForm(task_force=task_force),
            "close_form": forms.get("close") or CloseMeetingForm(task_force=task_force),
        },
        status=status,
    )


@login_required
@workspace_required
@require_POST
def meeting_open(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    try:
        services.meeting_open(meeting, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Die Sitzung ist eröffnet; Tagesordnung und Zahlen sind eingefroren.")
    return redirect("taskforce:meeting-detail", meeting.pk)


@login_required
@workspace_required
@require_POST
def meeting_decision(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        recommendation = None
        if form.cleaned_data["recommendation"]:
            recommendation = Recommendation.objects.filter(pk=form.cleaned_data["recommendation"]).first()
        try:
            services.decision_record(
                meeting, request.user, text=form.cleaned_data["text"], recommendation=recommendation
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Die Festlegung ist protokolliert.")
            return redirect(reverse("taskforce:meeting-detail", args=[meeting.pk]) + "#festlegungen")
    return meeting_detail(request, meeting.pk, forms={"decision": form}, status=400)


@login_required
@workspace_required
@require_POST
def meeting_action(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = ActionForm(request.POST, task_force=meeting.task_force)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.action_create(
                meeting, request.user, title=data["title"], owner=data["owner"], due=data["due"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "Die Aufgabe ist festgehalten; sie steht bis zur Erledigung auf jeder Tagesordnung."
            )
            return redirect(reverse("taskforce:meeting-detail", args=[meeting.pk]) + "#aufgaben")
    return meeting_detail(request, meeting.pk, forms={"action": form}, status=400)


@login_required
@workspace_required
@require_POST
def meeting_close(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = CloseMeetingForm(request.POST, task_force=meeting.task_force)
    if form.is_valid():
        try:
            services.meeting_close(
                meeting,
                request.user,
                minutes=form.cleaned_data["minutes"],
                attendees=form.cleaned_data["attendees"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Die Sitzung ist geschlossen.")
            return redirect("taskforce:meeting-detail", meeting.pk)
    return meeting_detail(request, meeting.pk, forms={"close": form}, status=400)


@login_required
@workspace_required
@require_POST
def action_done(request: HttpRequest, pk: int) -> HttpResponse:
    action = _visible(request, ActionItem.objects.select_related("task_force"), "task_force", pk)
    meeting = Meeting.objects.filter(task_force=action.task_force, state=Meeting.State.OPEN).first()
    try:
        services.action_done(action, request.user, meeting=meeting)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Die Aufgabe ist als erledigt gemeldet.")
    target = request.POST.get("next") or reverse("taskforce:workspace")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else reverse("taskforce:workspace")
    )


# --- operations ----------------------------------------------------------------------------------


@login_required
@workspace_required
def operation_list(request: HttpRequest) -> HttpResponse:
    task_forces = selectors.visible_task_forces(request.user)
    operations = Operation.objects.filter(task_force__in=task_forces).select_related("area", "working_group")
    return render(request, "taskforce/operation_list.html", {"operations": operations.order_by("-start")})


@login_required
@workspace_required
def operation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    operation = _visible(
        request, Operation.objects.select_related("area", "working_group", "task_force"), "task_force", pk
    )
    snapshot = operation.evaluation or {}
    return render(
        request,
        "taskforce/operation_detail.html",
        {
            "operation": operation,
            "snapshot": snapshot,
            "heading": agenda.operation_heading(snapshot),
            "authorities": operation.authorities.all(),
            "hotspot_maps": hotspot_maps.panels(
                snapshot.get("hotspots") if isinstance(snapshot, dict) else None
            ),
        },
    )


# --- documents, calendar, notifications ---------------------------------------------------------


def _own_task_force(request: HttpRequest) -> Any:
    task_force = selectors.visible_task_forces(request.user).order_by("name").first()
    if task_force is None:
        raise Http404("Sie gehören keinem Sonderstab an.")
    return task_force


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@workspace_required
def brief_download(request: HttpRequest) -> HttpResponse:
    """The brief for the mayor and the police president (PDF, two pages at most)."""
    from . import briefs

    task_force = _own_task_force(request)
    day = selectors.last_complete_day()
    return _download(
        briefs.brief_pdf(task_force, as_of=day), "application/pdf", f"kurzbericht-{day:%Y-%m-%d}.pdf"
    )


@login_required
@workspace_required
@require_http_methods(["GET"])
def council_report(request: HttpRequest) -> HttpResponse:
    """The council's interim report (Zwischenbilanz) for a chosen period, as PDF or DOCX."""
    from . import briefs

    task_force = _own_task_force(request)
    form = CouncilReportForm(request.GET or None)
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        try:
            if form.cleaned_data["format"] == "docx":
                data, content_type, suffix = (
                    briefs.council_docx(task_force, start, end),
                    briefs.DOCX_TYPE,
                    "docx",
                )
            else:
                data, content_type, suffix = (
                    briefs.council_pdf(task_force, start, end),
                    "application/pdf",
                    "pdf",
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _download(data, content_type, f"zwischenbilanz-{start:%Y-%m-%d}-{end:%Y-%m-%d}.{suffix}")
    return render(request, "taskforce/council_report.html", {"form": form, "task_force": task_force})


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The personal calendar address (meetings, milestone due dates) and a button for a new one."""
    from . import calendar

    if request.method == "POST":
        calendar.token_rotate(request.user)
        messages.success(request, "Die Kalenderadresse ist neu; die alte gilt nicht mehr.")
        return redirect("taskforce:calendar")
    token = calendar.token_for(request.user)
    address = request.build_absolute_uri(reverse("taskforce_feeds:calendar", args=[token.token]))
    return render(request, "taskforce/calendar.html", {"address": address})


@login_required
@workspace_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, marking them read, and which ones to get in Lagebild or by e-mail."""
    from . import notifications
    from .models import NotificationKind

    if request.method == "POST":
        if "read" in request.POST:
            count = notifications.mark_read(request.user)
            messages.success(request, f"{count} Benachrichtigungen als gelesen markiert.")
        else:
            for kind in NotificationKind.values:
                notifications.preference_set(
                    request.user,
                    kind,
                    in_app=f"in_app_{kind}" in request.POST,
                    email=f"email_{kind}" in request.POST,
                )
            messages.success(request, "Ihre Auswahl ist gespeichert.")
        return redirect("taskforce:notifications")
    chosen = notifications.preferences(request.user)
    kinds = [(kind, label, *chosen[kind]) for kind, label in NotificationKind.choices]
    return render(
        request,
        "taskforce/notifications.html",
        {
            "items": notifications.recent(request.user),
            "kinds": kinds,
            "unread": notifications.unread(request.user).count(),
        },
    )
