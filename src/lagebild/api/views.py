"""Views of API v1. Thin: serializers parse, ``field.services`` write, selectors read.

Every view runs in the authority scope of the authenticated user (``ScopedAPIMixin``),
so records of the other authority answer 404 exactly like records that do not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import Model, Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from lagebild.catalog.models import Category
from lagebild.catalog.selectors import category_list
from lagebild.core import audit
from lagebild.field import selectors, services
from lagebild.field.models import Incident, IncidentArea, Measure, Patrol, PatrolMember, Shift
from lagebild.geo.models import Area
from lagebild.geo.selectors import area_list

from . import filters, schema  # noqa: F401  (registers the schema extension)
from . import serializers as s
from .base import RolePermission, ScopedAPIMixin, empty_queryset
from .errors import Conflict
from .idempotency import IDEMPOTENCY_ERRORS, IDEMPOTENCY_PARAMETER, idempotent

ERRORS = {
    400: OpenApiResponse(description="Ungültige Eingabe; Meldungen je Feld."),
    401: OpenApiResponse(description="Nicht angemeldet (Token fehlt oder ist ungültig)."),
    403: OpenApiResponse(description="Die Rolle erlaubt diese Aktion nicht."),
    404: OpenApiResponse(description="Nicht gefunden oder für Ihre Behörde nicht sichtbar."),
}
CONFLICT = OpenApiResponse(description="Passt nicht zum aktuellen Stand (z. B. Streife schon begonnen).")
READ_ERRORS = {code: ERRORS[code] for code in (401, 404)}
LIST_ERRORS = {code: ERRORS[code] for code in (400, 401)}
# Data minimisation (issue 13): single records only for roles that work with them.
RECORDS_DENIED = OpenApiResponse(
    description="Ihre Rolle sieht nur zusammengefasste Zahlen (Auswertung), keine einzelnen Datensätze."
)
RECORD_READ_ERRORS = {**READ_ERRORS, 403: RECORDS_DENIED}
RECORD_LIST_ERRORS = {**LIST_ERRORS, 403: RECORDS_DENIED}
FREE_TEXT_FIELDS = ("description", "address_text", "note")


class RecordReadPermission(BasePermission):
    """Incidents and measures one by one: operational roles and analysts (core/rules.py); task
    force, leadership, executive board, DPO and platform administration see aggregates only.
    Checked before any lookup, so a denied role learns nothing about which ids exist."""

    message = "Ihre Rolle sieht nur zusammengefasste Zahlen (Auswertung), keine einzelnen Datensätze."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("field.view_incident_records"))


def _withhold_free_text(data: Any) -> None:
    """Blank free text in serialized incidents and measures (analysts: no free text)."""
    if isinstance(data, list):
        for item in data:
            _withhold_free_text(item)
    elif isinstance(data, Mapping):
        for key in FREE_TEXT_FIELDS:
            if data.get(key):
                data[key] = ""  # type: ignore[index]
        for key in ("results", "measures"):
            if isinstance(data.get(key), list):
                _withhold_free_text(data[key])


class FreeTextMinimisingMixin:
    """Answers of incident and measure views carry no free text for roles without
    ``field.view_free_text`` (the analyst); the structure and the schema stay the same."""

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        user = getattr(request, "user", None)
        if (
            request.method in ("GET", "HEAD")
            and 200 <= response.status_code < 300
            and user is not None
            and user.is_authenticated
            and not user.has_perm("field.view_free_text")
        ):
            _withhold_free_text(getattr(response, "data", None))
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


def _area_links() -> QuerySet:
    # Area geometries can be large; the reference needs only the names.
    return IncidentArea.objects.select_related("area").only(
        "id", "incident_id", "area_id", "area__id", "area__kind", "area__code", "area__name"
    )


def _incident_prefetches() -> list[Prefetch]:
    return [
        Prefetch("measures", queryset=Measure.objects.select_related("authority", "person")),
        Prefetch("area_links", queryset=_area_links()),
    ]


def _patrol_prefetches() -> list[Prefetch]:
    return [
        Prefetch(
            "memberships",
            queryset=PatrolMember.objects.select_related("user", "authority").order_by(
                "authority__kind", "id"
            ),
        )
    ]


class BaseViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    lookup_value_converter = "int"
    model: type[Model]

    def get_queryset(self) -> QuerySet:
        if self.is_schema_view:
            return empty_queryset(self.model)
        return self.base_queryset()

    def base_queryset(self) -> QuerySet:  # pragma: no cover - overridden
        return self.model.objects.all()  # type: ignore[attr-defined]

    def get_object(self) -> Any:
        # Lookups ignore the list filters: a record is found by id whenever it is visible.
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        obj = self.base_queryset().filter(**{self.lookup_field: lookup}).first()
        if obj is None:
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        context["show_persons"] = bool(user and user.is_authenticated and user.has_perm("field.view_persons"))
        context["persons_shown"] = set()
        return context

    def log_person_access(self, context: dict[str, Any]) -> None:
        shown = context.get("persons_shown")
        if shown:
            audit.log(
                "api.persons.viewed",
                user=self.request.user,
                object_type="field.person",
                pseudonyms=sorted(shown),
            )

    def respond_list(self, queryset: QuerySet, prefetch: list[Prefetch] | None = None) -> Response:
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        if prefetch:
            prefetch_related_objects(rows, *prefetch)
        context = self.get_serializer_context()
        data = self.get_serializer_class()(rows, many=True, context=context).data
        self.log_person_access(context)
        return self.get_paginated_response(data) if page is not None else Response(data)


# --- incidents ------------------------------------------------------------------------------


def _all_incident_errors(serializer: s.IncidentCreateSerializer, user: Any) -> dict[str, Any]:
    """The serializer's errors plus what the service would refuse in the fields that passed
    (place outside the city, measure rules, ...), so a client gets every error in one answer."""
    errors: dict[str, Any] = dict(serializer.errors)
    if not isinstance(serializer.initial_data, Mapping):
        return errors  # not an object at all: nothing more to check
    valid: dict[str, Any] = {}
    for name, field in serializer.fields.items():
        if name in errors:
            continue
        try:
            valid[name] = field.run_validation(field.get_value(serializer.initial_data))
        except (serializers.ValidationError, SkipField):
            continue
    checked = services.incident_check(
        user=user,
        category=valid.get("category"),
        occurred_at=valid.get("occurred_at"),
        lat=valid.get("lat", ""),
        lon=valid.get("lon", ""),
        measures=valid.get("measures") or [],
        source=valid.get("source") or Incident.Source.PATROL,
        description=valid.get("description") or "",
        address_text=valid.get("address_text") or "",
        patrol=valid.get("patrol"),
        external_id=valid.get("external_id") or "",
    )
    for key, messages in checked.items():
        errors.setdefault(key, messages)
    return errors


@extend_schema_view(
    list=extend_schema(
        summary="Feststellungen auflisten",
        description="Eigene und gemeinsame Feststellungen, neueste zuerst, mit Maßnahmen und Gebieten. "
        "Für die Analyse ohne Freitexte; Sonderstab, Leitung und Verwaltungsvorstand sehen nur "
        "zusammengefasste Zahlen (403).",
        responses={200: s.IncidentSerializer(many=True), **RECORD_LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Feststellung abrufen", responses={200: s.IncidentSerializer, **RECORD_READ_ERRORS}
    ),
)
class IncidentViewSet(FreeTextMinimisingMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Feststellungen (Vorkommnisse) mit ihren Maßnahmen."""

    permission_classes = [RolePermission, RecordReadPermission]
    model = Incident
    serializer_class = s.IncidentSerializer
    filterset_class = filters.IncidentFilterSet
    write_permissions = {"create": "field.record_incident", "measures": "field.record_incident"}

    def base_queryset(self) -> QuerySet:
        return selectors.incident_list().select_related("category_rule")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return s.IncidentCreateSerializer
        return s.IncidentSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset()).select_related("category_rule")
        return self.respond_list(queryset, _incident_prefetches())

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incident = self.get_object()
        audit.log("field.incident.viewed", user=request.user, obj=incident)
        return self._incident_response(incident, status.HTTP_200_OK)

    def _incident_response(self, incident: Incident, code: int) -> Response:
        prefetch_related_objects([incident], *_incident_prefetches())
        context = self.get_serializer_context()
        data = s.IncidentSerializer(incident, context=context).data
        self.log_person_access(context)
        return Response(data, status=code)

    @extend_schema(
        summary="Feststellung mit Maßnahmen erfassen",
        description="Erfasst eine Feststellung und ihre Maßnahmen in einem Schritt (alles oder nichts). "
        "Lage (UTM, H3-Zelle, Gebiete) und die zum Tatzeitpunkt geltende Regel des Sachverhalts "
        "werden berechnet.",
        request=s.IncidentCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: s.IncidentSerializer,
            **{code: ERRORS[code] for code in (400, 401, 403)},
            **IDEMPOTENCY_ERRORS,
        },
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.IncidentCreateSerializer(data=request.data, context=self.get_serializer_context())
        if not serializer.is_valid():
            raise serializers.ValidationError(_all_incident_errors(serializer, request.user))
        data = serializer.validated_data
        try:
            incident = services.incident_create(
                user=request.user,
                category=data["category"],
                occurred_at=data["occurred_at"],
                lat=data["lat"],
                lon=data["lon"],
                measures=data.get("measures", []),
                source=data["source"],
                description=data.get("description", ""),
                address_text=data.get("address_text", ""),
                joint=data["joint"],
                patrol=data["patrol"],
                external_id=data.get("external_id", ""),
            )
        except IntegrityError:
            # Two requests with the same external id at the same moment.
            raise serializers.ValidationError(
                {"external_id": ["Eine Feststellung mit dieser externen Kennung ist bereits erfasst."]}
            ) from None
        # Read back what the service wrote with the leanest queries: this is the hot path.
        # Every measure was taken by the recording user, so their authority is known.
        authority = request.user.authority
        incident.measure_list = list(
            Measure.objects.filter(incident_id=incident.pk)
            .select_related("person")
            .order_by("taken_at", "id")
        )
        for measure in incident.measure_list:
            if measure.authority_id == authority.pk:
                measure.authority = authority
        incident.area_link_list = list(_area_links().filter(incident_id=incident.pk))
        context = self.get_serializer_context()
        data = s.IncidentSerializer(incident, context=context).data
        self.log_person_access(context)
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="Maßnahmen einer Feststellung",
        request=None,
        responses={200: s.MeasureSerializer(many=True), **RECORD_READ_ERRORS},
    )
    @extend_schema(
        methods=["POST"],
        summary="Maßnahme nachtragen",
        description="Fügt einer sichtbaren Feststellung eine spätere Maßnahme hinzu, "
        "z. B. eine nachträglich gestellte Strafanzeige.",
        request=s.MeasureAddSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: s.MeasureSerializer, **ERRORS, **IDEMPOTENCY_ERRORS},
    )
    @action(
        detail=True, methods=["get", "post"], url_path="measures", pagination_class=None, filter_backends=[]
    )
    @idempotent
    def measures(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            rows = list(selectors.measures_of(incident))
            data = s.MeasureSerializer(rows, many=True, context=context).data
            self.log_person_access(context)
            return Response(data)
        serializer = s.MeasureAddSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        measure = services.measure_add(
            user=request.user,
            incident=incident,
            measure=serializer.to_measure_input(),
            taken_at=serializer.validated_data.get("taken_at"),
        )
        measure = selectors.measures_of(incident).get(pk=measure.pk)
        data = s.MeasureSerializer(measure, context=context).data
        self.log_person_access(context)
        return Response(data, status=status.HTTP_201_CREATED)


# --- measures -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Maßnahmen auflisten",
        description="Maßnahmen an eigenen und gemeinsamen Feststellungen, neueste zuerst.",
        responses={200: s.MeasureSerializer(many=True), **RECORD_LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Maßnahme abrufen", responses={200: s.MeasureSerializer, **RECORD_READ_ERRORS}
    ),
)
class MeasureViewSet(FreeTextMinimisingMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Maßnahmen (nur lesen; erfasst werden sie mit ihrer Feststellung)."""

    permission_classes = [RolePermission, RecordReadPermission]
    model = Measure
    serializer_class = s.MeasureSerializer
    filterset_class = filters.MeasureFilterSet

    def base_queryset(self) -> QuerySet:
        return Measure.objects.select_related("authority", "person")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond_list(self.filter_queryset(self.get_queryset()))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        context = self.get_serializer_context()
        measure = self.get_object()
        audit.log("field.measure.viewed", user=request.user, obj=measure)
        data = s.MeasureSerializer(measure, context=context).data
        self.log_person_access(context)
        return Response(data)


# --- shifts ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Schichten auflisten",
        description="Schichten der eigenen Behörde.",
        responses={200: s.ShiftSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="Schicht abrufen", responses={200: s.ShiftSerializer, **READ_ERRORS}),
)
class ShiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Schichten (Früh-, Spät-, Nachtschicht) der eigenen Behörde."""

    model = Shift
    serializer_class = s.ShiftSerializer
    filterset_class = filters.ShiftFilterSet
    write_permissions = {"create": "field.plan_shifts"}

    def base_queryset(self) -> QuerySet:
        return selectors.shift_list()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return s.ShiftCreateSerializer if self.action == "create" else s.ShiftSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond_list(self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary="Schicht anlegen",
        description="Beginn und Ende ergeben sich aus der Art der Schicht.",
        request=s.ShiftCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: s.ShiftSerializer,
            **{code: ERRORS[code] for code in (400, 401, 403)},
            **IDEMPOTENCY_ERRORS,
        },
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.ShiftCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            shift = services.shift_create(
                user=request.user,
                date=data["date"],
                kind=data["kind"],
                note=data.get("note", ""),
                lead=data["lead"],
            )
        except IntegrityError:
            raise serializers.ValidationError(
                {"kind": ["Diese Schicht ist für den Tag bereits angelegt."]}
            ) from None
        shift.authority = request.user.authority
        return Response(s.ShiftSerializer(shift, context=self.get_serializer_context()).data, status=201)


# --- patrols --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Streifen auflisten",
        description="Eigene Streifen und alle Doppelstreifen, neueste zuerst.",
        responses={200: s.PatrolSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="Streife abrufen", responses={200: s.PatrolSerializer, **READ_ERRORS}),
)
class PatrolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Streifen; Doppelstreifen (Mitglieder aus Stadt und Polizei) sehen beide Behörden."""

    model = Patrol
    serializer_class = s.PatrolSerializer
    filterset_class = filters.PatrolFilterSet
    write_permissions = {
        "create": "field.plan_shifts",
        # Members start and end their own patrol; the service checks membership.
        "start": "field.record_incident",
        "end": "field.record_incident",
    }

    def base_queryset(self) -> QuerySet:
        return selectors.patrol_list()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return s.PatrolCreateSerializer
        if self.action in {"start", "end"}:
            return s.PatrolTimeSerializer
        return s.PatrolSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond_list(self.filter_queryset(self.get_queryset()), _patrol_prefetches())

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._patrol_response(self.get_object())

    def _patrol_response(self, patrol: Patrol, code: int = status.HTTP_200_OK) -> Response:
        prefetch_related_objects([patrol], *_patrol_prefetches())
        return Response(s.PatrolSerializer(patrol, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary="Streife planen",
        description="Legt eine Streife in einer Schicht an; mit Mitgliedern aus Stadt und Polizei "
        "wird sie eine Doppelstreife. Ohne Zeiten gelten Beginn und Ende der Schicht.",
        request=s.PatrolCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: s.PatrolSerializer,
            **{code: ERRORS[code] for code in (400, 401, 403)},
            **IDEMPOTENCY_ERRORS,
        },
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.PatrolCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        area: Area | None = data["area"]
        patrol = services.patrol_create(
            user=request.user,
            shift=data["shift"],
            name=data["name"],
            members=data["members"],
            area_id=area.pk if area else None,
            clothing=data["clothing"],
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
        )
        return self._patrol_response(patrol, status.HTTP_201_CREATED)

    def _time_action(self, request: Request, operation: Any) -> Response:
        patrol = self.get_object()
        serializer = s.PatrolTimeSerializer(
            data=request.data, context={**self.get_serializer_context(), "patrol": patrol}
        )
        serializer.is_valid(raise_exception=True)
        try:
            patrol = operation(user=request.user, patrol=patrol, at=serializer.validated_data.get("at"))
        except DjangoValidationError as exc:
            # Started twice, or ended before it began: the patrol's state, not the input, is at fault.
            started = patrol.actual_start is not None
            if started == (operation is services.patrol_start):
                raise Conflict(exc.message_dict) from exc
            raise
        return self._patrol_response(patrol)

    @extend_schema(
        summary="Streife beginnen",
        request=s.PatrolTimeSerializer,
        responses={200: s.PatrolSerializer, **ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._time_action(request, services.patrol_start)

    @extend_schema(
        summary="Streife beenden",
        request=s.PatrolTimeSerializer,
        responses={200: s.PatrolSerializer, **ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def end(self, request: Request, pk: str | None = None) -> Response:
        return self._time_action(request, services.patrol_end)


# --- areas and categories -------------------------------------------------------------------

GEOMETRY_PARAMETER = OpenApiParameter(
    "geometry",
    OpenApiTypes.BOOL,
    description="1/true: GeoJSON-Geometrie mitliefern (Standard: ohne, um die Antwort klein zu halten).",
)


@extend_schema_view(
    list=extend_schema(
        summary="Gebiete auflisten",
        description="Stadtbezirke, Schwerpunkträume, Streifenbereiche usw.; "
        "ohne Geometrie, außer mit ?geometry=1.",
        parameters=[GEOMETRY_PARAMETER],
        responses={200: s.AreaSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Gebiet mit Geometrie abrufen", responses={200: s.AreaSerializer, **READ_ERRORS}
    ),
)
class AreaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Gebiete (für alle Behörden gleich)."""

    model = Area
    serializer_class = s.AreaSerializer
    filterset_class = filters.AreaFilterSet

    def get_queryset(self) -> QuerySet:
        return self.base_queryset()

    def base_queryset(self) -> QuerySet:
        return area_list(active_only=False)

    def _include_geometry(self) -> bool:
        if self.action == "retrieve":
            return True
        values = {value.strip().lower() for value in self.request.query_params.getlist("geometry")}
        if values - {"1", "true", "ja", "yes", "0", "false", "nein", "no"}:
            raise serializers.ValidationError({"geometry": ["Bitte true oder false angeben."]})
        return bool(values & {"1", "true", "ja", "yes"})

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "include_geometry": self._include_geometry()}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        if not self._include_geometry():
            queryset = queryset.defer("geometry")
        return self.respond_list(queryset)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(s.AreaSerializer(self.get_object(), context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(
        summary="Sachverhalte auflisten",
        description="Aktive Sachverhalte mit ihren zeitlich gültigen Regeln "
        "(Rechtsgrundlage, Verwarnungsgeld, Verjährung).",
        responses={200: s.CategorySerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Sachverhalt abrufen", responses={200: s.CategorySerializer, **READ_ERRORS}
    ),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Sachverhalte (Katalog, für alle Behörden gleich); Abruf über das Kürzel."""

    model = Category
    serializer_class = s.CategorySerializer
    filterset_class = filters.CategoryFilterSet
    lookup_field = "code"
    lookup_value_converter = "slug"

    def get_queryset(self) -> QuerySet:
        return self.base_queryset()

    def base_queryset(self) -> QuerySet:
        return category_list(active_only=False)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond_list(self.filter_queryset(self.get_queryset()))
