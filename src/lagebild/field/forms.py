"""Forms of the field web UI.

Forms only parse and check the shape of the input (is it a date, a number, a known
choice). Business rules stay in ``services``; their German ``ValidationError`` messages
are put back onto the form fields by :func:`add_service_errors`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from lagebild.catalog.models import Category
from lagebild.catalog.selectors import category_list
from lagebild.core.forms import LocalDateTimeField
from lagebild.core.models import Authority, Role, User
from lagebild.geo.models import Area
from lagebild.geo.selectors import area_list, place_by_name

from .filters import filters_from_querydict
from .measures import MEASURE_LABELS, MeasureInput, parse_decimal
from .models import POLICE_ONLY_MEASURES, Incident, Measure, MeasureType, Patrol, Person, Shift
from .selectors import IncidentFilter, assignable_users

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]

# Order of kinds in area selects: the most specific areas an officer works in first.
AREA_KIND_ORDER = [
    Area.Kind.PATROL_ZONE,
    Area.Kind.FOCUS_AREA,
    Area.Kind.DISTRICT,
    Area.Kind.VIDEO_AREA,
    Area.Kind.STATISTICAL_DISTRICT,
    Area.Kind.CUSTOM,
    Area.Kind.CITY,
]
FILTER_AREA_KIND_ORDER = [
    Area.Kind.DISTRICT,
    Area.Kind.FOCUS_AREA,
    Area.Kind.PATROL_ZONE,
    Area.Kind.VIDEO_AREA,
    Area.Kind.STATISTICAL_DISTRICT,
    Area.Kind.CUSTOM,
    Area.Kind.CITY,
]


def local_input_value(value: dt.datetime | None) -> str:
    """A datetime as the value of an ``<input type="datetime-local">`` in local time."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.datetime):
            return local_input_value(value) if timezone.is_aware(value) else value.strftime("%Y-%m-%dT%H:%M")
        return super().format_value(value)


def grouped_area_choices(order: list[str], *, empty_label: str) -> list[tuple[Any, Any]]:
    areas = list(area_list().only("id", "kind", "name"))
    choices: list[tuple[Any, Any]] = [("", empty_label)]
    labels = dict(Area.Kind.choices)
    for kind in order:
        group = [(str(a.pk), a.name) for a in areas if a.kind == kind]
        if group:
            choices.append((labels[kind], group))
    return choices


def grouped_category_choices(categories: Iterable[Category]) -> list[tuple[Any, Any]]:
    labels = dict(Category.Group.choices)
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in categories:
        groups.setdefault(category.group, []).append((str(category.pk), category.name))
    return [(labels.get(group, group), items) for group, items in groups.items()]


def add_service_errors(
    form: forms.Form, error: ValidationError, *, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's German messages at the matching form fields."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        field = aliases.get(key, key)
        if field not in form.fields:
            field = None  # type: ignore[assignment]
        for message in messages:
            form.add_error(field, message)


class LagebildForm(forms.Form):
    """Adds ``aria-describedby``/``aria-invalid`` for errors and help texts to every widget."""

    error_css_class = "has-error"
    required_css_class = "required"

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid_fields()

    def valid_data(self) -> dict[str, Any]:
        """Cleaned values of the fields without errors (empty for an unbound form)."""
        if self.is_bound:
            self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {k: v for k, v in cleaned.items() if k not in self.errors}

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.mark_invalid_fields()

    def mark_invalid_fields(self) -> None:
        for name, field in self.fields.items():
            bound = self[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}-help")
            if self.is_bound and name in self.errors:
                described.append(f"{bound.auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
            else:
                field.widget.attrs.pop("aria-describedby", None)


# --- incident entry ---------------------------------------------------------------------------

# The place is one thing to an officer: latitude and longitude are details of it.
LOCATION_FIELDS = ("lat", "lon")
LOCATION_MISSING = (
    "Bitte den Ort wählen: auf die Karte tippen, Standort verwenden oder eine Ortsangabe eingeben."
)
LOCATION_HALF_MISSING = (
    "Bitte Breite und Länge angeben – oder den Ort auf der Karte, mit dem Standort oder als Ortsangabe "
    "wählen."
)


class IncidentForm(LagebildForm):
    category = forms.TypedChoiceField(label="Sachverhalt", coerce=int, empty_value=None)
    measure_types = forms.MultipleChoiceField(
        label="Maßnahmen", required=False, widget=forms.CheckboxSelectMultiple
    )
    caution_amount = forms.CharField(
        label="Verwarnungsgeld (€)",
        required=False,
        max_length=20,
        help_text="5 bis 55 €. Leer lassen für den Regelsatz des Sachverhalts.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    seizure_kind = forms.ChoiceField(
        label="Was wurde sichergestellt?",
        required=False,
        choices=[("", "Bitte wählen"), *Measure.SeizureKind.choices],
    )
    seizure_quantity = forms.CharField(
        label="Menge",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    seizure_unit = forms.CharField(
        label="Einheit",
        required=False,
        max_length=20,
        help_text="z. B. g, Stück",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    cash_amount = forms.CharField(
        label="Bargeld (€)",
        required=False,
        max_length=20,
        help_text="Nur bei sichergestelltem Bargeld.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    referral_service = forms.ChoiceField(
        label="Hilfeangebot",
        required=False,
        choices=[("", "Bitte wählen"), *Measure.ReferralService.choices],
    )
    create_person = forms.BooleanField(
        label="Person (pseudonym) anlegen und den Maßnahmen zuordnen",
        required=False,
        help_text="Es werden keine Namen gespeichert, nur ein Pseudonym und die Altersgruppe.",
    )
    person_age_group = forms.ChoiceField(
        label="Altersgruppe", required=False, choices=Person.AgeGroup.choices
    )
    address_text = forms.CharField(
        label="Ortsangabe (Straße, Platz)",
        required=False,
        max_length=200,
        help_text="Ein Tipp auf die Karte trägt die nächste Straße oder den nächsten Platz ein; "
        "Sie können das ändern. Beim Eintippen (ab zwei Buchstaben) setzt ein Vorschlag den Punkt.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )
    lat = forms.CharField(
        label="Breite (WGS84)",
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "51,5136"}
        ),
    )
    lon = forms.CharField(
        label="Länge (WGS84)",
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "7,4653"}
        ),
    )
    occurred_at = LocalDateTimeField(
        label="Zeitpunkt",
        input_formats=DATETIME_INPUT_FORMATS,
        widget=DateTimeLocalInput(),
        error_messages={
            "required": "Bitte den Zeitpunkt angeben.",
            "invalid": "Bitte Datum und Uhrzeit angeben.",
        },
    )
    # Set by the quick buttons ("jetzt", "vor 15 min", "vor 1 h") with the UTC offset of the
    # instant they chose, so the hour that occurs twice in October keeps its meaning; typing
    # in the field clears it (see quick-times.js).
    occurred_at_offset = forms.CharField(required=False, max_length=6, widget=forms.HiddenInput)
    source = forms.ChoiceField(
        label="Quelle", choices=Incident.Source.choices, initial=Incident.Source.PATROL
    )
    description = forms.CharField(
        label="Beschreibung",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sachlich, ohne Namen oder Anschriften von Personen.",
    )
    patrol = forms.TypedChoiceField(label="Streife", required=False, coerce=int, empty_value=None)
    joint = forms.BooleanField(
        label="Gemeinsamer Vorgang (für Stadt und Polizei sichtbar)",
        required=False,
        help_text="Bei Doppelstreifen wird der Vorgang immer gemeinsam geführt.",
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        categories: list[Category],
        patrols: list[Patrol],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.categories = {c.pk: c for c in categories}
        self.patrols = {p.pk: p for p in patrols}
        self.fields["category"].choices = [("", "Bitte wählen"), *grouped_category_choices(categories)]
        self.fields["category"].error_messages["required"] = "Bitte einen Sachverhalt wählen."
        self.fields["category"].error_messages["invalid_choice"] = (
            "Bitte einen Sachverhalt aus der Liste wählen."
        )
        self.fields["measure_types"].choices = self.measure_choices(user)
        self.fields["measure_types"].error_messages["invalid_choice"] = (
            "Diese Maßnahme steht Ihrer Behörde nicht zur Verfügung."
        )
        self.fields["patrol"].choices = [("", "Keine Streife")] + [
            (str(p.pk), patrol_label(p)) for p in patrols
        ]
        self.fields["patrol"].error_messages["invalid_choice"] = "Diese Streife steht nicht zur Auswahl."
        if not user.has_perm("field.view_persons"):
            del self.fields["create_person"]
            del self.fields["person_age_group"]

    @staticmethod
    def measure_choices(user: User) -> list[tuple[str, str]]:
        police = bool(user.authority and user.authority.is_police)
        return [
            (value, label)
            for value, label in MeasureType.choices
            if police or value not in POLICE_ONLY_MEASURES
        ]

    def _decimal(self, name: str, label: str) -> Decimal | None:
        try:
            return parse_decimal(self.cleaned_data.get(name), label=label)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_caution_amount(self) -> Decimal | None:
        return self._decimal("caution_amount", "Der Betrag")

    def clean_cash_amount(self) -> Decimal | None:
        return self._decimal("cash_amount", "Der Betrag")

    def clean_seizure_quantity(self) -> Decimal | None:
        return self._decimal("seizure_quantity", "Die Menge")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("create_person") and not data.get("measure_types"):
            self.add_error(
                "create_person", "Bitte mindestens eine Maßnahme wählen, der die Person zugeordnet wird."
            )
        self._clean_location(data)
        self._apply_offset(data)
        return data

    def _clean_location(self, data: dict[str, Any]) -> None:
        """The place in the officer's words: a missing place is one message, not two about
        coordinates; a typed gazetteer name (without JavaScript, or without picking the
        suggestion) gives the point."""
        lat = (data.get("lat") or "").strip()
        lon = (data.get("lon") or "").strip()
        if lat and lon:
            return
        if lat or lon:
            self.add_error("lon" if lat else "lat", LOCATION_HALF_MISSING)
            return
        address = (data.get("address_text") or "").strip()
        if not address:
            self.add_error("lat", LOCATION_MISSING)
            return
        place = place_by_name(address)
        if place is None:
            self.add_error(
                "lat",
                f"„{address}“ steht nicht im Ortsverzeichnis. Bitte einen Vorschlag aus der Liste nehmen, "
                "auf die Karte tippen oder den Standort verwenden.",
            )
            return
        data["lat"], data["lon"] = str(place.lat), str(place.lon)

    def _apply_offset(self, data: dict[str, Any]) -> None:
        """A quick button's exact instant: the wall time as shown, with the offset it had."""
        offset = (data.get("occurred_at_offset") or "").strip()
        moment = data.get("occurred_at")
        typed = str(self.data.get("occurred_at", "")).strip()
        if moment is None or not re.fullmatch(r"[+-]\d\d:\d\d", offset):
            return
        try:
            exact = dt.datetime.fromisoformat(f"{typed}{offset}")
        except ValueError:
            return
        if exact.tzinfo is None or local_input_value(exact) != typed:
            return  # edited by hand, or an offset the city's zone did not have then
        data["occurred_at"] = exact

    def category_object(self) -> Category | None:
        return self.categories.get(self.cleaned_data.get("category"))  # type: ignore[arg-type]

    def patrol_object(self) -> Patrol | None:
        return self.patrols.get(self.cleaned_data.get("patrol"))  # type: ignore[arg-type]

    def measure_inputs(self, person_pseudonym: str = "") -> list[MeasureInput]:
        data = self.cleaned_data
        measures = []
        for measure_type in data.get("measure_types") or []:
            measure = MeasureInput(type=measure_type, person_pseudonym=person_pseudonym)
            if measure_type == MeasureType.CAUTION_FEE:
                measure.amount = data.get("caution_amount")
            elif measure_type == MeasureType.SEIZURE:
                measure.seizure_kind = data.get("seizure_kind") or ""
                measure.quantity = data.get("seizure_quantity")
                measure.quantity_unit = (data.get("seizure_unit") or "").strip()
                if measure.seizure_kind == Measure.SeizureKind.CASH or data.get("cash_amount") is not None:
                    measure.amount = data.get("cash_amount")
            elif measure_type == MeasureType.REFERRAL:
                measure.referral_service = data.get("referral_service") or ""
            measures.append(measure)
        return measures

    # Where a measure's messages belong: the input that needs fixing, not the whole group.
    MEASURE_FIELDS = {
        MeasureType.CAUTION_FEE: "caution_amount",
        MeasureType.SEIZURE: "seizure_kind",
        MeasureType.REFERRAL: "referral_service",
    }

    def add_measure_errors(self, messages: list[str], measures: list[MeasureInput]) -> None:
        for message in messages:
            field = "measure_types"
            text = message
            if message.startswith("Maßnahme ") and ": " in message:
                prefix, rest = message.split(": ", 1)
                number = prefix.removeprefix("Maßnahme ").strip()
                if number.isdigit() and 1 <= int(number) <= len(measures):
                    measure = measures[int(number) - 1]
                    text = rest  # the toggle buttons show no numbers, so drop "Maßnahme 2:"
                    field = self.MEASURE_FIELDS.get(measure.type, "measure_types")
                    if measure.type == MeasureType.SEIZURE and ("Betrag" in rest or "Bargeld" in rest):
                        field = "cash_amount"
                    elif measure.type == MeasureType.SEIZURE and "Menge" in rest:
                        field = "seizure_quantity"
                    elif "Person" in rest and "create_person" in self.fields:
                        field = "create_person"
                    elif "nur die Polizei" in rest or "kein Verwarnungsgeld vorgesehen" in rest:
                        field = "measure_types"
            if field != "measure_types":
                # At the measure's own input the measure name is clear from the context.
                for label in MEASURE_LABELS.values():
                    text = text.removeprefix(f"{label}: ")
            self.add_error(field, text)

    def service_arguments(self) -> dict[str, Any]:
        """What ``services.incident_create`` / ``incident_check`` get from the valid fields."""
        data = getattr(self, "cleaned_data", {})
        return {
            "category": self.category_object(),
            "occurred_at": data.get("occurred_at"),
            "lat": data.get("lat", ""),
            "lon": data.get("lon", ""),
            "source": data.get("source") or Incident.Source.PATROL,
            "description": data.get("description") or "",
            "address_text": data.get("address_text") or "",
            "patrol": self.patrol_object(),
        }

    def show_service_errors(
        self, errors: dict[str, list[str]], measures: list[MeasureInput], *, only_new: bool = False
    ) -> None:
        """Put a service's messages at the fields; ``only_new`` keeps fields the form already
        flagged (its message says it better) and treats latitude and longitude as one place."""
        flagged = set(self.errors) if only_new else set()
        if flagged & set(LOCATION_FIELDS):
            flagged |= set(LOCATION_FIELDS)
        details = {key: list(messages) for key, messages in errors.items()}
        measure_messages = details.pop("measures", [])
        if measure_messages:
            before = {name: list(self.errors[name]) for name in flagged if name in self.errors}
            self.add_measure_errors(measure_messages, measures)
            for name, messages in before.items():  # the form's own message stays alone
                self.errors[name] = self.error_class(messages)
        aliases = {"age_group": "person_age_group"}
        for key, messages in details.items():
            field = aliases.get(key, key)
            if field in flagged:
                continue
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)

    def error_summary(self) -> list[dict[str, str]]:
        """The messages for the box above the form, in field order; the place is one item
        (latitude and longitude are details of it) and links to the map."""
        if not (self.is_bound and self.errors):
            return []
        items = [{"anchor": "", "label": "", "message": str(m)} for m in self.non_field_errors()]
        location_done = False
        for name in self.fields:
            if name not in self.errors:
                continue
            if name in LOCATION_FIELDS:
                if location_done:
                    continue
                location_done = True
                for field_name in LOCATION_FIELDS:
                    items += [
                        {"anchor": "entry-map", "label": "", "message": str(message)}
                        for message in self.errors.get(field_name, [])
                    ]
                continue
            items += [
                {"anchor": self[name].auto_id, "label": str(self.fields[name].label or ""), "message": str(m)}
                for m in self.errors[name]
            ]
        return items

    def location_errors(self) -> list[str]:
        return [str(m) for name in LOCATION_FIELDS for m in self.errors.get(name, [])]


def patrol_label(patrol: Patrol) -> str:
    start = timezone.localtime(patrol.planned_start)
    end = timezone.localtime(patrol.planned_end)
    area = f", {patrol.area.name}" if patrol.area_id and patrol.area else ""
    joint = " (Doppelstreife)" if patrol.joint else ""
    return f"{patrol.name}{joint}{area} – {start:%d.%m. %H:%M}–{end:%H:%M}"


class MeasureAddForm(LagebildForm):
    """One later measure on an existing incident."""

    type = forms.ChoiceField(label="Maßnahme")
    amount = forms.CharField(
        label="Betrag (€)",
        required=False,
        max_length=20,
        help_text="Verwarnungsgeld (5 bis 55 €) oder sichergestelltes Bargeld.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    seizure_kind = forms.ChoiceField(
        label="Art der Sicherstellung", required=False, choices=[("", "–"), *Measure.SeizureKind.choices]
    )
    quantity = forms.CharField(
        label="Menge",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    quantity_unit = forms.CharField(label="Einheit", required=False, max_length=20)
    referral_service = forms.ChoiceField(
        label="Hilfeangebot", required=False, choices=[("", "–"), *Measure.ReferralService.choices]
    )
    note = forms.CharField(label="Bemerkung", required=False, max_length=500)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Bitte wählen"), *IncidentForm.measure_choices(user)]
        self.fields["type"].error_messages["required"] = "Bitte eine Maßnahme wählen."
        self.fields["type"].error_messages["invalid_choice"] = (
            "Diese Maßnahme steht Ihrer Behörde nicht zur Verfügung."
        )

    def clean_amount(self) -> Decimal | None:
        try:
            return parse_decimal(self.cleaned_data.get("amount"), label="Der Betrag")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_quantity(self) -> Decimal | None:
        try:
            return parse_decimal(self.cleaned_data.get("quantity"), label="Die Menge")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def measure_input(self) -> MeasureInput:
        data = self.cleaned_data
        return MeasureInput(
            type=data["type"],
            amount=data.get("amount"),
            seizure_kind=data.get("seizure_kind") or "",
            quantity=data.get("quantity"),
            quantity_unit=(data.get("quantity_unit") or "").strip(),
            referral_service=data.get("referral_service") or "",
            note=(data.get("note") or "").strip(),
        )


# --- filters ----------------------------------------------------------------------------------


def partner_authority(user: User) -> Authority | None:
    """The partner in the Ordnungspartnerschaft: police for city users and vice versa."""
    own = user.authority
    others = Authority.objects.exclude(pk=own.pk)
    if own.kind == Authority.Kind.CITY:
        preferred = others.filter(kind=Authority.Kind.POLICE)
    elif own.kind == Authority.Kind.POLICE:
        preferred = others.filter(kind=Authority.Kind.CITY)
    else:
        preferred = others
    return preferred.order_by("pk").first()


# Filter fields the form rejected (e.g. an id not in its choices) are not applied.
UNSET_FILTER: dict[str, tuple[str, Any]] = {
    "date_from": ("date_from", None),
    "date_to": ("date_to", None),
    "area": ("area_id", None),
    "category": ("category_ids", list),
    "measure_type": ("measure_type", ""),
    "authority": ("authority_id", None),
    "source": ("source", ""),
    "joint": ("joint", None),
}


class IncidentFilterForm(LagebildForm):
    """GET filters of the incident list; bad input never raises.

    Parameter names and meanings are those of ``field.filters`` (``measure_type``,
    ``authority`` = authority id, ``joint`` = 1/0), so the list's query string can be
    handed unchanged to the CSV/GeoJSON exports.
    """

    date_from = forms.DateField(
        label="Von", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    date_to = forms.DateField(
        label="Bis", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    area = forms.TypedChoiceField(label="Gebiet", required=False, coerce=int, empty_value=None)
    category = forms.TypedChoiceField(label="Sachverhalt", required=False, coerce=int, empty_value=None)
    measure_type = forms.ChoiceField(label="Maßnahme", required=False)
    authority = forms.TypedChoiceField(
        label="Erfassende Behörde", required=False, coerce=int, empty_value=None
    )
    joint = forms.ChoiceField(
        label="Gemeinsame Vorgänge",
        required=False,
        choices=[("", "Alle"), ("1", "Nur gemeinsame"), ("0", "Nur nicht gemeinsame")],
    )
    source = forms.ChoiceField(
        label="Quelle", required=False, choices=[("", "Alle Quellen"), *Incident.Source.choices]
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        invalid_date = "Bitte ein Datum im Format TT.MM.JJJJ angeben."
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = invalid_date
        self.fields["area"].choices = grouped_area_choices(FILTER_AREA_KIND_ORDER, empty_label="Alle Gebiete")
        self.fields["category"].choices = [
            ("", "Alle Sachverhalte"),
            *grouped_category_choices(category_list(active_only=False)),
        ]
        self.fields["measure_type"].choices = [("", "Alle Maßnahmen"), *MeasureType.choices]
        self.partner = partner_authority(user)
        authority_choices = [
            ("", "Eigene und Partner"),
            (str(user.authority_id), f"Eigene ({user.authority.name})"),
        ]
        if self.partner is not None:
            authority_choices.append((str(self.partner.pk), f"Partner ({self.partner.name})"))
        self.fields["authority"].choices = authority_choices
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "Bitte einen Eintrag aus der Liste wählen."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", "Das Enddatum liegt vor dem Anfangsdatum.")
        return data

    def incident_filter(self) -> IncidentFilter:
        """The filter the exports would apply to the same query string (one parser for both);
        the form itself only renders the fields and their messages."""
        filters = filters_from_querydict(self.data)[0]
        for name in self.errors:
            if name in UNSET_FILTER:
                attribute, empty = UNSET_FILTER[name]
                setattr(filters, attribute, empty() if callable(empty) else empty)
        return filters


def incident_filter_from_query(query: Any, user: User) -> tuple[IncidentFilter, IncidentFilterForm]:
    """Parse list query parameters into an :class:`IncidentFilter` (never raises)."""
    form = IncidentFilterForm(query, user=user)
    form.is_valid()
    return form.incident_filter(), form


class OverviewFilterForm(LagebildForm):
    PRESETS = [
        ("today", "Heute"),
        ("7d", "7 Tage"),
        ("28d", "28 Tage"),
        ("ytd", "Seit Jahresbeginn"),
    ]

    period = forms.ChoiceField(label="Zeitraum", required=False, choices=PRESETS)
    date_from = forms.DateField(
        label="Von", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    date_to = forms.DateField(
        label="Bis", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    area = forms.TypedChoiceField(label="Gebiet", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = grouped_area_choices(FILTER_AREA_KIND_ORDER, empty_label="Ganze Stadt")
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "Bitte ein Datum im Format TT.MM.JJJJ angeben."
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "Bitte einen Eintrag aus der Liste wählen."

    @staticmethod
    def preset_range(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
        if period == "today":
            return today, today
        if period == "28d":
            return today - dt.timedelta(days=27), today
        if period == "ytd":
            return today.replace(month=1, day=1), today
        return today - dt.timedelta(days=6), today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", "Das Enddatum liegt vor dem Anfangsdatum.")
        return data

    def resolved(self) -> tuple[str, dt.date, dt.date, int | None]:
        """(active preset or "", first day, last day, area id) – explicit dates win over presets."""
        data = self.valid_data()
        today = timezone.localdate()
        period = data.get("period") or ""
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from or date_to:
            start = date_from or (date_to - dt.timedelta(days=6))  # type: ignore[operator]
            end = date_to or today
            if end < start:
                start, end = self.preset_range("7d", today)
            return "", start, end, data.get("area")
        period = period or "7d"
        start, end = self.preset_range(period, today)
        return period, start, end, data.get("area")


class ShiftFilterForm(LagebildForm):
    date_from = forms.DateField(
        label="Von", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    date_to = forms.DateField(
        label="Bis", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "Bitte ein Datum im Format TT.MM.JJJJ angeben."

    def resolved(self) -> tuple[dt.date, dt.date]:
        """The chosen range; default is the current week (Monday to Sunday)."""
        data = self.valid_data()
        today = timezone.localdate()
        monday = today - dt.timedelta(days=today.weekday())
        start = data.get("date_from") or monday
        end = data.get("date_to") or (start + dt.timedelta(days=6))
        if end < start:
            self.add_error("date_to", "Das Enddatum liegt vor dem Anfangsdatum.")
            end = start + dt.timedelta(days=6)
        if (end - start).days > 366:
            self.add_error("date_to", "Bitte höchstens ein Jahr auf einmal anzeigen.")
            end = start + dt.timedelta(days=366)
        return start, end


# --- shifts and patrols -----------------------------------------------------------------------


class ShiftForm(LagebildForm):
    date = forms.DateField(
        label="Datum",
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
        error_messages={
            "required": "Bitte ein Datum angeben.",
            "invalid": "Bitte ein gültiges Datum angeben.",
        },
    )
    kind = forms.ChoiceField(
        label="Schicht",
        choices=Shift.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Bitte die Schicht wählen."},
    )
    lead = forms.TypedChoiceField(label="Schichtleitung", required=False, coerce=int, empty_value=None)
    note = forms.CharField(
        label="Bemerkung", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leads = [
            u
            for u in assignable_users().filter(authority_id=user.authority_id)
            if u.role in (Role.SHIFT_LEAD, Role.ADMIN)
        ]
        self.leads = {u.pk: u for u in leads}
        self.fields["lead"].choices = [("", "Keine Angabe")] + [(str(u.pk), str(u)) for u in leads]


class PatrolMembersForm(LagebildForm):
    """Who goes on a patrol: staff of both authorities, the planner's own authority first."""

    members = forms.TypedMultipleChoiceField(
        label="Mitglieder",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Mitglieder aus Stadt und Polizei ergeben eine Doppelstreife.",
        error_messages={
            "required": "Eine Streife braucht mindestens ein Mitglied.",
            "invalid_choice": "Diese Person kann nicht eingeteilt werden.",
        },
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = list(assignable_users())
        if user is not None:
            # The planner's own authority first; the partner's staff below for joint patrols.
            users.sort(key=lambda u: u.authority_id != user.authority_id)
        self.users = {u.pk: u for u in users}
        grouped: dict[str, list[tuple[int, str]]] = {}
        for person in users:
            label = str(person) + (f" ({person.service_number})" if person.service_number else "")
            grouped.setdefault(person.authority.name, []).append((person.pk, label))
        self.fields["members"].choices = list(grouped.items())

    def member_objects(self) -> list[User]:
        return [self.users[pk] for pk in self.cleaned_data.get("members") or [] if pk in self.users]

    def member_groups(self) -> list[dict[str, Any]]:
        """The checkbox groups per authority, with what is ticked (the template's picker)."""
        selected = {str(v) for v in (self["members"].value() or [])}
        return [
            {
                "label": label,
                "users": [{"pk": pk, "label": text, "checked": str(pk) in selected} for pk, text in items],
            }
            for label, items in self.fields["members"].choices
        ]


class PatrolForm(PatrolMembersForm):
    field_order = ["name", "area", "clothing", "planned_start", "planned_end", "members"]

    name = forms.CharField(
        label="Funkrufname / Bezeichnung",
        max_length=80,
        error_messages={"required": "Bitte eine Bezeichnung angeben."},
    )
    area = forms.TypedChoiceField(label="Einsatzraum", required=False, coerce=int, empty_value=None)
    clothing = forms.ChoiceField(
        label="Kleidung",
        choices=Patrol.Clothing.choices,
        widget=forms.RadioSelect,
        initial=Patrol.Clothing.UNIFORM,
    )
    planned_start = LocalDateTimeField(
        label="Geplanter Beginn",
        input_formats=DATETIME_INPUT_FORMATS,
        widget=DateTimeLocalInput(),
        error_messages={
            "required": "Bitte den Beginn angeben.",
            "invalid": "Bitte Datum und Uhrzeit angeben.",
        },
    )
    planned_end = LocalDateTimeField(
        label="Geplantes Ende",
        input_formats=DATETIME_INPUT_FORMATS,
        widget=DateTimeLocalInput(),
        error_messages={"required": "Bitte das Ende angeben.", "invalid": "Bitte Datum und Uhrzeit angeben."},
    )

    def __init__(self, *args: Any, shift: Shift, user: User | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"planned_start": shift.starts_at, "planned_end": shift.ends_at})
        super().__init__(*args, user=user, **kwargs)
        self.fields["area"].choices = grouped_area_choices(AREA_KIND_ORDER, empty_label="Kein Einsatzraum")
        self.fields["area"].error_messages["invalid_choice"] = "Bitte einen Einsatzraum aus der Liste wählen."
