"""Pages of transfers: share a record (form → confirmation), incoming and outgoing lists.

Thin: the rules are in ``services`` and ``selectors``. A record of another authority and a
record that does not exist answer with the same 404; a role that may not share gets 403
with a German explanation.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from lagebild.field.forms import add_service_errors

from . import selectors, services
from .catalogue import RecordType
from .forms import TransferForm, WithdrawForm, initial_for

NOT_FOUND = "Nicht gefunden."


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "sharing/forbidden.html", {"message": message}, status=403)


def _source_url(record_type: str, pk: int) -> str:
    if record_type == RecordType.INCIDENT:
        return reverse("field:incident-detail", args=[pk])
    return reverse("office:report-detail", args=[pk])


@login_required
@require_http_methods(["GET", "POST"])
def share_incident(request: HttpRequest, pk: int) -> HttpResponse:
    return _share(request, RecordType.INCIDENT, pk)


@login_required
@require_http_methods(["GET", "POST"])
def share_report(request: HttpRequest, pk: int) -> HttpResponse:
    return _share(request, RecordType.CITIZEN_REPORT, pk)


def _share(request: HttpRequest, record_type: str, pk: int) -> HttpResponse:
    user: Any = request.user
    if not services.may_share_record_type(user, record_type):
        return forbidden(request, services.NOT_PERMITTED)
    record = selectors.shareable_record(user, record_type, pk)
    if record is None:
        raise Http404(NOT_FOUND)
    measures = selectors.own_measures(user, record) if record_type == RecordType.INCIDENT else None
    context: dict[str, Any] = {
        "record": record,
        "record_type": record_type,
        "record_label": selectors.record_label(record),
        "source_url": _source_url(record_type, record.pk),
        "previous": selectors.transfers_of_record(user, record_type, record.pk),
    }
    if request.method == "GET":
        initial = initial_for(
            user=user, record_type=record_type, purpose=request.GET.get("purpose", ""), measures=measures
        )
        form = TransferForm(
            initial=initial, user=user, record_type=record_type, measures=measures, reload_url=request.path
        )
        return render(request, "sharing/share_form.html", {**context, "form": form})

    form = TransferForm(request.POST, user=user, record_type=record_type, measures=measures)
    if form.is_valid() and "edit" not in request.POST:
        data = form.cleaned_data
        arguments = {
            "record_type": record_type,
            "record_id": record.pk,
            "recipient_id": data["recipient"],
            "purpose": data["purpose"],
            "legal_basis": data["legal_basis"],
            "legal_basis_text": data.get("legal_basis_text") or "",
            "fields": data.get("included") or [],
            "measure_ids": data.get("measures") or [],
            "note": data.get("note") or "",
        }
        try:
            if request.POST.get("confirmed") == "1":
                transfer = services.transfer_create(user=user, **arguments)
            else:
                prepared = services.transfer_prepare(user=user, **arguments)
                return render(
                    request, "sharing/share_confirm.html", {**context, "form": form, "prepared": prepared}
                )
        except services.SourceNotFound:
            raise Http404(NOT_FOUND) from None
        except PermissionDenied as exc:
            return forbidden(request, str(exc) or services.NOT_PERMITTED)
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"fields": "included"})
        else:
            messages.success(
                request,
                f"Weitergabe Nr. {transfer.pk} an {transfer.recipient_authority.name} "
                "ist erfolgt und protokolliert.",
            )
            return redirect("sharing:sent-detail", pk=transfer.pk)
    status = 200 if "edit" in request.POST else 400
    return render(request, "sharing/share_form.html", {**context, "form": form}, status=status)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.has_perm("sharing.view_received"):
        return redirect("sharing:received")
    if user.has_perm("sharing.view_sent"):
        return redirect("sharing:sent")
    return forbidden(
        request, "Weitergaben sehen Außendienst, Schichtleitung, Administration und Datenschutz."
    )


@login_required
def received(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("sharing.view_received"):
        return forbidden(
            request,
            "Eingegangene Weitergaben sehen Schichtleitung / Leitstelle, Administration und Datenschutz.",
        )
    return render(
        request,
        "sharing/transfer_list.html",
        {"rows": selectors.received(user), "direction": "received", "title": "Eingegangene Weitergaben"},
    )


@login_required
def sent(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("sharing.view_sent"):
        return forbidden(
            request,
            "Ausgegangene Weitergaben sehen Außendienst, Schichtleitung, Administration und Datenschutz.",
        )
    return render(
        request,
        "sharing/transfer_list.html",
        {"rows": selectors.sent(user), "direction": "sent", "title": "Ausgegangene Weitergaben"},
    )


@login_required
def received_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("sharing.view_received"):
        return forbidden(
            request,
            "Eingegangene Weitergaben sehen Schichtleitung / Leitstelle, Administration und Datenschutz.",
        )
    row = selectors.received_get(user, pk)
    if row is None:
        raise Http404(NOT_FOUND)
    services.record_view(user=user, row=row, side="recipient")
    return render(
        request,
        "sharing/transfer_detail.html",
        {
            "row": row,
            "transfer": row.transfer,
            "direction": "received",
            "show_content": row.withdrawn is None,
            "can_acknowledge": user.has_perm("sharing.acknowledge")
            and row.acknowledged is None
            and row.withdrawn is None,
        },
    )


@login_required
def sent_detail(request: HttpRequest, pk: int, withdraw_form: WithdrawForm | None = None) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("sharing.view_sent"):
        return forbidden(
            request,
            "Ausgegangene Weitergaben sehen Außendienst, Schichtleitung, Administration und Datenschutz.",
        )
    row = selectors.sent_get(user, pk)
    if row is None:
        raise Http404(NOT_FOUND)
    services.record_view(user=user, row=row, side="sender")
    may_withdraw = row.withdrawn is None and (
        user.has_perm("sharing.withdraw_any") or row.transfer.created_by_id == user.pk
    )
    return render(
        request,
        "sharing/transfer_detail.html",
        {
            "row": row,
            "transfer": row.transfer,
            "direction": "sent",
            "show_content": True,
            "source_url": _source_url(row.transfer.record_type, row.transfer.record_id),
            "withdraw_form": (withdraw_form or WithdrawForm()) if may_withdraw else None,
        },
        status=400 if withdraw_form is not None else 200,
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        services.transfer_acknowledge(user=user, transfer_id=pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except services.TransferNotFound:
        raise Http404(NOT_FOUND) from None
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Empfang bestätigt. Die übermittelnde Behörde sieht die Bestätigung.")
    return redirect("sharing:received-detail", pk=pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return sent_detail(request, pk, withdraw_form=form)
    try:
        services.transfer_withdraw(user=user, transfer_id=pk, reason=form.cleaned_data["reason"])
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except services.TransferNotFound:
        raise Http404(NOT_FOUND) from None
    except ValidationError as exc:
        add_service_errors(form, exc)
        return sent_detail(request, pk, withdraw_form=form)
    messages.success(request, "Weitergabe zurückgezogen. Die empfangende Behörde sieht nur noch den Grund.")
    return redirect("sharing:sent-detail", pk=pk)
