"""The selector of the risk-map page: category group, week and (optionally) one of its shifts."""

from __future__ import annotations

import datetime as dt

from django import forms

from lagebild.field.forms import LagebildForm
from lagebild.field.models import Shift

from . import selectors
from .models import ALL_GROUPS


def _week_label(monday: dt.date) -> str:
    sunday = monday + dt.timedelta(days=6)
    return f"{monday:%d.%m.}–{sunday:%d.%m.%Y} (KW {monday.isocalendar().week})"


def _shift_label(day: dt.date, kind: str) -> str:
    weekday = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")[day.weekday()]
    return f"{weekday} {day:%d.%m.} {Shift.Kind(kind).label}"


class RiskMapForm(LagebildForm):
    gruppe = forms.ChoiceField(label="Sachverhalte", required=False)
    woche = forms.ChoiceField(label="Woche", required=False)
    schicht = forms.ChoiceField(
        label="Zeitraum", required=False, help_text="Die ganze Woche oder eine ihrer Schichten."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        groups = selectors.groups_with_runs() or [ALL_GROUPS]
        self.fields["gruppe"].choices = [(g, selectors.group_label(g)) for g in groups]
        group = self.data.get("gruppe") if self.data.get("gruppe") in groups else groups[0]
        weeks = selectors.available_weeks(group)
        self.fields["woche"].choices = [(w.isoformat(), _week_label(w)) for w in weeks] or [("", "keine")]
        week = self._week(weeks)
        shifts = selectors.available_shifts(group, week) if week else []
        self.fields["schicht"].choices = [("", "ganze Woche")] + [
            (f"{day.isoformat()}:{kind}", _shift_label(day, kind)) for day, kind in shifts
        ]

    def _week(self, weeks: list[dt.date]) -> dt.date | None:
        text = self.data.get("woche") or ""
        try:
            chosen = dt.date.fromisoformat(text)
        except ValueError:
            chosen = None
        if chosen in weeks:
            return chosen
        return weeks[0] if weeks else None

    def selection(self) -> tuple[str, dt.date | None, str]:
        """(group, week, shift) with invalid input replaced by the defaults."""
        values = self.valid_data()
        group = values.get("gruppe") or self.fields["gruppe"].choices[0][0]
        weeks = selectors.available_weeks(group)
        week = self._week(weeks)
        shift = values.get("schicht") or ""
        return group, week, shift
