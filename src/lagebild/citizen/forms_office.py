"""Forms of the back office for citizen reports (Hinweise).

Forms parse the shape of the input only; the rules (who may set which status, required
answers, locations inside the city) are in ``citizen.services``, whose German messages
are put back at the fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from lagebild.core.forms import LocalDateTimeField
from lagebild.core.models import User
from lagebild.field.forms import (
    DATE_INPUT_FORMATS,
    DATETIME_INPUT_FORMATS,
    FILTER_AREA_KIND_ORDER,
    DateInput,
    DateTimeLocalInput,
    LagebildForm,
    grouped_area_choices,
)

from . import services
from .models import (
    OPEN_STATUSES,
    Channel,
    ReportStatus,
    RoutingTarget,
    ServiceAttribute,
    ServiceType,
)

# Channels staff record by hand; web and Open311 arrive by themselves.
STAFF_CHANNELS = [Channel.PHONE, Channel.EMAIL, Channel.LETTER, Channel.CITYWACHE]
MAX_BACKDATE_DAYS = 60


def service_choices(services: list[ServiceType], empty_label: str) -> list[tuple[Any, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for service in services:
        groups.setdefault(service.group or "Weitere", []).append((str(service.pk), service.name))
    return [("", empty_label), *groups.items()]


# --- queue ------------------------------------------------------------------------------------

STATUS_OPEN, STATUS_CLOSED, STATUS_ALL = "offen", "abgeschlossen", "alle"
# Urgency first: a triager works from the overdue reports down; "newest first" stays a choice
# (the value is in the URL, so a bookmark keeps it).
SORT_URGENCY, SORT_NEWEST = "faellig", "eingang"
SORT_CHOICES = [
    (SORT_URGENCY, "Dringlichkeit (überfällige zuerst)"),
    (SORT_NEWEST, "Neueste zuerst"),
]


class QueueFilterForm(LagebildForm):
    """GET filters of the triage queue; bad values are ignored, never a 500."""

    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            (STATUS_OPEN, "Offene (Neu bis In Bearbeitung)"),
            (STATUS_CLOSED, "Abgeschlossene"),
            (STATUS_ALL, "Alle"),
            ("Einzelner Status", list(ReportStatus.choices)),
        ],
    )
    service = forms.TypedChoiceField(label="Kategorie", required=False, coerce=int, empty_value=None)
    area = forms.TypedChoiceField(label="Gebiet", required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(
        label="Eingangsweg", required=False, choices=[("", "Alle Eingangswege"), *Channel.choices]
    )
    overdue = forms.ChoiceField(
        label="Fälligkeit",
        required=False,
        choices=[("", "Alle"), ("ja", "Nur überfällige"), ("nein", "Nicht überfällige")],
    )
    sort = forms.ChoiceField(
        label="Sortierung",
        required=False,
        choices=SORT_CHOICES,
        initial=SORT_URGENCY,
    )

    def __init__(self, *args: Any, services: list[ServiceType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = service_choices(services, "Alle Kategorien")
        self.fields["area"].choices = grouped_area_choices(FILTER_AREA_KIND_ORDER, empty_label="Alle Gebiete")
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "Bitte einen Eintrag aus der Liste wählen."

    def statuses(self) -> list[str] | None:
        value = self.valid_data().get("status") or STATUS_OPEN
        if value == STATUS_OPEN:
            return sorted(OPEN_STATUSES)
        if value == STATUS_CLOSED:
            return sorted(set(ReportStatus.values) - set(OPEN_STATUSES))
        if value == STATUS_ALL:
            return None
        return [value]


# --- staff entry ------------------------------------------------------------------------------


def question_field(attribute: ServiceAttribute) -> forms.Field:
    """A form field for one category question; the service checks required answers."""
    label = attribute.description
    help_text = attribute.datatype_description
    values = [(str(v.get("key")), str(v.get("name") or v.get("key"))) for v in attribute.values or []]
    kind = ServiceAttribute.Datatype
    if attribute.datatype == kind.NUMBER:
        return forms.CharField(
            label=label,
            required=False,
            max_length=40,
            help_text=help_text,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
    if attribute.datatype == kind.DATETIME:
        return LocalDateTimeField(
            label=label,
            required=False,
            help_text=help_text,
            input_formats=DATETIME_INPUT_FORMATS,
            widget=DateTimeLocalInput(),
            error_messages={"invalid": "Bitte Datum und Uhrzeit angeben."},
        )
    if attribute.datatype == kind.TEXT:
        return forms.CharField(
            label=label,
            required=False,
            max_length=4000,
            help_text=help_text,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
    if attribute.datatype == kind.SINGLE:
        return forms.ChoiceField(
            label=label, required=False, help_text=help_text, choices=[("", "Bitte wählen"), *values]
        )
    if attribute.datatype == kind.MULTI:
        return forms.MultipleChoiceField(
            label=label,
            required=False,
            help_text=help_text,
            choices=values,
            widget=forms.CheckboxSelectMultiple,
        )
    return forms.CharField(label=label, required=False, max_length=300, help_text=help_text)


class StaffReportForm(LagebildForm):
    """A report received by phone, e-mail, letter or at the Citywache, entered by staff."""

    channel = forms.ChoiceField(
        label="Eingangsweg",
        choices=[("", "Bitte wählen"), *[(c.value, c.label) for c in STAFF_CHANNELS]],
        error_messages={"required": "Bitte den Eingangsweg angeben."},
    )
    requested_at = LocalDateTimeField(
        label="Eingegangen am",
        required=False,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=DateTimeLocalInput(),
        help_text="Leer = jetzt. Bei Briefen das Eingangsdatum.",
        error_messages={"invalid": "Bitte Datum und Uhrzeit angeben."},
    )
    service = forms.TypedChoiceField(
        label="Kategorie",
        coerce=int,
        empty_value=None,
        error_messages={"required": "Bitte eine Kategorie wählen."},
    )
    description = forms.CharField(
        label="Beschreibung",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Was wurde gemeldet? Sachlich, ohne Namen unbeteiligter Personen.",
    )
    address_text = forms.CharField(
        label="Ortsangabe (Straße, Platz)",
        required=False,
        max_length=300,
        help_text="Tippen Sie mindestens zwei Buchstaben; ein Vorschlag setzt den Punkt.",
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
    reporter_name = forms.CharField(label="Name", required=False, max_length=120)
    reporter_email = forms.CharField(
        label="E-Mail",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    reporter_phone = forms.CharField(
        label="Telefon",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, services: list[ServiceType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services = {s.pk: s for s in services}
        self.fields["service"].choices = service_choices(services, "Bitte wählen")
        self.fields["service"].error_messages["invalid_choice"] = "Bitte eine Kategorie aus der Liste wählen."
        self.fields["channel"].error_messages["invalid_choice"] = (
            "Bitte einen Eingangsweg aus der Liste wählen."
        )
        # Questions of every category; the page shows those of the chosen one.
        self.question_names: dict[int, list[tuple[str, ServiceAttribute]]] = {}
        for service in services:
            names = []
            for attribute in service.attributes.all():
                if not attribute.variable:
                    continue
                name = f"q_{service.pk}_{attribute.code}"
                self.fields[name] = question_field(attribute)
                names.append((name, attribute))
            self.question_names[service.pk] = names
        self.mark_invalid_fields()

    def question_groups(self) -> list[dict]:
        return [
            {"service": service, "fields": [self[name] for name, _ in self.question_names.get(pk, [])]}
            for pk, service in self.services.items()
            if self.question_names.get(pk)
        ]

    def selected_service(self) -> ServiceType | None:
        return self.services.get(self.cleaned_data.get("service"))  # type: ignore[arg-type]

    def clean_requested_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("requested_at")
        if value is None:
            return None
        now = timezone.now()
        if value > now + dt.timedelta(minutes=5):
            raise ValidationError("Der Eingang kann nicht in der Zukunft liegen.")
        if value < now - dt.timedelta(days=MAX_BACKDATE_DAYS):
            raise ValidationError(f"Der Eingang darf höchstens {MAX_BACKDATE_DAYS} Tage zurückliegen.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Answers to other categories' questions are ignored, including their errors.
        chosen = data.get("service")
        own = {name for name, _ in self.question_names.get(chosen, [])} if chosen else set()
        for names in self.question_names.values():
            for name, _attribute in names:
                if name not in own and name in self._errors:
                    del self._errors[name]
        return data

    def attributes(self) -> dict[str, object]:
        """Raw answers for the chosen category, keyed by attribute code."""
        service = self.selected_service()
        if service is None:
            return {}
        answers: dict[str, object] = {}
        for name, attribute in self.question_names.get(service.pk, []):
            value = self.cleaned_data.get(name)
            if isinstance(value, dt.datetime):
                value = timezone.localtime(value).isoformat()
            if value not in (None, "", []):
                answers[attribute.code] = value
        return answers

    def add_attribute_errors(self, messages: list[str]) -> None:
        """Put "Frage: Meldung" messages of the service at the question they concern."""
        service = self.selected_service()
        names = self.question_names.get(service.pk, []) if service else []
        for message in messages:
            for name, attribute in names:
                prefix = f"{attribute.description}: "
                if message.startswith(prefix):
                    self.add_error(name, message.removeprefix(prefix))
                    break
            else:
                self.add_error(None, message)


# --- report detail actions ----------------------------------------------------------------------

NOTE_HELP_PUBLIC = "Erscheint in der öffentlichen Statusanzeige für die meldende Person."
NOTE_HELP_INTERNAL = "Nur für Mitarbeitende sichtbar."


def status_choices(user: User, current: str) -> list[tuple[str, str]]:
    """Statuses this user may set now, by the rules of ``citizen.services``."""
    labels = dict(ReportStatus.choices)
    return [(status, labels[status]) for status in services.allowed_statuses(user, current)]


class TransitionForm(LagebildForm):
    to_status = forms.ChoiceField(label="Neuer Status")
    public_note = forms.CharField(
        label="Öffentliche Notiz",
        required=False,
        max_length=1000,
        help_text=NOTE_HELP_PUBLIC,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    internal_note = forms.CharField(
        label="Interne Notiz",
        required=False,
        max_length=1000,
        help_text=NOTE_HELP_INTERNAL,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, user: User, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [("", "Bitte wählen"), *status_choices(user, current)]
        self.fields["to_status"].error_messages.update(
            {
                "required": "Bitte einen Status wählen.",
                "invalid_choice": "Diesen Status können Sie hier nicht setzen.",
            }
        )
        self.mark_invalid_fields()


class StepForm(LagebildForm):
    """A one-click next step (queue row, detail page) and its confirmation page.

    ``von`` is the status the user saw, ``zurueck`` the page to return to; the service
    decides whether the step is allowed.
    """

    status = forms.ChoiceField(label="Neuer Status", choices=ReportStatus.choices)
    von = forms.ChoiceField(required=False, choices=[("", ""), *ReportStatus.choices])
    zurueck = forms.CharField(required=False, max_length=2000)
    public_note = forms.CharField(
        label="Rückmeldung an die meldende Person",
        required=False,
        max_length=1000,
        help_text=NOTE_HELP_PUBLIC + " Freiwillig.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages.update(
            {"required": "Bitte einen Status wählen.", "invalid_choice": "Unbekannter Status."}
        )
        self.fields["von"].error_messages["invalid_choice"] = "Unbekannter Status."
        self.fields["public_note"].error_messages["max_length"] = "Höchstens 1000 Zeichen."
        self.mark_invalid_fields()


class AssignForm(LagebildForm):
    target = forms.TypedChoiceField(label="Zuständige Stelle", coerce=int, empty_value=None)
    assign_note = forms.CharField(
        label="Öffentliche Notiz",
        required=False,
        max_length=1000,
        help_text="Leer = „Zuständig: …“ bzw. „Weitergeleitet an: …“.",
    )

    def __init__(self, *args: Any, targets: list[RoutingTarget], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {t.pk: t for t in targets}
        self.fields["target"].choices = [
            ("", "Bitte wählen"),
            *[
                (
                    str(t.pk),
                    f"{t.name} ({t.get_kind_display()}"
                    + (", außerhalb von Lagebild: Weiterleitung" if t.authority_id is None else "")
                    + ")",
                )
                for t in targets
            ],
        ]
        self.fields["target"].error_messages.update(
            {
                "required": "Bitte eine Stelle wählen.",
                "invalid_choice": "Bitte eine Stelle aus der Liste wählen.",
            }
        )
        self.mark_invalid_fields()

    def target_object(self) -> RoutingTarget:
        return self.targets[self.cleaned_data["target"]]


class NumberForm(LagebildForm):
    """One report or incident number (merge into, link)."""

    number = forms.IntegerField(
        label="Nummer",
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "required": "Bitte eine Nummer angeben.",
            "invalid": "Bitte eine Nummer angeben.",
            "min_value": "Bitte eine gültige Nummer angeben.",
            "max_value": "Bitte eine gültige Nummer angeben.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, label: str = "Nummer", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].label = label
        self.mark_invalid_fields()


class RedactForm(LagebildForm):
    """Rectangles to black out, in percent of the photo: one per line, ``x, y, Breite, Höhe``."""

    rectangles = forms.CharField(
        label="Zu schwärzende Bereiche",
        max_length=4000,
        help_text="Je Zeile ein Rechteck in Prozent des Bildes: links, oben, Breite, Höhe – "
        "z. B. 10, 20, 15, 10. Auf dem Bild können Sie die Bereiche auch mit der Maus "
        "oder dem Finger aufziehen.",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        error_messages={"required": "Bitte mindestens einen Bereich angeben."},
    )

    def clean_rectangles(self) -> list[tuple[float, float, float, float]]:
        result = []
        lines = [line.strip() for line in self.cleaned_data["rectangles"].splitlines() if line.strip()]
        if len(lines) > 50:
            raise ValidationError("Höchstens 50 Bereiche auf einmal.")
        for number, line in enumerate(lines, start=1):
            parts = [p for p in line.replace(";", " ").replace(",", " ").split() if p]
            try:
                values = [float(p) for p in parts]
            except ValueError:
                values = []
            if len(values) != 4:
                raise ValidationError(
                    f"Zeile {number}: Bitte vier Zahlen angeben (links, oben, Breite, Höhe)."
                )
            x, y, w, h = values
            if not (0 <= x < 100 and 0 <= y < 100 and 0 < w <= 100 and 0 < h <= 100):
                raise ValidationError(f"Zeile {number}: Werte zwischen 0 und 100 Prozent angeben.")
            if x + w > 100.001 or y + h > 100.001:
                raise ValidationError(f"Zeile {number}: Der Bereich reicht über den Bildrand hinaus.")
            result.append((x / 100, y / 100, w / 100, h / 100))
        if not result:
            raise ValidationError("Bitte mindestens einen Bereich angeben.")
        return result


# --- statistics and patrol page -------------------------------------------------------------------


class StatsFilterForm(LagebildForm):
    date_from = forms.DateField(
        label="Von", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    date_to = forms.DateField(
        label="Bis", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )

    MAX_DAYS = 3 * 366

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "Bitte ein Datum im Format TT.MM.JJJJ angeben."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Das Ende liegt vor dem Beginn.")
        elif start and end and (end - start).days > self.MAX_DAYS:
            self.add_error("date_to", "Bitte höchstens drei Jahre auf einmal auswerten.")
        return data

    def resolved(self) -> tuple[dt.date, dt.date]:
        """The range to show; default: the last 90 days up to today."""
        data = self.valid_data()
        end = data.get("date_to") or timezone.localdate()
        start = data.get("date_from") or end - dt.timedelta(days=89)
        if start > end:
            start = end - dt.timedelta(days=89)
        return start, end


class AreaChoiceForm(LagebildForm):
    area = forms.TypedChoiceField(label="Gebiet", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = grouped_area_choices(FILTER_AREA_KIND_ORDER, empty_label="Bitte wählen")
        self.fields["area"].error_messages["invalid_choice"] = "Bitte ein Gebiet aus der Liste wählen."
