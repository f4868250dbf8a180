"""The case file for transfer to the prosecutor or the court (§ 69 Abs. 3 OWiG): a PDF rendering of
the whole file and a structured JSON data set (``docs/proceedings-export.schema.json``).

The JSON follows the concepts of XJustiz (Verfahren, Beteiligte, Tat, Ereignisse, Bescheide,
Zahlungen) with German keys; money is a string with two decimals, dates are ISO 8601. It is not an
XJustiz XML message: it is what a receiving system can map onto one.

The PDF is "PDF/A-style", not certified PDF/A: ReportLab writes no XMP metadata packet, no output
intent (ICC profile) and no PDF/A identification, so a validator such as veraPDF will not accept it
as PDF/A-1b/2b. What it does guarantee (and ``tests/test_proceedings_documents.py`` checks with
pypdf): every font is an embedded TrueType subset (no base-14 fonts), the document information has
title, author, subject, creator, keywords and language, there is no encryption, no JavaScript, no
open action, no embedded files and no external links; the creation date is the real one. For a
certified archive copy the PDF can be converted downstream (e.g. Ghostscript ``-dPDFA=2``).

Every export goes through ``export_case``, which reads the file through ``selectors.case_file``
(role and authority checked, person read logged) and writes ``proceedings.case.exported`` to the
audit log with recipient and purpose.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from lagebild.core import audit
from lagebild.core.audit import actor_name

from . import selectors
from .letters import (
    STYLE_BODY,
    STYLE_CELL,
    STYLE_HEADING,
    STYLE_SMALL,
    STYLE_SUBJECT,
    TABLE_FONT,
    TEXT_WIDTH,
    _Footer,
    euro,
    render_pdf,
)
from .models import Case, CaseState, EventKind

SCHEMA_ID = "urn:lagebild:schema:proceedings-export:1.0"
SCHEMA_VERSION = "1.0"
JSON_TYPE = "application/json"

RECIPIENTS = {
    "staatsanwaltschaft": "Staatsanwaltschaft",
    "amtsgericht": "Amtsgericht",
}
DEFAULT_PURPOSE = "Abgabe nach Einspruch (§ 69 Abs. 3 OWiG)"


def _money(value: Decimal | str | None) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.2f}"


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def export_data(
    case: Case, *, exported_at: dt.datetime, exported_by: str, recipient: str, purpose: str
) -> dict[str, Any]:
    """The structured data set of one case (pure: reads only the case and its prefetched relations)."""
    person = case.person
    state_labels = dict(CaseState.choices)
    kind_labels = dict(EventKind.choices)
    parties: list[dict[str, Any]] = [
        {
            "rolle": "Verwaltungsbehörde",
            "behoerde": {"kuerzel": case.authority.code, "name": case.authority.name},
        }
    ]
    if person is not None:
        parties.append(
            {
                "rolle": "Betroffener",
                "person": {
                    "familienname": person.family_name,
                    "vornamen": person.given_names,
                    "geburtsname": person.birth_name or None,
                    "geburtsdatum": person.date_of_birth.isoformat(),
                    "geburtsort": person.place_of_birth,
                    "familienstand": person.get_marital_status_display() if person.marital_status else None,
                    "beruf": person.occupation or None,
                    "staatsangehoerigkeit": person.nationality or None,
                    "anschrift": {
                        "strasse": person.street,
                        "postleitzahl": person.postcode,
                        "ort": person.city,
                    },
                    "jugendlich_zur_tatzeit": case.juvenile,
                },
            }
        )
    rule = case.category_rule
    notices = sorted(case.notices.all(), key=lambda n: (n.drafted_at, n.pk))
    payments = sorted(case.payments.all(), key=lambda p: (p.paid_on, p.pk))
    events = sorted(case.events.all(), key=lambda e: (e.on, e.recorded_at, e.pk))
    paid = sum((p.amount for p in payments), Decimal("0"))
    return {
        "$schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "nachricht": {
            "erstellt_am": _iso(exported_at),
            "erstellt_von": exported_by,
            "absender": case.authority.name,
            "empfaenger": recipient,
            "zweck": purpose,
            "rechtsgrundlage": "§ 69 Abs. 3 OWiG",
        },
        "verfahren": {
            "aktenzeichen": case.file_number,
            "behoerde": case.authority.name,
            "stand": {"code": case.state, "bezeichnung": state_labels.get(case.state, case.state)},
            "eingegangen_am": _iso(case.opened_at),
            "erste_anhoerung_am": _iso(case.first_hearing_on),
            "bescheid_erlassen_am": _iso(case.notice_issued_on),
            "zugestellt_am": _iso(case.served_on),
            "einspruch_am": _iso(case.objection_on),
            "rechtskraeftig_seit": _iso(case.final_on),
            "abgeschlossen_am": _iso(case.closed_on),
            "einstellungsgrund": case.discontinued_reason or None,
            "verjaehrung_letzter_tag": _iso(case.limitation_deadline),
        },
        "beteiligte": parties,
        "tat": {
            "tatzeit": _iso(case.offence_at),
            "tattag": case.offence_date.isoformat(),
            "tatort": case.offence_place or None,
            "vorwurf": case.offence_description or case.category.name,
            "sachverhalt": {"code": case.category.code, "bezeichnung": case.category.name},
            "rechtsgrundlage": rule.legal_basis,
            "hoechstbetrag": _money(case.max_fine),
        },
        "ereignisse": [
            {
                "art": e.kind,
                "bezeichnung": kind_labels.get(e.kind, e.kind),
                "datum": e.on.isoformat(),
                "erfasst_am": _iso(e.recorded_at),
                "bearbeitet_von": e.user_name,
                "stand_vorher": e.state_before or None,
                "stand_nachher": e.state_after,
                "vermerk": e.reason or None,
                "angaben": e.data or {},
            }
            for e in events
        ],
        "bescheide": [
            {
                "id": n.pk,
                "status": _notice_status(n),
                "geldbusse": _money(n.fine),
                "gebuehr": _money(n.fee),
                "auslagen": _money(n.expenses),
                "gesamtbetrag": _money(n.total),
                "entworfen_am": _iso(n.drafted_at),
                "entworfen_von": n.drafted_by_name,
                "freigegeben_am": _iso(n.approved_at),
                "freigegeben_von": n.approved_by_name or None,
                "erlassen_am": _iso(n.issued_on),
                "zurueckgenommen_am": _iso(n.withdrawn_on),
                "inhalt": n.contents,
            }
            for n in notices
        ],
        "zahlungen": [
            {
                "betrag": _money(p.amount),
                "eingang_am": p.paid_on.isoformat(),
                "verwendungszweck": p.reference or None,
                "erfasst_am": _iso(p.recorded_at),
                "erfasst_von": p.recorded_by_name,
            }
            for p in payments
        ],
        "summen": {
            "festgesetzt": _money(case.total_due),
            "gezahlt": _money(paid),
            "offen": _money(max((case.total_due or Decimal("0")) - paid, Decimal("0"))),
        },
    }


def _notice_status(notice: Any) -> str:
    if notice.withdrawn_on is not None:
        return "zurueckgenommen" if notice.approved_at else "verworfen"
    return "erlassen" if notice.approved_at else "entwurf"


def export_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


# --- PDF --------------------------------------------------------------------------------------------


def _rows(pairs: list[tuple[str, Any]]) -> Table:
    data = [
        [
            Paragraph(escape(label), STYLE_SMALL),
            Paragraph(escape("–" if value in (None, "") else str(value)), STYLE_CELL),
        ]
        for label, value in pairs
    ]
    table = Table(data, colWidths=[50 * mm, TEXT_WIDTH - 50 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                *TABLE_FONT,
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d5db")),
            ]
        )
    )
    return table


def _heading(text: str) -> list[Flowable]:
    """A heading that never stands alone at the foot of a page."""
    return [CondPageBreak(30 * mm), Paragraph(escape(text), STYLE_HEADING)]


def _grid(header: list[str], rows: list[list[Any]], widths_mm: list[float]) -> Table:
    data = [[Paragraph(f"<b>{escape(h)}</b>", STYLE_SMALL) for h in header]]
    data += [
        [Paragraph(escape("–" if v in (None, "") else str(v)), STYLE_SMALL) for v in row] for row in rows
    ]
    table = Table(data, colWidths=[w * mm for w in widths_mm], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                *TABLE_FONT,
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d5db")),
            ]
        )
    )
    return table


def _d(value: str | None) -> str:
    if not value:
        return "–"
    day = dt.date.fromisoformat(value[:10])
    return f"{day:%d.%m.%Y}" + (f", {value[11:16]} Uhr" if len(value) > 10 else "")


def _euro(value: str | None) -> str:
    return "–" if value is None else euro(value)


def export_story(data: dict[str, Any]) -> list[Flowable]:
    """The whole file as flowables, from the data set (so PDF and JSON say the same)."""
    v, t, msg = data["verfahren"], data["tat"], data["nachricht"]
    story: list[Flowable] = [
        _Footer(f"Verfahrensakte {v['aktenzeichen']} · {msg['absender']} · an {msg['empfaenger']}"),
        Paragraph(escape(f"Verfahrensakte {v['aktenzeichen']}"), STYLE_SUBJECT),
        _rows(
            [
                ("Absender", msg["absender"]),
                ("Empfänger", msg["empfaenger"]),
                ("Zweck", msg["zweck"]),
                ("Erstellt", f"{_d(msg['erstellt_am'])} von {msg['erstellt_von']}"),
            ]
        ),
        *_heading("Verfahren"),
        _rows(
            [
                ("Aktenzeichen", v["aktenzeichen"]),
                ("Stand", v["stand"]["bezeichnung"]),
                ("Eingegangen", _d(v["eingegangen_am"])),
                ("Erste Anhörung", _d(v["erste_anhoerung_am"])),
                ("Bescheid erlassen", _d(v["bescheid_erlassen_am"])),
                ("Zugestellt", _d(v["zugestellt_am"])),
                ("Einspruch", _d(v["einspruch_am"])),
                ("Rechtskräftig seit", _d(v["rechtskraeftig_seit"])),
                ("Verjährung: letzter Tag", _d(v["verjaehrung_letzter_tag"])),
            ]
        ),
        *_heading("Beteiligte"),
    ]
    for party in data["beteiligte"]:
        if "person" in party:
            p = party["person"]
            a = p["anschrift"]
            story.append(
                _rows(
                    [
                        ("Rolle", party["rolle"]),
                        ("Name", f"{p['vornamen']} {p['familienname']}"),
                        ("Geburtsname", p["geburtsname"]),
                        ("Geboren", f"{_d(p['geburtsdatum'])} in {p['geburtsort']}"),
                        ("Familienstand", p["familienstand"]),
                        ("Beruf", p["beruf"]),
                        ("Staatsangehörigkeit", p["staatsangehoerigkeit"]),
                        ("Anschrift", f"{a['strasse']}, {a['postleitzahl']} {a['ort']}"),
                        ("Jugendlich zur Tatzeit", "ja" if p["jugendlich_zur_tatzeit"] else "nein"),
                    ]
                )
            )
        else:
            story.append(_rows([("Rolle", party["rolle"]), ("Behörde", party["behoerde"]["name"])]))
        story.append(Spacer(1, 2 * mm))
    story += [
        *_heading("Tat"),
        _rows(
            [
                ("Tatzeit", _d(t["tatzeit"])),
                ("Tatort", t["tatort"]),
                ("Vorwurf", t["vorwurf"]),
                ("Sachverhalt", t["sachverhalt"]["bezeichnung"]),
                ("Rechtsgrundlage", t["rechtsgrundlage"]),
                ("Höchstbetrag", _euro(t["hoechstbetrag"])),
            ]
        ),
        *_heading("Verfahrensschritte"),
        _grid(
            ["Datum", "Schritt", "Stand danach", "Bearbeitet von", "Vermerk"],
            [
                [
                    _d(e["datum"]),
                    e["bezeichnung"],
                    dict(CaseState.choices).get(e["stand_nachher"], e["stand_nachher"]),
                    e["bearbeitet_von"],
                    e["vermerk"],
                ]
                for e in data["ereignisse"]
            ],
            [22, 48, 35, 30, 30],
        ),
        *_heading("Bescheide"),
    ]
    if not data["bescheide"]:
        story.append(Paragraph("Kein Bescheid.", STYLE_BODY))
    for n in data["bescheide"]:
        c = n["inhalt"]
        story.append(
            KeepTogether(
                [
                    _rows(
                        [
                            ("Status", n["status"]),
                            ("Geldbuße", _euro(n["geldbusse"])),
                            ("Gebühr / Auslagen", f"{_euro(n['gebuehr'])} / {_euro(n['auslagen'])}"),
                            ("Gesamtbetrag", _euro(n["gesamtbetrag"])),
                            ("Entworfen", f"{_d(n['entworfen_am'])} von {n['entworfen_von']}"),
                            ("Freigegeben", f"{_d(n['freigegeben_am'])} von {n['freigegeben_von'] or '–'}"),
                            ("Erlassen am", _d(n["erlassen_am"])),
                            ("Zurückgenommen am", _d(n["zurueckgenommen_am"])),
                            ("Tatvorwurf (Bescheid)", c.get("act", {}).get("description")),
                            ("Beweismittel", c.get("evidence")),
                        ]
                    ),
                    Spacer(1, 3 * mm),
                ]
            )
        )
    story += _heading("Zahlungen")
    story.append(
        _grid(
            ["Eingang", "Betrag", "Verwendungszweck", "Erfasst von"],
            [
                [_d(p["eingang_am"]), _euro(p["betrag"]), p["verwendungszweck"], p["erfasst_von"]]
                for p in data["zahlungen"]
            ],
            [25, 30, 60, 50],
        )
        if data["zahlungen"]
        else Paragraph("Keine Zahlungen.", STYLE_BODY)
    )
    s = data["summen"]
    story += [
        Spacer(1, 2 * mm),
        _rows(
            [
                ("Festgesetzt", _euro(s["festgesetzt"])),
                ("Gezahlt", _euro(s["gezahlt"])),
                ("Offen", _euro(s["offen"])),
            ]
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            "Vollständige Wiedergabe der elektronisch geführten Akte; der strukturierte Datensatz "
            "(JSON, Schema proceedings-export 1.0) enthält dieselben Angaben.",
            STYLE_SMALL,
        ),
    ]
    return story


def export_pdf(data: dict[str, Any]) -> bytes:
    v, msg = data["verfahren"], data["nachricht"]
    return render_pdf(
        export_story(data),
        title=f"Verfahrensakte {v['aktenzeichen']}",
        subject=f"{msg['zweck']} – an {msg['empfaenger']}",
        author=msg["absender"],
        keywords=["Bußgeldverfahren", "Akte", v["aktenzeichen"], "§ 69 Abs. 3 OWiG"],
    )


# --- the one way out ---------------------------------------------------------------------------------


def check_request(recipient: str, purpose: str) -> tuple[str, str]:
    recipient, purpose = (recipient or "").strip(), (purpose or "").strip()
    errors = {}
    if not recipient:
        errors["recipient"] = "Bitte den Empfänger der Akte angeben."
    if not purpose:
        errors["purpose"] = "Bitte den Zweck der Übermittlung angeben."
    if errors:
        raise ValidationError(errors)
    return recipient[:200], purpose[:300]


def export_case(
    *, user: Any, pk: int, recipient: str, purpose: str, fmt: str, now: dt.datetime | None = None
) -> tuple[bytes, str, str]:
    """Export one case (PDF or JSON) for ``recipient``; logged. Raises PermissionDenied / CaseNotFound."""
    recipient, purpose = check_request(recipient, purpose)
    if fmt not in ("pdf", "json"):
        raise ValidationError({"format": "Bitte PDF oder JSON wählen."})
    case = selectors.case_file(user=user, pk=pk, purpose=f"Aktenübermittlung: {purpose}")
    data = export_data(
        case,
        exported_at=now or timezone.now(),
        exported_by=actor_name(user),
        recipient=recipient,
        purpose=purpose,
    )
    body = export_pdf(data) if fmt == "pdf" else export_json(data)
    audit.log(
        "proceedings.case.exported",
        user=user,
        obj=case,
        purpose=purpose,
        recipient=recipient,
        format=fmt,
        file_number=case.file_number,
    )
    stem = case.file_number.replace(" ", "-").replace("/", "-")
    filename = f"Akte-{stem}.{fmt}"
    return body, filename, ("application/pdf" if fmt == "pdf" else JSON_TYPE)
