"""Analytics endpoints of API v1: the displacement analysis (WDD, WDQ, hour profile).

``GET /api/v1/analytics/displacement/`` takes the same design as the web page
(/auswertung/verdraengung/) as query parameters and answers with the figures of
``analytics.displacement_service``. Like the page it reads the shared counts, so city and police
tokens get the same numbers. Every bad parameter answers 400 with German messages per parameter.
"""

from __future__ import annotations

import math
from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lagebild.analytics.displacement_service import (
    DisplacementInputError,
    DisplacementParams,
    DisplacementResult,
    Estimate,
    analyse_displacement,
    parse_distances,
)
from lagebild.analytics.periods import MAX_PERIOD_DAYS, Period
from lagebild.catalog.models import Category

from .base import ROLE_DENIED, ScopedAPIMixin
from .filters import EARLIEST_DAY, LATEST_DAY, RANGE_MESSAGE
from .serializers import MAX_ID

MAX_LIST_ITEMS = 50
DATE_FORMATS = ["iso-8601", "%d.%m.%Y"]


class AnalyticsPermission(BasePermission):
    """Analytic figures are shared: any signed-in member of either partner may read them."""

    message = ROLE_DENIED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("analytics.view"))


# --- query parameters ---------------------------------------------------------------------------


class CommaListField(serializers.Field):
    """Several values as ``?x=1,2``, ``?x=1&x=2`` or ``?x[]=1`` (any mix); empty items dropped."""

    default_error_messages = {"too_many": f"Höchstens {MAX_LIST_ITEMS} Werte."}

    def get_value(self, dictionary: Any) -> Any:
        getlist = getattr(dictionary, "getlist", None)
        if getlist is None:
            return dictionary.get(self.field_name, serializers.empty)
        raw = getlist(self.field_name) or getlist(f"{self.field_name}[]")
        if not raw:
            return serializers.empty
        return raw

    def to_internal_value(self, data: Any) -> list[str]:
        items = data if isinstance(data, list) else [data]
        values = [part.strip() for item in items for part in str(item).split(",")]
        values = [v for v in values if v]
        if len(values) > MAX_LIST_ITEMS:
            self.fail("too_many")
        return values

    def to_representation(self, value: Any) -> Any:
        return value


class IdListField(CommaListField):
    default_error_messages = {
        **CommaListField.default_error_messages,
        "invalid": "„{value}“ ist keine Gebietsnummer (ganze Zahl ≥ 0).",
    }

    def to_internal_value(self, data: Any) -> list[int]:
        ids = []
        for value in super().to_internal_value(data):
            if not value.isdigit() or int(value) > MAX_ID:
                self.fail("invalid", value=value[:40])
            ids.append(int(value))
        return ids


class DisplacementQuerySerializer(serializers.Serializer):
    target = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    rings = serializers.CharField(required=False, allow_blank=True, max_length=200)
    buffer_areas = IdListField(required=False)
    control = IdListField()
    buffer_control = IdListField(required=False)
    pre_start = serializers.DateField(input_formats=DATE_FORMATS)
    pre_end = serializers.DateField(input_formats=DATE_FORMATS)
    post_start = serializers.DateField(input_formats=DATE_FORMATS)
    post_end = serializers.DateField(input_formats=DATE_FORMATS)
    indicator = serializers.CharField(required=False, allow_blank=True, max_length=60)
    categories = CommaListField(required=False)
    alpha = serializers.FloatField(required=False, default=0.05)

    def validate_rings(self, value: str) -> tuple[float, ...]:
        if not value.strip():
            return ()
        try:
            return parse_distances(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_alpha(self, value: float) -> float:
        if not math.isfinite(value) or not 0 < value < 1:
            raise serializers.ValidationError(
                "Das Signifikanzniveau muss zwischen 0 und 1 liegen (z. B. 0.05)."
            )
        return value

    def validate_categories(self, values: list[str]) -> list[int]:
        """Category ids or codes (as in /api/v1/categories/)."""
        by_code = dict(Category.objects.filter(code__in=values).values_list("code", "pk"))
        known_ids = set(
            Category.objects.filter(
                pk__in=[int(v) for v in values if v.isdigit() and int(v) <= MAX_ID]
            ).values_list("pk", flat=True)
        )
        ids, unknown = [], []
        for value in values:
            if value in by_code:
                ids.append(by_code[value])
            elif value.isdigit() and int(value) in known_ids:
                ids.append(int(value))
            else:
                unknown.append(value[:40])
        if unknown:
            raise serializers.ValidationError(f"Unbekannte Sachverhalte: {', '.join(unknown)}.")
        return list(dict.fromkeys(ids))

    def _day(self, name: str, attrs: dict[str, Any], errors: dict[str, list[str]]) -> None:
        day = attrs[name]
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            errors.setdefault(name, []).append(RANGE_MESSAGE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for name in ("pre_start", "pre_end", "post_start", "post_end"):
            self._day(name, attrs, errors)
        for start, end, label in (("pre_start", "pre_end", "Vorher"), ("post_start", "post_end", "Nachher")):
            if attrs[end] < attrs[start]:
                errors.setdefault(end, []).append(f"{label}: das Enddatum liegt vor dem Startdatum.")
            elif (attrs[end] - attrs[start]).days + 1 > MAX_PERIOD_DAYS:
                errors.setdefault(end, []).append("Der Zeitraum darf höchstens 10 Jahre umfassen.")
        rings, areas = attrs.get("rings") or (), attrs.get("buffer_areas") or []
        if rings and areas:
            errors["rings"] = ["Bitte entweder rings oder buffer_areas angeben, nicht beides."]
        elif not rings and not areas:
            errors["rings"] = [
                "Bitte rings (Ringabstände in Metern, z. B. 200,400,800) oder buffer_areas angeben."
            ]
        if attrs.get("indicator") and attrs.get("categories"):
            errors["indicator"] = ["Bitte entweder indicator oder categories angeben, nicht beides."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_params(self) -> DisplacementParams:
        data = self.validated_data
        return DisplacementParams(
            target_id=data["target"],
            control_ids=tuple(data["control"]),
            pre=Period(data["pre_start"], data["pre_end"]),
            post=Period(data["post_start"], data["post_end"]),
            ring_distances_m=tuple(data.get("rings") or ()),
            buffer_area_ids=tuple(data.get("buffer_areas") or ()),
            buffer_control_ids=tuple(data.get("buffer_control") or ()),
            indicator_code=data.get("indicator") or "",
            category_ids=tuple(data.get("categories") or ()),
            alpha=data["alpha"],
        )


PARAMETERS = [
    OpenApiParameter(
        "target",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        required=True,
        description="Id des Zielgebiets (/api/v1/areas/).",
    ),
    OpenApiParameter(
        "rings",
        OpenApiTypes.STR,
        description="Pufferringe um das Zielgebiet: Außenkanten in Metern, aufsteigend, kommagetrennt "
        "(z. B. 200,400,800 ergibt 0–200, 200–400 und 400–800 m). Entweder rings oder buffer_areas.",
    ),
    OpenApiParameter(
        "buffer_areas",
        OpenApiTypes.STR,
        description="Ids gewählter Pufferbereiche, kommagetrennt oder wiederholt. "
        "Entweder rings oder buffer_areas.",
    ),
    OpenApiParameter(
        "control",
        OpenApiTypes.STR,
        required=True,
        description="Ids der Kontrollgebiete des Zielgebiets, kommagetrennt "
        "(werden zusammengezählt; 0 = ganze Stadt).",
    ),
    OpenApiParameter(
        "buffer_control",
        OpenApiTypes.STR,
        description="Ids eigener Kontrollgebiete für den Puffer; "
        "ohne Angabe dient das Kontrollgebiet beiden.",
    ),
    OpenApiParameter(
        "pre_start", OpenApiTypes.DATE, required=True, description="Erster Tag vorher (JJJJ-MM-TT)."
    ),
    OpenApiParameter("pre_end", OpenApiTypes.DATE, required=True, description="Letzter Tag vorher."),
    OpenApiParameter("post_start", OpenApiTypes.DATE, required=True, description="Erster Tag nachher."),
    OpenApiParameter(
        "post_end",
        OpenApiTypes.DATE,
        required=True,
        description="Letzter Tag nachher. Die Zeiträume dürfen verschieden lang sein (Zeitgewichte = Tage).",
    ),
    OpenApiParameter(
        "indicator",
        OpenApiTypes.STR,
        description="Code einer Kennzahl, die Fälle zählt (z. B. drug-consumption-observed). "
        "Ohne indicator und categories: alle Feststellungen.",
    ),
    OpenApiParameter(
        "categories",
        OpenApiTypes.STR,
        description="Sachverhalte (Ids oder Kürzel, kommagetrennt): gezählt werden deren Feststellungen.",
    ),
    OpenApiParameter(
        "alpha",
        {
            "type": "number",
            "format": "double",
            "minimum": 0,
            "maximum": 1,
            "exclusiveMinimum": True,
            "exclusiveMaximum": True,
        },
        description="Signifikanzniveau für z-Test und Konfidenzintervall (Standard 0.05).",
    ),
]


# --- response -----------------------------------------------------------------------------------


class DisplacementAreaRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class DisplacementAreasSerializer(serializers.Serializer):
    target = DisplacementAreaRefSerializer()
    control = DisplacementAreaRefSerializer(many=True)
    buffer_control = DisplacementAreaRefSerializer(
        many=True, help_text="Leer: das Kontrollgebiet dient auch dem Puffer."
    )
    buffer_areas = DisplacementAreaRefSerializer(
        many=True, help_text="Gewählte Pufferbereiche (leer bei Ringen)."
    )
    rings_m = serializers.ListField(
        child=serializers.FloatField(), help_text="Außenkanten der Ringe in Metern (leer bei Gebieten)."
    )


class DisplacementPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()


class DisplacementPeriodsSerializer(serializers.Serializer):
    pre = DisplacementPeriodSerializer()
    post = DisplacementPeriodSerializer()


class DisplacementIndicatorRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="activity, problem oder outcome")
    fact = serializers.CharField()
    unit = serializers.CharField()


class DisplacementCategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DisplacementCountedSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["indicator", "categories"])
    name = serializers.CharField()
    indicator = DisplacementIndicatorRefSerializer(allow_null=True)
    categories = DisplacementCategoryRefSerializer(
        many=True, help_text="Gezählte Sachverhalte; leer bei kind=categories: alle Feststellungen."
    )


class DisplacementTimeWeightsSerializer(serializers.Serializer):
    pre_days = serializers.IntegerField()
    post_days = serializers.IntegerField()
    pre = serializers.FloatField(help_text="Zeitgewicht vorher = Tage vorher / Tage nachher.")
    post = serializers.FloatField(help_text="Zeitgewicht nachher (immer 1).")


class DisplacementWeightsSerializer(serializers.Serializer):
    time = DisplacementTimeWeightsSerializer()
    area = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="Flächengewichte (Ziel, Kontrolle, Puffer, Pufferkontrolle); null = nicht verwendet.",
    )
    unit = serializers.CharField(help_text="Einheit aller Schätzwerte.")


class DisplacementCountRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="target, control, buffer_control, buffer (Summe), ring-N oder buffer-ID"
    )
    role = serializers.CharField(help_text="target, buffer, target_control oder buffer_control")
    label = serializers.CharField()
    area_ids = serializers.ListField(child=serializers.IntegerField())
    inner_m = serializers.FloatField(allow_null=True)
    outer_m = serializers.FloatField(allow_null=True)
    area_km2 = serializers.FloatField(allow_null=True)
    pre = serializers.IntegerField()
    post = serializers.IntegerField()
    pre_per_day = serializers.FloatField()
    post_per_day = serializers.FloatField()


class DisplacementWddSerializer(serializers.Serializer):
    estimate = serializers.FloatField(
        help_text="WDD gesamt = local + displacement (< 0: weniger Fälle als erwartet)."
    )
    local = serializers.FloatField(help_text="Lokaler Teil: Ziel gegen Kontrolle.")
    displacement = serializers.FloatField(
        help_text="Verdrängungsteil: Puffer gegen Kontrolle (> 0: Verdrängung)."
    )
    se = serializers.FloatField()
    z = serializers.FloatField()
    p = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    local_se = serializers.FloatField()
    displacement_se = serializers.FloatField()
    displacement_z = serializers.FloatField(allow_null=True)
    displacement_p = serializers.FloatField(allow_null=True)
    displacement_ci_low = serializers.FloatField()
    displacement_ci_high = serializers.FloatField()
    shared_control = serializers.BooleanField(help_text="true: das Kontrollgebiet dient auch dem Puffer.")


class DisplacementBufferWddSerializer(DisplacementWddSerializer):
    key = serializers.CharField()
    label = serializers.CharField()
    inner_m = serializers.FloatField(allow_null=True)
    outer_m = serializers.FloatField(allow_null=True)
    area_id = serializers.IntegerField(allow_null=True)


class DisplacementWddBlockSerializer(serializers.Serializer):
    total = DisplacementWddSerializer(help_text="Alle Ringe bzw. Pufferbereiche zusammen.")
    buffers = DisplacementBufferWddSerializer(
        many=True, help_text="Je Ring bzw. Pufferbereich (Entfernungsabfall)."
    )


class DisplacementWdqSerializer(serializers.Serializer):
    success_measure = serializers.FloatField(help_text="Ra/Ca − Rb/Cb (< 0: Erfolg).")
    buffer_measure = serializers.FloatField(help_text="Da/Ca − Db/Cb (> 0: Verdrängung).")
    wdq = serializers.FloatField(allow_null=True)
    gross_effect = serializers.FloatField()
    net_effect = serializers.FloatField()
    target_net_effect = serializers.FloatField()
    buffer_net_effect = serializers.FloatField()
    total_net_effect = serializers.FloatField(
        help_text="TNE (> 0: Fälle verhindert nach Abzug der Verdrängung)."
    )
    meaningful = serializers.BooleanField(help_text="Nur bei negativem Erfolgsmaß aussagekräftig.")
    interpretation = serializers.CharField()


class DisplacementHourProfileSerializer(serializers.Serializer):
    pre_counts = serializers.ListField(
        child=serializers.FloatField(), help_text="Fälle je Stunde 0–23 vorher."
    )
    post_counts = serializers.ListField(child=serializers.FloatField())
    pre_per_day = serializers.ListField(
        child=serializers.FloatField(), help_text="Fälle je Tag in jeder Stunde."
    )
    post_per_day = serializers.ListField(child=serializers.FloatField())
    pre_share = serializers.ListField(child=serializers.FloatField())
    post_share = serializers.ListField(child=serializers.FloatField())
    night_share_pre = serializers.FloatField(help_text="Anteil 22–6 Uhr.")
    night_share_post = serializers.FloatField()


class DisplacementResponseSerializer(serializers.Serializer):
    areas = DisplacementAreasSerializer()
    periods = DisplacementPeriodsSerializer()
    counted = DisplacementCountedSerializer()
    weights = DisplacementWeightsSerializer()
    alpha = serializers.FloatField()
    counts = DisplacementCountRowSerializer(many=True)
    wdd = DisplacementWddBlockSerializer()
    wdq = DisplacementWdqSerializer(allow_null=True)
    wdq_note = serializers.CharField()
    hour_profile = DisplacementHourProfileSerializer(
        help_text="Zeitliche Verdrängung: Stundenprofil des Zielgebiets."
    )
    headline = serializers.CharField(
        help_text="„Netto verhindert: x ± y Fälle“ bzw. „Netto mehr als erwartet: …“ nur bei signifikanter "
        "WDD, sonst „Kein gesicherter Effekt“."
    )
    effect = serializers.ChoiceField(
        choices=["prevented", "more", "none"],
        help_text="prevented / more: WDD signifikant unter bzw. über dem Trend der Kontrolle; none: kein "
        "gesicherter Effekt.",
    )
    verdict = serializers.CharField(
        help_text="Was WDD und WDQ jeweils zeigen und, wenn sie sich widersprechen, warum."
    )
    explanation = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())
    caveats = serializers.ListField(child=serializers.CharField())


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _wdd(wdd: Any, displacement: Estimate) -> dict[str, Any]:
    return {
        "estimate": wdd.total,
        "local": wdd.local,
        "displacement": wdd.displacement or 0.0,
        "se": wdd.se,
        "z": wdd.z,
        "p": wdd.p_value,
        "ci_low": wdd.ci_low,
        "ci_high": wdd.ci_high,
        "local_se": wdd.local_se,
        "displacement_se": wdd.displacement_se or 0.0,
        "displacement_z": _finite(displacement.z),
        "displacement_p": _finite(displacement.p_value),
        "displacement_ci_low": displacement.ci_low,
        "displacement_ci_high": displacement.ci_high,
        "shared_control": wdd.shared_control,
    }


def _area(ref: Any) -> dict[str, Any]:
    return {"id": ref.id, "name": ref.name, "kind": ref.kind}


def displacement_payload(result: DisplacementResult) -> dict[str, Any]:
    definition = result.counted.definition
    hours = result.hours
    wdq = result.wdq
    return {
        "areas": {
            "target": _area(result.target_area),
            "control": [_area(r) for r in result.control_areas],
            "buffer_control": [_area(r) for r in result.buffer_control_areas],
            "buffer_areas": [_area(r) for r in result.buffer_areas],
            "rings_m": list(result.params.ring_distances_m),
        },
        "periods": {
            "pre": {"start": result.pre.start, "end": result.pre.end, "days": result.pre.days},
            "post": {"start": result.post.start, "end": result.post.end, "days": result.post.days},
        },
        "counted": {
            "kind": result.counted.kind,
            "name": result.counted.name,
            "indicator": {
                "code": definition.code,
                "name": definition.name,
                "kind": definition.kind,
                "fact": definition.fact,
                "unit": definition.unit,
            }
            if result.counted.kind == "indicator"
            else None,
            "categories": [{"id": c.pk, "code": c.code, "name": c.name} for c in result.counted.categories],
        },
        "weights": {
            "time": {
                "pre_days": result.pre.days,
                "post_days": result.post.days,
                "pre": result.time_weights.before,
                "post": result.time_weights.after,
            },
            "area": None,
            "unit": f"Fälle im Nachher-Zeitraum ({result.post.days} Tage)",
        },
        "alpha": result.wdd.alpha,
        "counts": [
            {
                "key": c.key,
                "role": c.role,
                "label": c.label,
                "area_ids": list(c.area_ids),
                "inner_m": c.inner_m,
                "outer_m": c.outer_m,
                "area_km2": c.area_km2,
                "pre": c.pre,
                "post": c.post,
                "pre_per_day": c.pre_per_day,
                "post_per_day": c.post_per_day,
            }
            for c in result.all_counts
        ],
        "wdd": {
            "total": _wdd(result.wdd, result.displacement),
            "buffers": [
                {
                    **_wdd(b.wdd, b.displacement),
                    "key": b.counts.key,
                    "label": b.counts.label,
                    "inner_m": b.counts.inner_m,
                    "outer_m": b.counts.outer_m,
                    "area_id": b.counts.area_ids[0] if b.counts.area_ids else None,
                }
                for b in result.buffers
            ],
        },
        "wdq": {
            "success_measure": wdq.success_measure,
            "buffer_measure": wdq.buffer_measure,
            "wdq": wdq.wdq,
            "gross_effect": wdq.gross_effect,
            "net_effect": wdq.net_effect,
            "target_net_effect": wdq.target_net_effect,
            "buffer_net_effect": wdq.buffer_net_effect,
            "total_net_effect": wdq.total_net_effect,
            "meaningful": wdq.meaningful,
            "interpretation": result.wdq_reading_de,
        }
        if wdq is not None
        else None,
        "wdq_note": result.wdq_note,
        "hour_profile": {
            "pre_counts": result.hour_counts_pre,
            "post_counts": result.hour_counts_post,
            "pre_per_day": [float(v) for v in hours.rate_before],
            "post_per_day": [float(v) for v in hours.rate_after],
            "pre_share": [float(v) for v in hours.share_before],
            "post_share": [float(v) for v in hours.share_after],
            "night_share_pre": hours.night_share_before,
            "night_share_post": hours.night_share_after,
        },
        "headline": result.headline_de,
        "effect": result.verdict.effect,
        "verdict": result.verdict.text,
        "explanation": result.explanation_de,
        "warnings": list(result.warnings),
        "caveats": list(result.caveats),
    }


# --- view ---------------------------------------------------------------------------------------


class DisplacementView(ScopedAPIMixin, APIView):
    """Verdrängungsanalyse (WDD, WDQ, Stundenprofil)."""

    permission_classes = [AnalyticsPermission]
    pagination_class = None

    @extend_schema(
        operation_id="analytics_displacement",
        summary="Verdrängungsanalyse (WDD und WDQ)",
        description="Zielgebiet, Pufferringe (um das Zielgebiet erzeugt) oder Pufferbereiche, "
        "Kontrollgebiete und Vorher-/Nachher-Zeitraum: gewichtete Verdrängungsdifferenz (WDD) "
        "mit Standardfehler, z, p und "
        "Konfidenzintervall, aufgeteilt in lokalen Teil und Verdrängung, je Ring und gesamt; gewichteter "
        "Verdrängungsquotient (WDQ) mit Erfolgs- und Puffermaß und gesamtem Nettoeffekt; Stundenprofil des "
        "Zielgebiets vorher und nachher. Die Zahlen sind für Stadt und Polizei gleich.",
        parameters=PARAMETERS,
        responses={
            200: DisplacementResponseSerializer,
            400: OpenApiResponse(description="Ungültige Parameter; Meldungen je Parameter."),
            401: OpenApiResponse(description="Nicht angemeldet (Token fehlt oder ist ungültig)."),
            403: OpenApiResponse(description="Die Rolle erlaubt diese Auswertung nicht."),
        },
    )
    def get(self, request: Request) -> Response:
        query = DisplacementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            result = analyse_displacement(query.to_params())
        except DisplacementInputError as exc:
            errors = {
                ("non_field_errors" if key == "__all__" else key): value for key, value in exc.errors.items()
            }
            raise serializers.ValidationError(errors) from None
        return Response(DisplacementResponseSerializer(displacement_payload(result)).data)


class DisplacementNoSlashView(DisplacementView):
    """The same answer under the path without the trailing slash (as written in the issue)."""

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return super().get(request)


urlpatterns = [
    path("analytics/displacement/", DisplacementView.as_view(), name="analytics-displacement"),
    path("analytics/displacement", DisplacementNoSlashView.as_view()),
]
