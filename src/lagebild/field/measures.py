"""Rules for measures that do not depend on the database (kept pure for easy testing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lagebild.catalog.models import CAUTION_MAX, CAUTION_MIN

from .models import POLICE_ONLY_MEASURES, Measure, MeasureType

MEASURE_LABELS = dict(MeasureType.choices)


@dataclass
class MeasureInput:
    type: str
    amount: Decimal | None = None
    seizure_kind: str = ""
    quantity: Decimal | None = None
    quantity_unit: str = ""
    referral_service: str = ""
    note: str = ""
    person_pseudonym: str = ""
    extra: dict = field(default_factory=dict)


def parse_decimal(value: object, *, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{label} ist keine Zahl.") from exc
    if not number.is_finite():
        raise ValueError(f"{label} ist keine Zahl.")
    return number


def measure_errors(
    measure: MeasureInput,
    *,
    authority_is_police: bool,
    caution_allowed: bool | None,
) -> list[str]:
    """German messages for everything wrong with one measure (empty list = valid).

    ``caution_allowed`` None means the catalogue rule is not known yet (no category or time
    chosen): the caution checks that depend on it are then left out."""
    errors: list[str] = []
    if measure.type not in MEASURE_LABELS:
        return [f"Unbekannte Maßnahme {measure.type!r}."]
    label = MEASURE_LABELS[measure.type]
    if measure.type in POLICE_ONLY_MEASURES and not authority_is_police:
        errors.append(f"{label}: Diese Maßnahme darf nur die Polizei treffen.")
    if measure.type == MeasureType.CAUTION_FEE:
        if caution_allowed is False:
            errors.append(f"{label}: Für diesen Sachverhalt ist kein Verwarnungsgeld vorgesehen.")
        if measure.amount is None:
            if caution_allowed is not None:  # an empty amount means the category's standard amount
                errors.append(f"{label}: Bitte den Betrag angeben (5 bis 55 €).")
        elif not (CAUTION_MIN <= measure.amount <= CAUTION_MAX):
            errors.append(f"{label}: Der Betrag muss zwischen 5 und 55 € liegen (§ 56 OWiG).")
    elif measure.type == MeasureType.SEIZURE:
        if measure.seizure_kind not in Measure.SeizureKind.values:
            errors.append(
                f"{label}: Bitte angeben, was sichergestellt wurde (Waffe, Bargeld, Drogen, Sonstiges)."
            )
        elif measure.seizure_kind == Measure.SeizureKind.CASH:
            if measure.amount is None or measure.amount <= 0:
                errors.append(f"{label}: Bitte den sichergestellten Bargeldbetrag in € angeben.")
        elif measure.amount is not None:
            errors.append(f"{label}: Ein Betrag ist nur bei Bargeld anzugeben.")
        if measure.quantity is not None and measure.quantity <= 0:
            errors.append(f"{label}: Die Menge muss größer als 0 sein.")
    elif measure.amount is not None:
        errors.append(f"{label}: Ein Betrag ist hier nicht vorgesehen.")
    if (
        measure.type == MeasureType.REFERRAL
        and measure.referral_service not in Measure.ReferralService.values
    ):
        errors.append(f"{label}: Bitte das Hilfeangebot auswählen.")
    if measure.amount is not None and measure.amount > Decimal("9999999999"):
        errors.append(f"{label}: Der Betrag ist unplausibel hoch.")
    if measure.quantity is not None and measure.quantity > Decimal("999999999"):
        errors.append(f"{label}: Die Menge ist unplausibel hoch.")
    if len(measure.note) > 500:
        errors.append(f"{label}: Die Bemerkung ist zu lang (höchstens 500 Zeichen).")
    return errors
