"""Reads of field records. Every queryset here is authority-scoped by the model managers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from pyproj import Transformer

from lagebild.core.localtime import later, utc
from lagebild.core.models import Role, User
from lagebild.geo.models import Area

from .models import Incident, IncidentArea, Measure, Patrol, PatrolMember, Person, Shift


@dataclass
class IncidentFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    area_id: int | None = None
    category_ids: list[int] = field(default_factory=list)
    measure_type: str = ""
    authority_id: int | None = None
    source: str = ""
    joint: bool | None = None
    patrol_id: int | None = None
    text: str = ""


def local_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def incident_list(filters: IncidentFilter | None = None) -> QuerySet[Incident]:
    filters = filters or IncidentFilter()
    queryset = Incident.objects.select_related("category", "authority", "patrol")
    if filters.date_from:
        queryset = queryset.filter(occurred_at__gte=local_day_start(filters.date_from))
    if filters.date_to:
        queryset = queryset.filter(occurred_at__lt=local_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.area_id:
        queryset = queryset.filter(
            Exists(IncidentArea.objects.filter(incident=OuterRef("pk"), area_id=filters.area_id))
        )
    if filters.category_ids:
        queryset = queryset.filter(category_id__in=filters.category_ids)
    if filters.measure_type:
        queryset = queryset.filter(
            Exists(Measure.objects.filter(incident=OuterRef("pk"), type=filters.measure_type))
        )
    if filters.authority_id:
        queryset = queryset.filter(authority_id=filters.authority_id)
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.joint is not None:
        queryset = queryset.filter(joint=filters.joint)
    if filters.patrol_id:
        queryset = queryset.filter(patrol_id=filters.patrol_id)
    if filters.text:
        queryset = queryset.filter(
            Q(description__icontains=filters.text) | Q(address_text__icontains=filters.text)
        )
    return queryset


def incident_get(pk: int) -> Incident | None:
    return (
        Incident.objects.select_related("category", "category_rule", "authority", "patrol", "recorded_by")
        .filter(pk=pk)
        .first()
    )


def measures_of(incident: Incident) -> QuerySet[Measure]:
    return Measure.objects.filter(incident=incident).select_related("taken_by", "authority", "person")


@dataclass
class Overview:
    incident_count: int
    measure_count: int
    by_category: list[dict]
    by_measure: list[dict]
    by_area: list[dict]
    staff_hours: float
    patrols: int
    joint_patrols: int


def overview(filters: IncidentFilter) -> Overview:
    """Counts for the overview page; all numbers come from the same filtered set."""
    incidents = incident_list(filters)
    by_category = list(
        incidents.values("category__name").annotate(count=Count("id")).order_by("-count", "category__name")
    )
    # Measures and districts are joined to the visible incidents of the period (one index scan of
    # the period), not selected by an IN over them: the scoped measure and area queries checked
    # every incident's visibility a second time (~50 of the page's ~70 ms of SQL on 530,000
    # incidents). A measure is visible exactly when its incident is; one row per measure.
    by_measure = [
        row
        for row in incidents.values(type=F("measures__type"))
        .annotate(count=Count("id"))
        .order_by("-count", "type")
        if row["type"] is not None
    ]
    labels = dict(Measure._meta.get_field("type").choices)
    for row in by_measure:
        row["label"] = labels.get(row["type"], row["type"])
    by_area = [
        {"area__name": row["district"], "count": row["count"]}
        for row in incidents.filter(area_links__area__kind=Area.Kind.DISTRICT)
        .values(district=F("area_links__area__name"))
        .annotate(count=Count("id"))
        .order_by("-count", "district")
    ]
    patrols = patrol_list(date_from=filters.date_from, date_to=filters.date_to, area_id=filters.area_id)
    totals = patrols.aggregate(
        hours=Sum("staff_hours"), n=Count("id"), joint=Count("id", filter=Q(joint=True))
    )
    # Every incident has one category and every measure one type, so the totals are the sums of
    # the breakdowns: two scans of the period fewer.
    return Overview(
        incident_count=sum(row["count"] for row in by_category),
        measure_count=sum(row["count"] for row in by_measure),
        by_category=by_category,
        by_measure=by_measure,
        by_area=by_area,
        staff_hours=float(totals["hours"] or 0),
        patrols=totals["n"] or 0,
        joint_patrols=totals["joint"] or 0,
    )


def incident_points(filters: IncidentFilter, *, limit: int = 5000) -> list[dict]:
    rows = incident_list(filters).values("id", "lat", "lon", "category__name", "occurred_at")[:limit]
    return list(rows)


# --- data minimisation (issue 13) ----------------------------------------------------------

COARSE_CELL_M = 100.0


def may_view_records(user: User) -> bool:
    """Single incidents (lists, details, API records): operational roles and analysts."""
    return user.has_perm("field.view_incident_records")


def may_view_free_text(user: User) -> bool:
    """Descriptions, place texts and measure notes: operational roles only."""
    return user.has_perm("field.view_free_text")


def filters_for(user: User, filters: IncidentFilter) -> IncidentFilter:
    """The filters a user may apply: a text search in free text the user may not read would
    tell its content by the number of hits, so it is dropped for those users."""
    if filters.text and not may_view_free_text(user):
        return dataclasses.replace(filters, text="")
    return filters


def withhold_free_text(incident: Incident, measures: list[Measure] | None = None) -> None:
    """Blank the free text of an incident (and its measures) held in memory, never saved."""
    incident.description = ""
    incident.address_text = ""
    for measure in measures or []:
        measure.note = ""


def coarse_incident_cells(filters: IncidentFilter, *, limit: int = 5000) -> list[dict]:
    """Counts per 100 m cell (ETRS89/UTM32N grid), with the cell centre in WGS84: the map of
    the aggregate-only roles. No ids, no times, no categories of single records."""
    cells: dict[tuple[int, int], int] = {}
    for x, y in incident_list(filters).values_list("x_utm", "y_utm").iterator(chunk_size=5000):
        key = (int(x // COARSE_CELL_M), int(y // COARSE_CELL_M))
        cells[key] = cells.get(key, 0) + 1
    ranked = sorted(cells.items(), key=lambda item: (-item[1], item[0]))[:limit]
    if not ranked:
        return []
    xs = [(cx + 0.5) * COARSE_CELL_M for (cx, _cy), _n in ranked]
    ys = [(cy + 0.5) * COARSE_CELL_M for (_cx, cy), _n in ranked]
    lons, lats = _utm_to_wgs84().transform(xs, ys)
    return [
        {"lat": round(float(lat), 6), "lon": round(float(lon), 6), "count": count}
        for (lat, lon, (_key, count)) in zip(lats, lons, ranked, strict=True)
    ]


@functools.lru_cache(maxsize=1)
def _utm_to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def shift_list(*, date_from: dt.date | None = None, date_to: dt.date | None = None) -> QuerySet[Shift]:
    queryset = Shift.objects.select_related("authority", "lead").annotate(patrol_count=Count("patrols"))
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    return queryset.order_by("-date", "starts_at")


def patrol_list(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    area_id: int | None = None,
    shift_id: int | None = None,
) -> QuerySet[Patrol]:
    queryset = Patrol.objects.select_related("shift", "area", "authority")
    if date_from:
        queryset = queryset.filter(planned_start__gte=local_day_start(date_from))
    if date_to:
        queryset = queryset.filter(planned_start__lt=local_day_start(date_to + dt.timedelta(days=1)))
    if area_id:
        queryset = queryset.filter(area_id=area_id)
    if shift_id:
        queryset = queryset.filter(shift_id=shift_id)
    return queryset


# An officer's own patrol counts as "now" from this long before its planned start until this
# long after its planned end: briefings start early and patrols run over their plan. Without
# it a patrol a few minutes over its plan silently dropped out of the entry form. Documented
# in docs/field-entry.md.
OWN_PATROL_TOLERANCE = dt.timedelta(minutes=60)
# A started patrol that nobody ended is no longer "now" after the longest patrol there can be.
RUNNING_PATROL_LIMIT = dt.timedelta(hours=16)
# How far ahead the start screen looks for the officer's next patrol.
NEXT_PATROL_HORIZON = dt.timedelta(hours=24)


def _distance_from_plan(patrol: Patrol, at: dt.datetime) -> dt.timedelta:
    """How far ``at`` lies outside the planned window (zero inside it), in absolute time."""
    now, start, end = utc(at), utc(patrol.planned_start), utc(patrol.planned_end)
    if now < start:
        return start - now
    if now > end:
        return now - end
    return dt.timedelta(0)


def _nowness(patrol: Patrol, at: dt.datetime) -> tuple:
    """Sort key: a started patrol first, then the one whose plan is closest to ``at``."""
    return (patrol.actual_start is None, _distance_from_plan(patrol, at), patrol.planned_start, patrol.pk)


def current_patrol_for(user: User, at: dt.datetime | None = None) -> Patrol | None:
    """The user's own patrol now: started and not ended, or not yet started with ``at`` within
    ``OWN_PATROL_TOLERANCE`` of its planned window. Scoped: only patrols the user may see."""
    at = at or timezone.now()
    candidates = (
        Patrol.objects.select_related("area", "shift")
        .filter(memberships__user=user, actual_end__isnull=True)
        .filter(
            Q(
                actual_start__isnull=False,
                actual_start__lte=at,
                actual_start__gte=later(at, -RUNNING_PATROL_LIMIT),
            )
            | Q(
                actual_start__isnull=True,
                planned_start__lte=later(at, OWN_PATROL_TOLERANCE),
                planned_end__gte=later(at, -OWN_PATROL_TOLERANCE),
            )
        )
        .distinct()
    )
    return min(candidates, key=lambda patrol: _nowness(patrol, at), default=None)


def next_patrol_for(user: User, at: dt.datetime | None = None) -> Patrol | None:
    """The user's next own patrol that is not yet "now" (planned within the next day)."""
    at = at or timezone.now()
    return (
        Patrol.objects.select_related("area", "shift")
        .filter(
            memberships__user=user,
            actual_start__isnull=True,
            planned_start__gt=later(at, OWN_PATROL_TOLERANCE),
            planned_start__lte=later(at, NEXT_PATROL_HORIZON),
        )
        .order_by("planned_start", "pk")
        .first()
    )


# --- reads for the web UI -------------------------------------------------------------------


def shift_get(pk: int) -> Shift | None:
    return Shift.objects.select_related("authority", "lead").filter(pk=pk).first()


def patrol_get(pk: int) -> Patrol | None:
    return Patrol.objects.select_related("shift", "area", "authority").filter(pk=pk).first()


def patrol_members(patrol: Patrol) -> list[PatrolMember]:
    """Members of a visible patrol with their authority (users are not scoped records)."""
    return list(
        PatrolMember.objects.filter(patrol=patrol)
        .select_related("user", "authority")
        .order_by("authority__name", "user__last_name", "user__username")
    )


def patrols_for_entry(user: User, at: dt.datetime | None = None) -> QuerySet[Patrol]:
    """Patrols an officer may attach a new record to: visible ones running around now."""
    at = at or timezone.now()
    return (
        Patrol.objects.select_related("area")
        .filter(
            planned_start__lte=later(at, dt.timedelta(hours=2)),
            planned_end__gte=later(at, -dt.timedelta(hours=12)),
        )
        .order_by("-planned_start", "name")
    )


@dataclass
class EntryPatrols:
    """The patrol choice of the entry form: the officer's own patrols first, then the others."""

    own: list[Patrol]
    others: list[Patrol]
    current: Patrol | None

    @property
    def all(self) -> list[Patrol]:
        return self.own + self.others


def entry_patrols(user: User, at: dt.datetime | None = None) -> EntryPatrols:
    at = at or timezone.now()
    current = current_patrol_for(user, at)
    patrols = list(patrols_for_entry(user, at))
    if current is not None and current.pk not in {p.pk for p in patrols}:
        patrols.append(current)
    own_ids = set(
        PatrolMember.objects.filter(user=user, patrol_id__in=[p.pk for p in patrols]).values_list(
            "patrol_id", flat=True
        )
    )
    own = sorted((p for p in patrols if p.pk in own_ids), key=lambda patrol: _nowness(patrol, at))
    others = [p for p in patrols if p.pk not in own_ids]
    return EntryPatrols(own=own, others=others, current=current)


def patrols_of_user(user: User, *, date_from: dt.date, date_to: dt.date) -> QuerySet[Patrol]:
    return patrol_list(date_from=date_from, date_to=date_to).filter(memberships__user=user).distinct()


def incident_areas(incident: Incident) -> list[Area]:
    return list(Area.objects.filter(incident_links__incident=incident).order_by("kind", "name"))


def visible_person_ids(person_ids: list[int]) -> set[int]:
    """Which of these persons the active scope may see (persons are never shared)."""
    if not person_ids:
        return set()
    return set(Person.objects.filter(pk__in=person_ids).values_list("pk", flat=True))


def assignable_users() -> QuerySet[User]:
    """Active field staff of all authorities a shift lead may put on a patrol (joint patrols)."""
    return (
        User.objects.filter(is_active=True, role__in=[Role.FIELD_OFFICER, Role.SHIFT_LEAD])
        .select_related("authority")
        .order_by("authority__name", "last_name", "first_name", "username")
    )
