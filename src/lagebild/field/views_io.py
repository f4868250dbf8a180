"""Import and export of incidents (CSV upload page; import-format CSV, readable table and GeoJSON).

The views are thin: :mod:`lagebild.field.importer` checks and writes,
:mod:`lagebild.field.exporter` reads and formats, :mod:`lagebild.field.filters` parses the
same GET parameters as the incident list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from lagebild.analytics import tasks as analytics_tasks
from lagebild.core import tasking

from . import exporter, selectors
from .filters import filters_from_querydict
from .forms import LagebildForm
from .importer import COLUMNS, MAX_FILE_BYTES, ImportFileError, decode_csv_bytes, import_incidents

MAX_SHOWN_ERRORS = 500
CSV_CONTENT_TYPES = frozenset(
    {
        "",
        "text/csv",
        "text/plain",
        "text/comma-separated-values",
        "text/x-csv",
        "application/csv",
        "application/x-csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)


# --- export -------------------------------------------------------------------------------


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    if not request.user.has_perm("field.export_incidents"):
        raise PermissionDenied("Ihre Rolle erlaubt keinen Export.")
    filters, errors = filters_from_querydict(request.GET)
    if errors:
        lines = "\n".join(f"{name}: {message}" for name, message in errors.items())
        return HttpResponse(
            f"Der Export wurde nicht erstellt, weil Filterangaben ungültig sind:\n{lines}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = selectors.filters_for(request.user, filters)  # type: ignore[arg-type]
    count = exporter.export_count(filters)
    exporter.log_export(user=request.user, filters=filters, fmt=fmt, count=count)  # type: ignore[arg-type]
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    if fmt == "geojson":
        chunks = exporter.geojson_chunks(request.user, filters)  # type: ignore[arg-type]
        content_type, name = "application/geo+json; charset=utf-8", f"feststellungen-{stamp}.geojson"
    elif fmt == "tabelle":
        chunks = exporter.table_chunks(request.user, filters)  # type: ignore[arg-type]
        content_type, name = "text/csv; charset=utf-8", f"feststellungen-tabelle-{stamp}.csv"
    else:
        dialect = exporter.CsvDialect.from_param(request.GET.get("delimiter"))
        chunks = exporter.csv_chunks(request.user, filters, dialect)  # type: ignore[arg-type]
        content_type, name = "text/csv; charset=utf-8", f"feststellungen-{stamp}.csv"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Record-Count"] = str(count)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return _export(request, "csv")


@login_required
@require_GET
def export_table(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return _export(request, "tabelle")


@login_required
@require_GET
def export_geojson(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return _export(request, "geojson")


# --- import -------------------------------------------------------------------------------


class ImportForm(LagebildForm):
    file = forms.FileField(
        label="CSV-Datei",
        help_text="UTF-8, Trennzeichen Komma oder Semikolon, höchstens 20 MB. "
        "Eine Zeile je Feststellung; Spalten siehe unten.",
        error_messages={
            "required": "Bitte eine CSV-Datei auswählen.",
            "empty": "Die Datei ist leer.",
            "invalid": "Die Datei konnte nicht gelesen werden.",
            "missing": "Bitte eine CSV-Datei auswählen.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    skip_invalid = forms.BooleanField(
        label="Fehlerhafte Zeilen überspringen und nur die gültigen Zeilen importieren",
        help_text="Ohne diese Option wird nur importiert, wenn alle Zeilen fehlerfrei sind.",
        required=False,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(
                "Die Datei ist größer als 20 MB. Bitte teilen Sie sie auf oder lassen Sie sie über "
                "die Kommandozeile importieren (lagebild import-incidents)."
            )
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
        plain_text = content_type.startswith("text/") or content_type in CSV_CONTENT_TYPES
        if not name.endswith((".csv", ".txt")) or not plain_text:
            raise ValidationError("Bitte eine CSV-Datei (.csv) hochladen.")
        data = upload.read(MAX_FILE_BYTES + 1)
        try:
            self.cleaned_data["text"] = decode_csv_bytes(data)
        except ImportFileError as exc:
            raise ValidationError(str(exc)) from exc
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if not request.user.has_perm("field.import_incidents"):
        raise PermissionDenied("Ihre Rolle erlaubt keinen Import.")
    result = None
    counts_follow = False
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = import_incidents(
                user=request.user,  # type: ignore[arg-type]
                data=form.cleaned_data["text"],
                file_name=upload.name or "",
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
            if result.file_error:
                form.add_error("file", result.file_error)
                result = None
            elif result.imported:
                # Without a broker the uploader waits the few seconds for the counts, not the next
                # reader (whose read would otherwise need the write lock on SQLite to apply
                # them); with one, a worker applies them and the page says they follow.
                counts_follow = tasking.broker_configured()
                tasking.run_or_enqueue(analytics_tasks.apply_deferred_counts)
    else:
        form = ImportForm()
    context = {
        "form": form,
        "result": result,
        "errors_shown": result.errors[:MAX_SHOWN_ERRORS] if result else [],
        "errors_hidden": max(len(result.errors) - MAX_SHOWN_ERRORS, 0) if result else 0,
        "columns": COLUMNS,
        "max_shown_errors": MAX_SHOWN_ERRORS,
        "counts_follow": counts_follow,
    }
    return render(request, "field/import.html", context)
