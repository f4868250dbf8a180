"""API of the offence proceedings (issue 15, item 7): registered on the v1 router by ``register``.

Read only. Cases are for the Bußgeldstelle (``proceedings.handle_cases``, Role.PROCEEDINGS) of the
owning authority: the list carries no person data (file number, category, state, dates, amounts);
the detail of one case adds the person concerned, the events, the deadlines, the notices (amounts
and dates, not the printed § 66 contents) and the payments, and the read is logged like in the web
UI (``selectors.case_file``). Another authority's case answers 404 like a missing one, and lists
never contain it (authority scope). Figures (aggregates, no person data) are for
``proceedings.view_figures``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import URLPattern, path
from django.utils import timezone
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from lagebild.proceedings import figures, figures_queries, selectors
from lagebild.proceedings.models import (
    Case,
    CaseDeadline,
    CaseEvent,
    CaseState,
    Notice,
    Payment,
    ProceedingsPerson,
)
from lagebild.proceedings.workflow import DiscontinuationReason

from . import filters
from .base import ScopedAPIMixin, empty_queryset
from .views import ERRORS

CASES_DENIED = "Bußgeldverfahren sieht nur die Bußgeldstelle der eigenen Behörde."
FIGURES_DENIED = "Ihre Rolle sieht keine Kennzahlen der Bußgeldverfahren."
CASE_LIST_ERRORS = {
    400: ERRORS[400],
    401: ERRORS[401],
    403: OpenApiResponse(description=CASES_DENIED),
}
CASE_READ_ERRORS = {**CASE_LIST_ERRORS, 404: ERRORS[404]}
CASE_READ_ERRORS.pop(400)


class CasePermission(BasePermission):
    message = CASES_DENIED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("proceedings.handle_cases"))


class FiguresPermission(BasePermission):
    message = FIGURES_DENIED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("proceedings.view_figures"))


# --- filters -------------------------------------------------------------------------------------


class CaseFilterSet(filters.ValidatedFilterSet):
    state = django_filters.ChoiceFilter(choices=CaseState.choices, help_text="Nur Verfahren in diesem Stand.")
    open = django_filters.BooleanFilter(
        help_text="true: nur offene Verfahren, false: nur abgeschlossene (bezahlt, eingestellt, verjährt, "
        "abgegeben)."
    )
    opened_from = filters.BoundedDateFilter(help_text="Eingegangen ab diesem Tag (Ortszeit, einschließlich).")
    opened_to = filters.BoundedDateFilter(
        help_text="Eingegangen bis zu diesem Tag (Ortszeit, einschließlich)."
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("open") is True:
            queryset = queryset.exclude(state__in=CLOSED)
        elif data.get("open") is False:
            queryset = queryset.filter(state__in=CLOSED)
        if data.get("opened_from"):
            queryset = queryset.filter(opened_at__date__gte=data["opened_from"])
        if data.get("opened_to"):
            queryset = queryset.filter(opened_at__date__lte=data["opened_to"])
        return queryset


CLOSED = [CaseState.PAID, CaseState.DISCONTINUED, CaseState.LAPSED, CaseState.TRANSFERRED]


# --- serializers ---------------------------------------------------------------------------------


class CaseListSerializer(serializers.ModelSerializer):
    """A case without the person concerned (``has_person`` says whether one is assigned)."""

    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    state_label = serializers.CharField(source="get_state_display")
    discontinued_reason_label = serializers.SerializerMethodField()
    has_person = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "file_number",
            "category",
            "category_name",
            "state",
            "state_label",
            "offence_date",
            "opened_at",
            "first_hearing_on",
            "notice_issued_on",
            "served_on",
            "objection_on",
            "final_on",
            "payment_due_on",
            "fine",
            "total_due",
            "paid_total",
            "closed_on",
            "discontinued_reason",
            "discontinued_reason_label",
            "lapsed_on",
            "limitation_deadline",
            "has_person",
        ]

    @extend_schema_field(serializers.CharField())
    def get_discontinued_reason_label(self, case: Case) -> str:
        return DiscontinuationReason.LABELS.get(case.discontinued_reason, case.discontinued_reason)

    @extend_schema_field(serializers.BooleanField())
    def get_has_person(self, case: Case) -> bool:
        return case.person_id is not None


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProceedingsPerson
        fields = [
            "id",
            "family_name",
            "given_names",
            "birth_name",
            "date_of_birth",
            "place_of_birth",
            "marital_status",
            "occupation",
            "street",
            "postcode",
            "city",
            "nationality",
        ]


class EventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = CaseEvent
        fields = [
            "kind",
            "kind_label",
            "on",
            "recorded_at",
            "user_name",
            "state_before",
            "state_after",
            "reason",
        ]


class DeadlineSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = CaseDeadline
        fields = ["kind", "kind_label", "due", "warn_from"]


class NoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = [
            "id",
            "fine",
            "fee",
            "expenses",
            "total",
            "drafted_at",
            "drafted_by_name",
            "approved_at",
            "approved_by_name",
            "issued_on",
            "withdrawn_on",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["amount", "paid_on", "reference", "recorded_at"]


class CaseDetailSerializer(CaseListSerializer):
    """A case with the person concerned (logged read), its events, deadlines, notices and payments."""

    person = PersonSerializer(allow_null=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)
    deadlines = DeadlineSerializer(many=True, read_only=True)
    notices = NoticeSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "offence_at",
            "offence_place",
            "offence_description",
            "max_fine",
            "juvenile",
            "person",
            "events",
            "deadlines",
            "notices",
            "payments",
        ]


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="Anteil an den eingestellten Verfahren.")


class FiguresSerializer(serializers.Serializer):
    cases = serializers.IntegerField(help_text="Verfahren, die im Zeitraum eingegangen sind.")
    notices = serializers.IntegerField(help_text="Davon Verfahren mit erlassenem Bescheid.")
    days_to_notice_median = serializers.FloatField(
        allow_null=True, help_text="Tage von der Tat bis zum ersten Bescheid, Median (über `notices`)."
    )
    days_to_notice_p90 = serializers.FloatField(
        allow_null=True, help_text="Tage von der Tat bis zum ersten Bescheid, 90. Perzentil (linear)."
    )
    discontinued = serializers.IntegerField()
    discontinued_share = serializers.FloatField(allow_null=True, help_text="discontinued / cases.")
    by_reason = ReasonCountSerializer(many=True)
    lapsed = serializers.IntegerField()
    lapsed_share = serializers.FloatField(allow_null=True, help_text="lapsed / cases.")
    served = serializers.IntegerField(help_text="Verfahren, in denen ein Bescheid zugestellt wurde.")
    objections = serializers.IntegerField(help_text="Davon mit Einspruch nach der Zustellung.")
    objection_rate = serializers.FloatField(allow_null=True, help_text="objections / served.")
    final = serializers.IntegerField(help_text="Rechtskräftige Verfahren mit fälligem Betrag.")
    paid_in_full = serializers.IntegerField()
    payment_rate = serializers.FloatField(allow_null=True, help_text="paid_in_full / final.")
    fined_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Summe der Geldbußen der rechtskräftigen Verfahren (€)."
    )
    due_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Summe der fälligen Beträge mit Gebühren und Auslagen (€)."
    )
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Darauf gezahlt (€).")
    paid_amount_share = serializers.FloatField(allow_null=True, help_text="paid_amount / due_amount.")


class FiguresGroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    figures = FiguresSerializer()


class FiguresReportSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    total = FiguresSerializer()
    by_category = FiguresGroupSerializer(many=True)
    by_authority = FiguresGroupSerializer(many=True)


class FiguresQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False,
        help_text="Erster Eingangstag (einschließlich); Standard: 364 Tage vor end.",
        error_messages={"invalid": "Bitte ein Datum (JJJJ-MM-TT) angeben."},
    )
    end = serializers.DateField(
        required=False,
        help_text="Letzter Eingangstag (einschließlich); Standard: heute. Vor start: leerer Zeitraum.",
        error_messages={"invalid": "Bitte ein Datum (JJJJ-MM-TT) angeben."},
    )

    def to_internal_value(self, data: Any) -> Any:
        # "?start=" is a mistake, not "no bound" (as the list filters answer, filters.EMPTY_MESSAGE).
        blank = {
            name: [filters.EMPTY_MESSAGE]
            for name in self.fields
            if name in data and not str(data[name]).strip()
        }
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start")
        end = attrs.get("end")
        start = filters.clamp_day(start) if start else None
        end = filters.clamp_day(end) if end else None
        if end is None:
            end = max(filters.clamp_day(timezone.localdate()), start) if start else timezone.localdate()
        if start is None:
            start = max(figures_queries.default_period(end).start, filters.EARLIEST_DAY)
        return {"start": start, "end": end}


def _figures_payload(fig: Any) -> dict[str, Any]:
    data = dataclasses.asdict(fig)
    data["by_reason"] = [
        {
            **row,
            "reason_label": DiscontinuationReason.LABELS.get(row["reason"], row["reason"] or "ohne Angabe"),
        }
        for row in data["by_reason"]
    ]
    return data


# --- views ---------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Bußgeldverfahren auflisten",
        description="Verfahren der eigenen Behörde, neueste zuerst, ohne Angaben zur betroffenen Person. "
        "Nur für die Bußgeldstelle.",
        responses={200: CaseListSerializer(many=True), **CASE_LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Bußgeldverfahren abrufen",
        description="Ein Verfahren mit betroffener Person, Verfahrensschritten, Fristen, Bescheiden und "
        "Zahlungen. Der Abruf der Personendaten wird protokolliert. Nur für die Bußgeldstelle.",
        responses={200: CaseDetailSerializer, **CASE_READ_ERRORS},
    ),
)
class CaseViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bußgeldverfahren der eigenen Behörde (nur lesen)."""

    permission_classes = [CasePermission]
    filterset_class = CaseFilterSet
    lookup_value_converter = "int"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return CaseDetailSerializer if self.action == "retrieve" else CaseListSerializer

    def get_queryset(self) -> QuerySet:
        if self.is_schema_view:
            return empty_queryset(Case)
        return selectors.cases(user=self.request.user).order_by("-opened_at", "-id")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            case = selectors.case_file(
                user=request.user, pk=int(self.kwargs["pk"]), purpose="Abruf über die API"
            )
        except selectors.CaseNotFound:
            raise Http404 from None
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data)


class FiguresView(ScopedAPIMixin, APIView):
    """Kennzahlen der Bußgeldverfahren."""

    permission_classes = [FiguresPermission]
    pagination_class = None

    @extend_schema(
        operation_id="proceedings_figures",
        summary="Kennzahlen der Bußgeldverfahren",
        description="Verfahren der eigenen Behörde, die im Zeitraum eingegangen sind: Tage von der Tat bis "
        "zum Bescheid (Median, 90. Perzentil), Anteile eingestellt (nach Grund) und verjährt, "
        "Einspruchsquote der zugestellten Bescheide, Zahlungsquote und Beträge der rechtskräftigen "
        "Verfahren; gesamt, je Sachverhalt und je Behörde. Anteile ohne Bezugsgröße sind null.",
        parameters=[FiguresQuerySerializer],
        responses={
            200: FiguresReportSerializer,
            400: OpenApiResponse(description="Ungültige Parameter; Meldungen je Parameter."),
            401: ERRORS[401],
            403: OpenApiResponse(description=FIGURES_DENIED),
        },
    )
    def get(self, request: Request) -> Response:
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        # An end before the start is an empty period (as the list filters answer date_from > date_to).
        report = (
            figures_queries.report(figures_queries.Period(start, end)) if start <= end else figures.report([])
        )
        payload = {
            "start": start,
            "end": end,
            "total": _figures_payload(report.total),
            "by_category": [
                {"key": g.key, "figures": _figures_payload(g.figures)} for g in report.by_category
            ],
            "by_authority": [
                {"key": g.key, "figures": _figures_payload(g.figures)} for g in report.by_authority
            ],
        }
        return Response(FiguresReportSerializer(payload).data)


urlpatterns: list[URLPattern] = [
    path("proceedings/figures/", FiguresView.as_view(), name="proceedings-figures"),
]


def register(router: DefaultRouter) -> None:
    """Add the proceedings' viewsets to the v1 router."""
    router.register("proceedings/cases", CaseViewSet, basename="proceedings-case")
