"""Operation balance pages: /auswertung/bilanz/ (page), bilanz.pdf (council report), bilanz.xlsx."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from lagebild.field.forms import LagebildForm

from . import documents as doc
from .balance import (
    AUTHORITY_CHOICES,
    COUNTING_NOTE,
    DAILY_SERIES_MAX_DAYS,
    FIRST_DAY,
    LAST_DAY,
    READING_NOTE,
    Balance,
    balance_pdf,
    balance_series,
    balance_xlsx,
    build_balance,
    check_period,
    known_operations,
)
from .periods import parse_date
from .selectors import area_choices

DEFAULT_DAYS = 28
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[str, str]]] = {}
        choices: list[tuple[Any, Any]] = []
        for area in area_choices():
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
        return build_balance(data["area"], data["start"], data["end"], authority=data["authority"])
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


def _page(
    request: HttpRequest, form: BalanceForm, balance: Balance | None, *, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "balance": balance,
        "operations": known_operations(),
        "reading_note": READING_NOTE,
        "counting_note": COUNTING_NOTE,
        "current": "analytics",
    }
    if balance is not None:
        query = _query(balance)
        context.update(
            series=balance_series(balance),
            series_unit="Tag" if balance.period.days <= DAILY_SERIES_MAX_DAYS else "Woche",
            prose=balance.prose,
            query=query,
            pdf_url=f"{reverse('analytics:balance-pdf')}?{query}",
            xlsx_url=f"{reverse('analytics:balance-xlsx')}?{query}",
        )
    return render(request, "analytics/balance.html", context, status=status)


@login_required
@permission_required("analytics.view", raise_exception=True)
def balance_page(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    balance = _balance(form)
    return _page(request, form, balance, status=200 if balance is not None else 400)


def _filename(balance: Balance, extension: str) -> str:
    area = slugify(balance.area_name.replace("ß", "ss"))[:40] or "gebiet"
    return f"einsatzbilanz_{area}_{balance.period.start:%Y%m%d}-{balance.period.end:%Y%m%d}.{extension}"


@login_required
@permission_required("analytics.export", raise_exception=True)
def balance_pdf_download(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    balance = _balance(form)
    if balance is None:
        return _page(request, form, None, status=400)
    data = balance_pdf(balance, balance_series(balance))
    return doc.file_response(data, _filename(balance, "pdf"), doc.PDF_TYPE)


@login_required
@permission_required("analytics.export", raise_exception=True)
def balance_xlsx_download(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    balance = _balance(form)
    if balance is None:
        return _page(request, form, None, status=400)
    data = balance_xlsx(balance, balance_series(balance))
    return doc.file_response(data, _filename(balance, "xlsx"), doc.XLSX_TYPE)
