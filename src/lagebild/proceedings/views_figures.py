"""Figures page of the offence proceedings and the case export (CSV) for a city's own offence software.

Both run in the user's authority scope (web middleware): each authority sees its own cases only.
The figures page is for ``proceedings.view_figures`` (aggregates, no person data); the export lists
cases with the person's identity data for handing them to another offence program and is therefore
for the Bußgeldstelle only (``proceedings.handle_cases``), and every export is logged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from lagebild.core import audit
from lagebild.core.csvsafe import guard_row
from lagebild.field.forms import DATE_INPUT_FORMATS, DateInput, LagebildForm

from . import figures_queries
from .figures import Figures, Report
from .models import Case, CaseState
from .workflow import DiscontinuationReason

FIGURES_DENIED = "Ihre Rolle sieht keine Kennzahlen der Bußgeldverfahren."
EXPORT_DENIED = "Den Export der Verfahren erstellt nur die Bußgeldstelle."
BOM = "\ufeff"
EXPORT_COLUMNS = (
    "Aktenzeichen",
    "Behörde",
    "Sachverhalt",
    "Tatzeit",
    "Tattag",
    "Tatort",
    "Tatvorwurf",
    "Höchstbetrag Geldbuße (€)",
    "Jugendliche/r",
    "Stand",
    "Eingegangen",
    "Erste Anhörung",
    "Bescheid erlassen",
    "Zugestellt",
    "Einspruch eingegangen",
    "Rechtskräftig seit",
    "Zahlung fällig",
    "Geldbuße (€)",
    "Gesamtbetrag (€)",
    "Gezahlt (€)",
    "Einstellungsgrund",
    "Verjährt am",
    "Verjährung: letzter Tag",
    "Familienname",
    "Vornamen",
    "Geburtsname",
    "Geburtsdatum",
    "Geburtsort",
    "Straße und Hausnummer",
    "Postleitzahl",
    "Wohnort",
    "Staatsangehörigkeit",
)


class PeriodForm(LagebildForm):
    start = forms.DateField(
        label="Eingegangen von", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )
    end = forms.DateField(
        label="Eingegangen bis", required=False, input_formats=DATE_INPUT_FORMATS, widget=DateInput()
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "Das Ende des Zeitraums liegt vor dem Anfang.")
        return cleaned


def period_from(form: PeriodForm, today: dt.date) -> figures_queries.Period:
    """The chosen period; a missing bound is filled from the default (the last 365 days)."""
    data = form.valid_data() if form.is_bound and form.is_valid() else {}
    start, end = data.get("start"), data.get("end")
    if end is None:
        end = max(today, start) if start else today
    if start is None:
        start = figures_queries.default_period(end).start
    return figures_queries.Period(start, end)


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f} %".replace(".", ",")


def days(value: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}".replace(".", ",")
    return text.removesuffix(",0")


def euro(amount: Decimal) -> str:
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text} €"


def _row(name: str, fig: Figures) -> dict[str, Any]:
    return {
        "name": name,
        "cases": fig.cases,
        "notices": fig.notices,
        "median": days(fig.days_to_notice_median),
        "p90": days(fig.days_to_notice_p90),
        "discontinued": fig.discontinued,
        "discontinued_share": percent(fig.discontinued_share),
        "lapsed": fig.lapsed,
        "lapsed_share": percent(fig.lapsed_share),
        "served": fig.served,
        "objections": fig.objections,
        "objection_rate": percent(fig.objection_rate),
        "final": fig.final,
        "paid_in_full": fig.paid_in_full,
        "payment_rate": percent(fig.payment_rate),
        "fined": euro(fig.fined_amount),
        "due": euro(fig.due_amount),
        "paid": euro(fig.paid_amount),
        "paid_share": percent(fig.paid_amount_share),
        "reasons": [
            {
                "label": DiscontinuationReason.LABELS.get(r.reason, r.reason or "ohne Angabe"),
                "count": r.count,
                "share": percent(r.share),
            }
            for r in fig.by_reason
        ],
    }


def tables(report: Report) -> dict[str, Any]:
    return {
        "total": _row("Alle Verfahren", report.total),
        "by_category": [_row(group.key, group.figures) for group in report.by_category],
        "by_authority": [_row(group.key, group.figures) for group in report.by_authority],
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("proceedings.view_figures"):
        raise PermissionDenied(FIGURES_DENIED)
    form = PeriodForm(request.GET or None)
    period = period_from(form, timezone.localdate())
    report = figures_queries.report(period)
    return render(
        request,
        "proceedings/dashboard.html",
        {
            "form": form,
            "period": period,
            "tables": tables(report),
            "can_export": request.user.has_perm("proceedings.handle_cases"),
        },
    )


# --- export --------------------------------------------------------------------------------------


def _date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def export_row(case: Case, zone: dt.tzinfo) -> list[object]:
    person = case.person
    return guard_row(
        [
            case.file_number,
            case.authority.name,
            case.category.name,
            timezone.localtime(case.offence_at, zone).strftime("%d.%m.%Y %H:%M"),
            _date(case.offence_date),
            case.offence_place,
            case.offence_description,
            _money(case.max_fine),
            "ja" if case.juvenile else "nein",
            CaseState(case.state).label,
            timezone.localtime(case.opened_at, zone).strftime("%d.%m.%Y"),
            _date(case.first_hearing_on),
            _date(case.notice_issued_on),
            _date(case.served_on),
            _date(case.objection_on),
            _date(case.final_on),
            _date(case.payment_due_on),
            _money(case.fine),
            _money(case.total_due),
            _money(case.paid_total),
            DiscontinuationReason.LABELS.get(case.discontinued_reason, case.discontinued_reason),
            _date(case.lapsed_on),
            _date(case.limitation_deadline),
            *(
                (
                    person.family_name,
                    person.given_names,
                    person.birth_name,
                    _date(person.date_of_birth),
                    person.place_of_birth,
                    person.street,
                    person.postcode,
                    person.city,
                    person.nationality,
                )
                if person is not None
                else ("",) * 9
            ),
        ]
    )


def export_chunks(cases: Any) -> Iterator[str]:
    """UTF-8 with BOM (first chunk), semicolons, German headers and dates, decimal comma, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    zone = timezone.get_current_timezone()
    for case in cases.iterator(chunk_size=500):
        writer.writerow(export_row(case, zone))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


@login_required
@require_GET
def case_export_csv(request: HttpRequest) -> HttpResponse:
    """The cases opened in the period (default: the last 365 days), optionally of one state."""
    if not request.user.has_perm("proceedings.handle_cases"):
        raise PermissionDenied(EXPORT_DENIED)
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        lines = "\n".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(
            f"Der Export wurde nicht erstellt, weil Angaben ungültig sind:\n{lines}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    state = request.GET.get("stand", "")
    if state and state not in CaseState.values:
        return HttpResponse(
            f"Der Export wurde nicht erstellt: den Stand „{state[:40]}“ gibt es nicht.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    period = period_from(form, timezone.localdate())
    cases = (
        Case.objects.filter(opened_at__date__gte=period.start, opened_at__date__lte=period.end)
        .select_related("authority", "category", "person")
        .order_by("opened_at", "id")
    )
    if state:
        cases = cases.filter(state=state)
    count = cases.count()
    audit.log(
        "proceedings.cases.exported",
        user=request.user,
        object_type="proceedings.case",
        purpose="Übergabe an das Fachverfahren der Bußgeldstelle",
        format="csv",
        count=count,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        state=state,
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(export_chunks(cases), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bussgeldverfahren-{stamp}.csv"'
    response["X-Record-Count"] = str(count)
    response["Cache-Control"] = "no-store"
    return response
