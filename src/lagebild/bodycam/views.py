"""Pages of the bodycam evidence register under /bodycam/.

Roles without a purpose for recordings get 403 on every page; a recording that is not the
user's (other authority, or another officer's for a field officer) answers exactly like one
that does not exist: 404. The file itself is only delivered by :func:`recording_file`, after
the user has given a reason on :func:`recording_access` (logged in the custody chain and the
audit trail) and only for a few minutes in that session.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from lagebild.core import audit
from lagebild.field.forms import add_service_errors

from . import selectors, services, storage
from .forms import AccessForm, HandoverForm, RegisterForm, RejectForm, RetentionForm
from .models import Recording, RetentionDecision, RetentionState
from .rules import is_supervisor, may_use
from .uploads import RecordingUploadHandler

PAGE_SIZE = 50
ACCESS_SECONDS = 15 * 60
SESSION_KEY = "bodycam_access"


def _require_role(request: HttpRequest) -> None:
    if not may_use(request.user):
        raise PermissionDenied


def _recording_or_404(request: HttpRequest, pk: int) -> Recording:
    _require_role(request)
    recording = selectors.recording_for(request.user, pk)
    if recording is None:
        raise Http404("Aufnahme nicht gefunden.")
    return recording


@login_required
@require_http_methods(["GET"])
def recording_list(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    state = request.GET.get("status", "")
    recordings = selectors.recordings_for(request.user)
    if state in RetentionState.values:
        recordings = recordings.filter(state=state)
    else:
        state = ""
    page = Paginator(recordings.order_by("-started_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(
        request,
        "bodycam/list.html",
        {
            "page": page,
            "state": state,
            "states": RetentionState.choices,
            "supervisor": is_supervisor(request.user),
        },
    )


@csrf_exempt  # only so that the upload handler can be set; _register checks the CSRF token
@login_required
def recording_register(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    # Before anything reads the body: the upload is spooled inside the recordings directory.
    request.upload_handlers = [RecordingUploadHandler(request)]
    return _register(request)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _register(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = RegisterForm(request.POST or None, request.FILES or None, user=user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recording = services.register_recording(
                user=user,  # type: ignore[arg-type]
                upload=data.get("file"),
                data=services.RegistrationInput(
                    device_serial=data["device_serial"],
                    wearer=data.get("wearer"),
                    started_at=data["started_at"],
                    ended_at=data["ended_at"],
                    activation_reason=data["activation_reason"],
                    activation_note=data.get("activation_note", ""),
                    announced=bool(data.get("announced")),
                    location_text=data.get("location_text", ""),
                    incident_id=data.get("incident"),
                ),
            )
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"device": "device_serial"})
        else:
            messages.success(
                request,
                f"Aufnahme Nr. {recording.pk} registriert. Sie wird am {recording.delete_after:%d.%m.%Y} "
                "gelöscht, wenn sie nicht als Beweismittel gesichert wird.",
            )
            return redirect("bodycam:detail", pk=recording.pk)
    elif request.method == "POST" and not request.FILES.get("file"):
        form.add_error("file", "Bitte die Videodatei der Aufnahme auswählen.")
    return render(request, "bodycam/register.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def recording_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recording = _recording_or_404(request, pk)
    user = request.user
    # The metadata (wearer, place, reason) is personal data too: its reading is logged.
    audit.log("bodycam.recording.read", user=user, obj=recording)
    decision = selectors.open_decision(recording)
    slot = services.slot_of(user, recording)  # type: ignore[arg-type]
    can_confirm = bool(
        decision
        and slot
        and user.pk not in (decision.wearer_confirmed_by_id, decision.supervisor_confirmed_by_id)
        and (decision.wearer_confirmed_by_id if slot == "wearer" else decision.supervisor_confirmed_by_id)
        is None
    )
    return render(
        request,
        "bodycam/detail.html",
        {
            "recording": recording,
            "custody": selectors.custody_chain(recording),
            "decisions": selectors.retention_decisions(recording),
            "open_decision": decision,
            "can_confirm": can_confirm,
            "can_request": slot is not None and decision is None and not recording.is_deleted,
            "supervisor": is_supervisor(user),
            "reject_form": RejectForm(),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def recording_access(request: HttpRequest, pk: int) -> HttpResponse:
    recording = _recording_or_404(request, pk)
    if recording.is_deleted:
        messages.error(request, "Die Aufnahme wurde gelöscht; nur ihr Nachweis ist noch vorhanden.")
        return redirect("bodycam:detail", pk=recording.pk)
    form = AccessForm(request.POST or None, user=request.user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        purpose = form.cleaned_data["purpose"]
        try:
            event = services.record_access(
                user=request.user,  # type: ignore[arg-type]
                recording=recording,
                purpose=purpose,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            grants = dict(request.session.get(SESSION_KEY, {}))
            grants[str(recording.pk)] = {
                "purpose": purpose,
                "until": time.time() + ACCESS_SECONDS,
                "event": event.pk,
            }
            request.session[SESSION_KEY] = grants
            return render(
                request,
                "bodycam/access_granted.html",
                {"recording": recording, "purpose": purpose, "minutes": ACCESS_SECONDS // 60},
            )
    return render(request, "bodycam/access.html", {"recording": recording, "form": form})


@login_required
@never_cache
@require_http_methods(["GET"])
def recording_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, streamed from the recordings directory, only with a fresh logged reason."""
    recording = _recording_or_404(request, pk)
    if recording.is_deleted:
        raise Http404("Aufnahme gelöscht.")
    grant = request.session.get(SESSION_KEY, {}).get(str(recording.pk))
    if not grant or float(grant.get("until", 0)) < time.time():
        messages.info(request, "Bitte zuerst den Grund für den Zugriff angeben.")
        return redirect("bodycam:access", pk=recording.pk)
    try:
        handle = storage.absolute_path(recording.storage_path).open("rb")
    except FileNotFoundError:
        raise Http404("Datei nicht vorhanden.") from None
    audit.log(
        "bodycam.recording.streamed",
        user=request.user,
        obj=recording,
        purpose=grant.get("purpose", "view"),
        custody_event=grant.get("event"),
    )
    copy = grant.get("purpose") == "copy"
    extension = storage.EXTENSIONS.get(recording.media_type, "bin")
    response = FileResponse(
        handle,
        content_type=recording.media_type,
        as_attachment=copy,
        filename=f"aufnahme-{recording.pk}-{recording.sha256[:12]}.{extension}",
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-SHA256"] = recording.sha256
    return response


@login_required
@require_http_methods(["GET", "POST"])
def recording_handover(request: HttpRequest, pk: int) -> HttpResponse:
    recording = _recording_or_404(request, pk)
    if not is_supervisor(request.user):
        raise PermissionDenied
    if recording.is_deleted:
        messages.error(request, "Die Aufnahme wurde gelöscht; nur ihr Nachweis ist noch vorhanden.")
        return redirect("bodycam:detail", pk=recording.pk)
    form = HandoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.hand_over(
                user=request.user,  # type: ignore[arg-type]
                recording=recording,
                recipient=form.cleaned_data["recipient"],
                reference=form.cleaned_data.get("reference", ""),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Übergabe in der Verwahrkette vermerkt.")
            return redirect("bodycam:detail", pk=recording.pk)
    return render(request, "bodycam/handover.html", {"recording": recording, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def retention_request(request: HttpRequest, pk: int) -> HttpResponse:
    recording = _recording_or_404(request, pk)
    if services.slot_of(request.user, recording) is None:  # type: ignore[arg-type]
        raise PermissionDenied
    if recording.is_deleted:
        messages.error(request, "Die Aufnahme wurde gelöscht; nur ihr Nachweis ist noch vorhanden.")
        return redirect("bodycam:detail", pk=recording.pk)
    form = RetentionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_retention(
                user=request.user,  # type: ignore[arg-type]
                recording=recording,
                reason=form.cleaned_data["reason"],
                reference=form.cleaned_data.get("reference", ""),
                note=form.cleaned_data["note"],
                delete_after=form.delete_after(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"delete_after": "delete_on"})
        else:
            messages.success(
                request,
                "Sicherung beantragt und von Ihnen bestätigt. Sie wird wirksam, wenn die zweite Person "
                "(Trägerin/Träger bzw. Schichtleitung) bestätigt.",
            )
            return redirect("bodycam:detail", pk=recording.pk)
    return render(request, "bodycam/retention.html", {"recording": recording, "form": form})


def _decision_or_404(recording: Recording, decision_pk: int) -> RetentionDecision:
    decision = recording.retentions.filter(pk=decision_pk).first()
    if decision is None:
        raise Http404("Sicherung nicht gefunden.")
    return decision


@login_required
@require_POST
def retention_confirm(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    recording = _recording_or_404(request, pk)
    decision = _decision_or_404(recording, decision_pk)
    try:
        decision = services.confirm_retention(user=request.user, decision=decision)  # type: ignore[arg-type]
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if decision.status == RetentionDecision.Status.CONFIRMED:
            messages.success(
                request,
                "Aufnahme als Beweismittel gesichert; sie wird am "
                f"{decision.delete_after:%d.%m.%Y} gelöscht.",
            )
        else:
            messages.success(request, "Bestätigung vermerkt; die zweite Bestätigung fehlt noch.")
    return redirect("bodycam:detail", pk=recording.pk)


@login_required
@require_POST
def retention_reject(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    recording = _recording_or_404(request, pk)
    decision = _decision_or_404(recording, decision_pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Bitte die Ablehnung begründen.")
        return redirect("bodycam:detail", pk=recording.pk)
    try:
        services.reject_retention(user=request.user, decision=decision, note=form.cleaned_data["note"])  # type: ignore[arg-type]
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Sicherung abgelehnt; die Löschfrist bleibt.")
    return redirect("bodycam:detail", pk=recording.pk)
