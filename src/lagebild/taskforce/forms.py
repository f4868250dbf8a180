"""Forms of the Sonderstab pages: they collect input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms

from lagebild.analytics.models import Indicator
from lagebild.core.models import User
from lagebild.field.forms import LagebildForm, add_service_errors
from lagebild.geo.models import Area

from .models import Goal, Milestone, Operation, TaskForce, WorkingGroup

__all__ = [
    "ActionForm",
    "CloseMeetingForm",
    "CouncilReportForm",
    "DecisionForm",
    "GoalForm",
    "MeetingForm",
    "MilestoneForm",
    "MilestoneUpdateForm",
    "RecommendationForm",
    "TransitionForm",
    "add_service_errors",
]

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _people(task_force: TaskForce) -> Any:
    """Everyone who belongs to the task force or one of its groups (either authority)."""
    from django.db.models import Q

    return (
        User.objects.filter(
            Q(task_forces__task_force=task_force)
            | Q(led_working_groups__task_force=task_force)
            | Q(working_groups__task_force=task_force),
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name() or obj.get_username()
        return f"{name} ({obj.authority.name})"


class GoalForm(LagebildForm):
    title = forms.CharField(label="Ziel", max_length=300)
    kind = forms.ChoiceField(label="Art", choices=Goal.Kind.choices, initial=Goal.Kind.INDICATOR)
    indicator = forms.ModelChoiceField(
        label="Kennzahl", queryset=Indicator.objects.order_by("name"), required=False, to_field_name="code"
    )
    per_100_staff_hours = forms.BooleanField(label="Je 100 Personalstunden", required=False)
    area = forms.ModelChoiceField(
        label="Gebiet",
        queryset=Area.objects.filter(active=True).order_by("kind", "name"),
        required=False,
        empty_label="ganzes Stadtgebiet",
    )
    direction = forms.ChoiceField(label="Richtung", choices=Goal.Direction.choices)
    baseline_start = forms.DateField(label="Basiszeitraum von", required=False, widget=DATE)
    baseline_end = forms.DateField(label="Basiszeitraum bis", required=False, widget=DATE)
    target_value = forms.FloatField(label="Zielwert", required=False)
    target_date = forms.DateField(label="Zieldatum", required=False, widget=DATE)


class MilestoneForm(LagebildForm):
    title = forms.CharField(label="Meilenstein", max_length=300)
    owner = PersonChoiceField(label="Verantwortlich", queryset=User.objects.none(), required=False)
    due = forms.DateField(label="Fällig am", required=False, widget=DATE)
    goal = forms.ModelChoiceField(label="Zu Ziel", queryset=Goal.objects.none(), required=False)

    def __init__(self, *args: Any, group: WorkingGroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(group.task_force)
        self.fields["goal"].queryset = group.goals.all()


class MilestoneUpdateForm(LagebildForm):
    status = forms.ChoiceField(label="Stand", choices=Milestone.Status.choices)
    evidence_note = forms.CharField(
        label="Nachweis", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    evidence_file = forms.FileField(label="Nachweis (Datei)", required=False)


class RecommendationForm(LagebildForm):
    title = forms.CharField(label="Titel", max_length=300)
    text = forms.CharField(
        label="Beschlussvorschlag und Begründung", widget=forms.Textarea(attrs={"rows": 8})
    )
    goals = forms.ModelMultipleChoiceField(
        label="Ziele", queryset=Goal.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    milestones = forms.ModelMultipleChoiceField(
        label="Meilensteine",
        queryset=Milestone.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    operations = forms.ModelMultipleChoiceField(
        label="Schwerpunkteinsätze",
        queryset=Operation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, group: WorkingGroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["goals"].queryset = Goal.objects.filter(working_group__task_force=group.task_force)
        self.fields["milestones"].queryset = Milestone.objects.filter(
            working_group__task_force=group.task_force
        ).order_by("due", "pk")
        self.fields["operations"].queryset = Operation.objects.filter(task_force=group.task_force)


class TransitionForm(LagebildForm):
    target = forms.CharField(widget=forms.HiddenInput)
    rationale = forms.CharField(label="Begründung", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    attachment = forms.FileField(label="Anlage", required=False)


class MeetingForm(LagebildForm):
    date = forms.DateField(label="Datum", required=False, widget=DATE)
    starts_at = forms.TimeField(label="Beginn", required=False, widget=TIME)
    location = forms.CharField(label="Ort", max_length=200, required=False)


class DecisionForm(LagebildForm):
    text = forms.CharField(label="Festlegung", widget=forms.Textarea(attrs={"rows": 2}))
    recommendation = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ActionForm(LagebildForm):
    title = forms.CharField(label="Aufgabe", max_length=300, required=False)
    owner = PersonChoiceField(label="Verantwortlich", queryset=User.objects.none(), required=False)
    due = forms.DateField(label="Fällig am", required=False, widget=DATE)

    def __init__(self, *args: Any, task_force: TaskForce, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(task_force)


class CloseMeetingForm(LagebildForm):
    minutes = forms.CharField(label="Protokoll", widget=forms.Textarea(attrs={"rows": 8}), required=False)
    attendees = forms.ModelMultipleChoiceField(
        label="Anwesend", queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, task_force: TaskForce, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = _people(task_force)
        self.fields["attendees"].label_from_instance = lambda u: (  # type: ignore[attr-defined]
            f"{u.get_full_name() or u.get_username()} ({u.authority.name})"
        )


class CouncilReportForm(LagebildForm):
    start = forms.DateField(label="Von", widget=DATE)
    end = forms.DateField(label="Bis", widget=DATE)
    format = forms.ChoiceField(
        label="Format",
        choices=[("pdf", "PDF"), ("docx", "Word (DOCX)")],
        initial="pdf",
        widget=forms.RadioSelect,
    )
