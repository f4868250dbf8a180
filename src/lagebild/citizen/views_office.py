"""Back office for citizen reports: staff entry, triage queue, detail with actions, patrols,
statistics.

Views are thin: forms parse, ``citizen.services`` write, ``citizen.selectors`` and
``citizen.stats`` read. The request's authority scope applies to every query, so a report
routed to the other authority is simply not found (404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lagebild.core import audit
from lagebild.field import selectors as field_selectors
from lagebild.field.models import Incident
from lagebild.geo.models import Area

from . import selectors, services, stats
from .forms_office import (
    SORT_CHOICES,
    SORT_URGENCY,
    AreaChoiceForm,
    AssignForm,
    NumberForm,
    QueueFilterForm,
    RedactForm,
    StaffReportForm,
    StatsFilterForm,
    StepForm,
    TransitionForm,
)
from .models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Photo,
    Report,
    ReportArea,
    ReportStatus,
    RoutingTarget,
    ServiceAttribute,
    ServiceType,
)
from .selectors import ReportFilter

PAGE_SIZE = 50
MAX_POINTS = 2000
PENDING_LINK_KEY = "citizen_report_link"
PENDING_LINK_HOURS = 4


def _services(active_only: bool = True) -> list[ServiceType]:
    queryset = ServiceType.objects.prefetch_related("attributes")
    if active_only:
        queryset = queryset.filter(active=True)
    return list(queryset.order_by("group", "sort_order", "name"))


def _query_without_page(request: HttpRequest) -> str:
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        kept = [v for v in values if v.strip()]
        if key != "seite" and kept:
            query.setlist(key, kept)
    return query.urlencode()


def _filters_from(form: QueueFilterForm) -> tuple[ReportFilter, str]:
    data = form.valid_data()
    overdue = {"ja": True, "nein": False}.get(data.get("overdue") or "")
    filters = ReportFilter(
        status=form.statuses(),
        service_id=data.get("service"),
        area_id=data.get("area"),
        channel=data.get("channel") or "",
        overdue=overdue,
    )
    return filters, data.get("sort") or SORT_URGENCY


def _steps(user: Any, status: str) -> list[dict]:
    """The one-click next steps from ``status`` for the templates (``_steps.html``)."""
    return [
        {"status": step, "label": ReportStatus(step).label, "confirm": services.step_needs_confirmation(step)}
        for step in services.next_steps(user, status)
    ]


def _steps_by_status(user: Any) -> dict[str, list[dict]]:
    return {status: _steps(user, status) for status in ReportStatus.values}


def _sort_links(request: HttpRequest, current: str) -> list[dict]:
    """The sorts as links that keep the filters (a bookmark keeps the choice)."""
    links = []
    for value, label in SORT_CHOICES:
        query = request.GET.copy()
        query.pop("seite", None)
        query["sort"] = value
        links.append({"label": label, "url": f"?{query.urlencode()}", "active": value == current})
    return links


# --- queue ------------------------------------------------------------------------------------


@login_required
@permission_required("citizen.view_reports", raise_exception=True)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    services_ = _services(active_only=False)
    form = QueueFilterForm(request.GET or None, services=services_)
    filters, sort = _filters_from(form)
    now = timezone.now()
    queryset = selectors.sort_reports(selectors.report_list(filters), sort, now).prefetch_related(
        Prefetch("area_links", queryset=ReportArea.objects.select_related("area"))
    )
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("seite"))
    rows = selectors.queue_rows(list(page.object_list), steps_for=_steps_by_status(request.user), now=now)
    filter_query = _query_without_page(request)
    return render(
        request,
        "citizen/office/queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "total": paginator.count,
            "page_query": f"{filter_query}&" if filter_query else "",
            "can_enter": request.user.has_perm("citizen.enter_report"),
            "can_handle": request.user.has_perm("citizen.handle"),
            "sort_links": _sort_links(request, sort),
            "back_url": request.get_full_path(),
            "filters_active": bool(set(request.GET) - {"sort", "seite"}),
        },
    )


@login_required
@permission_required("citizen.view_reports", raise_exception=True)
@require_GET
def report_points(request: HttpRequest) -> JsonResponse:
    """GeoJSON points of the queue's reports (same filters), for the maps."""
    form = QueueFilterForm(request.GET or None, services=_services(active_only=False))
    filters, _ = _filters_from(form)
    rows = selectors.report_points(filters, limit=MAX_POINTS)
    labels = dict(ReportStatus.choices)
    features = [
        {
            "type": "Feature",
            "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {
                "id": row["id"],
                "category": f"{row['service__name']} ({labels.get(row['status'], row['status'])})",
                "time": timezone.localtime(row["requested_at"]).strftime("%d.%m.%Y %H:%M"),
                "url": reverse("office:report-detail", args=[row["id"]]),
            },
        }
        for row in rows
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features, "truncated": len(features) >= MAX_POINTS}
    )


# --- staff entry ------------------------------------------------------------------------------


def _add_service_errors(form: StaffReportForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    aliases = {"location": "address_text", "address_id": "address_text"}
    for key, messages_ in exc.message_dict.items():
        if key == "attributes":
            form.add_attribute_errors(messages_)
            continue
        field = aliases.get(key, key)
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


@login_required
@permission_required("citizen.enter_report", raise_exception=True)
@require_http_methods(["GET", "POST"])
def report_create(request: HttpRequest) -> HttpResponse:
    services_ = _services()
    if request.method == "POST":
        form = StaffReportForm(request.POST, services=services_)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.report_create(
                    service=form.selected_service(),
                    channel=data["channel"],
                    lat=data.get("lat") or None,
                    lon=data.get("lon") or None,
                    address_text=data.get("address_text") or "",
                    description=data.get("description") or "",
                    attributes=form.attributes(),
                    reporter_name=data.get("reporter_name") or "",
                    reporter_email=data.get("reporter_email") or "",
                    reporter_phone=data.get("reporter_phone") or "",
                    entered_by=request.user,  # type: ignore[arg-type]
                    requested_at=data.get("requested_at"),
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                if Report.objects.filter(pk=report.pk).exists():
                    messages.success(request, f"Meldung Nr. {report.pk} erfasst.")
                    return redirect("office:report-detail", pk=report.pk)
                # Routed by rule to the partner authority: no longer visible here.
                target = report.target.name if report.target else "die Partnerbehörde"
                messages.success(
                    request,
                    f"Meldung Nr. {report.pk} erfasst und nach den Zuständigkeitsregeln an {target} "
                    "übergeben. Sie ist für Ihre Behörde nicht mehr sichtbar.",
                )
                return redirect("office:queue")
    else:
        form = StaffReportForm(services=services_, initial={"requested_at": timezone.now()})
    selected = str(form["service"].value() or "")
    return render(
        request,
        "citizen/office/report_form.html",
        {
            "form": form,
            "selected_service": selected,
            "question_groups": form.question_groups(),
            "show_coordinates": bool(form.is_bound and (form.errors.get("lat") or form.errors.get("lon"))),
        },
    )


# --- detail -----------------------------------------------------------------------------------


def _get_report_or_404(pk: int) -> Report:
    report = selectors.report_get(pk)
    if report is None:
        raise Http404("Meldung nicht gefunden.")
    return report


def _attribute_rows(report: Report) -> list[dict]:
    """The answers to the category questions with the question and the value names."""
    answers = report.attributes or {}
    rows = []
    known = set()
    for attribute in report.service.attributes.all():
        known.add(attribute.code)
        if attribute.code not in answers:
            continue
        value = answers[attribute.code]
        names = {str(v.get("key")): str(v.get("name") or v.get("key")) for v in attribute.values or []}
        if attribute.datatype == ServiceAttribute.Datatype.MULTI and isinstance(value, list):
            shown = ", ".join(names.get(str(v), str(v)) for v in value)
        elif attribute.datatype == ServiceAttribute.Datatype.SINGLE:
            shown = names.get(str(value), str(value))
        elif attribute.datatype == ServiceAttribute.Datatype.DATETIME:
            try:
                shown = timezone.localtime(dt.datetime.fromisoformat(str(value))).strftime("%d.%m.%Y %H:%M")
            except (ValueError, TypeError):
                shown = str(value)
        else:
            shown = str(value)
        rows.append({"question": attribute.description, "value": shown})
    for code, value in answers.items():
        if code not in known:
            rows.append({"question": code, "value": str(value)})
    return rows


def _field_entry_url(report: Report) -> str:
    """The field entry screen, prefilled from the report (category, place, source)."""
    params: dict[str, Any] = {"source": "citizen_report", "hinweis": report.pk}
    if report.service.category_id:
        params["category"] = report.service.category_id
    if report.lat is not None and report.lon is not None:
        params["lat"] = f"{report.lat:.6f}"
        params["lon"] = f"{report.lon:.6f}"
    if report.address_text:
        params["address_text"] = report.address_text[:200]
    return reverse("field:incident-create") + "?" + urlencode(params)


def _has_reporter_data(report: Report) -> bool:
    return bool(report.reporter_name or report.reporter_email or report.reporter_phone)


def _detail_context(request: HttpRequest, report: Report, **forms_: Any) -> dict:
    user = request.user
    can_handle = user.has_perm("citizen.handle")
    can_triage = user.has_perm("citizen.triage")
    may_see_reporter = user.has_perm("citizen.view_reporter")
    show_reporter = may_see_reporter and _has_reporter_data(report) and request.GET.get("kontaktdaten") == "1"
    if show_reporter:
        audit.log("citizen.reporter.viewed", user=user, obj=report)
    is_open = report.status in OPEN_STATUSES
    context = {
        "report": report,
        "is_open": is_open,
        "overdue": selectors.is_overdue(report),
        "areas": [a for a in selectors.report_areas(report) if a.kind != Area.Kind.CITY],
        "attribute_rows": _attribute_rows(report),
        "history": selectors.report_history(report),
        "photos": list(report.photos.all()),
        "duplicates": list(selectors.report_duplicates(report)),
        "linked_incidents": selectors.linked_incidents(report),
        "can_handle": can_handle,
        "can_triage": can_triage,
        "can_record": user.has_perm("field.record_incident"),
        "may_see_reporter": may_see_reporter,
        "has_reporter_data": _has_reporter_data(report),
        "show_reporter": show_reporter,
        "field_entry_url": _field_entry_url(report),
        "anonymised": report.anonymised_at is not None,
    }
    if can_handle:
        context["steps"] = _steps(user, report.status)
        context["back_url"] = reverse("office:report-detail", args=[report.pk])
        if services.allowed_statuses(user, report.status):  # type: ignore[arg-type]
            context["transition_form"] = forms_.get("transition_form") or TransitionForm(
                user=user,  # type: ignore[arg-type]
                current=report.status,
            )
        context["link_form"] = forms_.get("link_form") or NumberForm(
            label="Nummer der Feststellung", prefix="link"
        )
        context["incident_candidates"] = selectors.incident_candidates(report)
        context["redact_form"] = forms_.get("redact_form")
        context["redact_photo"] = forms_.get("redact_photo")
    if can_triage and report.status not in CLOSED_STATUSES:
        context["assign_form"] = forms_.get("assign_form") or AssignForm(targets=_targets())
    if can_triage and is_open:
        context["merge_form"] = forms_.get("merge_form") or NumberForm(
            label="Nummer der Meldung, in die zusammengeführt wird", prefix="merge"
        )
        context["merge_candidates"] = selectors.merge_candidates(report)
    return context


def _targets() -> list[RoutingTarget]:
    return list(RoutingTarget.objects.select_related("authority").order_by("name"))


@login_required
@permission_required("citizen.view_reports", raise_exception=True)
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report_or_404(pk)
    return render(request, "citizen/office/report_detail.html", _detail_context(request, report))


def _rerender(request: HttpRequest, report: Report, **forms_: Any) -> HttpResponse:
    return render(
        request, "citizen/office/report_detail.html", _detail_context(request, report, **forms_), status=400
    )


def _back(report: Report, anchor: str = "") -> HttpResponse:
    return redirect(reverse("office:report-detail", args=[report.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
@permission_required("citizen.handle", raise_exception=True)
@require_POST
def report_transition(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report_or_404(pk)
    form = TransitionForm(request.POST, user=request.user, current=report.status)  # type: ignore[arg-type]
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.report_transition(
                user=request.user,  # type: ignore[arg-type]
                report=report,
                to_status=data["to_status"],
                public_note=data.get("public_note") or "",
                internal_note=data.get("internal_note") or "",
            )
        except ValidationError as exc:
            for key, messages_ in exc.message_dict.items():
                field = {"status": "to_status"}.get(key, key)
                for message in messages_:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, f"Status auf „{report.get_status_display()}“ gesetzt.")
            return _back(report, "verlauf")
    return _rerender(request, report, transition_form=form)


def _safe_back(request: HttpRequest, value: str, report: Report) -> str:
    """The page to return to after a step: a path on this site, else the report's page."""
    if (
        value.startswith("/")
        and not value.startswith("//")
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
    ):
        return value
    return reverse("office:report-detail", args=[report.pk])


def _step_row(request: HttpRequest, report: Report, back: str, message: str, *, error: bool) -> HttpResponse:
    """htmx answer to a one-click step: the report's row as it is now, and the message for
    the list's live region (out of band, so screen readers announce it)."""
    fresh = (
        selectors.report_list()
        .prefetch_related(Prefetch("area_links", queryset=ReportArea.objects.select_related("area")))
        .get(pk=report.pk)
    )
    (row,) = selectors.queue_rows([fresh], steps_for=_steps_by_status(request.user))
    return render(
        request,
        "citizen/office/_step_result.html",
        {"row": row, "back_url": back, "can_handle": True, "message": message, "error": error},
    )


@login_required
@permission_required("citizen.handle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def report_step(request: HttpRequest, pk: int) -> HttpResponse:
    """A next step in one click (queue row, detail page). Closing steps, which end the case
    and tell the reporter the outcome, first show a confirmation page with an optional
    note for the reporter; so does every GET, which makes the step work without JavaScript."""
    report = _get_report_or_404(pk)
    form = StepForm(request.POST if request.method == "POST" else request.GET)
    form.is_valid()
    back = _safe_back(request, form.cleaned_data.get("zurueck") or "", report)
    if "status" in form.errors or "von" in form.errors:
        messages.error(request, f"Nr. {report.pk}: Dieser Schritt ist nicht möglich (unbekannter Status).")
        return redirect(back)
    to_status = form.cleaned_data["status"]
    confirmed = request.method == "POST" and (
        request.POST.get("bestaetigt") == "1" or not services.step_needs_confirmation(to_status)
    )
    if not confirmed or form.errors:
        if to_status not in services.allowed_statuses(request.user, report.status):  # type: ignore[arg-type]
            messages.error(
                request,
                f"Nr. {report.pk} ist jetzt „{report.get_status_display()}“; "
                f"„{ReportStatus(to_status).label}“ ist von dort aus nicht möglich.",
            )
            return redirect(back)
        if request.method == "GET":
            form = StepForm(
                initial={
                    "status": to_status,
                    "von": form.cleaned_data.get("von") or report.status,
                    "zurueck": back,
                }
            )
        return render(
            request,
            "citizen/office/step_confirm.html",
            {
                "report": report,
                "form": form,
                "to_status": to_status,
                "to_label": ReportStatus(to_status).label,
                "closing": services.step_needs_confirmation(to_status),
                "overdue": selectors.is_overdue(report),
                "place": selectors.place_label(report),
                "back_url": back,
            },
            status=400 if form.is_bound and form.errors and request.method == "POST" else 200,
        )
    try:
        services.report_transition(
            user=request.user,  # type: ignore[arg-type]
            report=report,
            to_status=to_status,
            public_note=form.cleaned_data.get("public_note") or "",
            expected_status=form.cleaned_data.get("von") or "",
        )
    except ValidationError as exc:
        message = f"Nr. {report.pk}: " + " ".join(exc.messages)
        if request.htmx:
            return _step_row(request, report, back, message, error=True)
        messages.error(request, message)
        return redirect(back + f"#hinweis-{report.pk}")
    message = f"Nr. {report.pk}: Status jetzt „{report.get_status_display()}“."
    if request.htmx:
        return _step_row(request, report, back, message, error=False)
    messages.success(request, message)
    return redirect(back + f"#hinweis-{report.pk}")


@login_required
@permission_required("citizen.triage", raise_exception=True)
@require_POST
def report_assign(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report_or_404(pk)
    form = AssignForm(request.POST, targets=_targets())
    if form.is_valid():
        target = form.target_object()
        try:
            services.report_assign(
                user=request.user,  # type: ignore[arg-type]
                report=report,
                target=target,
                public_note=form.cleaned_data.get("assign_note") or "",
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("target", message)
        else:
            if Report.objects.filter(pk=report.pk).exists():
                messages.success(request, f"Zuständig: {target.name}.")
                return _back(report, "verlauf")
            messages.success(
                request,
                f"Meldung Nr. {report.pk} an {target.name} übergeben; "
                "sie ist für Ihre Behörde nicht mehr sichtbar.",
            )
            return redirect("office:queue")
    return _rerender(request, report, assign_form=form)


@login_required
@permission_required("citizen.triage", raise_exception=True)
@require_POST
def report_merge(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report_or_404(pk)
    form = NumberForm(request.POST, label="Nummer der Meldung, in die zusammengeführt wird", prefix="merge")
    if form.is_valid():
        into = selectors.report_get(form.cleaned_data["number"])
        if into is None:
            form.add_error("number", "Diese Meldung gibt es nicht oder sie ist für Sie nicht sichtbar.")
        else:
            try:
                main = services.report_merge(user=request.user, duplicate=report, into=into)  # type: ignore[arg-type]
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("number", message)
            else:
                messages.success(
                    request,
                    f"Meldung Nr. {report.pk} ist jetzt Doppelmeldung von Nr. {main.pk} "
                    f"({main.supporters} Unterstützungen).",
                )
                return _back(main)
    return _rerender(request, report, merge_form=form)


@login_required
@permission_required("citizen.handle", raise_exception=True)
@require_POST
def report_link_incident(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get_report_or_404(pk)
    form = NumberForm(request.POST, label="Nummer der Feststellung", prefix="link")
    if form.is_valid():
        incident = field_selectors.incident_get(form.cleaned_data["number"])
        if incident is None:
            form.add_error("number", "Diese Feststellung gibt es nicht oder sie ist für Sie nicht sichtbar.")
        else:
            services.report_link_incident(user=request.user, report=report, incident=incident)  # type: ignore[arg-type]
            messages.success(request, f"Feststellung Nr. {incident.pk} verknüpft.")
            return _back(report, "feststellungen")
    return _rerender(request, report, link_form=form)


def remember_report_for_incident(request: HttpRequest) -> None:
    """The field entry screen was opened from a report: link the incident saved next."""
    raw = request.GET.get("hinweis", "")
    if not raw.isdigit() or len(raw) > 18:
        return
    if selectors.report_get(int(raw)) is None:
        return
    request.session[PENDING_LINK_KEY] = {"report": int(raw), "at": timezone.now().isoformat()}


def link_pending_report(request: HttpRequest, incident: Incident) -> None:
    """After saving an incident opened from a report, link the two (from complaint to measure).

    Only incidents recorded as coming from a citizen report, and only within a few hours
    of opening the entry screen, so an abandoned form never links an unrelated record.
    """
    pending = request.session.pop(PENDING_LINK_KEY, None)
    if not isinstance(pending, dict) or incident.source != Incident.Source.CITIZEN_REPORT:
        return
    try:
        opened = dt.datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return
    if timezone.now() - opened > dt.timedelta(hours=PENDING_LINK_HOURS):
        return
    report = selectors.report_get(int(pending.get("report") or 0))
    if report is None or not request.user.has_perm("citizen.handle"):
        return
    try:
        services.report_link_incident(user=request.user, report=report, incident=incident)  # type: ignore[arg-type]
    except (PermissionDenied, ValidationError):
        return
    messages.info(request, f"Mit Bürgerhinweis Nr. {report.pk} verknüpft.")


# --- photos -----------------------------------------------------------------------------------


def _get_photo_or_404(report: Report, photo_pk: int) -> Photo:
    photo = Photo.objects.filter(report=report, pk=photo_pk).first()
    if photo is None:
        raise Http404("Foto nicht gefunden.")
    return photo


@login_required
@permission_required("citizen.view_reports", raise_exception=True)
@require_GET
def photo_file(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    """The stored photo for staff (released or not); the report must be visible."""
    from .photos import photo_path

    report = _get_report_or_404(pk)
    photo = _get_photo_or_404(report, photo_pk)
    try:
        handle = photo_path(photo).open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("Foto nicht gefunden.") from exc
    # A citizen's photo may show people: every opening is a read of personal data.
    audit.log("citizen.photo.viewed", user=request.user, obj=photo, request=request, report=report.pk)
    response = FileResponse(handle, content_type=photo.content_type or "image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@permission_required("citizen.handle", raise_exception=True)
@require_POST
def photo_redact(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    from .photos import photo_redact as redact

    report = _get_report_or_404(pk)
    photo = _get_photo_or_404(report, photo_pk)
    form = RedactForm(request.POST, prefix=f"photo{photo.pk}")
    if form.is_valid():
        try:
            redact(photo, form.cleaned_data["rectangles"], user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("rectangles", message)
        except (FileNotFoundError, OSError):
            form.add_error("rectangles", "Die Bilddatei ist nicht vorhanden.")
        else:
            count = len(form.cleaned_data["rectangles"])
            messages.success(request, f"{count} Bereich(e) auf Foto {photo.pk} geschwärzt.")
            return _back(report, f"foto-{photo.pk}")
    return _rerender(request, report, redact_form=form, redact_photo=photo.pk)


@login_required
@permission_required("citizen.triage", raise_exception=True)
@require_POST
def photo_release(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    from .photos import photo_release as release

    report = _get_report_or_404(pk)
    photo = _get_photo_or_404(report, photo_pk)
    publish = request.POST.get("released", "1") == "1"
    release(photo, user=request.user, released=publish)
    messages.success(
        request,
        f"Foto {photo.pk} "
        + ("freigegeben: Es ist jetzt öffentlich sichtbar." if publish else "zurückgezogen."),
    )
    return _back(report, f"foto-{photo.pk}")


# --- patrols ----------------------------------------------------------------------------------


@login_required
@permission_required("citizen.view_reports", raise_exception=True)
@require_GET
def patrol_reports(request: HttpRequest) -> HttpResponse:
    """Open reports in the area of the user's current patrol, or in a chosen area."""
    patrol = field_selectors.current_patrol_for(request.user)  # type: ignore[arg-type]
    form = AreaChoiceForm(request.GET or None)
    chosen = form.valid_data().get("area")
    area_id = chosen or (patrol.area_id if patrol is not None else None)
    area = Area.objects.filter(pk=area_id).first() if area_id else None
    rows: list[dict] = []
    total = 0
    points_url = ""
    if area is not None:
        queryset = selectors.report_list(
            ReportFilter(status=sorted(OPEN_STATUSES), area_id=area.pk)
        ).prefetch_related(Prefetch("area_links", queryset=ReportArea.objects.select_related("area")))
        queryset = selectors.sort_reports(queryset, SORT_URGENCY)
        total = queryset.count()
        rows = selectors.queue_rows(list(queryset[:200]), steps_for=_steps_by_status(request.user))
        points_url = reverse("office:report-points") + "?" + urlencode({"status": "offen", "area": area.pk})
    if not form.is_bound and area is not None:
        form = AreaChoiceForm(initial={"area": area.pk})
    return render(
        request,
        "citizen/office/patrol.html",
        {
            "form": form,
            "patrol": patrol,
            "area": area,
            "rows": rows,
            "total": total,
            "points_url": points_url,
            "from_patrol": area is not None and not chosen and patrol is not None,
            "can_handle": request.user.has_perm("citizen.handle"),
            "back_url": request.get_full_path(),
        },
    )


# --- statistics -------------------------------------------------------------------------------


@login_required
@permission_required("citizen.view_statistics", raise_exception=True)
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    form = StatsFilterForm(request.GET or None)
    start, end = form.resolved()
    if not form.is_bound or not form.errors:
        form = StatsFilterForm(initial={"date_from": start, "date_to": end})
    figures = stats.report_statistics(start, end)
    return render(
        request,
        "citizen/office/statistics.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "figures": figures,
            "tables": [
                ("kategorie", "Nach Kategorie", "Kategorie", figures.by_category),
                ("eingangsweg", "Nach Eingangsweg", "Eingangsweg", figures.by_channel),
                ("bezirk", "Nach Stadtbezirk", "Stadtbezirk", figures.by_area),
            ],
        },
    )
