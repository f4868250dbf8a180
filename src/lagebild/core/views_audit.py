"""Pages of the data-protection officer under ``/datenschutz/protokoll/``: search the audit
log, every access to a pseudonymous person or a citizen report, reports as CSV and PDF.

Only the DPO role gets in (others: 403); a DPO reads their own authority's entries only, and
every reading of the log is itself logged."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import audit, audit_queries
from .audit_queries import SCOPE_BOTH, SCOPE_OWN, SCOPE_SYSTEM, SearchFilter
from .models import Role

PAGE_SIZE = 100
PDF_LIMIT = 2000
CSV_LIMIT = 100_000


def dpo_required(view: Any) -> Any:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "role", None) != Role.DATA_PROTECTION_OFFICER:
            raise PermissionDenied("Nur für Datenschutzbeauftragte.")
        return view(request, *args, **kwargs)

    return wrapped


class SearchForm(forms.Form):
    start = forms.DateField(label="Von (Tag)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Bis (Tag)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    actor = forms.CharField(label="Handelnde Person (Name, Kennung oder ID)", required=False, max_length=150)
    action = forms.CharField(label="Aktion (Anfang, z. B. field.incident)", required=False, max_length=80)
    object_type = forms.CharField(label="Objekttyp (z. B. citizen.report)", required=False, max_length=60)
    object_id = forms.CharField(label="Objekt-ID", required=False, max_length=40)
    scope = forms.ChoiceField(
        label="Behörde",
        choices=[
            (SCOPE_OWN, "Eigene Behörde"),
            (SCOPE_SYSTEM, "Systemweit (ohne Behörde, z. B. Anmeldeversuche unbekannter Namen)"),
            (SCOPE_BOTH, "Beides"),
        ],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "Das Ende liegt vor dem Anfang.")
        return data

    def criteria(self) -> SearchFilter:
        data = self.cleaned_data
        return SearchFilter(
            start=data.get("start"),
            end=data.get("end"),
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            scope=data.get("scope") or SCOPE_OWN,
        )


class AccessForm(forms.Form):
    kind = forms.ChoiceField(
        label="Art", choices=[("person", "Person (Pseudonym)"), ("report", "Hinweis (Nummer)")]
    )
    key = forms.CharField(label="Pseudonym oder Hinweisnummer", max_length=40)


def _export(
    request: HttpRequest, entries: QuerySet, *, fmt: str, title: str, subtitle: str, detail: dict
) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        rows = list(entries[:CSV_LIMIT])
        audit.log("audit.exported", user=request.user, format="csv", entries=len(rows), **detail)
        response = HttpResponse(audit_queries.csv_report(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="protokoll-{stamp}.csv"'
        return response
    rows = list(entries[: PDF_LIMIT + 1])
    truncated = len(rows) > PDF_LIMIT
    rows = rows[:PDF_LIMIT]
    audit.log("audit.exported", user=request.user, format="pdf", entries=len(rows), **detail)
    pdf = audit_queries.pdf_report(rows, title=title, subtitle=subtitle, truncated=truncated)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="protokoll-{stamp}.pdf"'
    return response


def _subtitle(request: HttpRequest, criteria: dict) -> str:
    parts = [f"{key}: {value}" for key, value in criteria.items()]
    made = timezone.localtime().strftime("%d.%m.%Y %H:%M")
    who = audit.actor_name(request.user)
    return f"{request.user.authority.name} · erstellt {made} von {who}" + (  # type: ignore[union-attr]
        " · " + ", ".join(parts) if parts else ""
    )


@dpo_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    entries = None
    page = None
    criteria: dict = {}
    if form.is_bound and form.is_valid():
        criteria = form.criteria().as_detail()
        entries = audit_queries.search(request.user, form.criteria())  # type: ignore[arg-type]
    elif not form.is_bound:
        entries = audit_queries.search(request.user, SearchFilter())  # type: ignore[arg-type]
    if entries is not None:
        fmt = request.GET.get("format", "")
        if fmt in ("csv", "pdf"):
            return _export(
                request,
                entries,
                fmt=fmt,
                title="Protokollauszug",
                subtitle=_subtitle(request, criteria),
                detail={"criteria": criteria},
            )
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("seite"))
        page.object_list = list(page.object_list)  # as found, before this reading is logged
        audit.log("audit.searched", user=request.user, criteria=criteria, page=page.number)
    query = request.GET.copy()
    query.pop("seite", None)
    query.pop("format", None)
    return render(
        request,
        "core/audit/search.html",
        {
            "form": form,
            "page": page,
            "names": audit_queries.authority_names(),
            "query": query.urlencode(),
        },
    )


@dpo_required
@require_GET
def accesses(request: HttpRequest) -> HttpResponse:
    form = AccessForm(request.GET or None)
    page = None
    subject = ""
    not_found = False
    if form.is_bound and form.is_valid():
        kind, key = form.cleaned_data["kind"], form.cleaned_data["key"].strip()
        entries, subject = _subject_entries(request, kind, key)
        if entries is None:
            not_found = True
            audit.log("audit.accesses_viewed", user=request.user, kind=kind, key=key, found=False)
        else:
            fmt = request.GET.get("format", "")
            if fmt in ("csv", "pdf"):
                return _export(
                    request,
                    entries,
                    fmt=fmt,
                    title=f"Zugriffe auf {subject}",
                    subtitle=_subtitle(request, {}),
                    detail={"kind": kind, "key": key},
                )
            page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("seite"))
            page.object_list = list(page.object_list)
            audit.log("audit.accesses_viewed", user=request.user, kind=kind, key=key, found=True)
    query = request.GET.copy()
    query.pop("seite", None)
    query.pop("format", None)
    return render(
        request,
        "core/audit/accesses.html",
        {
            "form": form,
            "page": page,
            "subject": subject,
            "not_found": not_found,
            "names": audit_queries.authority_names(),
            "query": query.urlencode(),
        },
    )


def _subject_entries(request: HttpRequest, kind: str, key: str) -> tuple[QuerySet | None, str]:
    """The person or report of the DPO's own authority ("not yours" reads like "not there")."""
    user = request.user
    if kind == "person":
        from lagebild.field.models import Person

        person = Person.objects.filter(pseudonym=key).first()
        if person is None or person.authority_id != user.authority_id:  # type: ignore[union-attr]
            return None, ""
        return audit_queries.person_accesses(user, person), f"Person {person.pseudonym}"  # type: ignore[arg-type]
    from lagebild.citizen.models import Report

    if not key.isdigit():
        return None, ""
    report = Report.objects.filter(pk=int(key)).first()
    if report is None or getattr(report, "authority_id", None) != user.authority_id:  # type: ignore[union-attr]
        return None, ""
    return audit_queries.report_accesses(user, report), f"Hinweis {report.pk}"  # type: ignore[arg-type]
