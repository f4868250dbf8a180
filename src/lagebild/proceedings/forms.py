"""The German forms of the Bußgeldstelle's pages.

Forms only parse and check the shape of the input (a real date, a number, a known choice); the
rules (state, dates against the file, § 17 and § 111 OWiG) are in ``services``, whose German
``ValidationError`` messages the views put back at the fields (``add_service_errors``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from lagebild.catalog.models import Category
from lagebild.catalog.selectors import category_list
from lagebild.core.forms import LocalDateTimeField
from lagebild.field.forms import DATE_INPUT_FORMATS, DateInput, DateTimeLocalInput, LagebildForm
from lagebild.field.measures import parse_decimal

from .models import CaseState, DeadlineKind, EventKind, ProceedingsPerson
from .workflow import MANUAL_STEPS, TRANSITIONS, DiscontinuationReason

CHOOSE = ("", "– bitte wählen –")
DATE_ERRORS = {
    "required": "Bitte ein Datum angeben.",
    "invalid": "Bitte ein gültiges Datum angeben (TT.MM.JJJJ).",
}
MAX_AMOUNT = Decimal("10000000")
EARLIEST = dt.date(1900, 1, 1)
MAX_INSTALMENT_DAYS = 5 * 366


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
        help_text=help_text,
        error_messages=DATE_ERRORS,
    )


def clean_plausible_date(value: dt.date | None) -> dt.date | None:
    if value is not None and value < EARLIEST:
        raise ValidationError("Bitte ein Datum ab 1900 angeben.")
    return value


def euro(value: Any, *, label: str) -> Decimal | None:
    """A euro amount as typed (35, 35,00, 35.5): German message for letters or absurd sizes."""
    try:
        amount = parse_decimal(value, label=label)
    except ValueError:
        raise ValidationError("Bitte einen Betrag in Euro angeben, z. B. 35,00.") from None
    if amount is not None and abs(amount) >= MAX_AMOUNT:
        raise ValidationError("Der Betrag ist zu groß.")
    return amount


class OffenceTimeField(LocalDateTimeField):
    """Wall-clock time of the act; a time at the very edge of the calendar (year 1 or 9999, where the
    time zone conversion overflows) is an invalid input, not a server error."""

    def to_python(self, value: Any) -> dt.datetime | None:
        try:
            return super().to_python(value)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


# --- lists -----------------------------------------------------------------------------------------


class WorklistFilterForm(LagebildForm):
    kind = forms.ChoiceField(
        label="Frist",
        required=False,
        choices=[("", "alle Fristen"), *DeadlineKind.choices],
        error_messages={"invalid_choice": "Diese Frist gibt es nicht."},
    )


class CaseFilterForm(LagebildForm):
    state = forms.ChoiceField(
        label="Stand",
        required=False,
        choices=[("", "alle"), ("open", "alle offenen"), *CaseState.choices],
        error_messages={"invalid_choice": "Diesen Stand gibt es nicht."},
    )
    q = forms.CharField(
        label="Aktenzeichen",
        required=False,
        max_length=40,
        help_text="Ganz oder teilweise, z. B. 2026/000012",
        error_messages={"max_length": "Höchstens 40 Zeichen."},
    )


# --- case and person ---------------------------------------------------------------------------------


def category_choices() -> list[tuple[str, str]]:
    return [CHOOSE, *((str(c.pk), c.name) for c in category_list().order_by("name"))]


class CaseOpenForm(LagebildForm):
    category = forms.TypedChoiceField(
        label="Sachverhalt",
        coerce=int,
        empty_value=None,
        error_messages={
            "required": "Bitte den Sachverhalt wählen.",
            "invalid_choice": "Bitte einen der angebotenen Sachverhalte wählen.",
        },
    )
    offence_at = OffenceTimeField(
        label="Tatzeit",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
        widget=DateTimeLocalInput(),
        help_text="Beginn der Verjährung (§ 31 Abs. 3 OWiG).",
        error_messages={
            "required": "Bitte die Tatzeit angeben.",
            "invalid": "Bitte eine gültige Tatzeit angeben (Datum und Uhrzeit).",
        },
    )
    offence_place = forms.CharField(
        label="Tatort",
        required=False,
        max_length=200,
        error_messages={"max_length": "Höchstens 200 Zeichen."},
    )
    offence_description = forms.CharField(
        label="Tatvorwurf",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Was genau vorgeworfen wird; erscheint im Bescheid (§ 66 Abs. 1 Nr. 3 OWiG).",
        error_messages={"max_length": "Höchstens 4000 Zeichen."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]

    def clean_offence_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("offence_at")
        if value is not None and value.date() < EARLIEST:
            raise ValidationError("Bitte eine Tatzeit ab 1900 angeben.")
        return value

    def category_object(self) -> Category | None:
        pk = self.cleaned_data.get("category")
        return Category.objects.filter(pk=pk).first() if pk else None


PERSON_FIELDS = (
    "family_name",
    "given_names",
    "birth_name",
    "date_of_birth",
    "place_of_birth",
    "marital_status",
    "occupation",
    "street",
    "postcode",
    "city",
    "nationality",
    "phone",
    "email",
)


class PersonForm(LagebildForm):
    """The identity data of § 111 OWiG; mandatory fields are required (and marked *)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in PERSON_FIELDS:
            model_field = ProceedingsPerson._meta.get_field(name)
            required = name in ProceedingsPerson.MANDATORY_FIELDS
            label = str(model_field.verbose_name)
            if name == "date_of_birth":
                field: forms.Field = date_field(label)
            elif name == "marital_status":
                field = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=ProceedingsPerson.MaritalStatus.choices,
                    error_messages={"invalid_choice": "Bitte einen der angebotenen Werte wählen."},
                )
            elif name == "email":
                field = forms.EmailField(
                    label=label,
                    required=False,
                    max_length=254,
                    error_messages={"invalid": "Bitte eine gültige E-Mail-Adresse angeben."},
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=required,
                    max_length=model_field.max_length,
                    error_messages={
                        "required": "Pflichtangabe nach § 111 OWiG.",
                        "max_length": f"Höchstens {model_field.max_length} Zeichen.",
                    },
                )
            if required:
                field.error_messages["required"] = "Pflichtangabe nach § 111 OWiG."
            if name in ProceedingsPerson.ASKED_IN_HEARING:
                field.help_text = "Nach § 111 OWiG anzugeben; darf bis zur Anhörung offen bleiben."
            self.fields[name] = field

    def clean_date_of_birth(self) -> dt.date | None:
        value = clean_plausible_date(self.cleaned_data.get("date_of_birth"))
        if value is not None and value > timezone.localdate():
            raise ValidationError("Das Geburtsdatum liegt in der Zukunft.")
        return value


class PersonSearchForm(LagebildForm):
    """Find a person already recorded (a repeat act): exact family name and date of birth, so a
    search reveals no one the clerk could not already name."""

    family_name = forms.CharField(
        label="Familienname",
        max_length=120,
        error_messages={
            "required": "Bitte den Familiennamen angeben.",
            "max_length": "Höchstens 120 Zeichen.",
        },
    )
    date_of_birth = date_field("Geburtsdatum")

    prefix = "suche"

    def clean_date_of_birth(self) -> dt.date | None:
        return clean_plausible_date(self.cleaned_data.get("date_of_birth"))


class PersonAssignForm(LagebildForm):
    person = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "Bitte eine Person wählen.", "invalid": "Bitte eine Person wählen."},
    )


# --- steps -----------------------------------------------------------------------------------------


STEP_LABELS = dict(EventKind.choices)


def allowed_steps(state: str) -> list[str]:
    """The manual steps the case's state allows (workflow.TRANSITIONS), in workflow order."""
    return [kind for kind in MANUAL_STEPS if state in TRANSITIONS[kind].allowed_from]


class StepForm(LagebildForm):
    on = date_field("Datum", help_text="Rechtlich maßgeblicher Tag, z. B. Zugang oder Versand.")
    reason_code = forms.ChoiceField(
        label="Einstellungsgrund",
        required=False,
        choices=[CHOOSE, *DiscontinuationReason.CHOICES],
        error_messages={"invalid_choice": "Bitte einen der angebotenen Gründe wählen."},
    )
    until = date_field("Zahlungserleichterung bis", required=False)
    reason = forms.CharField(
        label="Begründung / Vermerk",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Höchstens 2000 Zeichen."},
    )

    def __init__(self, *args: Any, step: str = "", **kwargs: Any) -> None:
        prefix = kwargs.pop("prefix", None) or (f"step-{step}" if step else "step")
        super().__init__(*args, prefix=prefix, **kwargs)
        self.step = step
        if step:
            if step != EventKind.DISCONTINUED:
                del self.fields["reason_code"]
            else:
                self.fields["reason_code"].required = True
                self.fields["reason_code"].error_messages["required"] = (
                    "Bitte einen Einstellungsgrund wählen."
                )
            if step != EventKind.INSTALMENTS_GRANTED:
                del self.fields["until"]
            else:
                self.fields["until"].required = True
                self.fields["until"].error_messages["required"] = (
                    "Bitte angeben, bis wann die Zahlungserleichterung gilt."
                )
            if TRANSITIONS[step].needs_reason:
                self.fields["reason"].required = True
                self.fields["reason"].error_messages["required"] = "Bitte den Schritt begründen."

    @property
    def label(self) -> str:
        return STEP_LABELS.get(self.step, self.step)

    def clean_on(self) -> dt.date | None:
        return clean_plausible_date(self.cleaned_data.get("on"))

    def clean_until(self) -> dt.date | None:
        return clean_plausible_date(self.cleaned_data.get("until"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        on, until = cleaned.get("on"), cleaned.get("until")
        # The span rests the enforcement limitation day by day (§ 34 Abs. 4 OWiG): it must be a real
        # span, and not decades (the engine refuses an end before the start with a ValueError).
        if on and until:
            if until < on:
                self.add_error("until", "Das Ende der Zahlungserleichterung liegt vor ihrem Beginn.")
            elif until > on + dt.timedelta(days=MAX_INSTALMENT_DAYS):
                self.add_error("until", "Eine Zahlungserleichterung gilt höchstens fünf Jahre.")
        return cleaned

    def step_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.cleaned_data.get("reason_code"):
            data["reason_code"] = self.cleaned_data["reason_code"]
        if self.cleaned_data.get("until"):
            data["until"] = self.cleaned_data["until"].isoformat()
        return data


class NoticeDraftForm(LagebildForm):
    fine = forms.CharField(
        label="Geldbuße (€)",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="Mindestens 5 € (§ 17 Abs. 1 OWiG), höchstens der Rahmen der Vorschrift.",
        error_messages={"required": "Bitte die Geldbuße angeben."},
    )
    evidence = forms.CharField(
        label="Beweismittel",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="z. B. Zeugnis der Einsatzkräfte, Lichtbilder (§ 66 Abs. 1 Nr. 4 OWiG).",
        error_messages={"max_length": "Höchstens 2000 Zeichen."},
    )
    formal_services = forms.IntegerField(
        label="Förmliche Zustellungen",
        min_value=0,
        max_value=10,
        initial=1,
        help_text="Je förmlicher Zustellung werden Auslagen erhoben (§ 107 Abs. 3 OWiG).",
        error_messages={
            "required": "Bitte die Zahl der förmlichen Zustellungen angeben (0–10).",
            "invalid": "Bitte eine ganze Zahl angeben (0–10).",
            "min_value": "Bitte die Zahl der förmlichen Zustellungen angeben (0–10).",
            "max_value": "Bitte die Zahl der förmlichen Zustellungen angeben (0–10).",
        },
    )

    prefix = "notice"

    def clean_fine(self) -> Decimal | None:
        return euro(self.cleaned_data.get("fine"), label="Geldbuße")


class NoticeApproveForm(LagebildForm):
    notice = forms.IntegerField(widget=forms.HiddenInput, error_messages={"invalid": "Unbekannter Bescheid."})
    issued_on = date_field(
        "Erlassen am", help_text="Tag der Unterzeichnung / Freigabe (§ 33 Abs. 1 Nr. 9 OWiG)."
    )

    prefix = "approve"

    def clean_issued_on(self) -> dt.date | None:
        return clean_plausible_date(self.cleaned_data.get("issued_on"))


class PaymentForm(LagebildForm):
    amount = forms.CharField(
        label="Betrag (€)",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": "Bitte den Betrag angeben."},
    )
    paid_on = date_field("Eingang am")
    reference = forms.CharField(
        label="Verwendungszweck / Beleg",
        required=False,
        max_length=120,
        error_messages={"max_length": "Höchstens 120 Zeichen."},
    )

    prefix = "payment"

    def clean_amount(self) -> Decimal | None:
        return euro(self.cleaned_data.get("amount"), label="Betrag")

    def clean_paid_on(self) -> dt.date | None:
        return clean_plausible_date(self.cleaned_data.get("paid_on"))
