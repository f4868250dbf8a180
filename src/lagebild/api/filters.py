"""Query filters of API v1 (django-filter).

The filter sets validate the query string (invalid values answer 400 with German
messages) and hand the cleaned values to the selectors, so that the API filters exactly
like the web UI. Dates are local days of the city (Europe/Berlin).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms.utils import ErrorDict, ErrorList
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from lagebild.catalog.models import Category
from lagebild.catalog.selectors import category_list
from lagebild.core.models import Authority
from lagebild.field import selectors
from lagebild.field.models import Incident, Measure, MeasureType, Shift
from lagebild.field.selectors import IncidentFilter, local_day_start
from lagebild.geo.models import Area
from lagebild.geo.selectors import area_list

MAX_ID = 2**63 - 1
# Wide enough for every real query, narrow enough that date arithmetic cannot overflow. Filter
# dates outside are moved to the nearest end (``date_to=9999-12-31`` means "no upper bound"),
# so every date the schema allows is answered; the analyses refuse them (RANGE_MESSAGE).
EARLIEST_DAY = dt.date(1970, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
RANGE_MESSAGE = "Das Datum muss zwischen 1970 und 2199 liegen."


def clamp_day(day: dt.date) -> dt.date:
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


class ListWidget(QueryArrayWidget):
    """Several values as ``?x=a&x=b``, ``?x[]=a&x[]=b`` or ``?x=a,b`` (any mix)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        raw = (getlist(name) or getlist(f"{name}[]")) if getlist else [data.get(name) or ""]
        values = [part.strip() for item in raw for part in str(item).split(",")]
        return list(dict.fromkeys(value for value in values if value))


class BoundedDateFormField(forms.DateField):
    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        return None if day is None else clamp_day(day)


class DateOrDateTimeFormField(forms.Field):
    """ISO date (start of that local day) or ISO date and time (naive = local time)."""

    default_error_messages = {
        "invalid": "Bitte ein Datum (JJJJ-MM-TT) oder einen Zeitpunkt nach ISO 8601 angeben."
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if moment is None and day is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        check = moment.date() if moment else day
        if not (EARLIEST_DAY <= check <= LATEST_DAY):  # type: ignore[operator]
            # Before any time zone arithmetic, which would overflow at the year 1 or 9999.
            return local_day_start(clamp_day(check))  # type: ignore[arg-type]
        if moment is None:
            return local_day_start(day)  # type: ignore[arg-type]
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class BoundedDateFilter(filters.DateFilter):
    field_class = BoundedDateFormField


@extend_schema_field(OpenApiTypes.DATETIME)
class DateOrDateTimeFilter(filters.Filter):
    field_class = DateOrDateTimeFormField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


NUL_MESSAGE = "Der Wert enthält ein unzulässiges Steuerzeichen."


# The schema says what ValidatedFilterSet enforces: no NUL character in a free-text value
# (schemathesis generated one for ?code= and rightly called the 400 a rejected valid request).
@extend_schema_field({"type": "string", "pattern": "^[^\\u0000]*$"})
class TextFilter(filters.CharFilter):
    """A free-text query parameter (search, code)."""


EMPTY_MESSAGE = "Bitte einen Wert angeben oder den Parameter weglassen."
BOOLEAN_MESSAGE = "Bitte true oder false angeben."
BOOLEAN_WORDS = frozenset({"true", "false", "1", "0"})
# Filters whose parameter is a free string in the schema: an empty value is a valid string there.
STRING_FILTERS = (filters.CharFilter, filters.ModelChoiceFilter, filters.ModelMultipleChoiceFilter)


def raw_value_error(filter_: filters.Filter, values: list[str]) -> str | None:
    """What is wrong with the raw query values of a typed filter, before django-filter reads them.

    django-filter treats ``?date_to=``, ``?kind=`` or ``?joint=vielleicht`` as "no filter" and
    answers every record; a client that made a mistake must hear about it instead (400).
    """
    if isinstance(filter_, filters.BooleanFilter):
        if any(value.strip().lower() not in BOOLEAN_WORDS for value in values):
            return BOOLEAN_MESSAGE
    elif not isinstance(filter_, STRING_FILTERS) and any(not value.strip() for value in values):
        return EMPTY_MESSAGE
    return None


class ValidatedFilterSet(filters.FilterSet):
    """Base: subclasses turn ``self.form.cleaned_data`` into a selector call."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        # PostgreSQL rejects NUL characters in any query; lookups of codes (category,
        # authority) would send them there before the form could object. Empty or unreadable
        # values of typed filters are refused here too (django-filter would ignore them).
        self.raw_errors = ErrorDict()
        for key in data or {}:
            values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            if any("\x00" in str(value) for value in values):
                self.raw_errors[key] = ErrorList([forms.ValidationError(NUL_MESSAGE, code="null_characters")])
            elif key in self.filters and (message := raw_value_error(self.filters[key], list(values))):
                self.raw_errors[key] = ErrorList([forms.ValidationError(message, code="invalid")])

    def is_valid(self) -> bool:
        return not self.raw_errors and super().is_valid()

    @property
    def errors(self) -> ErrorDict:
        return self.raw_errors or super().errors

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return self.apply(self.form.cleaned_data, queryset)

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:  # pragma: no cover
        # Every concrete filter set defines how its cleaned data narrows the queryset.
        raise TypeError(f"{type(self).__name__} must define apply()")


INCIDENT_ORDERING = {
    "occurred_at": ("occurred_at", "id"),
    "-occurred_at": ("-occurred_at", "-id"),
    "recorded_at": ("recorded_at", "id"),
    "-recorded_at": ("-recorded_at", "-id"),
}


class IncidentFilterSet(ValidatedFilterSet):
    occurred_after = DateOrDateTimeFilter(
        help_text="Zeitpunkt ab (einschließlich); Datum = Beginn des Tages, Zeit ohne Zone = Ortszeit."
    )
    occurred_before = DateOrDateTimeFilter(
        help_text="Zeitpunkt vor (ausschließlich); Datum = Beginn des Tages, Zeit ohne Zone = Ortszeit."
    )
    date_from = BoundedDateFilter(help_text="Erster Tag (Ortszeit, einschließlich).")
    date_to = BoundedDateFilter(help_text="Letzter Tag (Ortszeit, einschließlich).")
    category = filters.ModelMultipleChoiceFilter(
        queryset=Category.objects.all(),
        to_field_name="code",
        widget=ListWidget,
        help_text="Sachverhalt-Kürzel; mehrere wiederholt oder durch Komma getrennt.",
    )
    area = IdFilter(help_text="ID eines Gebiets: nur Feststellungen darin.")
    measure_type = filters.ChoiceFilter(
        choices=MeasureType.choices, help_text="Nur Feststellungen mit einer Maßnahme dieser Art."
    )
    authority = filters.ModelChoiceFilter(
        queryset=Authority.objects.all(), to_field_name="code", help_text="Kürzel der erfassenden Behörde."
    )
    source = filters.ChoiceFilter(choices=Incident.Source.choices, help_text="Quelle der Feststellung.")
    joint = filters.BooleanFilter(help_text="true: nur gemeinsame, false: nur eigene Vorgänge.")
    patrol = IdFilter(help_text="ID der Streife.")
    q = TextFilter(help_text="Suche in Beschreibung und Ortsangabe.", max_length=200)
    ordering = filters.ChoiceFilter(
        choices=[(key, key) for key in INCIDENT_ORDERING],
        help_text="Sortierung; Standard: -occurred_at (neueste zuerst).",
    )

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        authority = data.get("authority")
        incident_filter = IncidentFilter(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            area_id=data.get("area"),
            category_ids=[category.pk for category in data.get("category") or []],
            measure_type=data.get("measure_type") or "",
            authority_id=authority.pk if authority else None,
            source=data.get("source") or "",
            joint=data.get("joint"),
            patrol_id=data.get("patrol"),
            text=(data.get("q") or "").strip(),
        )
        result = selectors.incident_list(incident_filter)
        if data.get("occurred_after"):
            result = result.filter(occurred_at__gte=data["occurred_after"])
        if data.get("occurred_before"):
            result = result.filter(occurred_at__lt=data["occurred_before"])
        return result.order_by(*INCIDENT_ORDERING[data.get("ordering") or "-occurred_at"])


class MeasureFilterSet(ValidatedFilterSet):
    type = filters.MultipleChoiceFilter(
        choices=MeasureType.choices,
        widget=ListWidget,
        help_text="Art der Maßnahme; mehrere wiederholt oder durch Komma getrennt.",
    )
    date_from = BoundedDateFilter(help_text="Erster Tag (Ortszeit, einschließlich).")
    date_to = BoundedDateFilter(help_text="Letzter Tag (Ortszeit, einschließlich).")
    authority = filters.ModelChoiceFilter(
        queryset=Authority.objects.all(), to_field_name="code", help_text="Kürzel der Behörde, die sie traf."
    )
    incident = IdFilter(help_text="ID der Feststellung.")

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        result = Measure.objects.select_related("authority", "person")
        if data.get("type"):
            result = result.filter(type__in=data["type"])
        if data.get("date_from"):
            result = result.filter(taken_at__gte=local_day_start(data["date_from"]))
        if data.get("date_to"):
            result = result.filter(taken_at__lt=local_day_start(data["date_to"] + dt.timedelta(days=1)))
        if data.get("authority"):
            result = result.filter(authority=data["authority"])
        if data.get("incident"):
            result = result.filter(incident_id=data["incident"])
        return result.order_by("-taken_at", "-id")


class PatrolFilterSet(ValidatedFilterSet):
    date_from = BoundedDateFilter(help_text="Erster Tag des geplanten Beginns (Ortszeit).")
    date_to = BoundedDateFilter(help_text="Letzter Tag des geplanten Beginns (Ortszeit).")
    shift = IdFilter(help_text="ID der Schicht.")
    area = IdFilter(help_text="ID des Einsatzraums.")
    joint = filters.BooleanFilter(help_text="true: nur Doppelstreifen.")

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        result = selectors.patrol_list(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            area_id=data.get("area"),
            shift_id=data.get("shift"),
        )
        if data.get("joint") is not None:
            result = result.filter(joint=data["joint"])
        return result.order_by("-planned_start", "-id")


class ShiftFilterSet(ValidatedFilterSet):
    date_from = BoundedDateFilter(help_text="Erster Tag (einschließlich).")
    date_to = BoundedDateFilter(help_text="Letzter Tag (einschließlich).")
    kind = filters.ChoiceFilter(choices=Shift.Kind.choices, help_text="Art der Schicht.")

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        result = selectors.shift_list(date_from=data.get("date_from"), date_to=data.get("date_to"))
        if data.get("kind"):
            result = result.filter(kind=data["kind"])
        return result.order_by("-date", "starts_at", "id")


class AreaFilterSet(ValidatedFilterSet):
    kind = filters.MultipleChoiceFilter(
        choices=Area.Kind.choices,
        widget=ListWidget,
        help_text="Gebietsart; mehrere wiederholt oder durch Komma getrennt.",
    )
    code = TextFilter(help_text="Kürzel des Gebiets.", max_length=60)

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        result = area_list(kinds=list(data.get("kind") or []))
        if data.get("code"):
            result = result.filter(code=data["code"])
        return result.order_by("kind", "name", "id")


class CategoryFilterSet(ValidatedFilterSet):
    group = filters.ChoiceFilter(choices=Category.Group.choices, help_text="Gruppe der Sachverhalte.")
    include_inactive = filters.BooleanFilter(help_text="true: auch nicht mehr verwendete Sachverhalte.")

    def apply(self, data: dict[str, Any], queryset: QuerySet) -> QuerySet:
        result = category_list(active_only=not data.get("include_inactive"))
        if data.get("group"):
            result = result.filter(group=data["group"])
        return result.order_by("sort_order", "name", "id")
