"""Forms of the evidence register pages; German messages at the fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from lagebild.core.forms import LocalDateTimeField
from lagebild.core.models import User
from lagebild.field.forms import LagebildForm

from .models import ActivationReason, RetentionReason
from .rules import BODYCAM_ROLES, is_supervisor

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RegisterForm(LagebildForm):
    file = forms.FileField(
        label="Videodatei",
        required=False,  # the service says what is wrong, in German, also for an empty file
        help_text="MP4, MOV, WebM/MKV, AVI oder MPEG, wie von der Kamera ausgelesen.",
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
        error_messages={"empty": "Die Datei ist leer. Bitte die vollständige Aufnahme hochladen."},
    )
    device_serial = forms.CharField(label="Seriennummer der Bodycam", max_length=80)
    wearer = forms.ModelChoiceField(
        label="Trägerin / Träger",
        queryset=User.objects.none(),
        required=False,
        help_text="Leer: Sie selbst.",
    )
    started_at = LocalDateTimeField(label="Beginn der Aufnahme", widget=DATETIME_WIDGET)
    ended_at = LocalDateTimeField(label="Ende der Aufnahme", widget=DATETIME_WIDGET)
    activation_reason = forms.ChoiceField(label="Anlass der Aktivierung", choices=ActivationReason.choices)
    activation_note = forms.CharField(
        label="Anlass (Beschreibung)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Was die konkrete Gefahr war; Pflicht bei „Sonstiger Grund“.",
    )
    announced = forms.BooleanField(label="Aufnahme wurde angekündigt", required=False, initial=True)
    location_text = forms.CharField(label="Ort", required=False, max_length=200)
    incident = forms.IntegerField(
        label="Feststellung Nr.",
        required=False,
        min_value=1,
        help_text="Optional: die Feststellung Ihrer Behörde, zu der die Aufnahme gehört.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if is_supervisor(user):
            self.fields["wearer"].queryset = User.objects.filter(
                authority_id=user.authority_id, role__in=BODYCAM_ROLES, is_active=True
            ).order_by("last_name", "first_name", "username")
        else:
            del self.fields["wearer"]


class AccessForm(LagebildForm):
    purpose = forms.ChoiceField(
        label="Zugriff",
        choices=[("view", "Ansehen"), ("copy", "Kopie herunterladen (Export)")],
        initial="view",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Grund des Zugriffs",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Wird mit Ihrem Namen und der Uhrzeit in der Verwahrkette vermerkt.",
        error_messages={"required": "Bitte den Grund für den Zugriff angeben."},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not is_supervisor(user):
            self.fields["purpose"].choices = [("view", "Ansehen")]


class HandoverForm(LagebildForm):
    recipient = forms.CharField(
        label="Empfänger",
        max_length=200,
        help_text="z. B. Staatsanwaltschaft Dortmund, Polizeipräsidium, Bußgeldstelle",
        error_messages={"required": "Bitte angeben, an wen die Aufnahme übergeben wird."},
    )
    reference = forms.CharField(label="Aktenzeichen", max_length=120, required=False)
    reason = forms.CharField(
        label="Grund der Übergabe",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Bitte den Grund der Übergabe angeben."},
    )


class RetentionForm(LagebildForm):
    reason = forms.ChoiceField(label="Grund der Sicherung", choices=RetentionReason.choices)
    reference = forms.CharField(label="Aktenzeichen / Bezug", max_length=120, required=False)
    note = forms.CharField(
        label="Begründung",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Bitte die Sicherung begründen."},
    )
    delete_on = forms.DateField(
        label="Neues Löschdatum",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Die Aufnahme wird ab diesem Tag (0 Uhr) gelöscht, wenn niemand verlängert.",
        error_messages={
            "required": "Bitte das neue Löschdatum angeben.",
            "invalid": "Bitte ein gültiges Datum angeben.",
        },
    )

    def clean_delete_on(self) -> dt.date:
        day = self.cleaned_data["delete_on"]
        today = timezone.localdate()
        if day <= today:
            raise forms.ValidationError("Das neue Löschdatum muss in der Zukunft liegen.")
        if day.year > today.year + 10:
            raise forms.ValidationError(
                "Das neue Löschdatum darf höchstens zehn Jahre in der Zukunft liegen."
            )
        return day

    def delete_after(self) -> dt.datetime | None:
        day = self.cleaned_data.get("delete_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class RejectForm(LagebildForm):
    note = forms.CharField(
        label="Begründung der Ablehnung",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Bitte die Ablehnung begründen."},
    )
