"""Serializers of API v1.

Input serializers only parse and type-check; the business rules (city boundary, caution
fees, police-only measures, shift clashes, ...) are checked by ``field.services``, whose
German messages reach the client unchanged. Output serializers read what the selectors
loaded and never trigger queries of their own (lists are prefetched in the views).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lagebild.catalog.models import Category, CategoryRule
from lagebild.catalog.selectors import pick_rule
from lagebild.core.models import User
from lagebild.field.measures import MeasureInput, parse_decimal
from lagebild.field.models import Incident, Measure, MeasureType, Patrol, Shift
from lagebild.geo.models import Area

MAX_MEASURES_PER_INCIDENT = 50
MAX_PATROL_MEMBERS = 50
MAX_ID = 2**63 - 1
# Points in time outside this window are certainly typos; they are rejected before they
# reach date arithmetic or the database driver, where they would overflow.
EARLIEST_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
SHIFT_PLANNING_HORIZON = dt.timedelta(days=366)


# --- output helpers -------------------------------------------------------------------------
# Incidents and measures are the hot path (recording on patrol, pages of up to 1000 rows).
# Their serializers declare their fields (for the OpenAPI schema) but build the output dict
# by hand: DRF's generic field machinery costs more than the database work.
# tests/test_api_incidents.py checks that both produce the same output.


def iso_datetime(value: dt.datetime | None) -> str | None:
    """Like DRF's DateTimeField: local time of the city, ISO 8601, "Z" for UTC."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def decimal_text(value: Decimal | None, places: int) -> str | None:
    """Like DRF's DecimalField(coerce_to_string=True)."""
    if value is None:
        return None
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


# --- fields ---------------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 date and time that must name its offset (naive times are ambiguous at DST)."""

    default_error_messages = {
        "naive": "Bitte den Zeitpunkt mit Zeitzone angeben, z. B. 2024-05-01T14:30:00+02:00.",
        "range": "Der Zeitpunkt muss zwischen dem 1.1.2000 und dem 1.1.2100 liegen.",
    }

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        value = super().enforce_timezone(value)
        if not (EARLIEST_TIME <= value < LATEST_TIME):
            self.fail("range")
        return value


class BoundedDateField(serializers.DateField):
    default_error_messages = {"range": "Das Datum muss zwischen dem 1.1.2000 und dem 31.12.2099 liegen."}

    def to_internal_value(self, value: Any) -> dt.date:
        day = super().to_internal_value(value)
        if not (EARLIEST_TIME.date() <= day < LATEST_TIME.date()):
            self.fail("range")
        return day


@extend_schema_field(OpenApiTypes.DOUBLE)
class CoordinateField(serializers.Field):
    """A WGS84 coordinate as number or string (decimal comma allowed); checked by the service."""

    default_error_messages = {"invalid": "Bitte eine Zahl angeben."}

    def to_internal_value(self, data: Any) -> float | int | str:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


def decimal_places(number: Decimal) -> int:
    """Significant places after the point ("35.000" has none); safe for any exponent."""
    if number.is_zero():
        return 0
    _sign, digits, exponent = number.as_tuple()
    trailing_zeros = 0
    for digit in reversed(digits):
        if digit:
            break
        trailing_zeros += 1
    return max(0, -(int(exponent) + trailing_zeros))


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?\d+([.,]\d+)?$"})
class LenientDecimalField(serializers.Field):
    """Decimal as JSON number or string, German decimal comma accepted."""

    default_error_messages = {
        "invalid": "Bitte eine Zahl angeben.",
        "places": "Höchstens {places} Nachkommastellen.",
    }

    def __init__(self, *, decimal_places: int, **kwargs: Any) -> None:
        self.decimal_places = decimal_places
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal | None:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        try:
            number = parse_decimal(data, label=self.label or "Wert")
        except ValueError:
            self.fail("invalid")
        if number is not None and decimal_places(number) > self.decimal_places:
            self.fail("places", places=self.decimal_places)
        return number

    def to_representation(self, value: Any) -> str | None:
        return None if value is None else str(value)


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """Reference by id to a record of an authority-scoped model.

    The queryset is built per request (inside the scope); ids of the other authority are
    answered exactly like ids that do not exist.
    """

    def __init__(self, *, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.model.objects.all()  # type: ignore[attr-defined]


class CodeRelatedField(serializers.SlugRelatedField):
    """Reference by code; anything but a plain short string is rejected before the query."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or "\x00" in data or len(data) > 100:
            self.fail("invalid")
        return super().to_internal_value(data)


def id_field(queryset: QuerySet, **kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )


# --- measures -------------------------------------------------------------------------------


class MeasureInputSerializer(serializers.Serializer):
    """One measure as recorded: only the fields its type needs are filled in."""

    type = serializers.ChoiceField(label="Art", choices=MeasureType.choices)
    amount = LenientDecimalField(
        label="Betrag",
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Verwarnungsgeld (5–55 €, ohne Angabe der Regelsatz des Sachverhalts) "
        "oder sichergestellter Bargeldbetrag in €.",
    )
    seizure_kind = serializers.ChoiceField(
        label="Art der Sicherstellung", choices=Measure.SeizureKind.choices, required=False, allow_blank=True
    )
    quantity = LenientDecimalField(label="Menge", decimal_places=3, required=False, allow_null=True)
    quantity_unit = serializers.CharField(label="Einheit", max_length=20, required=False, allow_blank=True)
    referral_service = serializers.ChoiceField(
        label="Hilfeangebot", choices=Measure.ReferralService.choices, required=False, allow_blank=True
    )
    note = serializers.CharField(label="Bemerkung", max_length=500, required=False, allow_blank=True)
    person = serializers.CharField(
        label="Person",
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Pseudonym einer bereits erfassten Person der eigenen Behörde.",
    )

    def to_measure_input(self) -> MeasureInput:
        return self.measure_input(self.validated_data)

    @staticmethod
    def measure_input(data: dict[str, Any]) -> MeasureInput:
        return MeasureInput(
            type=data["type"],
            amount=data.get("amount"),
            seizure_kind=data.get("seizure_kind", ""),
            quantity=data.get("quantity"),
            quantity_unit=data.get("quantity_unit", ""),
            referral_service=data.get("referral_service", ""),
            note=data.get("note", ""),
            person_pseudonym=data.get("person", ""),
        )


class MeasureAddSerializer(MeasureInputSerializer):
    taken_at = AwareDateTimeField(
        label="Zeitpunkt", required=False, allow_null=True, help_text="Ohne Angabe: jetzt."
    )


def _flatten(errors: Any, fields: dict[str, serializers.Field]) -> list[str]:
    """``{"amount": ["Bitte eine Zahl angeben."]}`` → ``["Betrag: Bitte eine Zahl angeben."]``."""
    if isinstance(errors, dict):
        messages = []
        for key, value in errors.items():
            field = fields.get(key)
            prefix = f"{field.label}: " if field is not None and field.label else ""
            messages.extend(f"{prefix}{message}" for message in _flatten(value, {}))
        return messages
    if isinstance(errors, list):
        return [message for item in errors for message in _flatten(item, {})]
    return [str(errors)]


@extend_schema_field(MeasureInputSerializer(many=True))
class MeasureListField(serializers.Field):
    """The measures of a new incident; errors come as "Maßnahme 2: Betrag: …" like in the UI."""

    default_error_messages = {
        "not_a_list": "Bitte die Maßnahmen als Liste angeben.",
        "too_many": f"Höchstens {MAX_MEASURES_PER_INCIDENT} Maßnahmen je Feststellung.",
    }

    def to_internal_value(self, data: Any) -> list[MeasureInput]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_MEASURES_PER_INCIDENT:
            self.fail("too_many")
        measures: list[MeasureInput] = []
        messages: list[str] = []
        # One serializer validates all items: its fields are built (deep-copied) only once.
        validator = MeasureInputSerializer()
        for number, item in enumerate(data, start=1):
            try:
                validated = validator.run_validation(item)
            except serializers.ValidationError as exc:
                for message in _flatten(exc.detail, dict(validator.fields)):
                    messages.append(f"Maßnahme {number}: {message}")
            else:
                measures.append(MeasureInputSerializer.measure_input(validated))
        if messages:
            raise serializers.ValidationError(messages)
        return measures

    def to_representation(self, value: Any) -> Any:
        return value


class MeasureSerializer(serializers.ModelSerializer):
    type_label = serializers.CharField(source="get_type_display", read_only=True)
    authority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    taken_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    # Empty for the measure types that have no kind of seizure or help offered: the schema
    # says so (schemathesis found "" answered where only the enum values were documented).
    seizure_kind = serializers.ChoiceField(
        choices=Measure.SeizureKind.choices, allow_blank=True, read_only=True
    )
    referral_service = serializers.ChoiceField(
        choices=Measure.ReferralService.choices, allow_blank=True, read_only=True
    )
    person = serializers.SerializerMethodField(
        help_text="Pseudonym der Person; nur für operative Rollen der erfassenden Behörde."
    )

    class Meta:
        model = Measure
        fields = [
            "id",
            "incident",
            "type",
            "type_label",
            "authority",
            "taken_by",
            "taken_at",
            "amount",
            "seizure_kind",
            "quantity",
            "quantity_unit",
            "referral_service",
            "note",
            "person",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Measure) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "incident": instance.incident_id,
            "type": instance.type,
            "type_label": instance.get_type_display(),
            "authority": instance.authority.code,
            "taken_by": instance.taken_by_id,
            "taken_at": iso_datetime(instance.taken_at),
            "amount": decimal_text(instance.amount, 2),
            "seizure_kind": instance.seizure_kind,
            "quantity": decimal_text(instance.quantity, 3),
            "quantity_unit": instance.quantity_unit,
            "referral_service": instance.referral_service,
            "note": instance.note,
            "person": self.get_person(instance),
        }

    def get_person(self, obj: Measure) -> str | None:
        # Persons are private to their authority even inside a joint incident.
        if obj.person_id is None or not self.context.get("show_persons"):
            return None
        user = self.context["request"].user
        if obj.person.authority_id != user.authority_id:
            return None
        shown = self.context.get("persons_shown")
        if shown is not None:
            shown.add(obj.person.pseudonym)
        return obj.person.pseudonym


# --- incidents ------------------------------------------------------------------------------


class AreaRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="area.id", read_only=True)
    kind = serializers.CharField(source="area.kind", read_only=True)
    code = serializers.CharField(source="area.code", read_only=True)
    name = serializers.CharField(source="area.name", read_only=True)


def _related(instance: Model, loaded: str, relation: str) -> Any:
    """Rows the view loaded itself (``loaded`` attribute), else the (prefetched) relation."""
    rows = getattr(instance, loaded, None)
    return rows if rows is not None else getattr(instance, relation).all()


def area_ref(link: Any) -> dict[str, Any]:
    area = link.area
    return {"id": area.pk, "kind": area.kind, "code": area.code, "name": area.name}


def rule_data(rule: CategoryRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "valid_from": rule.valid_from.isoformat(),
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "legal_basis": rule.legal_basis,
        "is_offence": rule.is_offence,
        "is_crime": rule.is_crime,
        "caution_allowed": rule.caution_allowed,
        "caution_amount": decimal_text(rule.caution_amount, 2),
        "max_fine": decimal_text(rule.max_fine, 2),
        "limitation_months": rule.limitation_months,
        "limitation_label": rule.limitation_label,
        "is_demo_value": rule.is_demo_value,
        "source": rule.source,
    }


class CategoryRuleSerializer(serializers.ModelSerializer):
    limitation_months = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Verfolgungsverjährung nach § 31 OWiG in Monaten."
    )
    limitation_label = serializers.CharField(read_only=True)

    class Meta:
        model = CategoryRule
        fields = [
            "id",
            "valid_from",
            "valid_to",
            "legal_basis",
            "is_offence",
            "is_crime",
            "caution_allowed",
            "caution_amount",
            "max_fine",
            "limitation_months",
            "limitation_label",
            "is_demo_value",
            "source",
        ]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    authority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    patrol = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    category_rule = CategoryRuleSerializer(read_only=True, allow_null=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    areas = AreaRefSerializer(source="area_links", many=True, read_only=True)
    measures = MeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "authority",
            "joint",
            "occurred_at",
            "recorded_at",
            "recorded_by",
            "patrol",
            "category",
            "category_name",
            "category_rule",
            "source",
            "source_label",
            "description",
            "address_text",
            "lat",
            "lon",
            "x_utm",
            "y_utm",
            "h3_cell",
            "areas",
            "external_id",
            "measures",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Incident) -> dict[str, Any]:
        # Not self.fields: building the declared fields is what this method avoids.
        measure_serializer = getattr(self, "_measure_serializer", None)
        if measure_serializer is None:
            measure_serializer = self._measure_serializer = MeasureSerializer(context=self.context)
        rules = self.context.setdefault("_rules", {})
        rule = instance.category_rule
        if rule is not None and rule.pk not in rules:
            rules[rule.pk] = rule_data(rule)
        return {
            "id": instance.pk,
            "authority": instance.authority.code,
            "joint": instance.joint,
            "occurred_at": iso_datetime(instance.occurred_at),
            "recorded_at": iso_datetime(instance.recorded_at),
            "recorded_by": instance.recorded_by_id,
            "patrol": instance.patrol_id,
            "category": instance.category.code,
            "category_name": instance.category.name,
            "category_rule": rules[rule.pk] if rule is not None else None,
            "source": instance.source,
            "source_label": instance.get_source_display(),
            "description": instance.description,
            "address_text": instance.address_text,
            "lat": instance.lat,
            "lon": instance.lon,
            "x_utm": instance.x_utm,
            "y_utm": instance.y_utm,
            "h3_cell": instance.h3_cell,
            "areas": [area_ref(link) for link in _related(instance, "area_link_list", "area_links")],
            "external_id": instance.external_id,
            "measures": [
                measure_serializer.to_representation(m)
                for m in _related(instance, "measure_list", "measures")
            ],
        }


class IncidentCreateSerializer(serializers.Serializer):
    category = CodeRelatedField(
        label="Sachverhalt",
        slug_field="code",
        queryset=Category.objects.filter(active=True),
        help_text="Kürzel eines aktiven Sachverhalts (siehe /api/v1/categories/).",
    )
    occurred_at = AwareDateTimeField(label="Zeitpunkt", help_text="ISO 8601 mit Zeitzone.")
    lat = CoordinateField(label="Breite", help_text="Geografische Breite (WGS84).")
    lon = CoordinateField(label="Länge", help_text="Geografische Länge (WGS84).")
    source = serializers.ChoiceField(
        label="Quelle", choices=Incident.Source.choices, default=Incident.Source.PATROL
    )
    description = serializers.CharField(
        label="Beschreibung", max_length=4000, required=False, allow_blank=True
    )
    address_text = serializers.CharField(label="Ortsangabe", max_length=200, required=False, allow_blank=True)
    joint = serializers.BooleanField(
        label="Gemeinsamer Vorgang",
        required=False,
        allow_null=True,
        default=None,
        help_text="Ohne Angabe: gemeinsam, wenn die Streife eine Doppelstreife ist.",
    )
    patrol = ScopedPrimaryKeyRelatedField(
        label="Streife", model=Patrol, required=False, allow_null=True, default=None
    )
    external_id = serializers.CharField(
        label="Externe Kennung", max_length=64, required=False, allow_blank=True
    )
    measures = MeasureListField(label="Maßnahmen", required=False)

    def validate_external_id(self, value: str) -> str:
        value = value.strip()
        user = self.context["request"].user
        # The database enforces this too; checking first gives a message instead of a conflict.
        # The exclude() repeats the partial index's condition: SQLite uses the index only then.
        duplicates = Incident.objects.filter(authority_id=user.authority_id, external_id=value).exclude(
            external_id=""
        )
        if value and duplicates.exists():
            raise serializers.ValidationError(
                "Eine Feststellung mit dieser externen Kennung ist bereits erfasst."
            )
        return value


# --- shifts and patrols ---------------------------------------------------------------------


class ShiftSerializer(serializers.ModelSerializer):
    authority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    lead = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    patrol_count = serializers.SerializerMethodField()

    class Meta:
        model = Shift
        fields = [
            "id",
            "authority",
            "date",
            "kind",
            "kind_label",
            "starts_at",
            "ends_at",
            "lead",
            "note",
            "patrol_count",
        ]
        read_only_fields = fields

    def get_patrol_count(self, obj: Shift) -> int:
        return getattr(obj, "patrol_count", 0)


class LeadField(serializers.PrimaryKeyRelatedField):
    """A user of the requesting user's own authority."""

    def get_queryset(self) -> QuerySet:
        user = self.context["request"].user
        return User.objects.filter(authority_id=user.authority_id, is_active=True)


class ShiftCreateSerializer(serializers.Serializer):
    date = BoundedDateField(label="Datum")
    kind = serializers.ChoiceField(label="Schicht", choices=Shift.Kind.choices)
    note = serializers.CharField(label="Bemerkung", max_length=2000, required=False, allow_blank=True)
    lead = LeadField(
        label="Schichtleitung",
        required=False,
        allow_null=True,
        default=None,
        pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        help_text="Benutzer-ID aus der eigenen Behörde.",
    )

    def validate_date(self, value: dt.date) -> dt.date:
        if value > timezone.localdate() + SHIFT_PLANNING_HORIZON:
            raise serializers.ValidationError("Schichten können höchstens ein Jahr im Voraus geplant werden.")
        return value


class PatrolMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.id", read_only=True)
    name = serializers.SerializerMethodField()
    authority = serializers.CharField(source="authority.code", read_only=True)

    def get_name(self, obj: Any) -> str:
        return obj.user.get_full_name() or obj.user.username


class PatrolSerializer(serializers.ModelSerializer):
    authority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    shift = serializers.PrimaryKeyRelatedField(read_only=True)
    area = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    clothing_label = serializers.CharField(source="get_clothing_display", read_only=True)
    members = PatrolMemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Patrol
        fields = [
            "id",
            "authority",
            "shift",
            "name",
            "area",
            "joint",
            "clothing",
            "clothing_label",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "member_count",
            "staff_hours",
            "members",
        ]
        read_only_fields = fields


class PatrolCreateSerializer(serializers.Serializer):
    shift = ScopedPrimaryKeyRelatedField(label="Schicht", model=Shift)
    name = serializers.CharField(label="Bezeichnung", max_length=80)
    members = serializers.ManyRelatedField(
        label="Mitglieder",
        child_relation=id_field(User.objects.all()),
        help_text="Benutzer-IDs; Mitglieder aus Stadt und Polizei ergeben eine Doppelstreife.",
    )
    area = id_field(
        Area.objects.filter(active=True), label="Einsatzraum", required=False, allow_null=True, default=None
    )
    clothing = serializers.ChoiceField(
        label="Kleidung", choices=Patrol.Clothing.choices, default=Patrol.Clothing.UNIFORM
    )
    planned_start = AwareDateTimeField(
        label="Geplanter Beginn", required=False, allow_null=True, default=None
    )
    planned_end = AwareDateTimeField(label="Geplantes Ende", required=False, allow_null=True, default=None)

    def validate_members(self, value: list[User]) -> list[User]:
        if len(value) > MAX_PATROL_MEMBERS:
            raise serializers.ValidationError(f"Höchstens {MAX_PATROL_MEMBERS} Mitglieder je Streife.")
        return value


class PatrolTimeSerializer(serializers.Serializer):
    at = AwareDateTimeField(
        label="Zeitpunkt", required=False, allow_null=True, default=None, help_text="Ohne Angabe: jetzt."
    )

    def validate_at(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        patrol: Patrol = self.context["patrol"]
        if value > timezone.now() + dt.timedelta(minutes=10):
            raise serializers.ValidationError("Der Zeitpunkt liegt in der Zukunft.")
        # Far from the planned window the staff hours would become meaningless.
        window = dt.timedelta(hours=16)
        if not (patrol.planned_start - window <= value <= patrol.planned_end + window):
            raise serializers.ValidationError("Der Zeitpunkt liegt zu weit vom geplanten Einsatz entfernt.")
        return value


# --- areas and categories -------------------------------------------------------------------


class AreaSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    bbox = serializers.SerializerMethodField(help_text="[min_lon, min_lat, max_lon, max_lat] in WGS84.")
    geometry = serializers.SerializerMethodField(
        help_text="GeoJSON-Geometrie (WGS84); nur bei ?geometry=1 und in der Einzelansicht, sonst null."
    )

    class Meta:
        model = Area
        fields = [
            "id",
            "kind",
            "kind_label",
            "code",
            "name",
            "area_km2",
            "is_approximate",
            "source",
            "active",
            "bbox",
            "geometry",
        ]
        read_only_fields = fields

    def get_bbox(self, obj: Area) -> list[float]:
        return [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": True})
    def get_geometry(self, obj: Area) -> dict | None:
        return obj.geometry if self.context.get("include_geometry") else None


class CategorySerializer(serializers.ModelSerializer):
    group_label = serializers.CharField(source="get_group_display", read_only=True)
    competent_authority_label = serializers.CharField(
        source="get_competent_authority_display", read_only=True
    )
    rules = CategoryRuleSerializer(many=True, read_only=True)
    current_rule = serializers.SerializerMethodField(help_text="Die heute geltende Regel.")

    class Meta:
        model = Category
        fields = [
            "id",
            "code",
            "name",
            "group",
            "group_label",
            "competent_authority",
            "competent_authority_label",
            "description",
            "sort_order",
            "active",
            "current_rule",
            "rules",
        ]
        read_only_fields = fields

    @extend_schema_field(CategoryRuleSerializer(allow_null=True))
    def get_current_rule(self, obj: Category) -> dict | None:
        rule = pick_rule(list(obj.rules.all()), timezone.localdate())
        return CategoryRuleSerializer(rule).data if rule else None
