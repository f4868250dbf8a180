"""The public report form: built per category from its questions (Open311 attributes).

The form only parses the shape of the input; the rules (required answers, allowed
values, lengths, location inside the city) are checked by ``services.report_create``,
whose German messages are put back at the fields here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from lagebild.core.localtime import resolve_wall_time
from lagebild.field.forms import LagebildForm
from lagebild.geo.points import InvalidCoordinate, parse_coordinate

from .models import ServiceAttribute, ServiceType

ATTRIBUTE_PREFIX = "attr_"
# Generous caps before the service's own limits: they only stop absurd payloads early.
HARD_LIMITS = {"description": 20_000, "address_text": 2_000, "reporter_name": 1_000, "reporter_email": 1_000}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AnyChoicesField(forms.MultipleChoiceField):
    """Checkboxes whose values the service checks (so its message appears at the question)."""

    def valid_value(self, value: str) -> bool:
        return True


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"


def attribute_field(attribute: ServiceAttribute) -> forms.Field:
    datatype = attribute.datatype
    options = {
        "label": attribute.description,
        "required": False,
        "help_text": attribute.datatype_description,
    }
    choices = [
        (str(v.get("key")), str(v.get("name") or v.get("key")))
        for v in attribute.values or []
        if isinstance(v, dict)
    ]
    Datatype = ServiceAttribute.Datatype
    if datatype == Datatype.NUMBER:
        return forms.CharField(
            **options, widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
    if datatype == Datatype.DATETIME:
        return forms.CharField(**options, widget=DateTimeLocalInput())
    if datatype == Datatype.TEXT:
        return forms.CharField(**options, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}))
    if datatype == Datatype.SINGLE:
        return forms.CharField(**options, widget=forms.Select(choices=[("", "Bitte wählen"), *choices]))
    if datatype == Datatype.MULTI:
        return AnyChoicesField(**options, choices=choices, widget=forms.CheckboxSelectMultiple)
    return forms.CharField(**options, widget=forms.TextInput(attrs={"maxlength": 300}))


class PublicReportForm(LagebildForm):
    lat = forms.CharField(label="Breite", required=False, max_length=40)
    lon = forms.CharField(label="Länge", required=False, max_length=40)
    address_text = forms.CharField(
        label="Adresse oder Ortsbeschreibung",
        required=False,
        help_text="Straße mit Hausnummer, ein Platz oder eine Beschreibung, z. B. „Eingang Stadtgarten“.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "maxlength": 300}),
    )
    description = forms.CharField(
        label="Was ist los?",
        required=False,
        help_text="Beschreiben Sie kurz, was Sie beobachtet haben. Bitte keine Namen anderer Personen.",
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 4000}),
    )
    photos = forms.Field(
        label="Fotos",
        required=False,
        help_text="Bis zu 3 Fotos (JPEG, PNG oder WebP), je höchstens 8 MB.",
        widget=MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    reporter_name = forms.CharField(
        label="Ihr Name",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": 120}),
    )
    reporter_email = forms.CharField(
        label="Ihre E-Mail-Adresse",
        required=False,
        help_text="Nur für Rückmeldungen zu dieser Meldung: Sie erhalten den Link zur Statusseite.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
    )
    # Honeypot: hidden from people and screen readers; bots fill in every field.
    website = forms.CharField(label="Website", required=False)
    confirm_new = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, service: ServiceType, **kwargs: Any) -> None:
        self.service = service
        self.attribute_list = list(service.attributes.all())
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        for attribute in self.attribute_list:
            if attribute.variable:
                self.fields[ATTRIBUTE_PREFIX + attribute.code] = attribute_field(attribute)
        self.mark_invalid_fields()

    # --- parsing ---------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, limit in HARD_LIMITS.items():
            if len(data.get(name) or "") > limit:
                self.add_error(name, "Dieser Text ist viel zu lang.")
        return data

    @property
    def honeypot_filled(self) -> bool:
        return bool(str(self.data.get("website", "")).strip())

    @property
    def confirmed_new(self) -> bool:
        return bool(str(self.data.get("confirm_new", "")).strip())

    def value(self, name: str) -> str:
        data = self.valid_data()
        return str(data.get(name) or "")

    def point(self) -> tuple[float, float] | None:
        """The chosen coordinates if both parse (the service checks them properly)."""
        try:
            lat = parse_coordinate(self.data.get("lat", ""), kind="Breite")
            lon = parse_coordinate(self.data.get("lon", ""), kind="Länge")
        except InvalidCoordinate:
            return None
        return lat, lon

    def attribute_values(self) -> dict[str, object]:
        values: dict[str, object] = {}
        data = self.valid_data()
        for attribute in self.attribute_list:
            name = ATTRIBUTE_PREFIX + attribute.code
            if name not in self.fields:
                continue
            value = data.get(name)
            if attribute.datatype == ServiceAttribute.Datatype.DATETIME and value:
                value = _local_to_w3c(str(value))
            values[attribute.code] = value
        return values

    # --- showing the service's messages ------------------------------------------------------

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        aliases = {"lat": "lat", "lon": "lat", "location": "address_text", "address_id": "address_text"}
        for key, messages in error.message_dict.items():
            if key == "attributes":
                for message in messages:
                    self._add_attribute_error(message)
                continue
            field = aliases.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    def _add_attribute_error(self, message: str) -> None:
        for attribute in self.attribute_list:
            prefix = f"{attribute.description}:"
            name = ATTRIBUTE_PREFIX + attribute.code
            if message.startswith(prefix) and name in self.fields:
                self.add_error(name, message[len(prefix) :].strip())
                return
        self.add_error(None, message)

    # --- template helpers --------------------------------------------------------------------

    def location_errors(self) -> list[str]:
        if not self.is_bound:
            return []
        return [*self.errors.get("lat", []), *self.errors.get("lon", [])]

    def questions(self) -> list[dict[str, Any]]:
        """The category's questions in order, with their bound fields (None for notes)."""
        items = []
        for attribute in self.attribute_list:
            name = ATTRIBUTE_PREFIX + attribute.code
            items.append(
                {
                    "attribute": attribute,
                    "field": self[name] if name in self.fields else None,
                    "is_multi": attribute.datatype == ServiceAttribute.Datatype.MULTI,
                }
            )
        return items


def _local_to_w3c(value: str) -> str:
    """``2026-11-22T14:30`` from a datetime-local input → an ISO datetime with the local offset."""
    text = value.strip()
    for fmt in DATETIME_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return resolve_wall_time(parsed, timezone.get_current_timezone(), now=timezone.now()).isoformat()
    return text  # already with a zone, or wrong: the service decides and explains
