"""API of the Sonderstab: working groups, goals with progress, milestones, recommendations with
their history, meetings with their frozen figures (read); recommendation steps (write, through the
same service as the web UI).

Access follows membership, as in the web UI: a user sees the task forces they belong to (or all,
for the executive board, the leadership and administrators), whatever their authority. A record of
a task force the user does not see answers 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lagebild.taskforce import selectors, services
from lagebild.taskforce.models import (
    ActionItem,
    Goal,
    Meeting,
    Milestone,
    Recommendation,
    RecommendationEvent,
    WorkingGroup,
)
from lagebild.taskforce.progress import STATUS_LABELS

from .base import ROLE_DENIED, ScopedAPIMixin
from .errors import Conflict
from .views import ERRORS, READ_ERRORS

LIST_ERRORS = {code: ERRORS[code] for code in (401, 403)}


class TaskForcePermission(BasePermission):
    message = ROLE_DENIED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("taskforce.view_workspace"))


# --- serializers ---------------------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.get_full_name() or user.get_username()}


class WorkingGroupSerializer(serializers.ModelSerializer):
    task_force = serializers.CharField(source="task_force.name")
    lead = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()

    class Meta:
        model = WorkingGroup
        fields = ["id", "code", "name", "remit", "task_force", "lead", "members"]

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_lead(self, group: WorkingGroup) -> dict[str, Any] | None:
        return _person(group.lead)

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_members(self, group: WorkingGroup) -> list[dict[str, Any]]:
        return [_person(m) for m in group.members.all()]  # type: ignore[misc]


class ProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(STATUS_LABELS))
    status_label = serializers.CharField()
    reason = serializers.CharField()
    as_of = serializers.DateField()
    current = serializers.FloatField(allow_null=True)
    planned_now = serializers.FloatField()
    share_of_way = serializers.FloatField(allow_null=True)
    projection = serializers.FloatField(allow_null=True)
    projection_low = serializers.FloatField(allow_null=True)
    projection_high = serializers.FloatField(allow_null=True)


class GoalSerializer(serializers.ModelSerializer):
    working_group = serializers.IntegerField(source="working_group_id")
    indicator = serializers.CharField(source="indicator.code", allow_null=True, default=None)
    area = serializers.CharField(source="area.name", allow_null=True, default=None)
    progress = serializers.SerializerMethodField()
    milestones_done_share = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "id",
            "working_group",
            "title",
            "kind",
            "indicator",
            "per_100_staff_hours",
            "area",
            "direction",
            "baseline_start",
            "baseline_end",
            "baseline_value",
            "target_value",
            "target_date",
            "progress",
            "milestones_done_share",
        ]

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_progress(self, goal: Goal) -> dict[str, Any] | None:
        result = selectors.goal_progress(goal)
        if result is None:
            return None
        trend = result.trend
        return {
            "status": result.status,
            "status_label": result.status_label,
            "reason": result.reason_de,
            "as_of": result.as_of,
            "current": result.current,
            "planned_now": result.planned_now,
            "share_of_way": result.share_of_way,
            "projection": trend.projection if trend else None,
            "projection_low": trend.low if trend else None,
            "projection_high": trend.high if trend else None,
        }

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_milestones_done_share(self, goal: Goal) -> float | None:
        return selectors.milestone_share_done(goal)


class MilestoneSerializer(serializers.ModelSerializer):
    working_group = serializers.IntegerField(source="working_group_id")
    goal = serializers.IntegerField(source="goal_id", allow_null=True)
    owner = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = [
            "id",
            "working_group",
            "goal",
            "title",
            "owner",
            "due",
            "status",
            "done_on",
            "evidence_note",
            "overdue",
        ]

    @extend_schema_field(PersonRefSerializer)
    def get_owner(self, milestone: Milestone) -> dict[str, Any] | None:
        return _person(milestone.owner)

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, milestone: Milestone) -> bool:
        return milestone.is_overdue()


class RecommendationEventSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()

    class Meta:
        model = RecommendationEvent
        fields = ["from_state", "to_state", "label", "by", "at", "rationale", "title_then", "text_then"]

    @extend_schema_field(PersonRefSerializer)
    def get_by(self, event: RecommendationEvent) -> dict[str, Any] | None:
        return _person(event.by)


class RecommendationSerializer(serializers.ModelSerializer):
    working_group = serializers.IntegerField(source="working_group_id")
    state_label = serializers.SerializerMethodField()
    supersedes = serializers.CharField(source="supersedes.number", allow_null=True, default=None)
    goals = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    milestones = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    operations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    history = RecommendationEventSerializer(source="events", many=True, read_only=True)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "number",
            "working_group",
            "title",
            "text",
            "state",
            "state_label",
            "supersedes",
            "goals",
            "milestones",
            "operations",
            "created_at",
            "updated_at",
            "history",
        ]

    @extend_schema_field(serializers.CharField())
    def get_state_label(self, recommendation: Recommendation) -> str:
        return selectors.workflow().label(recommendation.state)


class TransitionSerializer(serializers.Serializer):
    target = serializers.ChoiceField(
        choices=[], help_text="Kürzel des Zielzustands, z. B. submitted, approved, rejected."
    )
    rationale = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The states of the configured workflow: an unknown state is a bad request (400), a known
        # one that the recommendation cannot reach from where it stands is a conflict (409).
        flow = selectors.workflow()
        self.fields["target"].choices = [(state.code, state.label) for state in flow.states]


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "10:00:00"})
class LocalTimeField(serializers.TimeField):
    """Time of day in the city's local time, without offset ("10:00:00"). OpenAPI's "time" format
    (RFC 3339) would demand an offset, which a wall-clock time of a meeting does not have."""


class FrozenFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    prior = serializers.FloatField(allow_null=True)
    flag = serializers.IntegerField()
    note = serializers.CharField()


class AgendaItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)


class DecisionSerializer(serializers.Serializer):
    text = serializers.CharField()
    recommendation = serializers.IntegerField(source="recommendation_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = ["id", "title", "owner", "due", "done_at"]

    @extend_schema_field(PersonRefSerializer)
    def get_owner(self, action: ActionItem) -> dict[str, Any] | None:
        return _person(action.owner)


class MeetingSerializer(serializers.ModelSerializer):
    task_force = serializers.CharField(source="task_force.name")
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)
    frozen_figures = FrozenFigureSerializer(source="figures", many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    actions = ActionItemSerializer(many=True, read_only=True)
    attendees = serializers.SerializerMethodField()
    starts_at = LocalTimeField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "task_force",
            "number",
            "date",
            "starts_at",
            "location",
            "state",
            "as_of",
            "frozen_at",
            "attendees",
            "minutes",
            "agenda",
            "frozen_figures",
            "decisions",
            "actions",
        ]

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_attendees(self, meeting: Meeting) -> list[dict[str, Any]]:
        return [_person(u) for u in meeting.attendees.all()]  # type: ignore[misc]


# --- views ---------------------------------------------------------------------------------------


class TaskForceViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [TaskForcePermission]
    lookup_value_converter = "int"
    task_force_path = "task_force"

    def visible(self, queryset: QuerySet) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        task_forces = selectors.visible_task_forces(self.request.user)
        return queryset.filter(**{f"{self.task_force_path}__in": task_forces})

    def get_object(self) -> Any:
        obj = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if obj is None:
            raise Http404
        return obj


@extend_schema_view(
    list=extend_schema(
        summary="Arbeitsgruppen", responses={200: WorkingGroupSerializer(many=True), **LIST_ERRORS}
    ),
    retrieve=extend_schema(summary="Arbeitsgruppe", responses={200: WorkingGroupSerializer, **READ_ERRORS}),
)
class WorkingGroupViewSet(TaskForceViewSet):
    """Arbeitsgruppen der Sonderstäbe, die Sie sehen."""

    serializer_class = WorkingGroupSerializer

    def get_queryset(self) -> QuerySet:
        return self.visible(
            WorkingGroup.objects.select_related("task_force", "lead").prefetch_related("members")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Ziele mit Fortschritt", responses={200: GoalSerializer(many=True), **LIST_ERRORS}
    ),
    retrieve=extend_schema(summary="Ziel mit Fortschritt", responses={200: GoalSerializer, **READ_ERRORS}),
)
class GoalViewSet(TaskForceViewSet):
    """Ziele der Arbeitsgruppen; der Fortschritt kommt aus den aktuellen Zählungen (Stand: gestern)."""

    serializer_class = GoalSerializer
    task_force_path = "working_group__task_force"

    def get_queryset(self) -> QuerySet:
        return self.visible(Goal.objects.select_related("working_group", "indicator", "area").order_by("id"))


@extend_schema_view(
    list=extend_schema(
        summary="Meilensteine", responses={200: MilestoneSerializer(many=True), **LIST_ERRORS}
    ),
    retrieve=extend_schema(summary="Meilenstein", responses={200: MilestoneSerializer, **READ_ERRORS}),
)
class MilestoneViewSet(TaskForceViewSet):
    """Meilensteine; ``overdue`` ist wahr, wenn ein offener Meilenstein sein Datum überschritten hat."""

    serializer_class = MilestoneSerializer
    task_force_path = "working_group__task_force"

    def get_queryset(self) -> QuerySet:
        return self.visible(Milestone.objects.select_related("owner").order_by("due", "id"))


@extend_schema_view(
    list=extend_schema(
        summary="Empfehlungen mit Verlauf",
        responses={200: RecommendationSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Empfehlung mit Verlauf", responses={200: RecommendationSerializer, **READ_ERRORS}
    ),
)
class RecommendationViewSet(TaskForceViewSet):
    """Empfehlungen an den Verwaltungsvorstand mit ihrem vollständigen Verlauf."""

    serializer_class = RecommendationSerializer
    task_force_path = "working_group__task_force"

    def get_queryset(self) -> QuerySet:
        events = Prefetch("events", queryset=RecommendationEvent.objects.select_related("by"))
        return self.visible(
            Recommendation.objects.select_related("supersedes")
            .prefetch_related(events, "goals", "milestones", "operations")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        summary="Schritt im Ablauf ausführen",
        request=TransitionSerializer,
        responses={
            200: RecommendationSerializer,
            **{code: ERRORS[code] for code in (400, 401, 403, 404)},
            409: OpenApiResponse(description="Aus dem aktuellen Zustand führt kein Schritt dorthin."),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: int | None = None) -> Response:
        recommendation = self.get_object()
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        flow = selectors.workflow()
        target = payload.validated_data["target"]
        if flow.transition(recommendation.state, target) is None:
            raise Conflict(
                {
                    "target": [
                        f"Von „{flow.label(recommendation.state)}“ führt kein Schritt nach "
                        f"„{flow.label(target)}“."
                    ]
                }
            )
        try:
            updated = services.recommendation_transition(
                recommendation,
                request.user,
                target=payload.validated_data["target"],
                rationale=payload.validated_data["rationale"],
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=updated.pk)).data)


@extend_schema_view(
    list=extend_schema(
        summary="Sitzungen mit eingefrorenen Zahlen",
        responses={200: MeetingSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Sitzung mit eingefrorenen Zahlen", responses={200: MeetingSerializer, **READ_ERRORS}
    ),
)
class MeetingViewSet(TaskForceViewSet):
    """Sitzungen: Tagesordnung, die beim Eröffnen eingefrorenen Zahlen, Festlegungen und Aufgaben."""

    serializer_class = MeetingSerializer

    def get_queryset(self) -> QuerySet:
        return self.visible(
            Meeting.objects.select_related("task_force")
            .prefetch_related("agenda_items", "figures", "decisions", "attendees", "actions__owner")
            .order_by("-date")
        )
