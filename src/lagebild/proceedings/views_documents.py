"""Letters and the case file export of the Bußgeldstelle (thin views over ``letters`` and ``export``).

Only the proceedings role of the owning authority gets a document (the caution certificate also the
roles that record incidents, who hand it over on the spot): ``selectors.case_file`` checks the
role (403) and the scope hides the other authority's cases (404, like a missing id). Every PDF is
answered with ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from lagebild.analytics.documents import file_response
from lagebild.core import audit
from lagebild.core.rules import can_record
from lagebild.field.forms import LagebildForm

from . import export, letters, rules, selectors
from .models import Caution, EventKind, Notice

NOT_PROCEEDINGS = selectors.NOT_PROCEEDINGS


def _require_handler(user) -> None:  # type: ignore[no-untyped-def]
    if not rules.can_handle_cases(user):
        raise PermissionDenied(NOT_PROCEEDINGS)


def _case(request: HttpRequest, pk: int, purpose: str):  # type: ignore[no-untyped-def]
    try:
        return selectors.case_file(user=request.user, pk=pk, purpose=purpose)
    except selectors.CaseNotFound:
        raise Http404("Kein solches Verfahren.") from None


def _refused(error: ValidationError) -> HttpResponse:
    """A document that cannot be printed in this state: 409 with the German reason."""
    text = " ".join(message for messages in error.message_dict.values() for message in messages)
    return HttpResponse(text, status=409, content_type="text/plain; charset=utf-8")


def _stem(file_number: str) -> str:
    return file_number.replace(" ", "-").replace("/", "-")


def _pdf(request: HttpRequest, body: bytes, name: str, obj, kind: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    audit.log("proceedings.letter.printed", user=request.user, obj=obj, request=request, letter=kind)
    return file_response(body, name, letters.PDF_TYPE)


@login_required
@require_GET
def hearing_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The hearing letter (§ 55 OWiG), dated on the last hearing sent, else today (to be sent)."""
    case = _case(request, pk, "Anhörungsschreiben drucken")
    sent = [e.on for e in case.events.all() if e.kind == EventKind.HEARING_SENT]
    try:
        letter = letters.hearing_letter(case, sent_on=sent[-1] if sent else timezone.localdate())
    except ValidationError as error:
        return _refused(error)
    return _pdf(
        request, letters.letter_pdf(letter), f"Anhoerung-{_stem(case.file_number)}.pdf", case, "hearing"
    )


@login_required
@require_GET
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The Bußgeldbescheid of the case: the approved, not withdrawn notice (printed from its contents)."""
    case = _case(request, pk, "Bußgeldbescheid drucken")
    notices = sorted(case.notices.all(), key=lambda n: (n.drafted_at, n.pk))
    notice: Notice | None = next((n for n in reversed(notices) if n.withdrawn_on is None), None)
    if notice is None:
        return _refused(ValidationError({"notice": "Zu diesem Verfahren gibt es keinen Bescheid."}))
    try:
        letter = letters.notice_letter(notice)
    except ValidationError as error:
        return _refused(error)
    return _pdf(
        request, letters.letter_pdf(letter), f"Bescheid-{_stem(case.file_number)}.pdf", notice, "notice"
    )


@login_required
@require_GET
def reminder_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The payment reminder, dated on the last reminder sent, else today."""
    case = _case(request, pk, "Mahnung drucken")
    sent = [e for e in case.events.all() if e.kind == EventKind.REMINDER_SENT]
    on = sent[-1].on if sent else timezone.localdate()
    pay_by = sent[-1].data.get("pay_by") if sent else None
    try:
        letter = letters.reminder_letter(
            case, sent_on=on, pay_by=dt.date.fromisoformat(pay_by) if pay_by else None
        )
    except ValidationError as error:
        return _refused(error)
    return _pdf(
        request, letters.letter_pdf(letter), f"Mahnung-{_stem(case.file_number)}.pdf", case, "reminder"
    )


@login_required
@require_GET
def caution_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The caution certificate (§ 56 OWiG) for the Bußgeldstelle and for the roles that record
    incidents (they hand it over on the spot); the scope hides other authorities' cautions (404)."""
    if not (rules.can_handle_cases(request.user) or can_record(request.user)):
        raise PermissionDenied(NOT_PROCEEDINGS)
    caution = (
        Caution.objects.select_related("authority", "category_rule", "category_rule__category")
        .filter(pk=pk)
        .first()
    )
    if caution is None:
        raise Http404("Keine solche Verwarnung.")
    try:
        letter = letters.caution_certificate(caution)
    except ValidationError as error:
        return _refused(error)
    name = f"Verwarnung-{_stem(caution.certificate_number)}.pdf"
    return _pdf(request, letters.letter_pdf(letter), name, caution, "caution")


@login_required
@require_GET
def day_output_pdf(request: HttpRequest) -> HttpResponse:
    """All letters the authority sent on one day (``?tag=JJJJ-MM-TT``, default today), in one PDF."""
    _require_handler(request.user)
    raw = request.GET.get("tag", "")
    try:
        day = dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return HttpResponse(
            "Bitte das Datum als JJJJ-MM-TT angeben.", status=400, content_type="text/plain; charset=utf-8"
        )
    body, count = letters.day_output_pdf(day, authority=request.user.authority)
    audit.log(
        "proceedings.letters.day_printed",
        user=request.user,
        request=request,
        day=day.isoformat(),
        count=count,
    )
    return file_response(body, f"Tagesausgang-{day.isoformat()}.pdf", letters.PDF_TYPE)


class ExportForm(LagebildForm):
    recipient = forms.ChoiceField(
        label="Empfänger",
        choices=[*export.RECIPIENTS.items(), ("other", "Andere Stelle (unten angeben)")],
    )
    recipient_other = forms.CharField(label="Andere Stelle", max_length=200, required=False)
    purpose = forms.CharField(label="Zweck der Übermittlung", max_length=300, initial=export.DEFAULT_PURPOSE)
    format = forms.ChoiceField(
        label="Format",
        choices=[("pdf", "PDF (Akte zum Lesen und Drucken)"), ("json", "JSON (strukturierter Datensatz)")],
    )

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if data.get("recipient") == "other":
            if not (data.get("recipient_other") or "").strip():
                self.add_error("recipient_other", "Bitte die empfangende Stelle angeben.")
            data["recipient_name"] = (data.get("recipient_other") or "").strip()
        else:
            data["recipient_name"] = export.RECIPIENTS.get(data.get("recipient", ""), "")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The export form (GET) and the export itself (POST): recipient and purpose go to the audit log."""
    _require_handler(request.user)
    if not selectors.cases(user=request.user).filter(pk=pk).exists():
        raise Http404("Kein solches Verfahren.")
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            body, name, content_type = export.export_case(
                user=request.user,
                pk=pk,
                recipient=form.cleaned_data["recipient_name"],
                purpose=form.cleaned_data["purpose"],
                fmt=form.cleaned_data["format"],
            )
        except selectors.CaseNotFound:
            raise Http404("Kein solches Verfahren.") from None
        return file_response(body, name, content_type)
    file_number = (
        selectors.cases(user=request.user).filter(pk=pk).values_list("file_number", flat=True).first()
    )
    return render(
        request,
        "proceedings/export_form.html",
        {"form": form, "file_number": file_number, "title": f"Akte {file_number} übermitteln"},
        status=400 if request.method == "POST" else 200,
    )
