"""Pages of the Bußgeldstelle: deadline worklist, case list, case file with its next steps, new case,
person of a case.

Thin: rules are in ``services`` and ``selectors``. Only the proceedings role (``rules.can_handle_cases``)
gets these pages, other roles a 403 with a German explanation; a case of another authority and a
case that does not exist answer with the same 404. A refused step shows the service's German message
at the field (status 400) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lagebild.core import audit
from lagebild.core.pagination import CappedCountPaginator
from lagebild.field.forms import add_service_errors

from . import limitation as engine
from . import rules, selectors, services
from .forms import (
    PERSON_FIELDS,
    CaseFilterForm,
    CaseOpenForm,
    NoticeApproveForm,
    NoticeDraftForm,
    PaymentForm,
    PersonAssignForm,
    PersonForm,
    PersonSearchForm,
    StepForm,
    WorklistFilterForm,
    allowed_steps,
)
from .models import CLOSED_STATES, Case, CaseState, DeadlineKind, EventKind, Notice, ProceedingsPerson
from .workflow import PAYMENT_OPEN, TRANSITIONS, DiscontinuationReason

NOT_FOUND = "Nicht gefunden."
NOT_PERMITTED = "Bußgeldverfahren bearbeitet nur die Bußgeldstelle der eigenen Behörde."
PAGE_SIZE = 50
# The worklist is read in one go; beyond this many deadlines (earliest first, so the overdue ones
# are always among them) it says so and asks to filter by kind.
WORKLIST_LIMIT = 500

INTERRUPTION_LABELS = {
    engine.InterruptionKind.FIRST_HEARING: "Erste Anhörung / Bekanntgabe der Einleitung",
    engine.InterruptionKind.NOTICE: "Erlass des Bußgeldbescheids",
}
DRAFT_STATES = TRANSITIONS[EventKind.NOTICE_DRAFTED].allowed_from


def forbidden(request: HttpRequest, message: str = NOT_PERMITTED) -> HttpResponse:
    return render(request, "proceedings/forbidden.html", {"message": message}, status=403)


def _handler_only(view: Any) -> Any:
    """Login, then the proceedings role; everyone else gets the same German 403."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not rules.can_handle_cases(request.user):
            return forbidden(request)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, str(exc) or NOT_PERMITTED)
        except selectors.CaseNotFound:
            raise Http404(NOT_FOUND) from None

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _today() -> dt.date:
    return timezone.localdate()


def _case_or_404(pk: int) -> Case:
    case = Case.objects.filter(pk=pk).first()  # the middleware's scope: own authority only
    if case is None:
        raise Http404(NOT_FOUND)
    return case


# --- worklist --------------------------------------------------------------------------------------


@require_GET
@_handler_only
def worklist(request: HttpRequest) -> HttpResponse:
    """Fristenliste: every deadline whose warning period has begun, overdue ones first."""
    form = WorklistFilterForm(request.GET or None)
    kind = ""
    if form.is_bound and form.is_valid():
        kind = form.cleaned_data.get("kind") or ""
    today = _today()
    rows = selectors.worklist(
        user=request.user, today=today, kinds=[kind] if kind else None, limit=WORKLIST_LIMIT + 1
    )
    more = len(rows) > WORKLIST_LIMIT
    rows = rows[:WORKLIST_LIMIT]
    rows.sort(key=lambda row: (not row.overdue, row.due, row.case_id))
    states = dict(CaseState.choices)
    return render(
        request,
        "proceedings/worklist.html",
        {
            "form": form,
            "rows": [
                {"row": row, "state_label": states.get(row.state, row.state), "days_over": -row.days_left}
                for row in rows
            ],
            "today": today,
            "overdue_count": sum(1 for row in rows if row.overdue),
            "more": more,
            "limit": WORKLIST_LIMIT,
            "kind_label": dict(DeadlineKind.choices).get(kind, ""),
        },
    )


# --- case list -------------------------------------------------------------------------------------


@require_GET
@_handler_only
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    state, query = "", ""
    if form.is_bound and form.is_valid():
        state = form.cleaned_data.get("state") or ""
        query = (form.cleaned_data.get("q") or "").strip()
    queryset = selectors.cases(
        user=request.user,
        state=state if state and state != "open" else None,
        open_only=state == "open",
    ).only("id", "file_number", "category__name", "state", "offence_date", "limitation_deadline", "opened_at")
    if query:
        queryset = queryset.filter(file_number__icontains=query)
    paginator = CappedCountPaginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("seite"))
    kept = {k: v for k, v in (("state", state), ("q", query)) if v}
    return render(
        request,
        "proceedings/case_list.html",
        {
            "form": form,
            "page": page,
            "total": paginator.count,
            "total_capped": paginator.count_is_capped,
            "page_query": urlencode(kept) + "&" if kept else "",
            "filtered": bool(kept),
        },
    )


# --- new case --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@_handler_only
def case_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = CaseOpenForm()
        return render(request, "proceedings/case_form.html", {"form": form})
    form = CaseOpenForm(request.POST)
    if form.is_valid():
        category = form.category_object()
        if category is None:
            form.add_error("category", "Bitte einen der angebotenen Sachverhalte wählen.")
        else:
            try:
                case = services.case_open(
                    user=request.user,
                    category=category,
                    offence_at=form.cleaned_data["offence_at"],
                    offence_place=form.cleaned_data.get("offence_place") or "",
                    offence_description=form.cleaned_data.get("offence_description") or "",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Verfahren {case.file_number} ist eingeleitet.")
                return redirect("proceedings:case-detail", pk=case.pk)
    return render(request, "proceedings/case_form.html", {"form": form}, status=400)


# --- person of a case ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@_handler_only
def person_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the person concerned (§ 111 OWiG) and assign it to the case, in one step."""
    case = _case_or_404(pk)
    context: dict[str, Any] = {
        "case": case,
        "mandatory": ProceedingsPerson.MANDATORY_FIELDS,
        "may_assign": case.state in TRANSITIONS[EventKind.PERSON_IDENTIFIED].allowed_from,
    }
    context.update(_person_search(request, case))
    if request.method == "GET":
        return render(request, "proceedings/person_form.html", {**context, "form": PersonForm()})
    form = PersonForm(request.POST)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v is not None}
        try:
            with transaction.atomic():
                person = services.person_create(user=request.user, data=data)
                services.person_assign(user=request.user, case=case, person=person)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Betroffene Person ist dem Verfahren {case.file_number} zugeordnet.")
            return redirect("proceedings:case-detail", pk=case.pk)
    return render(request, "proceedings/person_form.html", {**context, "form": form}, status=400)


SEARCH_PURPOSE = "Suche einer bereits erfassten Person zur Zuordnung"


def _person_search(request: HttpRequest, case: Case) -> dict[str, Any]:
    """Persons already recorded with exactly this family name and date of birth (each shown one is
    a logged read of identity data)."""
    search = PersonSearchForm(request.GET if "suche-family_name" in request.GET else None)
    found: list[ProceedingsPerson] | None = None
    if search.is_bound and search.is_valid():
        found = list(
            ProceedingsPerson.objects.filter(
                family_name__iexact=search.cleaned_data["family_name"].strip(),
                date_of_birth=search.cleaned_data["date_of_birth"],
                anonymised_at__isnull=True,
            )[:20]
        )
        for person in found:
            audit.log(
                "proceedings.person.read", user=request.user, obj=person, purpose=SEARCH_PURPOSE, case=case.pk
            )
    return {"search": search, "found": found}


@require_POST
@_handler_only
def person_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign a person already recorded to the case (services.person_assign)."""
    case = _case_or_404(pk)
    form = PersonAssignForm(request.POST)
    error = "Bitte eine Person wählen."
    if form.is_valid():
        person = ProceedingsPerson.objects.filter(pk=form.cleaned_data["person"]).first()
        if person is not None:
            try:
                services.person_assign(user=request.user, case=case, person=person)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, f"{person} ist dem Verfahren {case.file_number} zugeordnet.")
                return redirect("proceedings:case-detail", pk=case.pk)
    messages.error(request, error)
    context: dict[str, Any] = {
        "case": case,
        "mandatory": ProceedingsPerson.MANDATORY_FIELDS,
        "may_assign": case.state in TRANSITIONS[EventKind.PERSON_IDENTIFIED].allowed_from,
        "form": PersonForm(),
        **_person_search(request, case),
    }
    return render(request, "proceedings/person_form.html", context, status=400)


# --- case file -------------------------------------------------------------------------------------


def _person_rows(person: ProceedingsPerson | None) -> list[dict[str, Any]]:
    if person is None:
        return []
    names = PERSON_FIELDS
    rows = []
    for name in names:
        field = ProceedingsPerson._meta.get_field(name)
        value: Any = getattr(person, name)
        if name == "marital_status":
            value = person.get_marital_status_display() if value else ""
        elif name == "date_of_birth" and value:
            value = value.strftime("%d.%m.%Y")
        rows.append(
            {
                "label": field.verbose_name,
                "value": value,
                "mandatory": name in ProceedingsPerson.MANDATORY_FIELDS,
                "asked_in_hearing": name in ProceedingsPerson.ASKED_IN_HEARING,
            }
        )
    return rows


def _limitation(case: Case, events: list[Any]) -> dict[str, Any]:
    state = services.limitation_state(case, events)
    return {
        "state": state,
        "applied": [
            {
                "label": INTERRUPTION_LABELS.get(item.interruption.kind, item.interruption.kind.name),
                "on": item.interruption.date,
                "effective_on": item.effective_on,
                "new_deadline": item.new_deadline,
                "paragraph": item.paragraph,
            }
            for item in state.applied
        ],
        "ignored": [
            {
                "label": INTERRUPTION_LABELS.get(item.interruption.kind, item.interruption.kind.name),
                "on": item.interruption.date,
                "reason": item.reason,
            }
            for item in state.ignored
        ],
        "pending": [
            {"label": INTERRUPTION_LABELS.get(item.kind, item.kind.name), "on": item.date}
            for item in state.pending
        ],
        # After finality prosecution limitation no longer runs (enforcement limitation does).
        "relevant": case.final_on is None,
    }


def _case_context(
    request: HttpRequest,
    case: Case,
    *,
    step_form: StepForm | None = None,
    draft_form: NoticeDraftForm | None = None,
    approve_form: NoticeApproveForm | None = None,
    payment_form: PaymentForm | None = None,
) -> dict[str, Any]:
    today = _today()
    events = list(case.events.all())
    for event in events:
        code = event.data.get("reason_code", "") if isinstance(event.data, dict) else ""
        event.reason_label = DiscontinuationReason.LABELS.get(code, "")  # type: ignore[attr-defined]
    notices = list(case.notices.all())
    draft = next((n for n in notices if n.approved_at is None and n.withdrawn_on is None), None)
    step_forms = []
    for kind in allowed_steps(case.state):
        if step_form is not None and step_form.step == kind:
            step_forms.append(step_form)
        else:
            step_forms.append(StepForm(step=kind, initial={"on": today}))
    may_draft = case.state in DRAFT_STATES
    may_approve = draft is not None and case.state in TRANSITIONS[EventKind.NOTICE_ISSUED].allowed_from
    may_pay = case.state in PAYMENT_OPEN
    deadlines = sorted(case.deadlines.all(), key=lambda d: d.due)
    return {
        "case": case,
        "today": today,
        "person_rows": _person_rows(case.person),
        "missing_mandatory": bool(case.person)
        and any(not getattr(case.person, n) for n in ProceedingsPerson.MANDATORY_FIELDS),
        "may_assign": case.state in TRANSITIONS[EventKind.PERSON_IDENTIFIED].allowed_from,
        "limitation": _limitation(case, events),
        "deadlines": [{"deadline": d, "days_left": (d.due - today).days} for d in deadlines],
        "events": events,
        "notices": notices,
        "draft": draft,
        "payments": list(case.payments.all()),
        "step_forms": step_forms,
        "draft_form": (draft_form or NoticeDraftForm(initial={"formal_services": 1})) if may_draft else None,
        "approve_form": (approve_form or NoticeApproveForm(initial={"notice": draft.pk, "issued_on": today}))
        if may_approve and draft is not None
        else None,
        "payment_form": (payment_form or PaymentForm(initial={"paid_on": today})) if may_pay else None,
        "discontinued_label": DiscontinuationReason.LABELS.get(case.discontinued_reason, ""),
        "is_open": case.state not in CLOSED_STATES,
        "documents": {
            "hearing": case.person_id is not None
            and (
                case.first_hearing_on is not None
                or case.state in TRANSITIONS[EventKind.HEARING_SENT].allowed_from
            ),
            "notice": any(n.approved_at is not None and n.withdrawn_on is None for n in notices),
            "reminder": case.state in (CaseState.FINAL, CaseState.INSTALMENTS)
            or any(e.kind == EventKind.REMINDER_SENT for e in events),
        },
        "open_amount": (case.total_due - case.paid_total) if case.total_due is not None else None,
    }


def _case_file(request: HttpRequest, pk: int) -> Case:
    try:
        return selectors.case_file(user=request.user, pk=pk)
    except selectors.CaseNotFound:
        raise Http404(NOT_FOUND) from None


@require_GET
@_handler_only
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_file(request, pk)
    return render(request, "proceedings/case_detail.html", _case_context(request, case))


def _refused(request: HttpRequest, pk: int, status: int = 400, **forms: Any) -> HttpResponse:
    case = _case_file(request, pk)
    return render(
        request, "proceedings/case_detail.html", _case_context(request, case, **forms), status=status
    )


@require_POST
@_handler_only
def case_step(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    kind = request.POST.get("step", "")
    if kind not in allowed_steps(case.state):
        messages.error(
            request,
            "Dieser Schritt ist im aktuellen Stand nicht möglich."
            if kind in TRANSITIONS
            else "Diesen Schritt gibt es nicht.",
        )
        return _refused(request, pk)
    form = StepForm(request.POST, step=kind)
    if form.is_valid():
        try:
            services.case_step(
                user=request.user,
                case=case,
                step=services.StepInput(
                    kind=kind,
                    on=form.cleaned_data["on"],
                    reason=form.cleaned_data.get("reason") or "",
                    data=form.step_data(),
                ),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"„{form.label}“ ist eingetragen.")
            return redirect("proceedings:case-detail", pk=case.pk)
    return _refused(request, pk, step_form=form)


@require_POST
@_handler_only
def notice_draft(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    form = NoticeDraftForm(request.POST)
    if case.state not in DRAFT_STATES:
        messages.error(request, "Ein Bescheid kann im aktuellen Stand nicht entworfen werden.")
        return _refused(request, pk)
    if form.is_valid():
        try:
            services.notice_draft(
                user=request.user,
                case=case,
                fine=form.cleaned_data["fine"],
                evidence=form.cleaned_data.get("evidence") or "",
                formal_services=form.cleaned_data["formal_services"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Der Bescheid ist entworfen; er wird mit der Freigabe erlassen.")
            return redirect("proceedings:case-detail", pk=case.pk)
    return _refused(request, pk, draft_form=form)


@require_POST
@_handler_only
def notice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    form = NoticeApproveForm(request.POST)
    if form.is_valid():
        notice = Notice.objects.filter(pk=form.cleaned_data["notice"], case=case).first()
        if notice is None:
            form.add_error(None, "Diesen Bescheid gibt es in diesem Verfahren nicht.")
        else:
            try:
                services.notice_approve(
                    user=request.user, notice=notice, issued_on=form.cleaned_data["issued_on"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc, aliases={"on": "issued_on"})
            else:
                messages.success(request, "Der Bescheid ist freigegeben und erlassen.")
                return redirect("proceedings:case-detail", pk=case.pk)
    return _refused(request, pk, approve_form=form)


@require_POST
@_handler_only
def payment(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    form = PaymentForm(request.POST)
    if case.state not in PAYMENT_OPEN:
        messages.error(request, "Eine Zahlung kann erst nach Rechtskraft gebucht werden.")
        return _refused(request, pk)
    if form.is_valid():
        try:
            services.payment_record(
                user=request.user,
                case=case,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                reference=form.cleaned_data.get("reference") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Die Zahlung ist gebucht.")
            return redirect("proceedings:case-detail", pk=case.pk)
    return _refused(request, pk, payment_form=form)
