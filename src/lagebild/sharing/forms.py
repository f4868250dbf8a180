"""The German forms of the transfer pages; the rules themselves are in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms

from lagebild.core.models import Authority, User
from lagebild.field.forms import LagebildForm
from lagebild.field.models import Measure

from . import catalogue
from .catalogue import LegalBasis, Purpose
from .snapshot import local, measure_details

CHOOSE = ("", "– bitte wählen –")


def _basis_label(value: str, label: str) -> str:
    tag = catalogue.VERIFICATION.get(value)
    return f"{label} [{tag}]" if tag else label


class TransferForm(LagebildForm):
    purpose = forms.ChoiceField(
        label="Zweck der Weitergabe",
        error_messages={
            "required": "Bitte den Zweck der Weitergabe angeben.",
            "invalid_choice": "Bitte einen der angebotenen Zwecke wählen.",
        },
    )
    recipient = forms.TypedChoiceField(
        label="Empfangende Behörde",
        coerce=int,
        empty_value=None,
        error_messages={
            "required": "Bitte die empfangende Behörde wählen.",
            "invalid_choice": "Diese Behörde gibt es nicht.",
        },
    )
    legal_basis = forms.ChoiceField(
        label="Rechtsgrundlage",
        choices=[CHOOSE, *((v, _basis_label(v, label)) for v, label in LegalBasis.choices)],
        help_text="In Klammern der Prüfstand laut Rechercheunterlagen (V = Gesetzestext gesehen, "
        "S = Sekundärquelle, M = nicht nachgeprüft); vor dem Echtbetrieb gibt das Rechtsamt die Liste frei.",
        error_messages={
            "required": "Bitte die Rechtsgrundlage der Weitergabe angeben.",
            "invalid_choice": "Bitte eine der angebotenen Rechtsgrundlagen wählen.",
        },
    )
    legal_basis_text = forms.CharField(
        label="Rechtsgrundlage im Wortlaut",
        required=False,
        max_length=300,
        help_text="Pflicht bei „Andere Rechtsgrundlage“: Paragraf, Absatz und Gesetz.",
        error_messages={"max_length": "Höchstens 300 Zeichen."},
    )
    included = forms.MultipleChoiceField(
        label="Mitzugebende Angaben",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Immer enthalten: Bezugsnummer, Sachverhalt bzw. Kategorie und Zeitpunkt. "
        "Nur mitgeben, was die empfangende Behörde für den Zweck braucht.",
        error_messages={"invalid_choice": "Unbekannte Angabe ausgewählt."},
    )
    measures = forms.TypedMultipleChoiceField(
        label="Mitzugebende Maßnahmen",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Nur Maßnahmen Ihrer Behörde; Personenbezüge (Pseudonyme) werden nie mitgegeben.",
        error_messages={"invalid_choice": "Diese Maßnahme gehört nicht zu der Feststellung Ihrer Behörde."},
    )
    note = forms.CharField(
        label="Mitteilung an die empfangende Behörde",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Wird mit übermittelt, z. B. Ansprechpartner oder Aktenzeichen.",
        error_messages={"max_length": "Die Mitteilung hat höchstens 1000 Zeichen."},
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        record_type: str,
        measures: list[Measure] | None = None,
        reload_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if reload_url:
            # Choosing another purpose reloads the field choice with that purpose's preselection
            # (htmx; only the checkboxes are swapped, so focus stays on the select; without
            # scripts the preselection of the first purpose stays).
            self.fields["purpose"].widget.attrs.update(
                {
                    "hx-get": reload_url,
                    "hx-trigger": "change",
                    "hx-target": "#share-fields",
                    "hx-select": "#share-fields",
                    "hx-swap": "outerHTML",
                }
            )
        purposes = Purpose.choices
        if not user.has_perm("sharing.share_any_purpose"):
            purposes = [(Purpose.CRIMINAL_COMPLAINT.value, Purpose.CRIMINAL_COMPLAINT.label)]
        self.fields["purpose"].choices = [CHOOSE, *purposes]
        self.fields["recipient"].choices = [
            CHOOSE,
            *((a.pk, a.name) for a in Authority.objects.exclude(pk=user.authority_id).order_by("name")),
        ]
        specs = catalogue.field_specs(record_type)
        self.fields["included"].choices = [(spec.key, spec.label) for spec in specs]
        self.field_help = {spec.key: spec.help for spec in specs if spec.help}
        if measures is None:
            del self.fields["measures"]
        else:
            self.fields["measures"].choices = [
                (
                    m.pk,
                    " – ".join(p for p in (m.get_type_display(), local(m.taken_at), measure_details(m)) if p),
                )
                for m in measures
            ]
        self.mark_invalid_fields()


def initial_for(
    *, user: User, record_type: str, purpose: str, measures: list[Measure] | None
) -> dict[str, Any]:
    """What the empty form offers: the purpose's default fields, its measure, the partner."""
    if purpose not in Purpose.values:
        purpose = Purpose.CRIMINAL_COMPLAINT if record_type == catalogue.RecordType.INCIDENT else ""
    initial: dict[str, Any] = {"purpose": purpose}
    if purpose:
        initial["included"] = catalogue.default_fields(record_type, purpose)
    partner_kind = (
        Authority.Kind.POLICE if user.authority.kind != Authority.Kind.POLICE else Authority.Kind.CITY
    )
    partner = (
        Authority.objects.filter(kind=partner_kind).exclude(pk=user.authority_id).order_by("name").first()
    )
    if partner is not None:
        initial["recipient"] = partner.pk
    needed = catalogue.MEASURE_FOR_PURPOSE.get(purpose)
    if measures and needed:
        initial["measures"] = [m.pk for m in measures if m.type == needed]
    return initial


class WithdrawForm(LagebildForm):
    reason = forms.CharField(
        label="Grund",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="z. B. „An die falsche Behörde gegeben“. Die empfangende Behörde sieht den Grund.",
        error_messages={
            "required": "Bitte angeben, warum die Weitergabe zurückgezogen wird.",
            "max_length": "Höchstens 1000 Zeichen.",
        },
    )
