"""Cautions with a fee (Verwarnung mit Verwarnungsgeld, § 56 OWiG): recorded in the field, paid at the
Bußgeldstelle.

* ``caution_give`` (POST from the incident page): the roles that record incidents
  (``core.rules.can_record``) document a caution for a "caution_fee" measure of their own authority:
  told of the right to refuse, consented, paid on the spot. A refusal of the service (not told of the
  right to refuse, paid without consent, a caution already recorded) is shown at the form (status 400)
  and nothing is stored; success redirects to the incident page (PRG).
* ``caution_list`` and ``caution_paid``: the Bußgeldstelle's list of its authority's cautions, open
  ones first with their pay-by date, where it records the day of payment (paid within the week:
  effective; later: not paid in time, proceedings may follow).

Thin: the rules are in ``services.caution_give`` / ``services.caution_paid``. Another authority's
measure or caution answers like a missing one (404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lagebild.core import rules as core_rules
from lagebild.field.forms import LagebildForm, add_service_errors
from lagebild.field.models import Measure, MeasureType

from . import services
from .forms import clean_plausible_date, date_field
from .models import Caution
from .views import NOT_FOUND, _handler_only, forbidden

NOT_RECORDER = (
    "Verwarnungen dokumentieren Außendienst, Schichtleitung und Administration der eigenen Behörde."
)
PAGE_SIZE = 50


class CautionGiveForm(LagebildForm):
    informed_of_right_to_refuse = forms.BooleanField(label="Über das Weigerungsrecht belehrt", required=False)
    consented = forms.BooleanField(label="Einverstanden", required=False)
    paid_on_spot = forms.BooleanField(label="Sofort bezahlt", required=False)


class CautionPaidForm(LagebildForm):
    paid_on = date_field("Bezahlt am")

    def clean_paid_on(self) -> dt.date | None:
        return clean_plausible_date(self.cleaned_data.get("paid_on"))


class CautionFilterForm(LagebildForm):
    stand = forms.ChoiceField(
        label="Stand",
        required=False,
        choices=[("", "Alle"), *Caution.Status.choices],
        error_messages={"invalid_choice": "Bitte einen Stand aus der Liste wählen."},
    )


def _incident_page(request: HttpRequest, measure: Measure, form: CautionGiveForm) -> HttpResponse:
    """The incident page again, with the refused caution form and its German messages (400)."""
    from lagebild.field.views import _incident_detail_context

    context = _incident_detail_context(request, measure.incident, None)
    context.update({"caution_form": form, "caution_measure_id": measure.pk})
    return render(request, "field/incident_detail.html", context, status=400)


@login_required
@require_POST
def caution_give(request: HttpRequest, pk: int) -> HttpResponse:
    """Document the caution of a "caution_fee" measure (§ 56 OWiG) of the own authority."""
    if not core_rules.can_record(request.user):
        return forbidden(request, NOT_RECORDER)
    # The middleware's scope hides other authorities' measures; a partner's measure on a joint
    # incident is visible, but its caution is the partner's to record.
    measure = (
        Measure.objects.filter(pk=pk, authority_id=request.user.authority_id)  # type: ignore[union-attr]
        .select_related("incident", "incident__category")
        .first()
    )
    if measure is None:
        raise Http404(NOT_FOUND)
    form = CautionGiveForm(request.POST, auto_id=f"id_m{measure.pk}_%s")
    if not form.is_valid():  # only booleans: cannot fail, kept for symmetry
        return _incident_page(request, measure, form)
    detail = reverse("field:incident-detail", args=[measure.incident_id])
    if measure.type != MeasureType.CAUTION_FEE:  # no form offers this: a hand-made request
        messages.error(request, "Nur eine Verwarnung mit Verwarnungsgeld wird so dokumentiert.")
        return redirect(detail + "#massnahmen")
    try:
        caution = services.caution_give(
            user=request.user,
            measure=measure,
            informed_of_right_to_refuse=form.cleaned_data["informed_of_right_to_refuse"],
            consented=form.cleaned_data["consented"],
            paid_on_spot=form.cleaned_data["paid_on_spot"],
        )
    except PermissionDenied as exc:
        return forbidden(request, str(exc) or NOT_RECORDER)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _incident_page(request, measure, form)
    if caution.status == Caution.Status.REFUSED:
        messages.success(request, "Die Verwarnung ist als verweigert dokumentiert: keine Bescheinigung.")
    else:
        messages.success(
            request,
            f"Verwarnung {caution.certificate_number} dokumentiert: {caution.get_status_display()}.",
        )
    return redirect(
        reverse("field:incident-detail", args=[measure.incident_id]) + f"#verwarnung-{measure.pk}"
    )


def _list_page(request: HttpRequest, *, failed: dict[int, CautionPaidForm] | None = None) -> HttpResponse:
    filter_form = CautionFilterForm(request.GET or None)
    status = ""
    if filter_form.is_bound and filter_form.is_valid():
        status = filter_form.cleaned_data.get("stand") or ""
    cautions = Caution.objects.select_related("category_rule__category")  # own authority (scope)
    if status:
        cautions = cautions.filter(status=status)
    open_first = Case(
        When(status=Caution.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    ordered = cautions.annotate(open_first=open_first).order_by("open_first", "pay_by", "-given_at", "-pk")
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("seite"))
    failed = failed or {}
    rows: list[dict[str, Any]] = [
        {
            "caution": caution,
            "form": failed.get(caution.pk) or CautionPaidForm(auto_id=f"id_c{caution.pk}_%s"),
        }
        for caution in page.object_list
    ]
    return render(
        request,
        "proceedings/caution_list.html",
        {
            "form": filter_form,
            "rows": rows,
            "page": page,
            "status_label": dict(Caution.Status.choices).get(status, ""),
            "open_count": Caution.objects.filter(status=Caution.Status.OPEN).count(),
            "page_query": f"stand={status}&" if status else "",
        },
        status=400 if failed else 200,
    )


@require_GET
@_handler_only
def caution_list(request: HttpRequest) -> HttpResponse:
    """Verwarnungen: open ones first (earliest pay-by date first), then the others, newest first."""
    return _list_page(request)


@require_POST
@_handler_only
def caution_paid(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the day an open caution was paid (§ 56 Abs. 2 OWiG: within the week it is effective)."""
    caution = Caution.objects.filter(pk=pk).first()  # the middleware's scope: own authority only
    if caution is None:
        raise Http404(NOT_FOUND)
    form = CautionPaidForm(request.POST, auto_id=f"id_c{caution.pk}_%s")
    if form.is_valid():
        try:
            caution = services.caution_paid(
                user=request.user, caution=caution, paid_on=form.cleaned_data["paid_on"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if caution.status == Caution.Status.EFFECTIVE:
                messages.success(request, f"Verwarnung {caution.certificate_number}: bezahlt, wirksam.")
            else:
                messages.warning(
                    request,
                    f"Verwarnung {caution.certificate_number}: nach dem {caution.pay_by:%d.%m.%Y} bezahlt, "
                    "nicht fristgerecht – ein Bußgeldverfahren ist möglich.",
                )
            return redirect("proceedings:caution-list")
    return _list_page(request, failed={caution.pk: form})
