"""Operation balance pages: /auswertung/bilanz/ (page), bilanz.pdf (council report), bilanz.xlsx."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from lagebild.core import tasking
from lagebild.field.forms import LagebildForm
from lagebild.ops.db_router import reads_from_replica

from . import documents as doc
from . import report_files
from . import tasks as analytics_tasks
from .balance import (
    AUTHORITY_CHOICES,
    COUNTING_NOTE,
    DAILY_SERIES_MAX_DAYS,
    FIRST_DAY,
    LAST_DAY,
    READING_NOTE,
    Balance,
    BalanceLine,
    SeriesPoint,
    balance_pdf,
    balance_series,
    balance_xlsx,
    build_balance,
    check_period,
    known_operations,
)
from .periods import parse_date
from .selectors import AreaChoice, area_choices, area_name

DEFAULT_DAYS = 28
CONTENT_TYPES = {"pdf": doc.PDF_TYPE, "xlsx": doc.XLSX_TYPE}
FIELDS = ("area", "start", "end", "authority")


def _date_widget() -> forms.TextInput:
    return forms.TextInput(
        attrs={"inputmode": "numeric", "placeholder": "TT.MM.JJJJ", "autocomplete": "off", "size": 10}
    )


class BalanceForm(LagebildForm):
    """Area, period (German dates, TT.MM.JJJJ; ISO dates are accepted too) and partner."""

    area = forms.TypedChoiceField(label="Gebiet", coerce=int)
    start = forms.CharField(label="Von", help_text="Erster Tag, TT.MM.JJJJ", widget=_date_widget())
    end = forms.CharField(label="Bis", help_text="Letzter Tag, TT.MM.JJJJ", widget=_date_widget())
    authority = forms.ChoiceField(label="Behörde", required=False, choices=AUTHORITY_CHOICES)

    def __init__(self, *args: Any, areas: Sequence[AreaChoice] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[str, str]]] = {}
        choices: list[tuple[Any, Any]] = []
        # The view passes the areas it also gives the balance: area_choices() reads every area.
        self.areas = list(area_choices() if areas is None else areas)
        for area in self.areas:
            if area.kind == "city":
                choices.append((str(area.id), area.name))
            else:
                groups.setdefault(area.kind_label, []).append((str(area.id), area.name))
        choices.extend(groups.items())
        self.fields["area"].choices = choices
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "Bitte einen Eintrag aus der Liste wählen."
            field.error_messages["required"] = "Bitte ausfüllen."

    def _date(self, name: str, what: str) -> dt.date:
        try:
            return parse_date(self.cleaned_data.get(name, ""), what=what)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_start(self) -> dt.date:
        return self._date("start", "Startdatum")

    def clean_end(self) -> dt.date:
        return self._date("end", "Enddatum")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            try:
                check_period(start, end)
            except ValueError as exc:
                self.add_error("end", str(exc))
        return data


def _form(request: HttpRequest) -> BalanceForm:
    """The form of the request's parameters; its areas serve the whole page (read once)."""
    today = timezone.localdate()
    data = {
        "area": "0",
        "start": doc.date_de(today - dt.timedelta(days=DEFAULT_DAYS - 1)),
        "end": doc.date_de(today),
        "authority": "",
    }
    for name in FIELDS:
        value = request.GET.get(name, "").strip()
        if value:
            data[name] = value
    for name in ("start", "end"):
        # Links carry ISO dates; the field always shows the German form (TT.MM.JJJJ).
        with contextlib.suppress(ValueError):
            day = parse_date(data[name])
            if FIRST_DAY <= day <= LAST_DAY:
                data[name] = doc.date_de(day)
    return BalanceForm(data)


def _balance(form: BalanceForm) -> Balance | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return build_balance(
            data["area"], data["start"], data["end"], authority=data["authority"], areas=form.areas
        )
    except ValueError as exc:
        form.add_error(None, str(exc))
        return None


def _query(balance: Balance) -> str:
    from urllib.parse import urlencode

    params = {
        "area": balance.area_id,
        "start": balance.period.start.isoformat(),
        "end": balance.period.end.isoformat(),
    }
    if balance.authority:
        params["authority"] = balance.authority
    return urlencode(params)


def _line_rows(lines: list[BalanceLine]) -> SafeString:
    """The table rows of one section, as the template wrote them row by row.

    Built here because the template spent ~30 ms per page on the ~15 lookups of each of
    the ~80 rows; every text is escaped.
    """
    rows = []
    for line in lines:
        flag = line.flag
        css = ""
        hidden = ""
        sub = ' class="sub-row"' if line.sub else ""
        if flag:
            css = f" flag flag-{'up' if flag > 0 else 'down'}{' strong' if flag in (3, -3) else ''}"
            hidden = f'<span class="visually-hidden"> – {escape(line.flag_label)}</span>'
        rows.append(
            f'\n        <tr data-key="{escape(line.key)}"{sub}>\n'
            f'          <th scope="row">{escape(line.label)}</th>\n'
            f'          <td class="num">{escape(line.current_text)}</td>\n'
            f'          <td class="num">{escape(line.previous_text)}</td>\n'
            f'          <td class="num">{escape(line.delta_text)}</td>\n'
            f'          <td class="num">{escape(line.percent_text)}</td>\n'
            f'          <td class="num{css}">{escape(line.z_text)}{hidden}</td>\n'
            "        </tr>\n        "
        )
    return mark_safe("".join(rows))  # every value is escaped above


def _series_rows(series: list[SeriesPoint]) -> SafeString:
    """The rows of the course table (one per day or week), built here like the balance rows."""
    return mark_safe(  # every value is escaped
        "".join(
            f'\n          <tr><th scope="row">{escape(p.label)}</th><td>{p.start:%d.%m.%Y}</td>'
            f'<td>{p.end:%d.%m.%Y}</td><td class="num">{escape(p.staff_hours_text)}</td>'
            f'<td class="num">{escape(p.dispersal_orders_text)}</td></tr>\n          '
            for p in series
        )
    )


def _page(
    request: HttpRequest, form: BalanceForm, balance: Balance | None, *, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "balance": balance,
        "operations": known_operations(areas=form.areas),
        "reading_note": READING_NOTE,
        "counting_note": COUNTING_NOTE,
        "current": "analytics",
    }
    if balance is not None:
        query = _query(balance)
        series = balance_series(balance)
        context.update(
            sections=[(section, _line_rows(lines)) for section, lines in balance.sections],
            series=series,
            series_rows=_series_rows(series),
            series_unit="Tag" if balance.period.days <= DAILY_SERIES_MAX_DAYS else "Woche",
            prose=balance.prose,
            query=query,
            pdf_url=f"{reverse('analytics:balance-pdf')}?{query}",
            xlsx_url=f"{reverse('analytics:balance-xlsx')}?{query}",
        )
    return render(request, "analytics/balance.html", context, status=status)


@login_required
@permission_required("analytics.view", raise_exception=True)
@reads_from_replica
def balance_page(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    balance = _balance(form)
    return _page(request, form, balance, status=200 if balance is not None else 400)


def _filename(balance: Balance, extension: str) -> str:
    area = slugify(balance.area_name.replace("ß", "ss"))[:40] or "gebiet"
    return f"einsatzbilanz_{area}_{balance.period.start:%Y%m%d}-{balance.period.end:%Y%m%d}.{extension}"


def _download(request: HttpRequest, fmt: str) -> HttpResponse:
    form = _form(request)
    if (
        tasking.broker_configured()
        and form.is_valid()
        and (form.cleaned_data["end"] - form.cleaned_data["start"]).days + 1 > report_files.background_days()
    ):
        return _made_by_a_worker(request, form, fmt)
    balance = _balance(form)
    if balance is None:
        return _page(request, form, None, status=400)
    series = balance_series(balance)
    data = balance_pdf(balance, series) if fmt == "pdf" else balance_xlsx(balance, series)
    return doc.file_response(data, _filename(balance, fmt), CONTENT_TYPES[fmt])


def _made_by_a_worker(request: HttpRequest, form: BalanceForm, fmt: str) -> HttpResponse:
    """A long period: a worker makes the file; this page waits for it (htmx) and offers it."""
    data = form.cleaned_data
    params = {
        "area": data["area"],
        "start": data["start"].isoformat(),
        "end": data["end"].isoformat(),
        "authority": data["authority"] or "",
    }
    # The requesting user's authority is part of the name: nobody gets another authority's file.
    name = report_files.key("balance", fmt, params, request.user.authority_id)  # type: ignore[union-attr]
    file = report_files.ready(name, fmt)
    area = area_name(data["area"])
    filename = (
        f"einsatzbilanz_{slugify(area.replace('ß', 'ss'))[:40] or 'gebiet'}_"
        f"{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.{fmt}"
    )
    poll = bool(getattr(request, "htmx", False))
    if file is not None and not poll:
        response = FileResponse(file.open("rb"), as_attachment=True, filename=filename)
        response["Content-Type"] = CONTENT_TYPES[fmt]
        response["Cache-Control"] = "private, no-store"
        return response
    if file is None and not report_files.requested(name, fmt):
        report_files.mark_requested(name, fmt)
        tasking.enqueue(
            analytics_tasks.render_balance_report,
            fmt,
            params["area"],
            params["start"],
            params["end"],
            params["authority"],
            name,
        )
    context = {
        "ready": file is not None,
        "url": request.get_full_path(),
        "fmt_label": "PDF-Bericht" if fmt == "pdf" else "XLSX-Tabelle",
        "filename": filename,
        "area": area,
        "start": data["start"],
        "end": data["end"],
        "back_url": f"{reverse('analytics:balance')}?{urlencode(params)}",
        "current": "analytics",
    }
    template = "analytics/_report_waiting.html" if poll else "analytics/report_waiting.html"
    return render(request, template, context, status=200 if file is not None else 202)


@login_required
@permission_required("analytics.export", raise_exception=True)
def balance_pdf_download(request: HttpRequest) -> HttpResponse:
    return _download(request, "pdf")


@login_required
@permission_required("analytics.export", raise_exception=True)
def balance_xlsx_download(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx")
