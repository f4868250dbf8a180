"""The record types Lagebild holds: purpose, legal regime, legal basis, retention, who sees them.

This is the single source of the record of processing activities (Art. 30 GDPR) in
docs/data-protection.md (``lagebild data-protection-table`` writes it; a test fails when the
two disagree) and of the retention engine's defaults (``privacy/engine.py``). No Django
imports: models are named by their label (``field.Incident``), so the module can be read,
tested and printed without a database.

Sources of the retention defaults are the research notes in ``../shared/research``
(``legal_domain.md`` §3–4, ``citizen_reporting.md``). Tags as there: [V] seen in a statute or
official source, [S] secondary source, [M] general knowledge, to be verified by the DPO.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Any


class Regime(enum.StrEnum):
    """Which data-protection law governs a processing (legal_domain.md §4.1)."""

    GDPR = "gdpr"
    LAW_ENFORCEMENT = "ji"
    MIXED = "mixed"
    ANONYMOUS = "anonymous"

    @property
    def label(self) -> str:
        return REGIME_LABELS[self]


REGIME_LABELS = {
    Regime.GDPR: "DSGVO + DSG NRW Teil 2 (Gefahrenabwehr, Verwaltung)",
    Regime.LAW_ENFORCEMENT: "DSG NRW Teil 3 / JI-Richtlinie (EU) 2016/680 (Verfolgung, Polizei)",
    Regime.MIXED: "je Datensatz: DSGVO + DSG NRW Teil 2 oder DSG NRW Teil 3",
    Regime.ANONYMOUS: "keine personenbezogenen Daten (ErwGr. 26 DSGVO)",
}


class Action(enum.StrEnum):
    """What happens when a record's retention has run out."""

    DELETE = "deleted"
    ANONYMISE = "anonymised"
    KEEP = "kept"

    @property
    def label(self) -> str:
        return {"deleted": "löschen", "anonymised": "anonymisieren", "kept": "behalten (anonym)"}[self.value]


_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$")


@dataclass(frozen=True)
class Retention:
    """A calendar duration (ISO 8601 ``PnYnMnWnD``), added in the city's wall-clock time.

    ``end_of_year``: the record is due at the end of the calendar year in which the duration
    ends (§ 76 Abs. 4 BDSG: "Ende des auf die Erstellung folgenden Jahres" is ``P1Y`` with it).
    """

    years: int = 0
    months: int = 0
    days: int = 0
    end_of_year: bool = False

    @classmethod
    def parse(cls, text: str, *, end_of_year: bool = False) -> Retention:
        match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
        if match is None or text.strip().upper() == "P":
            raise ValueError(
                f"{text!r} ist keine Dauer nach ISO 8601 (Jahre, Monate, Wochen, Tage), z. B. P3Y, P6M, P14D."
            )
        parts = {k: int(v or 0) for k, v in match.groupdict().items()}
        return cls(parts["y"], parts["m"], parts["w"] * 7 + parts["d"], end_of_year)

    @property
    def iso(self) -> str:
        text = "P" + "".join(
            f"{n}{u}" for n, u in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n
        )
        return text if text != "P" else "P0D"

    def longer_than(self, other: Retention) -> bool:
        # Months are compared as 31 days, years as 366: a bound, not a calendar.
        def span(r: Retention) -> int:
            return r.years * 366 + r.months * 31 + r.days

        return span(self) > span(other)

    def due(self, start: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
        """When a record that started at ``start`` is due (aware, in ``zone``)."""
        local = start.astimezone(zone)
        month_index = local.month - 1 + self.months + 12 * self.years
        year, month = local.year + month_index // 12, month_index % 12 + 1
        day = min(local.day, _days_in_month(year, month))
        date = dt.date(year, month, day) + dt.timedelta(days=self.days)
        if self.end_of_year:
            return dt.datetime(date.year + 1, 1, 1, tzinfo=zone)
        naive = dt.datetime.combine(date, local.time().replace(tzinfo=None))
        # A wall time skipped by the spring switch is moved forward by the gap, as the clocks are.
        return naive.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)

    def describe(self) -> str:
        parts = []
        for n, one, many in (
            (self.years, "Jahr", "Jahre"),
            (self.months, "Monat", "Monate"),
            (self.days, "Tag", "Tage"),
        ):
            if n:
                parts.append(f"{n} {one if n == 1 else many}")
        text = ", ".join(parts) or "sofort"
        return f"{text}, dann zum Jahresende" if self.end_of_year else text


def _days_in_month(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


@dataclass(frozen=True)
class RecordType:
    key: str
    name: str
    models: tuple[str, ...]
    app: str
    purpose: str
    data: str
    regime: Regime
    legal_basis: str
    retention: str | None
    retention_from: str
    retention_source: str
    visible_to: str
    action: Action
    rule: str
    handler: str = ""
    end_of_year: bool = False
    maximum: str | None = None
    # Set elsewhere (the app's own setting), not by LAGEBILD_RETENTION.
    configured_by: str = ""
    regime_note: str = ""

    @property
    def default_retention(self) -> Retention | None:
        if self.retention is None:
            return None
        return Retention.parse(self.retention, end_of_year=self.end_of_year)


# Measures taken to prosecute or sanction an offence: for the city these fall under DSG NRW
# Teil 3 (§ 35 Abs. 2 DSG NRW), everything else the KOD does is danger prevention (Teil 2).
PROSECUTION_MEASURES = frozenset({"caution", "caution_fee", "offence_report", "criminal_complaint"})

_HANDLERS = "lagebild.privacy.handlers"

RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType(
        key="incident",
        name="Feststellung",
        models=("field.Incident", "field.IncidentArea"),
        app="lagebild.field",
        purpose="Dokumentation dessen, was Streifen, Leitstelle und Bürger festgestellt haben: "
        "Gefahrenabwehr, "
        "Verfolgung von Ordnungswidrigkeiten, Lagebild der Ordnungspartnerschaft.",
        data="Betroffene Personen nur mittelbar (Beschreibung, genauer Ort, Zeit); erfassende Beschäftigte.",
        regime=Regime.MIXED,
        regime_note="Stadt: DSGVO + DSG NRW Teil 2; mit OWi- oder Strafmaßnahme und bei der Polizei: "
        "DSG NRW Teil 3 (§ 35 Abs. 1, 2 DSG NRW).",
        legal_basis="Stadt: Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 3 DSG NRW, §§ 1, 24 OBG NRW; "
        "OWi-Verfolgung: § 35 Abs. 2 DSG NRW, §§ 46, 49c, 53 OWiG; Polizei: §§ 22 ff. PolG NRW, § 35 Abs. 1 "
        "DSG NRW.",
        retention="P2Y",
        retention_from="Zeitpunkt der Feststellung",
        retention_source="legal_domain.md §4.3: Einstellung/ohne Verfahren kurz (≤ 2 Jahre), "
        "absolute Verfolgungsverjährung mind. 2 Jahre (§ 33 Abs. 3 OWiG) [V]; Höchstgrenze PolG NRW § 22 "
        "Abs. 2 "
        "(10/5 Jahre) [V]. Das Bußgeldverfahren selbst führt das Fachverfahren der Bußgeldstelle.",
        visible_to="Außendienst, Schichtleitung, Analyse der erfassenden Behörde (gemeinsame Vorgänge: "
        "beider "
        "Behörden); Sonderstab und Leitung nur Zahlen; DSB über das Protokoll.",
        action=Action.ANONYMISE,
        rule="Beschreibung, Ortsangabe, externe Kennung und erfassende Person werden gelöscht, die "
        "Koordinaten "
        "auf den Mittelpunkt der H3-Zelle (ca. 0,1 km²) vergröbert. Sachverhalt, Zeitpunkt, Behörde, Quelle "
        "und Gebietszuordnung bleiben: die Zählungen ändern sich nicht.",
        handler=f"{_HANDLERS}.IncidentHandler",
    ),
    RecordType(
        key="measure",
        name="Maßnahme",
        models=("field.Measure",),
        app="lagebild.field",
        purpose="Nachweis der getroffenen Maßnahme (Platzverweis, Verwarnung, Anzeige, Sicherstellung, "
        "Vermittlung ins Hilfesystem) und ihrer Rechtsgrundlage.",
        data="Pseudonym der betroffenen Person, Betrag, Menge, Bemerkung; durchführende Beschäftigte.",
        regime=Regime.MIXED,
        regime_note="Verwarnung, OWi-Anzeige, Strafanzeige und alle Maßnahmen der Polizei: DSG NRW Teil 3; "
        "übrige Maßnahmen der Stadt: DSGVO + DSG NRW Teil 2.",
        legal_basis="Platzverweis § 34 Abs. 1 PolG NRW (Stadt über § 24 OBG NRW); Verwarnung §§ 56–58 OWiG; "
        "OWi-Anzeige §§ 46, 53 OWiG; Strafanzeige § 158 StPO, § 41 OWiG; Sicherstellung §§ 43 ff. PolG NRW, "
        "Beschlagnahme §§ 94 ff. StPO i. V. m. § 46 OWiG; Aufenthaltsverbot, Gewahrsam §§ 34 Abs. 2, 35 "
        "PolG NRW.",
        retention="P2Y",
        retention_from="Zeitpunkt der Maßnahme",
        retention_source="legal_domain.md §4.3 wie Feststellungen [V/S]; Verwarnungsgeld: Buchung im "
        "Haushaltsverfahren, nicht in Lagebild [M].",
        visible_to="Wie die Feststellung; das Pseudonym nur Außendienst und Schichtleitung der eigenen "
        "Behörde.",
        action=Action.ANONYMISE,
        rule="Bemerkung, durchführende Person und Verknüpfung zur Person (Pseudonym) werden entfernt; Art, "
        "Zeitpunkt, Behörde, Betrag, Art der Sicherstellung und Hilfeangebot bleiben für die Zählungen.",
        handler=f"{_HANDLERS}.MeasureHandler",
    ),
    RecordType(
        key="person",
        name="Person (pseudonym)",
        models=("field.Person",),
        app="lagebild.field",
        purpose="Wiedererkennen wiederholter Kontakte (Gefährdungsprognose für Aufenthaltsverbote, "
        "Vermittlung ins Hilfesystem) ohne Namen oder Anschrift.",
        data="Pseudonym und Altersgruppe von Betroffenen (auch Minderjährigen, Suchtkranken, Wohnungslosen).",
        regime=Regime.MIXED,
        regime_note="Stadt: DSGVO + DSG NRW Teil 2; Polizei: DSG NRW Teil 3.",
        legal_basis="Art. 6 Abs. 1 lit. e, Art. 9 Abs. 2 lit. g DSGVO i. V. m. §§ 3, 15 DSG NRW, § 24 OBG "
        "NRW "
        "i. V. m. § 22 PolG NRW; Polizei: §§ 22, 22b PolG NRW. Keine quellenübergreifende Auswertung "
        "(BVerfG 1 BvR 1547/19).",
        retention="P1Y",
        retention_from="letzte Maßnahme mit dieser Person (sonst Anlage)",
        retention_source="legal_domain.md §4.3 (Vergleich § 19 SchwarzArbG: 1 Jahr nach Abschluss ohne "
        "Verfahren) "
        "[V]; §4.4 BVerfG 1 BvR 1547/19: Personenbezug so kurz wie möglich [V].",
        visible_to="Außendienst und Schichtleitung der eigenen Behörde; jede Anzeige wird protokolliert; nie "
        "die andere Behörde, nie Analyse, Sonderstab oder Leitung.",
        action=Action.DELETE,
        rule="Das Pseudonym wird gelöscht; die Maßnahmen verlieren die Verknüpfung (die Zählungen bleiben).",
        handler=f"{_HANDLERS}.PersonHandler",
    ),
    RecordType(
        key="shift",
        name="Schicht",
        models=("field.Shift",),
        app="lagebild.field",
        purpose="Dienstplanung und Nachweis der eingesetzten Kräfte.",
        data="Schichtleitung und Bemerkungen (Beschäftigtendaten).",
        regime=Regime.GDPR,
        legal_basis="Art. 6 Abs. 1 lit. c, e, Art. 88 DSGVO i. V. m. § 18 DSG NRW (Beschäftigtendaten) [M].",
        retention="P2Y",
        retention_from="Ende der Schicht",
        retention_source="Nicht in den Recherchenotizen: angenommen wie Arbeitszeitnachweise "
        "(2 Jahre, § 16 Abs. 2 ArbZG) [M]; vom DSB festzulegen.",
        visible_to="Schichtleitung und Außendienst der eigenen Behörde; Analyse nur Personalstunden.",
        action=Action.ANONYMISE,
        rule="Bemerkung und Schichtleitung werden gelöscht; Datum, Art und Zeiten bleiben.",
        handler=f"{_HANDLERS}.ShiftHandler",
    ),
    RecordType(
        key="patrol",
        name="Streife",
        models=("field.Patrol", "field.PatrolMember"),
        app="lagebild.field",
        purpose="Einsatz von Streifen (auch Doppelstreifen), Personalstunden als Bezugsgröße der Kennzahlen.",
        data="Mitglieder der Streife (Beschäftigte beider Behörden), Einsatzzeiten.",
        regime=Regime.GDPR,
        legal_basis="Art. 6 Abs. 1 lit. c, e, Art. 88 DSGVO i. V. m. § 18 DSG NRW [M]; Doppelstreifen: "
        "Vereinbarung der Ordnungspartnerschaft (Art. 26 DSGVO) [M].",
        retention="P2Y",
        retention_from="geplanter Beginn der Streife",
        retention_source="Wie Schichten (§ 16 Abs. 2 ArbZG) [M]; vom DSB festzulegen.",
        visible_to="Schichtleitung und Mitglieder der beteiligten Behörden; Analyse, Sonderstab und Leitung "
        "nur "
        "Personalstunden.",
        action=Action.ANONYMISE,
        rule="Die Mitglieder werden durch neutrale, gesperrte Platzhalter ihrer Behörde ersetzt (die Zahl je "
        "Behörde und damit die Personalstunden bleiben); Zeiten, Gebiet und Behörde bleiben.",
        handler=f"{_HANDLERS}.PatrolHandler",
    ),
    RecordType(
        key="deployment_plan",
        name="Einsatzplan",
        models=("deployment.DeploymentPlan", "deployment.PlanAssignment", "deployment.PlanChange"),
        app="lagebild.deployment",
        purpose="Wochenplanung der Streifen nach Risikoprognose: Nachweis, wer den Plan berechnet, "
        "geändert und freigegeben hat und warum, und Grundlage der Wirkungsauswertung.",
        data="Berechnende, ändernde und freigebende Beschäftigte, Begründungen der Änderungen "
        "(Beschäftigtendaten); keine Daten über Bürgerinnen und Bürger.",
        regime=Regime.GDPR,
        legal_basis="Art. 6 Abs. 1 lit. c, e, Art. 88 DSGVO i. V. m. § 18 DSG NRW (Beschäftigtendaten) [M].",
        retention="P2Y",
        retention_from="Montag der Planwoche",
        retention_source="Wie Schichten und Streifen (§ 16 Abs. 2 ArbZG) [M]; vom DSB festzulegen.",
        visible_to="Schichtleitung der eigenen Behörde.",
        action=Action.ANONYMISE,
        rule="Berechnet von, Freigegeben von, die Personen und Begründungen der Änderungen werden "
        "gelöscht; Woche, Einsatzräume, Zeiten, Kosten und Abweichungen bleiben.",
        handler=f"{_HANDLERS}.DeploymentPlanHandler",
    ),
    RecordType(
        key="citizen_report",
        name="Bürgerhinweis: Kontaktdaten der meldenden Person",
        models=("citizen.Report",),
        app="lagebild.citizen",
        purpose="Rückfragen und Statusrückmeldung an die meldende Person.",
        data="Name, E-Mail, Telefon der meldenden Person (freiwillig).",
        regime=Regime.MIXED,
        regime_note="Hinweise an die Stadt: DSGVO + DSG NRW Teil 2; an die Polizei geleitete Hinweise: "
        "DSG NRW Teil 3.",
        legal_basis="Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 3 DSG NRW, § 1 OBG NRW; Angabe freiwillig "
        "(Art. 6 Abs. 1 lit. a DSGVO für die Rückmeldung); Polizei: §§ 22 ff. PolG NRW.",
        retention="P365D",
        retention_from="Abschluss des Hinweises",
        retention_source="citizen_reporting.md: Signalen (Amsterdam) anonymisiert Meldende nach 365 Tagen "
        "(ADR 0006) [V]; docs/retention.md.",
        visible_to="Nur Schichtleitung/Leitstelle und Administration der zuständigen Behörde, auf Abruf, "
        "protokolliert; nie in Listen, Exporten, Open311.",
        action=Action.ANONYMISE,
        rule="Name, E-Mail und Telefon werden geleert, ``anonymised_at`` gesetzt. Offene Hinweise nie.",
        handler=f"{_HANDLERS}.ReporterContactHandler",
    ),
    RecordType(
        key="citizen_report_content",
        name="Bürgerhinweis: Inhalt",
        models=("citizen.Report", "citizen.ReportArea"),
        app="lagebild.citizen",
        purpose="Bearbeitung des Hinweises, Statusseite, Kennzahlen zu Eingang und Bearbeitung.",
        data="Beschreibung, Zusatzangaben, genauer Ort; mittelbar Betroffene (z. B. beschriebene Personen).",
        regime=Regime.MIXED,
        regime_note="Wie die Kontaktdaten.",
        legal_basis="Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 3 DSG NRW, § 1 OBG NRW; Polizei: §§ 22 ff. PolG "
        "NRW.",
        retention="P5Y",
        retention_from="Abschluss des Hinweises",
        retention_source="citizen_reporting.md: Signalen löscht erledigte Meldungen nach 5 Jahren (ADR "
        "0006) [V].",
        visible_to="Beschäftigte der zuständigen Behörde (gemeinsame Hinweise: beider); öffentlich nur "
        "freigegebene "
        "Angaben (Open311).",
        action=Action.ANONYMISE,
        rule="Beschreibung, Zusatzangaben, Ortsangabe, Adress-ID und externe Kennung werden geleert, die "
        "Koordinaten auf die H3-Zelle vergröbert, der Status-Link ungültig. Kategorie, Status, Eingangsweg, "
        "Zeiten, Behörde und Gebiete bleiben für die Zählungen.",
        handler=f"{_HANDLERS}.ReportContentHandler",
    ),
    RecordType(
        key="photo",
        name="Foto zu einem Bürgerhinweis",
        models=("citizen.Photo",),
        app="lagebild.citizen",
        purpose="Veranschaulichung des gemeldeten Zustands (z. B. Müll, Schäden).",
        data="Bild; kann Personen und Kennzeichen zeigen (Metadaten werden beim Hochladen entfernt).",
        regime=Regime.MIXED,
        regime_note="Wie der Hinweis.",
        legal_basis="Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 3 DSG NRW, § 1 OBG NRW.",
        retention="P1Y",
        retention_from="Abschluss des Hinweises",
        retention_source="citizen_reporting.md: Signalen löscht abgebrochene Meldungen nach 1 Jahr [V]; "
        "Datenminimierung (Art. 5 Abs. 1 lit. c, e DSGVO).",
        visible_to="Beschäftigte der zuständigen Behörde; öffentlich nur freigegebene, geschwärzte Fotos.",
        action=Action.DELETE,
        rule="Datensatz und Datei auf dem Datenträger werden gelöscht.",
        handler=f"{_HANDLERS}.PhotoHandler",
    ),
    RecordType(
        key="report_status_history",
        name="Statusverlauf eines Bürgerhinweises",
        models=("citizen.StatusChange",),
        app="lagebild.citizen",
        purpose="Nachvollziehbarkeit der Bearbeitung, Bearbeitungszeiten.",
        data="Bearbeitende Beschäftigte, öffentliche und interne Notizen.",
        regime=Regime.MIXED,
        regime_note="Wie der Hinweis.",
        legal_basis="Art. 6 Abs. 1 lit. c, e DSGVO i. V. m. § 3 DSG NRW.",
        retention="P1Y",
        retention_from="Abschluss des Hinweises",
        retention_source="Wie die Kontaktdaten: Signalen 365 Tage [V]; Notizen enthalten oft Angaben der "
        "meldenden Person.",
        visible_to="Beschäftigte der zuständigen Behörde; öffentliche Notizen auf der Statusseite.",
        action=Action.ANONYMISE,
        rule="Notizen und bearbeitende Person werden gelöscht; Zeitpunkt und Statuswechsel bleiben.",
        handler=f"{_HANDLERS}.StatusHistoryHandler",
    ),
    RecordType(
        key="audit_entry",
        name="Protokolleintrag",
        models=("core.AuditEvent",),
        app="lagebild.core",
        purpose="Kontrolle der Rechtmäßigkeit, Eigenkontrolle, Datensicherheit (wer hat wann was gelesen, "
        "geändert, übermittelt).",
        data="Benutzer, Behörde, Aktion, Objekt, Zweck, Herkunft der Anfrage.",
        regime=Regime.MIXED,
        regime_note="Folgt dem protokollierten Datensatz.",
        legal_basis="Art. 5 Abs. 2, Art. 32 DSGVO; § 55 DSG NRW (Teil 3) [V Verweis]; Vorbild § 76 BDSG.",
        retention="P1Y",
        end_of_year=True,
        retention_from="Erstellung, gelöscht am Ende des Folgejahres",
        retention_source="legal_domain.md §4.2: § 76 Abs. 4 BDSG – Löschung am Ende des auf die Erstellung "
        "folgenden Jahres [V]; Frist des § 55 DSG NRW [U], daher einstellbar.",
        visible_to="Datenschutzbeauftragte/r der jeweiligen Behörde; Administration der eigenen Behörde.",
        action=Action.DELETE,
        rule="Gelöscht wird nur vom Anfang der Hash-Kette her (das Protokoll-Modul core.audit_retention): "
        "der neue Kettenanfang steht im Kettenkopf, in einem Eintrag audit.pruned und in der Ankerdatei, "
        "sodass audit verify weiter prüft. Auf PostgreSQL nur unter der Rolle der Tabelleneigentümerin, "
        "nie unter der der Web-Anwendung; Läufe für eine einzelne Behörde löschen keine Einträge.",
        handler=f"{_HANDLERS}.AuditEntryHandler",
    ),
    RecordType(
        key="bodycam_recording",
        name="Bodycam-Aufnahme",
        models=("bodycam.Recording", "bodycam.CustodyEvent", "bodycam.RetentionDecision"),
        app="lagebild.bodycam",
        purpose="Schutz von Beschäftigten und Dritten vor Gefahren für Leib und Leben; Beweissicherung.",
        data="Bild und Ton von Betroffenen und Dritten; Trägerin/Träger, Gerät, Zeit, Ort, Anlass.",
        regime=Regime.MIXED,
        regime_note="Gefahrenabwehr: DSGVO + DSG NRW Teil 2 (Stadt); als Beweismittel in OWi- oder "
        "Strafverfahren und bei der Polizei: DSG NRW Teil 3.",
        legal_basis="§ 15c PolG NRW, für die Stadt über § 24 Abs. 1 Nr. 6 OBG NRW [V].",
        retention="P0D",
        configured_by="LAGEBILD_RECORDINGS_RETENTION_DAYS (Standard 14 Tage, lagebild.bodycam)",
        retention_from="Löschdatum der Aufnahme (14 Tage nach Beginn, LAGEBILD_RECORDINGS_RETENTION_DAYS, "
        "oder das Datum einer Vier-Augen-Sicherung)",
        retention_source="legal_domain.md §3.1, §3.3: Löschung nach 14 Tagen, wenn nicht zur Gefahrenabwehr, "
        "Verfolgung oder auf Antrag der betroffenen Person benötigt (§ 15c Abs. 4 PolG NRW) [S]; Stadt "
        "Dortmund [V].",
        visible_to="Trägerin/Träger und Vorgesetzte der eigenen Behörde, nur mit protokolliertem Grund; "
        "Übergabe an Polizei/StA als protokollierte Übermittlung.",
        action=Action.DELETE,
        rule="Die Datei wird gelöscht, der Datensatz bleibt als Grabstein (Prüfsumme, Verwahrkette, "
        "Zeitpunkt "
        "der Löschung). Eine im Vier-Augen-Verfahren als Beweismittel gesicherte Aufnahme erst zu ihrem "
        "neuen Löschdatum.",
        handler=f"{_HANDLERS}.BodycamHandler",
    ),
    RecordType(
        key="transfer",
        name="Übermittlung zwischen Behörden",
        models=("sharing.Transfer", "sharing.TransferEvent"),
        app="lagebild.sharing",
        purpose="Nachweis jeder Übermittlung zwischen Stadt und Polizei: Zweck, Rechtsgrundlage, wer, wann, "
        "was.",
        data="Absender, Empfänger, übermittelte Datensätze, Zweck.",
        regime=Regime.LAW_ENFORCEMENT,
        legal_basis="§§ 41, 49a OWiG, § 158 StPO (Stadt an Polizei); § 27 PolG NRW, § 53 OWiG (Polizei an "
        "Stadt); Protokoll § 29 Abs. 2 PolG NRW, § 55 DSG NRW [V/S].",
        retention="P1Y",
        end_of_year=True,
        retention_from="Übermittlung, gelöscht am Ende des Folgejahres",
        retention_source="legal_domain.md §4.2: § 29 Abs. 2 PolG NRW – Übermittlungsnachweise am Ende des "
        "folgenden Kalenderjahres löschen [V].",
        visible_to="Absendende und empfangende Behörde (die Empfängerin sieht genau das Übermittelte); DSB.",
        action=Action.DELETE,
        rule="Der Übermittlungsnachweis wird gelöscht; die übermittelten Daten folgen ihren eigenen Fristen.",
        handler=f"{_HANDLERS}.TransferHandler",
    ),
    RecordType(
        key="taskforce",
        name="Sonderstab: Sitzungen",
        models=("taskforce.Meeting", "taskforce.AgendaItem"),
        app="lagebild.taskforce",
        purpose="Steuerung des Sonderstabs: Sitzungen, Tagesordnung, Protokoll, Teilnehmende.",
        data="Teilnehmende Beschäftigte, Protokolltext.",
        regime=Regime.GDPR,
        legal_basis="Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 3 DSG NRW; Aktenführung der Stadt.",
        retention="P5Y",
        retention_from="Sitzungsdatum",
        retention_source="Nicht in den Recherchenotizen: Annahme 5 Jahre (Schriftgut der Verwaltung), vorher "
        "Anbietung an das Stadtarchiv (§ 4 ArchivG NRW) [M]; vom DSB festzulegen.",
        visible_to="Mitglieder des Sonderstabs, Leitung, Verwaltungsvorstand.",
        action=Action.ANONYMISE,
        rule="Protokolltext und Teilnehmendenliste werden gelöscht; Datum, Tagesordnung und eingefrorene "
        "Zahlen "
        "bleiben.",
        handler=f"{_HANDLERS}.MeetingHandler",
    ),
    RecordType(
        key="user_account",
        name="Benutzerkonto",
        models=("core.User",),
        app="lagebild.core",
        purpose="Anmeldung, Rollen und Zuständigkeit der Beschäftigten; Zuordnung im Protokoll.",
        data="Benutzername, Name, E-Mail, Dienstnummer, Rolle, Behörde, letzte Anmeldung.",
        regime=Regime.GDPR,
        legal_basis="Art. 6 Abs. 1 lit. c, Art. 32, Art. 88 DSGVO i. V. m. § 18 DSG NRW [M].",
        retention="P2Y",
        retention_from="letzte Anmeldung (sonst Anlage) eines deaktivierten Kontos",
        retention_source="So lange, wie Protokolleinträge das Konto nennen dürfen: § 76 Abs. 4 BDSG "
        "(bis Ende des Folgejahres, höchstens 2 Jahre) [V].",
        visible_to="Administration der eigenen Behörde; Plattform-Administration (protokolliert).",
        action=Action.ANONYMISE,
        rule="Nur deaktivierte Konten: Benutzername wird „geloescht-<id>“, Name, E-Mail und Dienstnummer "
        "werden "
        "geleert, das Passwort unbrauchbar. Der Datensatz bleibt, damit Protokoll und Streifen ihn weiter "
        "referenzieren.",
        handler=f"{_HANDLERS}.UserAccountHandler",
    ),
    RecordType(
        key="api_token",
        name="API-Token",
        models=("accounts.ApiToken",),
        app="lagebild.accounts",
        purpose="Zugang von Apps und Schnittstellen im Namen einer Benutzerin/eines Benutzers.",
        data="Zugehöriges Konto, Bezeichnung, Anfang des Tokens, Zeiten (gespeichert nur als SHA-256).",
        regime=Regime.GDPR,
        legal_basis="Art. 6 Abs. 1 lit. e, Art. 32 DSGVO.",
        retention="P30D",
        retention_from="Ablauf oder Widerruf",
        retention_source="Kein Rechtsgebot: abgelaufene und widerrufene Tokens bleiben 30 Tage in der Liste "
        "der Benutzerin/des Benutzers sichtbar (Nachvollziehbarkeit), dann gelöscht [M]; Gültigkeit selbst: "
        "LAGEBILD_API_TOKEN_DAYS (90, höchstens 365 Tage).",
        visible_to="Nur die eigene Benutzerin/der eigene Benutzer (einmal bei der Erstellung); "
        "Administration "
        "der eigenen Behörde sieht, dass es existiert.",
        action=Action.DELETE,
        rule="Abgelaufene oder widerrufene Tokens werden gelöscht; gültige nie.",
        handler=f"{_HANDLERS}.ApiTokenHandler",
    ),
    RecordType(
        key="proceedings_person",
        name="Betroffene im Bußgeldverfahren (Identitätsdaten)",
        models=(
            "proceedings.ProceedingsPerson",
            "proceedings.Case",
            "proceedings.CaseEvent",
            "proceedings.Notice",
            "proceedings.Payment",
            "proceedings.CaseDeadline",
            "proceedings.Caution",
        ),
        app="lagebild.proceedings",
        purpose="Verfolgung und Ahndung von Ordnungswidrigkeiten durch die Bußgeldstelle: Anhörung, "
        "Bescheid, Zahlung, Vollstreckung, Abgabe an Staatsanwaltschaft oder Gericht.",
        data="Angaben zur Person nach § 111 OWiG (Name, Geburtsdatum und -ort, Familienstand, Beruf, "
        "Anschrift, Staatsangehörigkeit), freiwillig Telefon und E-Mail; Tatvorwurf, Verfahrensschritte, "
        "Beträge und Zahlungen; Bearbeitende.",
        regime=Regime.LAW_ENFORCEMENT,
        legal_basis="§ 35 Abs. 2 DSG NRW; §§ 46, 49a–49c, 55, 65, 66, 111 OWiG; §§ 483 ff. StPO i. V. m. "
        "§ 49c OWiG.",
        retention="P1Y",
        end_of_year=True,
        retention_from="Abschluss des letzten Verfahrens der Person "
        "(bezahlt, eingestellt, verjährt, abgegeben)",
        retention_source="legal_domain.md §4.3: empfohlene Regel Bußgeldverfahren nach Zahlung oder "
        "Vollstreckungsverjährung + 1 Jahr, Einstellung kurz (≤ 2 Jahre) [M]; § 489 StPO über § 49c OWiG "
        "[V]. Vor Echtbetrieb durch die/den DSB zu bestätigen.",
        visible_to="Nur die Bußgeldstelle der eigenen Behörde; jeder Zugriff wird protokolliert. Analyse, "
        "Sonderstab und Leitung sehen nur Zahlen.",
        action=Action.ANONYMISE,
        rule="Name, Anschrift, Geburtsort und -tag (nur das Geburtsjahr bleibt), Kontaktangaben und der "
        "Bezug zum Pseudonym werden gelöscht, sobald kein Verfahren der Person mehr offen ist und die "
        "Frist abgelaufen ist. Verfahren, Schritte und Beträge bleiben für die Kennzahlen.",
        handler=f"{_HANDLERS}.ProceedingsPersonHandler",
    ),
    RecordType(
        key="idempotency_keys",
        name="Idempotenzschlüssel (Schutz vor doppelt gespeicherten Eingaben)",
        models=("core.IdempotencyKey",),
        app="lagebild.core",
        purpose="Eine wiederholte Übermittlung (Doppeltipp, Funkloch, Wiederholung einer App) legt keinen "
        "zweiten Datensatz an, sondern erhält die erste Antwort erneut (docs/operations.md).",
        data="Schlüssel der App, Konto oder Open311-Client, Prüfsumme der Anfrage, die erste Antwort "
        "(kann Angaben des angelegten Datensatzes enthalten), Zeiten.",
        regime=Regime.MIXED,
        legal_basis="Wie der angelegte Datensatz; Art. 32 DSGVO / § 58 DSG NRW (Integrität der Daten).",
        retention="P1D",
        retention_from="Anlage",
        retention_source="Kein Rechtsgebot: 24 Stunden genügen für jede Wiederholung einer Übermittlung [M]; "
        "die Aufgabe idempotency_purge löscht abgelaufene Schlüssel täglich.",
        visible_to="Niemand in der Oberfläche; nur die Anwendung selbst.",
        action=Action.DELETE,
        rule="Schlüssel und gespeicherte Antwort werden einen Tag nach der Anlage gelöscht.",
        handler=f"{_HANDLERS}.IdempotencyKeyHandler",
    ),
    RecordType(
        key="analytics_counts",
        name="Zähltabellen der Analyse",
        models=(
            "analytics.HourlyCount",
            "analytics.DailyCount",
            "analytics.WeeklyCount",
            "analytics.MonthlyCount",
            "analytics.YearlyCount",
        ),
        app="lagebild.analytics",
        purpose="Kennzahlen, Hotspots, Verdrängung, Bilanzen (nur Ort, Zeit, Kategorie, Anzahl).",
        data="Keine: Anzahlen je Gebiet, Zeit, Sachverhalt und Behörde.",
        regime=Regime.ANONYMOUS,
        legal_basis="Keine Verarbeitung personenbezogener Daten (ErwGr. 26 DSGVO); Veröffentlichung mit "
        "Unterdrückung kleiner Zellen.",
        retention=None,
        retention_from="–",
        retention_source="legal_domain.md §4.4: Auswertungen aggregiert/anonym (Ort, Zeit), nicht "
        "personenbezogen.",
        visible_to="Analyse, Sonderstab, Leitung beider Behörden; Open Data veröffentlicht.",
        action=Action.KEEP,
        rule="Werden nicht gelöscht; bleiben bei jeder Löschung oder Anonymisierung der Datensätze gleich.",
    ),
)

BY_KEY = {record_type.key: record_type for record_type in RECORD_TYPES}


def get(key: str) -> RecordType:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"Unbekannter Datensatztyp {key!r}. Bekannt: {', '.join(BY_KEY)}.") from None


def _label(model: Any) -> str:
    if isinstance(model, str):
        return model
    return model._meta.label  # a model class or instance


def for_model(model: Any) -> RecordType:
    """The record type of a model class, instance or label; the first one naming it as its main model.

    ``for_model(Incident)`` → the incident type. Models listed only as a secondary model of a
    type (``field.IncidentArea``) resolve to that type too.
    """
    label = _label(model)
    for record_type in RECORD_TYPES:
        if record_type.models and record_type.models[0] == label:
            return record_type
    for record_type in RECORD_TYPES:
        if label in record_type.models:
            return record_type
    raise LookupError(f"Für {label} ist kein Datensatztyp mit Zweck und Rechtsregime erfasst.")


def purpose_of(model: Any) -> str:
    return for_model(model).purpose


def regime_of(obj: Any) -> Regime:
    """The regime of one record (the type's, or for mixed types decided by authority and measures)."""
    record_type = for_model(obj)
    if record_type.regime is not Regime.MIXED or isinstance(obj, type):
        return record_type.regime
    authority = getattr(obj, "authority", None)
    if authority is None and hasattr(obj, "report"):
        authority = getattr(obj.report, "authority", None)
    if authority is None and hasattr(obj, "incident"):
        authority = getattr(obj.incident, "authority", None)
    if getattr(authority, "kind", None) == "police":
        return Regime.LAW_ENFORCEMENT
    if record_type.key == "measure":
        return Regime.LAW_ENFORCEMENT if obj.type in PROSECUTION_MEASURES else Regime.GDPR
    if record_type.key == "incident" and getattr(obj, "pk", None) is not None:
        types = set(obj.measures.values_list("type", flat=True))
        return Regime.LAW_ENFORCEMENT if types & PROSECUTION_MEASURES else Regime.GDPR
    return Regime.GDPR


# --- the Art. 30 table ------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(overrides: dict[str, Retention] | None = None) -> str:
    """The record of processing activities as a Markdown table (one row per record type)."""
    overrides = overrides or {}
    header = (
        "| Datensatztyp | Zweck | Daten / Betroffene | Rechtsregime | Rechtsgrundlage | Frist "
        "(Standard) | Quelle der Frist | Wer sieht es | Löschregel |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for rt in RECORD_TYPES:
        retention = overrides.get(rt.key) or rt.default_retention
        if retention is None:
            period = "keine (anonym)"
        elif rt.configured_by:
            period = f"ab {rt.retention_from}; eingestellt mit {rt.configured_by}"
        else:
            year_end = " zum Jahresende" if retention.end_of_year else ""
            period = f"`{retention.iso}`{year_end} ab {rt.retention_from}"
            if rt.maximum:
                period += f" (höchstens `{rt.maximum}`)"
        regime = rt.regime.label + (f": {rt.regime_note}" if rt.regime_note else "")
        models = ", ".join(f"`{m}`" for m in rt.models)
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"**{rt.name}** (`{rt.key}`; {models})",
                    rt.purpose,
                    rt.data,
                    regime,
                    rt.legal_basis,
                    period,
                    rt.retention_source,
                    rt.visible_to,
                    f"{rt.action.label}: {rt.rule}",
                )
            )
            + " |"
        )
    return header + "\n".join(rows) + "\n"
