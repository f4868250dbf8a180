"""Forms of the deployment planning pages (German labels, errors at the fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from lagebild.core.localtime import monday_of
from lagebild.field.forms import LagebildForm
from lagebild.field.models import Shift

from .services import (
    GROUP_CHOICES,
    MAX_FOCUS_MINIMUM,
    MAX_TEAMS_PER_SHIFT,
    MAX_WEEK_HOURS,
    SHIFT_KINDS,
    STAFF_KINDS,
    WEEKDAYS,
    StaffInput,
    staff_key,
)

STAFF_LABELS = {"kod": "KOD-Streifen", "police": "Polizeistreifen", "joint": "Doppelstreifen"}
# Defaults a shift lead overwrites: two KOD teams early and late, one at night; the police's
# teams are requests to the partner and start at zero.
DEFAULT_STAFF = {
    "kod": {Shift.Kind.EARLY: 2, Shift.Kind.LATE: 2, Shift.Kind.NIGHT: 1},
    "police": {Shift.Kind.EARLY: 0, Shift.Kind.LATE: 0, Shift.Kind.NIGHT: 0},
    "joint": {Shift.Kind.EARLY: 0, Shift.Kind.LATE: 1, Shift.Kind.NIGHT: 0},
}
NUMBER = {"min": 0, "inputmode": "numeric", "class": "narrow-number"}


def staff_field_name(kind: str, weekday: int, shift_kind: str) -> str:
    return f"{kind}_{weekday}_{shift_kind}"


class PlanCreateForm(LagebildForm):
    week = forms.DateField(
        label="Woche",
        help_text="Ein Tag der Woche; geplant wird von Montag bis Sonntag.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Bitte ein Datum angeben.", "required": "Bitte eine Woche wählen."},
    )
    category_group = forms.ChoiceField(label="Deliktsgruppe", choices=GROUP_CHOICES)
    focus_minimum = forms.IntegerField(
        label="Mindestpräsenz je Schwerpunktraum und Schicht (Streifen)",
        min_value=0,
        max_value=MAX_FOCUS_MINIMUM,
        initial=0,
        help_text="0: Schwerpunkträume werden nicht eigens berücksichtigt.",
        widget=forms.NumberInput(attrs=NUMBER),
    )
    max_hours_kod = forms.FloatField(
        label="Höchstens Streifenstunden KOD je Woche",
        required=False,
        min_value=0,
        max_value=MAX_WEEK_HOURS,
        help_text="Leer: ohne Obergrenze. Doppelstreifen haben ihre eigene Obergrenze.",
        error_messages={"invalid": "Bitte eine Zahl angeben."},
    )
    max_hours_police = forms.FloatField(
        label="Höchstens Streifenstunden Polizei je Woche",
        required=False,
        min_value=0,
        max_value=MAX_WEEK_HOURS,
        help_text="Leer: ohne Obergrenze.",
        error_messages={"invalid": "Bitte eine Zahl angeben."},
    )
    max_hours_joint = forms.FloatField(
        label="Höchstens Streifenstunden Doppelstreifen je Woche",
        required=False,
        min_value=0,
        max_value=MAX_WEEK_HOURS,
        help_text="Leer: ohne Obergrenze.",
        error_messages={"invalid": "Bitte eine Zahl angeben."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["week"].initial = monday_of(timezone.localdate()) + dt.timedelta(days=7)
        for kind in STAFF_KINDS:
            for weekday in range(7):
                for shift_kind in SHIFT_KINDS:
                    self.fields[staff_field_name(kind, weekday, shift_kind)] = forms.IntegerField(
                        label=f"{STAFF_LABELS[kind]} {WEEKDAYS[weekday]} {Shift.Kind(shift_kind).label}",
                        min_value=0,
                        max_value=MAX_TEAMS_PER_SHIFT,
                        initial=DEFAULT_STAFF[kind][shift_kind],
                        error_messages={
                            "required": "Bitte eine Zahl angeben.",
                            "invalid": "Bitte eine ganze Zahl angeben.",
                            "min_value": "Nicht weniger als 0.",
                            "max_value": f"Höchstens {MAX_TEAMS_PER_SHIFT}.",
                        },
                        widget=forms.NumberInput(attrs=NUMBER),
                    )
        self.mark_invalid_fields()

    def staff_rows(self) -> list[dict[str, Any]]:
        """Rows of the staff table: weekday × shift kind, one field per kind of team."""
        rows = []
        for weekday in range(7):
            for shift_kind in SHIFT_KINDS:
                rows.append(
                    {
                        "weekday": WEEKDAYS[weekday],
                        "shift": Shift.Kind(shift_kind).label,
                        "fields": [self[staff_field_name(kind, weekday, shift_kind)] for kind in STAFF_KINDS],
                    }
                )
        return rows

    def staff_input(self) -> StaffInput:
        data = self.cleaned_data
        values = {
            kind: {
                staff_key(weekday, shift_kind): data[staff_field_name(kind, weekday, shift_kind)]
                for weekday in range(7)
                for shift_kind in SHIFT_KINDS
            }
            for kind in STAFF_KINDS
        }
        return StaffInput(kod=values["kod"], police=values["police"], joint=values["joint"])


class AssignmentEditForm(LagebildForm):
    assignment = forms.IntegerField(widget=forms.HiddenInput)
    zone = forms.TypedChoiceField(label="Einsatzraum", coerce=int)
    teams = forms.IntegerField(
        label="Streifen",
        min_value=0,
        max_value=MAX_TEAMS_PER_SHIFT,
        help_text="0 streicht die Einteilung.",
        error_messages={
            "required": "Bitte eine Zahl angeben.",
            "invalid": "Bitte eine ganze Zahl angeben.",
            "min_value": "Nicht weniger als 0.",
            "max_value": f"Höchstens {MAX_TEAMS_PER_SHIFT}.",
        },
        widget=forms.NumberInput(attrs=NUMBER),
    )
    reason = forms.CharField(
        label="Begründung der Abweichung",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Bitte begründen Sie die Abweichung vom berechneten Plan."},
    )

    def __init__(self, *args: Any, zones: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = zones
        self.mark_invalid_fields()
