"""Letters of the Bußgeldstelle as A4 PDFs (ReportLab): hearing (§ 55 OWiG), Bußgeldbescheid (§ 66),
caution certificate (§ 56), payment reminder, and one PDF with a day's whole output.

Each letter is first built as plain data (``Letter``: address, reference block, paragraphs, amount
table) from the models, then rendered; rendering takes letters and returns bytes, so one letter and
a day's stack of letters come from the same code. The Bußgeldbescheid is printed only from
``Notice.contents`` (the § 66 contents frozen at approval), never from the case row, and only once
approved. Fonts are the Bitstream Vera TrueType fonts shipped with ReportLab (also used by
``taskforce/pngcharts.py``), registered once and embedded as subsets, so the letters print the same
everywhere; see ``export.py`` for what "PDF/A-style" means here.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from lagebild.analytics.documents import date_de, number_de

from . import limitation as engine
from .models import Case, CaseEvent, Caution, EventKind, Notice

# --- fonts and styles -------------------------------------------------------------------------

FONT = "LagebildSans"
FONT_BOLD = "LagebildSans-Bold"
FONT_ITALIC = "LagebildSans-Italic"
_FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf", FONT_ITALIC: "VeraIt.ttf"}


def register_fonts() -> None:
    """Register the embedded TrueType fonts once (Helvetica, a base-14 font, is never embedded)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD)


register_fonts()

STYLE_BODY = ParagraphStyle("lb-letter", fontName=FONT, fontSize=10, leading=13.5, spaceAfter=2.5 * mm)
STYLE_SMALL = ParagraphStyle("lb-letter-small", parent=STYLE_BODY, fontSize=7.5, leading=9.5, spaceAfter=0)
STYLE_ADDRESS = ParagraphStyle("lb-letter-address", parent=STYLE_BODY, spaceAfter=0)
STYLE_SUBJECT = ParagraphStyle(
    "lb-letter-subject", parent=STYLE_BODY, fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceAfter=4 * mm
)
STYLE_HEADING = ParagraphStyle(
    "lb-letter-h", parent=STYLE_BODY, fontName=FONT_BOLD, spaceBefore=2 * mm, spaceAfter=1.5 * mm
)
STYLE_CELL = ParagraphStyle("lb-letter-cell", parent=STYLE_BODY, spaceAfter=0)
STYLE_CELL_RIGHT = ParagraphStyle("lb-letter-cell-r", parent=STYLE_CELL, alignment=TA_RIGHT)

# Tables draw with Helvetica (a base-14 font, not embedded) unless told otherwise, even around
# Paragraph cells: every table of these documents names the embedded font.
TABLE_FONT = [("FONTNAME", (0, 0), (-1, -1), FONT)]

PDF_TYPE = "application/pdf"
MARGIN_LEFT = 25 * mm  # DIN 5008
MARGIN_RIGHT = 20 * mm
TEXT_WIDTH = A4[0] - MARGIN_LEFT - MARGIN_RIGHT


def euro(value: Decimal | str | int | float | None) -> str:
    """``Decimal("63.5")`` → ``63,50 €``."""
    if value is None:
        return "–"
    return f"{number_de(Decimal(str(value)), 2)} €"


def _day(value: dt.date | str | None) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return date_de(value)


def authority_name(authority: Any) -> str:
    return getattr(authority, "name", "") or f"Stadt {settings.CITY_NAME}"


def payee() -> dict[str, str]:
    """Bank details for payments (``LAGEBILD_PROCEEDINGS_PAYEE = {"recipient", "iban", "bic", "bank"}``)."""
    configured = getattr(settings, "LAGEBILD_PROCEEDINGS_PAYEE", None) or {}
    return {str(k): str(v) for k, v in configured.items() if v}


# --- letters as plain data ---------------------------------------------------------------------


@dataclass
class Letter:
    """One letter: who writes to whom, the reference block, and the text (paragraphs and tables)."""

    kind: str  # hearing | notice | caution | reminder
    sender: str
    recipient: list[str]
    subject: str
    file_number: str
    dated: dt.date
    info: list[tuple[str, str]] = field(default_factory=list)
    # ("p", text) paragraph, ("h", text) heading, ("amounts", [(label, value, bold)]), ("small", text)
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    signature: str = ""
    sender_line: str = ""  # the small return-address line above the recipient

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def h(self, text: str) -> None:
        self.blocks.append(("h", text))


def _person_address(person: Any) -> list[str]:
    if person is None:
        return ["(Betroffene Person noch nicht festgestellt)"]
    return [f"{person.given_names} {person.family_name}", person.street, f"{person.postcode} {person.city}"]


def _offence_text(case: Case) -> str:
    when = timezone.localtime(case.offence_at)
    place = f" in {case.offence_place}" if case.offence_place else ""
    what = case.offence_description or case.category.name
    return f"am {when:%d.%m.%Y} gegen {when:%H:%M} Uhr{place}: {what}"


def _days(name: str, default: int) -> int:
    return int(getattr(settings, name, default) or default)


def hearing_reply_by(sent_on: dt.date) -> dt.date:
    """The reply date named in the hearing, moved to the next working day (§ 43 Abs. 2 StPO).

    § 55 OWiG sets no period; the city chooses it (``LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS``,
    default 14 days).
    """
    days = _days("LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS", 14)
    return engine.next_working_day(sent_on + dt.timedelta(days=days))


def reminder_pay_by(sent_on: dt.date) -> dt.date:
    """The new payment date of a reminder (``LAGEBILD_PROCEEDINGS_REMINDER_DAYS``, default 7 days)."""
    days = _days("LAGEBILD_PROCEEDINGS_REMINDER_DAYS", 7)
    return engine.next_working_day(sent_on + dt.timedelta(days=days))


def hearing_letter(case: Case, *, sent_on: dt.date, reply_by: dt.date | None = None) -> Letter:
    """Anhörung (§ 55 OWiG): the accusation, the right to remain silent or to comment, a reply date."""
    if case.person is None:
        raise ValidationError({"person": "Eine Anhörung setzt eine festgestellte Person voraus."})
    reply_by = reply_by or hearing_reply_by(sent_on)
    rule = case.category_rule
    sender = authority_name(case.authority)
    letter = Letter(
        kind="hearing",
        sender=sender,
        recipient=_person_address(case.person),
        subject="Anhörung im Bußgeldverfahren (§ 55 OWiG)",
        file_number=case.file_number,
        dated=sent_on,
        info=[("Aktenzeichen", case.file_number), ("Datum", _day(sent_on)), ("Antwort bis", _day(reply_by))],
    )
    letter.p(escape(f"Guten Tag {case.person.given_names} {case.person.family_name},"))
    letter.p(
        "Ihnen wird vorgeworfen, folgende Ordnungswidrigkeit begangen zu haben: "
        f"{escape(_offence_text(case))}."
    )
    letter.p(
        f"Rechtsgrundlage: {escape(rule.legal_basis)}. Die Ordnungswidrigkeit kann mit einer Geldbuße bis zu "
        f"{euro(case.max_fine)} geahndet werden (§ 17 OWiG)."
    )
    letter.h("Ihre Rechte")
    letter.p(
        "Sie haben Gelegenheit, sich zu dem Vorwurf zu äußern (§ 55 Abs. 1 OWiG). Es steht Ihnen frei, "
        "sich zur Sache zu äußern oder nicht zur Sache auszusagen (§ 55 Abs. 1 OWiG in Verbindung mit "
        "§ 163a Abs. 1, § 136 Abs. 1 Satz 2 StPO). Sie können zu Ihrer Entlastung einzelne "
        "Beweiserhebungen beantragen. Verpflichtet sind Sie nur zu den Angaben zu Ihrer Person "
        "(§ 111 OWiG)."
    )
    letter.h("Frist für Ihre Antwort")
    letter.p(
        f"Wenn Sie sich äußern möchten, antworten Sie bitte bis zum <b>{_day(reply_by)}</b> schriftlich "
        f"oder zur Niederschrift bei {escape(sender)} unter Angabe des Aktenzeichens "
        f"{escape(case.file_number)}. Geht bis dahin keine Äußerung ein, wird nach Aktenlage entschieden.",
    )
    if case.juvenile:
        letter.p(
            "Sie waren zur Tatzeit jugendlich. Eine Abschrift dieses Schreibens erhalten auch Ihre "
            "Erziehungsberechtigten (§ 46 Abs. 1 OWiG in Verbindung mit § 67 JGG)."
        )
    letter.p("Mit freundlichen Grüßen")
    letter.signature = letter.sender_line = f"{sender} – Bußgeldstelle"
    return letter


class NoticeNotApproved(ValidationError):
    """A Bußgeldbescheid is printed only after approval and while it is not withdrawn."""


def notice_letter(notice: Notice) -> Letter:
    """The Bußgeldbescheid, printed only from ``notice.contents`` (the approved § 66 contents)."""
    if notice.approved_at is None or notice.issued_on is None:
        raise NoticeNotApproved(
            {"notice": "Der Bescheid ist noch nicht freigegeben und wird nicht gedruckt (§ 66 OWiG)."}
        )
    if notice.withdrawn_on is not None:
        raise NoticeNotApproved(
            {"notice": f"Der Bescheid wurde am {_day(notice.withdrawn_on)} zurückgenommen."}
        )
    c = notice.contents
    person, act, instructions = c["person"], c["act"], c["instructions"]
    sender = c.get("authority") or ""
    street, _, town = person["address"].partition(", ")
    letter = Letter(
        kind="notice",
        sender=sender,
        recipient=[person["name"], street, town],
        subject="Bußgeldbescheid",
        file_number=c["file_number"],
        dated=notice.issued_on,
        info=[("Aktenzeichen", c["file_number"]), ("Erlassen am", _day(notice.issued_on))],
    )
    born = f"geboren am {_day(person['date_of_birth'])} in {person['place_of_birth']}"
    if person.get("birth_name"):
        born = f"geb. {person['birth_name']}, {born}"
    letter.h("Betroffene Person (§ 66 Abs. 1 Nr. 1 OWiG)")
    letter.p(f"{escape(person['name'])}, {escape(born)}, wohnhaft {escape(person['address'])}")
    letter.h("Tatvorwurf (§ 66 Abs. 1 Nr. 3 OWiG)")
    place = f" in {act['place']}" if act.get("place") else ""
    letter.p(
        escape(
            f"Ihnen wird zur Last gelegt, am {act['at']} Uhr{place} folgende Ordnungswidrigkeit "
            f"begangen zu haben: {act['description']}."
        )
    )
    letter.p(escape(f"Angewendete Bußgeldvorschrift: {act['legal_basis']}."))
    if c.get("evidence"):
        letter.h("Beweismittel (§ 66 Abs. 1 Nr. 4 OWiG)")
        letter.p(escape(c["evidence"]))
    letter.h("Festsetzung (§ 66 Abs. 1 Nr. 5 OWiG, § 105, § 107 OWiG)")
    letter.p(
        "Wegen dieser Ordnungswidrigkeit wird gegen Sie eine Geldbuße festgesetzt. Sie haben die Kosten "
        "des Verfahrens zu tragen."
    )
    letter.blocks.append(
        (
            "amounts",
            [
                ("Geldbuße", euro(c["fine"]), False),
                ("Gebühr (§ 107 Abs. 1 OWiG)", euro(c["fee"]), False),
                ("Auslagen (§ 107 Abs. 3 OWiG)", euro(c["expenses"]), False),
                ("Gesamtbetrag", euro(c["total"]), True),
            ],
        )
    )
    letter.h("Zahlung")
    letter.p(escape(instructions["payment"]))
    letter.p(_payment_details(c["file_number"]))
    letter.h("Rechtsbehelfsbelehrung: Einspruch")
    letter.p(escape(instructions["objection"]))
    if c.get("juvenile"):
        letter.p("Eine Abschrift erhalten die Erziehungsberechtigten (§ 67 JGG).")
    letter.signature = letter.sender_line = f"{sender} – Bußgeldstelle"
    letter.blocks.append(("small", f"Freigegeben von {notice.approved_by_name}."))
    return letter


def _payment_details(reference: str) -> str:
    bank = payee()
    parts = [f"Verwendungszweck: <b>{escape(reference)}</b>"]
    if bank.get("recipient"):
        parts.insert(0, f"Empfänger: {escape(bank['recipient'])}")
    if bank.get("iban"):
        parts.append(f"IBAN: {escape(bank['iban'])}")
    if bank.get("bic"):
        parts.append(f"BIC: {escape(bank['bic'])}")
    if bank.get("bank"):
        parts.append(escape(bank["bank"]))
    return " · ".join(parts)


def caution_certificate(caution: Caution) -> Letter:
    """Verwarnungsgeldbescheinigung (§ 56 Abs. 3 OWiG) for a caution the person accepted."""
    if caution.status == Caution.Status.REFUSED or not caution.consented:
        raise ValidationError(
            {"caution": "Die Verwarnung wurde verweigert: es gibt keine Bescheinigung (§ 56 Abs. 2 OWiG)."}
        )
    given = timezone.localtime(caution.given_at)
    sender = authority_name(caution.authority)
    rule = caution.category_rule
    letter = Letter(
        kind="caution",
        sender=sender,
        recipient=[],
        subject="Bescheinigung über eine Verwarnung mit Verwarnungsgeld (§ 56 OWiG)",
        file_number=caution.certificate_number,
        dated=given.date(),
        info=[
            ("Bescheinigung Nr.", caution.certificate_number),
            ("Erteilt am", f"{given:%d.%m.%Y, %H:%M} Uhr"),
        ],
    )
    letter.p(
        escape(
            f"Die betroffene Person wurde am {given:%d.%m.%Y} um {given:%H:%M} Uhr wegen einer geringfügigen "
            f"Ordnungswidrigkeit ({rule.category.name}; {rule.legal_basis}) verwarnt, und es wurde ein "
            "Verwarnungsgeld erhoben."
        )
    )
    if caution.paid_on is not None:
        paid = f"Bezahlt am {_day(caution.paid_on)}" + (" (sofort)" if caution.paid_on_spot else "")
    else:
        paid = f"Zahlbar bis {_day(caution.pay_by)} (eine Woche, § 56 Abs. 2 Satz 1 OWiG)"
    letter.blocks.append(
        ("amounts", [("Verwarnungsgeld", euro(caution.amount), True), ("Zahlung", paid, False)])
    )
    if caution.paid_on is None:
        letter.p(_payment_details(caution.certificate_number))
    letter.p(
        "Die betroffene Person wurde über ihr Weigerungsrecht belehrt und war mit der Verwarnung "
        "einverstanden (§ 56 Abs. 2 Satz 1 OWiG). Die Verwarnung ist nur wirksam, wenn das "
        "Verwarnungsgeld sofort oder innerhalb der Frist gezahlt wird; dann kann die Tat nicht mehr "
        "unter den tatsächlichen und rechtlichen Gesichtspunkten verfolgt werden, unter denen die "
        "Verwarnung erteilt worden ist (§ 56 Abs. 4 OWiG)."
    )
    letter.p(
        "Die Verwarnung ist gebührenfrei: Kosten (Gebühren und Auslagen) werden nicht erhoben "
        "(§ 56 Abs. 3 Satz 2 OWiG)."
    )
    letter.signature = sender
    return letter


def outstanding_on(case: Case, day: dt.date) -> Decimal:
    """What is still owed on ``day``: the total less the payments received up to that day."""
    paid = sum((p.amount for p in case.payments.all() if p.paid_on <= day), Decimal("0"))
    return max((case.total_due or Decimal("0")) - paid, Decimal("0"))


def reminder_letter(case: Case, *, sent_on: dt.date, pay_by: dt.date | None = None) -> Letter:
    """Mahnung: the final notice is unpaid after its due date; pay within a week or enforcement follows."""
    if case.total_due is None or case.final_on is None:
        raise ValidationError(
            {"case": "Eine Mahnung setzt einen rechtskräftigen Bescheid mit Zahlungsfrist voraus."}
        )
    owed = outstanding_on(case, sent_on)
    if owed <= 0:
        raise ValidationError({"case": "Der Betrag ist vollständig bezahlt: keine Mahnung."})
    pay_by = pay_by or reminder_pay_by(sent_on)
    sender = authority_name(case.authority)
    letter = Letter(
        kind="reminder",
        sender=sender,
        recipient=_person_address(case.person),
        subject="Zahlungserinnerung (Mahnung)",
        file_number=case.file_number,
        dated=sent_on,
        info=[("Aktenzeichen", case.file_number), ("Datum", _day(sent_on)), ("Zahlbar bis", _day(pay_by))],
    )
    name = f"{case.person.given_names} {case.person.family_name}" if case.person else ""
    letter.p(escape(f"Guten Tag {name},").replace(" ,", ","))
    letter.p(
        f"der Bußgeldbescheid vom {_day(case.notice_issued_on)} (Aktenzeichen {escape(case.file_number)}) "
        f"ist seit dem {_day(case.final_on)} rechtskräftig. Der Betrag war bis zum "
        f"{_day(case.payment_due_on)} zu zahlen (§ 95 Abs. 1 OWiG). Bis heute ist nicht der volle Betrag "
        "eingegangen."
    )
    letter.blocks.append(
        (
            "amounts",
            [
                ("Festgesetzter Gesamtbetrag", euro(case.total_due), False),
                ("Bereits gezahlt", euro((case.total_due or 0) - owed), False),
                ("Noch offen", euro(owed), True),
            ],
        )
    )
    letter.p(f"Bitte zahlen Sie den offenen Betrag bis zum <b>{_day(pay_by)}</b>.")
    letter.p(_payment_details(case.file_number))
    letter.p(
        "Geht die Zahlung bis dahin nicht ein, wird der Betrag ohne weitere Ankündigung beigetrieben "
        "(§ 90 Abs. 1 OWiG in Verbindung mit dem Verwaltungsvollstreckungsgesetz NRW); außerdem kann das "
        "Gericht Erzwingungshaft anordnen (§ 96 OWiG). Können Sie nicht sofort zahlen, beantragen Sie "
        "bitte Ratenzahlung oder Stundung (§ 93 OWiG) und begründen Sie dies."
    )
    letter.p("Mit freundlichen Grüßen")
    letter.signature = letter.sender_line = f"{sender} – Bußgeldstelle"
    return letter


# --- the day's output ------------------------------------------------------------------------------

OUTPUT_KINDS = (EventKind.HEARING_SENT, EventKind.NOTICE_ISSUED, EventKind.REMINDER_SENT)


def day_output(day: dt.date) -> list[Letter]:
    """Every letter of the active scope's authority sent on ``day``, from the case events of that date.

    Hearings sent, notices issued and reminders sent, in file number order (call inside the
    authority's scope: the scope decides whose letters these are).
    """
    events = (
        CaseEvent.objects.filter(kind__in=OUTPUT_KINDS, on=day)
        .select_related("case", "case__person", "case__authority", "case__category", "case__category_rule")
        .prefetch_related("case__payments")
        .order_by("case__file_number", "recorded_at", "id")
    )
    events = list(events)
    notice_ids = [e.data.get("notice_id") for e in events if e.kind == EventKind.NOTICE_ISSUED]
    notices = Notice.objects.in_bulk([n for n in notice_ids if n])
    letters: list[Letter] = []
    for event in events:
        case = event.case
        if event.kind == EventKind.HEARING_SENT:
            letters.append(hearing_letter(case, sent_on=event.on))
        elif event.kind == EventKind.NOTICE_ISSUED:
            notice = notices.get(event.data.get("notice_id"))
            if notice is not None and notice.approved_at is not None:
                letters.append(_notice_letter_as_issued(notice))
        elif event.kind == EventKind.REMINDER_SENT:
            pay_by = event.data.get("pay_by")
            letters.append(
                reminder_letter(
                    case, sent_on=event.on, pay_by=dt.date.fromisoformat(pay_by) if pay_by else None
                )
            )
    return letters


def _notice_letter_as_issued(notice: Notice) -> Letter:
    """A notice in the day's stack is printed as issued, even if withdrawn later (the stack is history)."""
    withdrawn = notice.withdrawn_on
    notice.withdrawn_on = None
    try:
        return notice_letter(notice)
    finally:
        notice.withdrawn_on = withdrawn


# --- rendering -------------------------------------------------------------------------------------


class _Footer(Flowable):
    """Zero-size marker: from here on, the page footer names this letter."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._lagebild_footer = self.text  # type: ignore[attr-defined]


def _amounts_table(rows: Sequence[tuple[str, str, bool]]) -> Table:
    data = []
    for label, value, bold in rows:
        style = f"<b>{escape(label)}</b>" if bold else escape(label)
        shown = f"<b>{escape(value)}</b>" if bold else escape(value)
        data.append([Paragraph(style, STYLE_CELL), Paragraph(shown, STYLE_CELL_RIGHT)])
    table = Table(data, colWidths=[90 * mm, 70 * mm], hAlign="LEFT")
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEABOVE", (0, 0), (-1, 0), 0.5, colors.HexColor("#374151")),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.HexColor("#374151")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if rows and rows[-1][2]:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.HexColor("#374151")))
    table.setStyle(TableStyle([*TABLE_FONT, *commands]))
    return table


# DIN 5008 form B (window envelopes DL/C5/C6): the address field starts 45 mm from the top edge and is
# 45 mm high; its first 17.7 mm hold the return line and notes, the recipient starts below them. The
# letters' top margin is TOP_MARGIN, so the letterhead above the field is 45 mm - TOP_MARGIN high.
TOP_MARGIN = 15 * mm
ADDRESS_FIELD_TOP = 45 * mm
NOTE_ZONE = 17.7 * mm
_FLUSH = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("TOPPADDING", (0, 0), (-1, -1), 0),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
]


def _letterhead(letter: Letter) -> Table:
    sender = Paragraph(escape(letter.sender), ParagraphStyle("lb-sender", parent=STYLE_SUBJECT, fontSize=13))
    head = Table([[sender]], colWidths=[TEXT_WIDTH], rowHeights=[ADDRESS_FIELD_TOP - TOP_MARGIN])
    head.setStyle(TableStyle([*TABLE_FONT, *_FLUSH]))
    return head


def _head(letter: Letter) -> Table:
    """Address field (left, window position of DIN 5008 form B) and reference block (right)."""
    return_line = Table(
        [[Paragraph(escape(letter.sender_line or letter.sender), STYLE_SMALL)]],
        colWidths=[85 * mm],
        rowHeights=[NOTE_ZONE],
    )
    return_line.setStyle(TableStyle([*TABLE_FONT, *_FLUSH, ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    address: list[Flowable] = [return_line, Spacer(1, 1.5 * mm)]
    address += [Paragraph(escape(line), STYLE_ADDRESS) for line in letter.recipient if line]
    info = Table(
        [[Paragraph(escape(k), STYLE_SMALL), Paragraph(escape(v), STYLE_CELL)] for k, v in letter.info],
        colWidths=[28 * mm, 42 * mm],
    )
    info.setStyle(TableStyle([*TABLE_FONT, *_FLUSH, ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    head = Table([[address, info]], colWidths=[95 * mm, TEXT_WIDTH - 95 * mm], rowHeights=[45 * mm])
    head.setStyle(TableStyle([*TABLE_FONT, *_FLUSH]))
    return head


def letter_story(letter: Letter) -> list[Flowable]:
    story: list[Flowable] = [
        _Footer(f"{letter.sender} · {letter.subject} · {letter.file_number}"),
        _letterhead(letter),
        _head(letter),
        Spacer(1, 6 * mm),
        Paragraph(escape(letter.subject), STYLE_SUBJECT),
    ]
    for kind, content in letter.blocks:
        if kind == "p":
            story.append(Paragraph(content, STYLE_BODY))
        elif kind == "h":
            story.append(CondPageBreak(25 * mm))
            story.append(Paragraph(escape(content), STYLE_HEADING))
        elif kind == "amounts":
            story.append(KeepTogether([_amounts_table(content), Spacer(1, 3 * mm)]))
        elif kind == "small":
            story.append(Paragraph(escape(content), STYLE_SMALL))
    if letter.signature:
        story += [Spacer(1, 4 * mm), Paragraph(escape(letter.signature), STYLE_BODY)]
    story.append(
        Paragraph("Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig.", STYLE_SMALL)
    )
    return story


def render_pdf(
    story: Sequence[Flowable],
    *,
    title: str,
    subject: str,
    author: str,
    keywords: Sequence[str] = (),
    first_footer: str = "",
) -> bytes:
    """A4 document with embedded fonts, document metadata and a footer (text, page number)."""
    buffer = io.BytesIO()

    def page_end(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(colors.grey)
        text = getattr(canvas, "_lagebild_footer", first_footer)
        canvas.drawString(MARGIN_LEFT, 10 * mm, text[:120])
        canvas.drawRightString(A4[0] - MARGIN_RIGHT, 10 * mm, f"Blatt {document.page}")
        canvas.restoreState()

    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=TOP_MARGIN,
        bottomMargin=20 * mm,
        title=title,
        author=author,
        subject=subject,
        creator=f"Lagebild {settings.CITY_NAME}",
        keywords=list(keywords),
        lang="de-DE",
        initialFontName=FONT,
        initialFontSize=10,
    )
    frame = Frame(
        document.leftMargin,
        document.bottomMargin,
        document.width,
        document.height,
        id="text",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=page_end)])
    document.build(list(story) or [Spacer(1, 1)])
    return buffer.getvalue()


def letters_pdf(letters: Sequence[Letter], *, title: str = "", empty_text: str = "") -> bytes:
    """One PDF: each letter starts on a new page (for printing a day's output in one go)."""
    story: list[Flowable] = []
    for index, letter in enumerate(letters):
        if index:
            story.append(PageBreak())
        story += letter_story(letter)
    if not letters:
        story = [Paragraph(escape(empty_text or "Keine Schreiben."), STYLE_BODY)]
    first = letters[0] if letters else None
    return render_pdf(
        story,
        title=title or (first.subject if first else "Schreiben"),
        subject=title or (f"{first.subject} {first.file_number}" if first else "Schreiben"),
        author=first.sender if first else f"Stadt {settings.CITY_NAME}",
        keywords=["Bußgeldverfahren", *(letter.file_number for letter in letters[:50])],
        first_footer=title,
    )


def letter_pdf(letter: Letter) -> bytes:
    return letters_pdf([letter], title=f"{letter.subject} – {letter.file_number}")


def day_output_pdf(day: dt.date, *, authority: Any) -> tuple[bytes, int]:
    """The day's output of the active scope as one PDF, and how many letters it holds."""
    letters = day_output(day)
    title = f"Tagesausgang Bußgeldstelle {authority_name(authority)} vom {_day(day)}"
    return letters_pdf(
        letters, title=title, empty_text=f"Am {_day(day)} wurden keine Schreiben versandt."
    ), len(letters)
