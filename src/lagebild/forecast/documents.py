"""The backtest report as PDF (ReportLab), the same content as the report page."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable

from lagebild.analytics.documents import (
    date_de,
    heading,
    keep,
    lead,
    paragraph,
    pdf_document,
    spacer,
    stand_de,
    table,
)

from . import selectors
from .models import BacktestReport

TABLE_HEADING = "Modelle und Vergleichsprognosen"


def _split_text(display: dict[str, Any]) -> str:
    first, last = display["first_week"], display["last_week"]
    span = f"vom {date_de(first)} bis zum {date_de(last)}" if first and last else "–"
    return (
        f"Rollierender Ursprung: {display['weeks']} Prüfwochen (Wochen ab Montag {span}), jede "
        "Woche vorhergesagt nur aus den Feststellungen vor ihrem Montag 00:00 Uhr und dann mit den "
        "Feststellungen dieser Woche verglichen; die Prüfwoche selbst ist nie in den Eingaben. "
        f"{display['observed']} Feststellungen in den Prüfwochen, {display['empty_weeks']} Wochen ohne "
        "Feststellungen (nicht in den Mittelwerten). Intervalle: 95 %-Bootstrap über die Wochen "
        f"({display['resamples']} Stichproben, Startwert {display['seed']}); Differenzen gepaart je Woche."
        + (
            f" ETAS wird jede {display['refit_every']}. Woche neu angepasst; dazwischen sagt die letzte "
            "Anpassung vorher."
            if display["refit_every"] > 1
            else ""
        )
    )


def backtest_story(report: BacktestReport) -> list[Flowable]:
    display = selectors.backtest_display(report)
    story: list[Flowable] = [
        lead(f"Im Einsatz: {display['chosen_label']}", None if display["beats"] else "#92400e"),
        paragraph(display["sentence"]),
        spacer(),
        heading("Datenaufteilung"),
        paragraph(_split_text(display)),
    ]
    header = [
        "Modell",
        *[name for _, name in display["metric_columns"]],
        f"Δ PAI zu {display['best_baseline_label']}",
    ]
    for block in display["tables"]:
        rows = []
        for row in block["rows"]:
            name = (
                row["label"]
                + (" (Grundlinie)" if row["baseline"] else "")
                + (" – im Einsatz" if row["chosen"] else "")
            )
            rows.append(
                [
                    name,
                    *[cell["text"] for cell in row["cells"]],
                    row["difference"]["text"] if row["difference"] else "–",
                ]
            )
        story.append(
            keep(
                heading(f"{TABLE_HEADING}: {block['percent']} der Fläche"),
                table(header, rows, col_widths_mm=[48, 36, 36, 36, 36, 36, 45]),
            )
        )
    story.append(
        paragraph(
            "Je Zelle: Mittelwert über die Prüfwochen (95 %-Konfidenzintervall). Trefferquote = Anteil der "
            "Feststellungen in den markierten Zellen; PAI = Trefferquote / Flächenanteil; PEI = Treffer / "
            "bestmögliche Treffer bei gleicher Zellzahl; PEI* nach Joshi u. a. (je Zelle); Recapture (RRI, "
            "ptools) = vorhergesagte / beobachtete Ereignisse in den markierten Zellen.",
            small=True,
        )
    )
    story.append(heading("Parameter der Modelle"))
    for model in display["parameters"]:
        rows = [[p["name"], p["value"], p["doc"] or "–"] for p in model["rows"]] or [
            ["–", "–", "keine Parameter"]
        ]
        story.append(
            keep(
                paragraph(f"{model['label']} (Rechenzeit im Backtest {model['seconds']} s)"),
                table(["Parameter", "Wert", "Bedeutung"], rows, col_widths_mm=[40, 25, 200], right_from=1),
            )
        )
    for note in display["notes"]:
        story.append(paragraph(note, small=True))
    story.append(
        paragraph(
            "Die Prognosen beruhen nur auf Ort und Zeit der Feststellungen beider Partner, nie auf Personen "
            "(BVerfG 1 BvR 1547/19); Feststellungen zeigen auch, wo kontrolliert wurde.",
            small=True,
        )
    )
    return story


def backtest_pdf(report: BacktestReport) -> bytes:
    title = f"Backtest der Prognosen – {selectors.group_label(report.group)}"
    subtitle = f"Berechnet am {report.created_at:%d.%m.%Y}, letzte Prüfwoche ab {date_de(report.last_origin)}"
    return pdf_document(
        title, subtitle, backtest_story(report), landscape_pages=True, stand=stand_de(report.created_at)
    )
