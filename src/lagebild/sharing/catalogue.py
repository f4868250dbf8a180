"""What may be transferred, for which purpose, on which legal basis (pure rules, no queries).

The legal bases are those the research notes (``shared/research/legal_domain.md`` §4.5)
support, with the notes' verification tag: [V] seen in the statute text, [S] only in a
secondary source, [M] from general knowledge, not re-checked. Everything here must be
signed off by the Rechtsamt and the data-protection officers before go-live; a norm the
notes do not name (e.g. a city → police transfer for danger prevention) is entered as
"Andere Rechtsgrundlage" with its wording, so nobody cites a norm the software invented.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import TextChoices


class RecordType(TextChoices):
    INCIDENT = "incident", "Feststellung"
    CITIZEN_REPORT = "citizen_report", "Bürgerhinweis"


class Purpose(TextChoices):
    CRIMINAL_COMPLAINT = "criminal_complaint", "Strafanzeige (Verdacht einer Straftat)"
    OFFENCE_REPORT = "offence_report", "OWi-Anzeige an die zuständige Bußgeldbehörde"
    DANGER_PREVENTION = "danger_prevention", "Gefahrenabwehr im Einzelfall"
    COMPETENCE = "competence", "Zuständigkeit der empfangenden Behörde (Abgabe)"


class LegalBasis(TextChoices):
    STPO_158 = "stpo_158", "§ 158 StPO – Strafanzeige"
    OWIG_41 = "owig_41", "§ 41 OWiG – Abgabe bei Anhaltspunkten für eine Straftat"
    OWIG_49A = (
        "owig_49a",
        "§ 49a OWiG – Übermittlung von Amts wegen zur Verfolgung von Straftaten oder Ordnungswidrigkeiten",
    )
    OWIG_53 = (
        "owig_53",
        "§ 53 OWiG – Anzeige einer Ordnungswidrigkeit durch die Polizei an die Verwaltungsbehörde",
    )
    POLG_27 = (
        "polg_27",
        "§ 27 PolG NRW – Übermittlung durch die Polizei an andere öffentliche Stellen, soweit erforderlich",
    )
    OTHER = "other", "Andere Rechtsgrundlage (Wortlaut angeben)"


class Regime(TextChoices):
    GDPR = "gdpr", "DSGVO und DSG NRW Teil 2 (Gefahrenabwehr, Verwaltung)"
    LAW_ENFORCEMENT = "dsg_nrw_part3", "DSG NRW Teil 3 (Verfolgung von Straftaten und Ordnungswidrigkeiten)"


# The research notes' verification tag per legal basis (docs/sharing.md explains them).
VERIFICATION = {
    LegalBasis.STPO_158: "M",
    LegalBasis.OWIG_41: "V",
    LegalBasis.OWIG_49A: "V",
    LegalBasis.OWIG_53: "V",
    LegalBasis.POLG_27: "S",
    LegalBasis.OTHER: "",
}

# Which legal bases fit which purpose.
BASES_FOR_PURPOSE: dict[str, tuple[str, ...]] = {
    Purpose.CRIMINAL_COMPLAINT: (
        LegalBasis.STPO_158,
        LegalBasis.OWIG_41,
        LegalBasis.OWIG_49A,
        LegalBasis.OTHER,
    ),
    Purpose.OFFENCE_REPORT: (LegalBasis.OWIG_53, LegalBasis.OWIG_49A, LegalBasis.OTHER),
    Purpose.DANGER_PREVENTION: (LegalBasis.POLG_27, LegalBasis.OTHER),
    Purpose.COMPETENCE: (LegalBasis.POLG_27, LegalBasis.OTHER),
}

# Norms that empower one kind of sender only ("police", "city" as in Authority.Kind).
SENDER_KIND_FOR_BASIS: dict[str, str] = {
    LegalBasis.OWIG_41: "city",  # the administrative authority (Verwaltungsbehörde) hands over
    LegalBasis.OWIG_53: "police",
    LegalBasis.POLG_27: "police",
}

# A purpose whose transfer documents a measure: the measure itself must go along.
MEASURE_FOR_PURPOSE: dict[str, str] = {
    Purpose.CRIMINAL_COMPLAINT: "criminal_complaint",
    Purpose.OFFENCE_REPORT: "offence_report",
}


@dataclass(frozen=True)
class FieldSpec:
    key: str
    short: str  # the label in the snapshot
    label: str  # the label in the form
    help: str = ""
    # Purposes that may carry this field; empty = every purpose.
    only_for: tuple[str, ...] = ()
    # Offered ticked for these purposes (the sender can still untick it).
    default_for: tuple[str, ...] = ()


_ALL = tuple(Purpose.values)
_PROSECUTION = (Purpose.CRIMINAL_COMPLAINT, Purpose.OFFENCE_REPORT)

# Always in a snapshot (what was transferred must be identifiable): reference number, category
# and time. Everything else is chosen by the sender within what the purpose allows.
INCIDENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("location", "Ort", "Ort (Ortsangabe und Koordinaten)", default_for=_ALL),
    FieldSpec(
        "description",
        "Beschreibung",
        "Beschreibung (Freitext)",
        "Vorher auf unnötige Angaben zu Personen prüfen.",
        default_for=_ALL,
    ),
    FieldSpec("areas", "Gebiete", "Gebiete (Bezirk, Schwerpunktraum)"),
    FieldSpec("source", "Quelle", "Quelle der Feststellung"),
    FieldSpec(
        "rule", "Geltende Regel", "Geltende Regel (Rechtsgrundlage, Einordnung)", default_for=_PROSECUTION
    ),
    FieldSpec(
        "recorded_by",
        "Erfasst von",
        "Erfasst von (Name, Dienstnummer) als Ansprechperson",
        "Für Rückfragen und als Zeugin oder Zeuge.",
        default_for=_PROSECUTION,
    ),
)

REPORT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("location", "Ort", "Ort (Ortsangabe und Koordinaten)", default_for=_ALL),
    FieldSpec("description", "Beschreibung", "Beschreibung der meldenden Person", default_for=_ALL),
    FieldSpec(
        "attributes",
        "Zusatzangaben",
        "Zusatzangaben (Antworten auf die Fragen der Kategorie)",
        default_for=_ALL,
    ),
    FieldSpec("areas", "Gebiete", "Gebiete (Bezirk, Schwerpunktraum)"),
    FieldSpec("channel", "Eingangsweg", "Eingangsweg"),
    FieldSpec(
        "reporter_contact",
        "Kontaktdaten der meldenden Person",
        "Kontaktdaten der meldenden Person (Name, E-Mail, Telefon)",
        "Nur für eine Strafanzeige (Zeugin/Zeuge) oder die Abgabe an die zuständige Behörde "
        "(Rückmeldung an die meldende Person); nie voreingestellt.",
        only_for=(Purpose.CRIMINAL_COMPLAINT, Purpose.COMPETENCE),
    ),
)

FIELDS_FOR_RECORD: dict[str, tuple[FieldSpec, ...]] = {
    RecordType.INCIDENT: INCIDENT_FIELDS,
    RecordType.CITIZEN_REPORT: REPORT_FIELDS,
}


def field_specs(record_type: str) -> tuple[FieldSpec, ...]:
    return FIELDS_FOR_RECORD[record_type]


def default_fields(record_type: str, purpose: str) -> list[str]:
    return [spec.key for spec in field_specs(record_type) if purpose in spec.default_for]


def regime_for(purpose: str, sender_kind: str) -> str:
    """Prosecution is DSG NRW Teil 3 (§ 35 DSG NRW), and so is everything the police sends;
    the city's danger prevention and administration is GDPR with DSG NRW Teil 2 (§4.1)."""
    if purpose in _PROSECUTION or sender_kind == "police":
        return Regime.LAW_ENFORCEMENT
    return Regime.GDPR


def rule_errors(
    *,
    record_type: str,
    purpose: str,
    legal_basis: str,
    legal_basis_text: str,
    fields: list[str],
    sender_kind: str,
) -> dict[str, list[str]]:
    """German messages per form field for a purpose, legal basis and field choice that do
    not go together (empty when they do)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if purpose not in Purpose.values:
        add("purpose", "Bitte den Zweck der Weitergabe angeben.")
    if legal_basis not in LegalBasis.values:
        add("legal_basis", "Bitte die Rechtsgrundlage der Weitergabe angeben.")
    if errors:
        return errors
    if legal_basis not in BASES_FOR_PURPOSE[purpose]:
        add(
            "legal_basis",
            f"„{LegalBasis(legal_basis).label}“ trägt nicht den Zweck „{Purpose(purpose).label}“.",
        )
    required_kind = SENDER_KIND_FOR_BASIS.get(legal_basis)
    if required_kind and required_kind != sender_kind:
        who = "die Polizei" if required_kind == "police" else "die Stadt (Verwaltungsbehörde)"
        add("legal_basis", f"Auf „{LegalBasis(legal_basis).label}“ kann sich nur {who} stützen.")
    if legal_basis == LegalBasis.OTHER and len(legal_basis_text.strip()) < 5:
        add("legal_basis_text", "Bitte die Rechtsgrundlage mit Paragraf und Gesetz angeben.")
    specs = {spec.key: spec for spec in field_specs(record_type)}
    for key in fields:
        spec = specs.get(key)
        if spec is None:
            add("fields", "Unbekannte Angabe ausgewählt.")
        elif spec.only_for and purpose not in spec.only_for:
            allowed = " oder ".join(f"„{Purpose(p).label}“" for p in spec.only_for)
            add("fields", f"„{spec.label}“ darf nur für {allowed} weitergegeben werden.")
    return errors
