"""Web views of the field records: entry, lists, details, shifts and patrols, overview.

Views are thin: forms parse the input, ``services`` write, ``selectors`` read. Authority
scoping is active for the whole request (``AuthorityScopeMiddleware``), so a record of
the other authority is simply not found and answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lagebild.catalog.models import Category
from lagebild.catalog.selectors import category_list, pick_rule
from lagebild.core import audit, idempotency
from lagebild.core.localtime import elapsed
from lagebild.core.models import Authority, Role
from lagebild.core.pagination import CappedCountPaginator
from lagebild.geo.models import Area

from . import selectors, services
from .forms import (
    IncidentForm,
    MeasureAddForm,
    OverviewFilterForm,
    PatrolForm,
    PatrolMembersForm,
    ShiftFilterForm,
    ShiftForm,
    add_service_errors,
    incident_filter_from_query,
    patrol_label,
)
from .models import Incident, IncidentArea, Measure, MeasureType, Patrol, Shift
from .selectors import IncidentFilter

# Hidden field of the entry form: one key per form shown, so it is saved at most once.
ENTRY_KEY_FIELD = "entry_key"

PAGE_SIZE = 50
MAX_POINTS = 5000

# --- overview ---------------------------------------------------------------------------------


def _with_share(rows: list[dict]) -> list[dict]:
    """Adds a bar width (percent of the largest row) for the CSS bars."""
    top = max((row["count"] for row in rows), default=0)
    for row in rows:
        row["share"] = round(100 * row["count"] / top) if top else 0
    return rows


def _overview_filter(request: HttpRequest) -> tuple[OverviewFilterForm, IncidentFilter, str]:
    form = OverviewFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    period, start, end, area_id = form.resolved()
    return form, IncidentFilter(date_from=start, date_to=end, area_id=area_id), period


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    form, filters, period = _overview_filter(request)
    if not form.errors:
        # Show the resolved period in the date inputs, also when a preset was chosen.
        form = OverviewFilterForm(
            initial={"date_from": filters.date_from, "date_to": filters.date_to, "area": filters.area_id}
        )
    figures = selectors.overview(filters)
    query = {"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat()}  # type: ignore[union-attr]
    if filters.area_id:
        query["area"] = str(filters.area_id)
    points_query = "&".join(f"{k}={v}" for k, v in query.items())
    area_query = f"&area={filters.area_id}" if filters.area_id else ""
    area = Area.objects.filter(pk=filters.area_id).first() if filters.area_id else None
    days = (filters.date_to - filters.date_from).days + 1  # type: ignore[operator]
    return render(
        request,
        "field/overview.html",
        {
            "my_patrol": _my_patrol(request),
            "form": form,
            "period": period,
            "presets": OverviewFilterForm.PRESETS,
            "area_query": area_query,
            "filters": filters,
            "days": days,
            "area": area,
            "figures": figures,
            "by_category": _with_share(figures.by_category),
            "by_measure": _with_share(figures.by_measure),
            "by_area": _with_share(figures.by_area),
            "points_url": reverse("field:overview-points") + "?" + points_query,
            "list_url": reverse("field:incident-list") + "?" + points_query,
        },
    )


PARTNER_WORD = {Authority.Kind.POLICE: "Polizei", Authority.Kind.CITY: "Ordnungsamt"}


def _my_patrol(request: HttpRequest) -> dict[str, Any] | None:
    """The start screen's card "Meine Streife": the officer's patrol now (or the next one)
    with one-tap start and end; None for roles that neither patrol nor are on a patrol."""
    user = request.user
    now = timezone.now()
    patrol = selectors.current_patrol_for(user, now)  # type: ignore[arg-type]
    upcoming = None if patrol is not None else selectors.next_patrol_for(user, now)  # type: ignore[arg-type]
    can_record = user.has_perm("field.record_incident")
    if patrol is None and upcoming is None and getattr(user, "role", "") != Role.FIELD_OFFICER:
        return None
    shown = patrol or upcoming
    members = selectors.patrol_members(shown) if shown is not None else []
    return {
        "patrol": patrol,
        "upcoming": upcoming,
        "members": [
            {
                "name": m.user.get_full_name() or m.user.username,
                # Partners are named by their authority's kind, as officers would say it.
                "partner": ""
                if m.authority_id == user.authority_id
                else PARTNER_WORD.get(m.authority.kind, ""),
            }
            for m in members
            if m.user_id != user.pk
        ],
        "can_record": can_record,
        "over_plan_minutes": (
            int(elapsed(patrol.planned_end, now).total_seconds() // 60)
            if patrol is not None and patrol.actual_start is None and now > patrol.planned_end
            else 0
        ),
    }


@login_required
@require_GET
def overview_points(request: HttpRequest) -> JsonResponse:
    """GeoJSON points of the visible incidents for the overview map (capped); roles that see
    aggregates only get counts per 100 m cell instead of single records (issue 13)."""
    _, filters, _ = _overview_filter(request)
    if not selectors.may_view_records(request.user):  # type: ignore[arg-type]
        cells = selectors.coarse_incident_cells(filters, limit=MAX_POINTS)
        return JsonResponse(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [cell["lon"], cell["lat"]]},
                        "properties": {
                            "category": f"{cell['count']} Feststellungen in dieser 100-m-Zelle",
                            "count": cell["count"],
                        },
                    }
                    for cell in cells
                ],
                "truncated": len(cells) >= MAX_POINTS,
                "coarsened_m": int(selectors.COARSE_CELL_M),
            }
        )
    rows = selectors.incident_points(filters, limit=MAX_POINTS)
    features = [
        {
            "type": "Feature",
            "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {
                "id": row["id"],
                "category": row["category__name"],
                "time": timezone.localtime(row["occurred_at"]).strftime("%d.%m.%Y %H:%M"),
                "url": reverse("field:incident-detail", args=[row["id"]]),
            },
        }
        for row in rows
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features, "truncated": len(features) >= MAX_POINTS}
    )


# --- incidents --------------------------------------------------------------------------------


def _measure_summary(measures: list[Measure]) -> list[str]:
    counts = Counter(m.type for m in measures)
    labels = dict(MeasureType.choices)
    return [
        labels.get(kind, kind) + (f" ×{n}" if n > 1 else "")
        for kind, n in sorted(counts.items(), key=lambda item: (-item[1], labels.get(item[0], "")))
    ]


def _place_label(incident: Any) -> str:
    links = list(incident.area_links.all())
    districts = [link.area.name for link in links if link.area.kind == Area.Kind.DISTRICT]
    focus = [link.area.name for link in links if link.area.kind == Area.Kind.FOCUS_AREA]
    parts = [incident.address_text] if incident.address_text else []
    parts += focus[:1] + districts[:1]
    return " · ".join(parts) or f"{incident.lat:.5f}, {incident.lon:.5f}"


def _active_query(request: HttpRequest) -> str:
    """The non-empty filter parameters (without the page), for exports and page links."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        kept = [v for v in values if v.strip()]
        if key != "seite" and kept:
            query.setlist(key, kept)
    return query.urlencode()


@login_required
@permission_required("field.view_incident_records", raise_exception=True)
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    filters, form = incident_filter_from_query(request.GET, request.user)  # type: ignore[arg-type]
    filters = selectors.filters_for(request.user, filters)  # type: ignore[arg-type]
    free_text = selectors.may_view_free_text(request.user)  # type: ignore[arg-type]
    # Only what a row shows: the list needs neither the patrol nor the incident's other columns.
    queryset = (
        selectors.incident_list(filters)
        .select_related(None)
        .select_related("category", "authority")
        .only(
            "id",
            "occurred_at",
            "authority_id",
            "joint",
            "address_text",
            "lat",
            "lon",
            "description",
            "category__name",
            "authority__name",
        )
    ).prefetch_related(
        Prefetch("measures", queryset=Measure.objects.only("id", "incident_id", "type")),
        Prefetch(
            "area_links",
            queryset=IncidentArea.objects.select_related("area").only(
                "incident_id", "area__kind", "area__name"
            ),
        ),
    )
    paginator = CappedCountPaginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("seite"))
    if not free_text:
        for incident in page.object_list:
            selectors.withhold_free_text(incident)
    rows = [
        {
            "incident": incident,
            "measures": _measure_summary(list(incident.measures.all())),
            "place": _place_label(incident),
            "own": incident.authority_id == request.user.authority_id,  # type: ignore[union-attr]
        }
        for incident in page.object_list
    ]
    filter_query = _active_query(request)
    return render(
        request,
        "field/incident_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filter_query": filter_query,
            "page_query": f"{filter_query}&" if filter_query else "",
            "total": paginator.count,
            "total_capped": paginator.count_is_capped,
            "total_text": f"{paginator.count:,}".replace(",", "."),
        },
    )


def _category_options(categories: list[Category], today: dt.date) -> list[dict]:
    """Categories grouped for the entry select, with today's rule for the caution default."""
    groups: dict[str, dict] = {}
    labels = dict(Category.Group.choices)
    for category in categories:
        rule = pick_rule(sorted(category.rules.all(), key=lambda r: r.valid_from, reverse=True), today)
        group = groups.setdefault(
            category.group, {"label": labels.get(category.group, category.group), "items": []}
        )
        group["items"].append(
            {
                "category": category,
                "caution_allowed": bool(rule and rule.caution_allowed),
                "caution_amount": rule.caution_amount if rule and rule.caution_allowed else None,
            }
        )
    return list(groups.values())


@login_required
@permission_required("field.record_incident", raise_exception=True)
@require_http_methods(["GET", "POST"])
def incident_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    categories = list(category_list())
    choice = selectors.entry_patrols(user, now)  # type: ignore[arg-type]
    current = choice.current
    form_kwargs = {"user": user, "categories": categories, "patrols": choice.all}
    entry_key = _entry_key(request)
    if request.method == "POST":
        form = IncidentForm(request.POST, **form_kwargs)
        if form.is_valid():
            saved = _create_incident_once(request, form, entry_key)
            if isinstance(saved, HttpResponse):
                return saved
            if saved is not None:
                messages.success(request, "Feststellung gespeichert.")
                from lagebild.citizen.views_office import link_pending_report

                link_pending_report(request, saved)
                return redirect("field:incident-detail", pk=saved.pk)
        else:
            # The form's own checks failed; the service's rules are checked too, so the
            # officer gets every message in one go (e.g. category and place).
            measures = form.measure_inputs()
            errors = services.incident_check(user=user, measures=measures, **form.service_arguments())  # type: ignore[arg-type]
            form.show_service_errors(errors, measures, only_new=True)
    else:
        form = IncidentForm(
            initial={
                "occurred_at": now,
                "patrol": current.pk if current else None,
                "joint": bool(current and current.joint),
                **_prefill(request, categories),
            },
            **form_kwargs,
        )
    selected_patrol = str(form["patrol"].value() or "")
    map_patrol = next((p for p in choice.all if str(p.pk) == selected_patrol), None) or current
    typed_coordinates = bool(str(form["lat"].value() or "").strip() or str(form["lon"].value() or "").strip())
    return render(
        request,
        "field/incident_form.html",
        {
            "form": form,
            "category_groups": _category_options(categories, timezone.localdate(now)),
            "selected_category": str(form["category"].value() or ""),
            "selected_measures": [str(v) for v in (form["measure_types"].value() or [])],
            "own_patrol_options": [{"patrol": p, "label": patrol_label(p)} for p in choice.own],
            "other_patrol_options": [{"patrol": p, "label": patrol_label(p)} for p in choice.others],
            "selected_patrol": selected_patrol,
            "show_coordinates": bool(form.location_errors() and typed_coordinates),
            "has_errors": bool(form.is_bound and form.errors),
            "error_summary": form.error_summary(),
            "location_errors": form.location_errors(),
            "map_area": _map_area(map_patrol),
            "now_iso": now.isoformat(),
            "time_zone": settings.TIME_ZONE,
            "entry_key": entry_key,
        },
    )


def _entry_key(request: HttpRequest) -> str:
    """The form's idempotency key: new with every empty form, the posted one when the form comes
    back with errors (nothing was saved under it yet)."""
    posted = request.POST.get(ENTRY_KEY_FIELD, "").strip() if request.method == "POST" else ""
    return posted if posted and idempotency.valid_key(posted) else str(uuid.uuid4())


def _create_incident_once(request: HttpRequest, form: IncidentForm, entry_key: str) -> Any:
    """``_create_incident`` at most once per form: a double tap or a browser's retry posts the
    form's key again and is sent to the incident saved first (core.idempotency)."""
    posted_key = request.POST.get(ENTRY_KEY_FIELD, "").strip()
    if posted_key != entry_key:  # no key or a malformed one: a form from before the key existed
        return _create_incident(request, form)
    scope = f"user:{request.user.pk}"
    claim = idempotency.claim(
        scope=scope,
        key=f"{ENTRY_KEY_FIELD}:{entry_key}",
        # The key alone decides: the form posted again, even changed, was saved already.
        request_fingerprint=idempotency.fingerprint(
            method="POST", path=reverse("field:incident-create"), body=b"", scope=scope
        ),
    )
    record = claim.record
    if claim.outcome is idempotency.Outcome.IN_FLIGHT and record is not None:
        record = idempotency.wait_until_done(record)
    if claim.outcome is not idempotency.Outcome.CLAIMED:
        if record is not None and record.location:
            messages.info(request, "Bereits gespeichert: Diese Feststellung wurde schon einmal gesendet.")
            return HttpResponseRedirect(record.location)
        messages.warning(
            request, "Diese Feststellung wird noch gespeichert. Bitte gleich in der Liste nachsehen."
        )
        return redirect("field:incident-list")
    assert record is not None
    try:
        with transaction.atomic():
            incident = _create_incident(request, form)
            if incident is not None:
                idempotency.complete(
                    record,
                    status_code=302,
                    body="",
                    location=reverse("field:incident-detail", kwargs={"pk": incident.pk}),
                )
                return incident
    except BaseException:
        idempotency.release(record)
        raise
    idempotency.release(record)
    return None


def _map_area(patrol: Patrol | None) -> dict[str, Any] | None:
    """The patrol's area for the entry map: it opens there (GeoJSON for the outline)."""
    area = patrol.area if patrol is not None and patrol.area_id else None
    if area is None or not area.active:
        return None
    return {
        "name": area.name,
        "feature": {
            "type": "Feature",
            "geometry": area.geometry,
            "properties": {"name": area.name, "kind": area.kind, "kind_label": area.get_kind_display()},
        },
        "bounds": [[area.min_lat, area.min_lon], [area.max_lat, area.max_lon]],
    }


def _prefill(request: HttpRequest, categories: list[Category]) -> dict[str, Any]:
    """Initial values from the query string, e.g. when a citizen report is handled on site."""
    initial: dict[str, Any] = {}
    query = request.GET
    category = query.get("category", "")
    if category.isdigit() and int(category) in {c.pk for c in categories}:
        initial["category"] = int(category)
    for name in ("lat", "lon"):
        value = query.get(name, "").strip()
        if value and len(value) <= 40:
            initial[name] = value
    address = query.get("address_text", "").strip()
    if address:
        initial["address_text"] = address[:200]
    if query.get("source") in Incident.Source.values:
        initial["source"] = query["source"]
    if query.get("hinweis"):
        from lagebild.citizen.views_office import remember_report_for_incident

        remember_report_for_incident(request)
    return initial


def _create_incident(request: HttpRequest, form: IncidentForm) -> Any:
    """Creates the incident (and optionally a person) in one transaction; None on errors."""
    data = form.cleaned_data
    measures = form.measure_inputs()
    arguments = form.service_arguments()
    patrol = arguments["patrol"]
    try:
        with transaction.atomic():
            if data.get("create_person"):
                person = services.person_create(
                    user=request.user, age_group=data.get("person_age_group") or ""
                )  # type: ignore[arg-type]
                for measure in measures:
                    measure.person_pseudonym = person.pseudonym
            return services.incident_create(
                user=request.user,  # type: ignore[arg-type]
                measures=measures,
                joint=bool(data.get("joint") or (patrol is not None and patrol.joint)),
                **arguments,
            )
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            add_service_errors(form, exc)
            return None
        form.show_service_errors(exc.message_dict, measures)
        return None


def _get_incident_or_404(pk: int) -> Any:
    incident = selectors.incident_get(pk)
    if incident is None:
        raise Http404("Feststellung nicht gefunden.")
    return incident


def _incident_detail_context(
    request: HttpRequest, incident: Any, measure_form: MeasureAddForm | None
) -> dict:
    user = request.user
    measures = list(selectors.measures_of(incident))
    free_text = selectors.may_view_free_text(user)  # type: ignore[arg-type]
    if not free_text:
        # Analysts: place and time, no free text (data minimisation, issue 13).
        selectors.withhold_free_text(incident, measures)
    may_view_persons = user.has_perm("field.view_persons")
    # Persons are never shared between authorities, even on joint incidents.
    visible_persons = (
        selectors.visible_person_ids([m.person_id for m in measures if m.person_id])
        if may_view_persons
        else set()
    )
    shown = []
    for measure in measures:
        measure.shown_person = measure.person if measure.person_id in visible_persons else None  # type: ignore[attr-defined]
        measure.partner_person = bool(measure.person_id and measure.person_id not in visible_persons)  # type: ignore[attr-defined]
        if measure.shown_person is not None:  # type: ignore[attr-defined]
            shown.append(measure.shown_person.pseudonym)  # type: ignore[attr-defined]
    if shown:
        audit.log("field.person.viewed", user=user, obj=incident, persons=sorted(set(shown)))
    patrol = incident.patrol
    patrol_visible = patrol is not None and selectors.patrol_get(patrol.pk) is not None
    can_record = user.has_perm("field.record_incident")
    if can_record and measure_form is None:
        measure_form = MeasureAddForm(user=user)  # type: ignore[arg-type]
    return {
        "incident": incident,
        "rule": incident.category_rule,
        "measures": measures,
        "show_persons": may_view_persons and any(m.person_id for m in measures),
        "areas": selectors.incident_areas(incident),
        "patrol_visible": patrol_visible,
        "can_record": can_record,
        "measure_form": measure_form,
        "own": incident.authority_id == user.authority_id,  # type: ignore[union-attr]
        "amount_total": sum((m.amount or Decimal(0) for m in measures), Decimal(0)),
        "free_text_withheld": not free_text,
    }


@login_required
@permission_required("field.view_incident_records", raise_exception=True)
@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _get_incident_or_404(pk)
    audit.log("field.incident.viewed", user=request.user, obj=incident)
    return render(request, "field/incident_detail.html", _incident_detail_context(request, incident, None))


@login_required
@permission_required("field.record_incident", raise_exception=True)
@require_POST
def measure_add(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _get_incident_or_404(pk)
    form = MeasureAddForm(request.POST, user=request.user)  # type: ignore[arg-type]
    if form.is_valid():
        try:
            services.measure_add(user=request.user, incident=incident, measure=form.measure_input())  # type: ignore[arg-type]
        except ValidationError as exc:
            for message in exc.message_dict.get("measures", exc.messages):
                field = "amount" if "Betrag" in message else "type"
                if "Hilfeangebot" in message:
                    field = "referral_service"
                elif "sichergestellt" in message and "Bargeld" not in message:
                    field = "seizure_kind"
                elif "Menge" in message:
                    field = "quantity"
                form.add_error(field, message.split(": ", 1)[-1] if ": " in message else message)
        else:
            messages.success(request, "Maßnahme ergänzt.")
            return redirect(reverse("field:incident-detail", args=[incident.pk]) + "#massnahmen")
    context = _incident_detail_context(request, incident, form)
    return render(request, "field/incident_detail.html", context)


# --- shifts and patrols -----------------------------------------------------------------------


@login_required
@require_GET
def shift_list(request: HttpRequest) -> HttpResponse:
    form = ShiftFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    start, end = form.resolved()
    if not form.errors:
        form = ShiftFilterForm(initial={"date_from": start, "date_to": end})
    shifts = list(
        selectors.shift_list(date_from=start, date_to=end).annotate(hours=Sum("patrols__staff_hours"))
    )
    patrols = list(selectors.patrol_list(date_from=start, date_to=end).order_by("planned_start", "name"))
    own_patrols = {
        p.pk
        for p in selectors.patrols_of_user(request.user, date_from=start, date_to=end)  # type: ignore[arg-type]
    }
    week = dt.timedelta(days=7)
    return render(
        request,
        "field/shift_list.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "shifts": shifts,
            "patrols": patrols,
            "own_patrols": own_patrols,
            "staff_hours": sum((p.staff_hours for p in patrols), Decimal(0)),
            "previous": {"date_from": (start - week).isoformat(), "date_to": (end - week).isoformat()},
            "next": {"date_from": (start + week).isoformat(), "date_to": (end + week).isoformat()},
            "can_plan": request.user.has_perm("field.plan_shifts"),
        },
    )


def _running_shift(now: dt.datetime) -> tuple[dt.date, str]:
    """(date, kind) of the shift on at ``now`` by the shift times of ``services.shift_times``;
    between 00:00 and 06:00 that is the night shift of the day before."""
    today = timezone.localdate(now)
    for day in (today - dt.timedelta(days=1), today):
        for kind in Shift.Kind.values:
            start, end = services.shift_times(day, kind)
            if start <= now < end:
                return day, kind
    return today, Shift.Kind.EARLY  # not reached while the shift times cover the whole day


@login_required
@permission_required("field.plan_shifts", raise_exception=True)
@require_http_methods(["GET", "POST"])
def shift_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ShiftForm(request.POST, user=request.user)  # type: ignore[arg-type]
        if form.is_valid():
            data = form.cleaned_data
            try:
                shift = services.shift_create(
                    user=request.user,  # type: ignore[arg-type]
                    date=data["date"],
                    kind=data["kind"],
                    note=data.get("note") or "",
                    lead=form.leads.get(data.get("lead")),  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{shift} angelegt.")
                return redirect("field:shift-detail", pk=shift.pk)
    else:
        day, kind = _running_shift(timezone.now())
        form = ShiftForm(
            initial={"date": day, "kind": kind, "lead": request.user.pk},
            user=request.user,  # type: ignore[arg-type]
        )
    return render(request, "field/shift_form.html", {"form": form})


def _get_shift_or_404(pk: int) -> Shift:
    shift = selectors.shift_get(pk)
    if shift is None:
        raise Http404("Schicht nicht gefunden.")
    return shift


def _get_patrol_or_404(pk: int) -> Patrol:
    patrol = selectors.patrol_get(pk)
    if patrol is None:
        raise Http404("Streife nicht gefunden.")
    return patrol


@login_required
@require_GET
def shift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shift = _get_shift_or_404(pk)
    patrols = list(selectors.patrol_list(shift_id=shift.pk).order_by("planned_start", "name"))
    for patrol in patrols:
        patrol.member_list = selectors.patrol_members(patrol)  # type: ignore[attr-defined]
    return render(
        request,
        "field/shift_detail.html",
        {
            "shift": shift,
            "patrols": patrols,
            "staff_hours": sum((p.staff_hours for p in patrols), Decimal(0)),
            "members": sum(p.member_count for p in patrols),
            "joint_count": sum(1 for p in patrols if p.joint),
            "can_plan": request.user.has_perm("field.plan_shifts"),
        },
    )


@login_required
@permission_required("field.plan_shifts", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patrol_create(request: HttpRequest, pk: int) -> HttpResponse:
    shift = _get_shift_or_404(pk)
    if request.method == "POST":
        form = PatrolForm(request.POST, shift=shift, user=request.user)  # type: ignore[arg-type]
        if form.is_valid():
            data = form.cleaned_data
            try:
                patrol = services.patrol_create(
                    user=request.user,  # type: ignore[arg-type]
                    shift=shift,
                    name=data["name"],
                    members=form.member_objects(),
                    area_id=data.get("area"),
                    clothing=data["clothing"],
                    planned_start=data["planned_start"],
                    planned_end=data["planned_end"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                kind = "Doppelstreife" if patrol.joint else "Streife"
                messages.success(request, f"{kind} {patrol.name} geplant.")
                return redirect("field:patrol-detail", pk=patrol.pk)
    else:
        form = PatrolForm(shift=shift, user=request.user)  # type: ignore[arg-type]
    return render(request, "field/patrol_form.html", {"form": form, "shift": shift})


@login_required
@permission_required("field.plan_shifts", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patrol_members(request: HttpRequest, pk: int) -> HttpResponse:
    """Name who goes on a planned patrol (a deployment plan creates its patrols without members)."""
    patrol = _get_patrol_or_404(pk)
    user = request.user
    if patrol.authority_id != user.authority_id:  # type: ignore[union-attr]
        raise PermissionDenied("Mitglieder teilt nur die Schichtleitung der planenden Behörde ein.")
    if request.method == "POST":
        form = PatrolMembersForm(request.POST, user=user)  # type: ignore[arg-type]
        if form.is_valid():
            try:
                services.patrol_members_set(user=user, patrol=patrol, members=form.member_objects())  # type: ignore[arg-type]
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Mitglieder der Streife {patrol.name} gespeichert.")
                return redirect("field:patrol-detail", pk=patrol.pk)
    else:
        current = [m.user_id for m in selectors.patrol_members(patrol)]
        form = PatrolMembersForm(initial={"members": current}, user=user)  # type: ignore[arg-type]
    return render(request, "field/patrol_members.html", {"form": form, "patrol": patrol})


@login_required
@require_GET
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patrol = _get_patrol_or_404(pk)
    members = selectors.patrol_members(patrol)
    user = request.user
    is_member = any(m.user_id == user.pk for m in members)
    can_operate = user.has_perm("field.plan_shifts") or is_member
    incidents = list(selectors.incident_list(IncidentFilter(patrol_id=patrol.pk))[:200])
    return render(
        request,
        "field/patrol_detail.html",
        {
            "patrol": patrol,
            "members": members,
            "incidents": incidents,
            "shift_visible": selectors.shift_get(patrol.shift_id) is not None,
            "can_start": can_operate and patrol.actual_start is None,
            "can_end": can_operate and patrol.actual_start is not None and patrol.actual_end is None,
            "can_record": user.has_perm("field.record_incident") and is_member,
            "can_name_members": user.has_perm("field.plan_shifts")
            and patrol.authority_id == user.authority_id  # type: ignore[union-attr]
            and patrol.actual_end is None,
        },
    )


def _patrol_transition(request: HttpRequest, pk: int, *, start: bool) -> HttpResponseRedirect:
    patrol = _get_patrol_or_404(pk)
    try:
        if start:
            services.patrol_start(user=request.user, patrol=patrol)  # type: ignore[arg-type]
        else:
            services.patrol_end(user=request.user, patrol=patrol)  # type: ignore[arg-type]
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied:
        raise
    else:
        local = timezone.localtime(patrol.actual_start if start else patrol.actual_end)
        verb = "begonnen" if start else "beendet"
        messages.success(request, f"Streife {patrol.name} um {local:%H:%M} Uhr {verb}.")
    # The start screen's buttons come back to the start screen; only local addresses.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(back)
    return redirect("field:patrol-detail", pk=patrol.pk)


@login_required
@require_POST
def patrol_start(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _patrol_transition(request, pk, start=True)


@login_required
@require_POST
def patrol_end(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _patrol_transition(request, pk, start=False)
