"""Writes of the evidence register: registration, access with a reason, handover, retention.

Every act on a recording adds a link to its chain of custody (``CustodyEvent``, hash-chained
per recording) and an entry in the audit trail (``core.audit``). Errors are German
``ValidationError``s keyed by form field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from lagebild.core import audit
from lagebild.core.localtime import later
from lagebild.core.models import User
from lagebild.field.models import Incident

from . import storage
from .models import (
    ActivationReason,
    CustodyEvent,
    Device,
    Recording,
    RetentionDecision,
    RetentionReason,
    RetentionState,
    legal_basis_for,
)
from .rules import BODYCAM_ROLES, is_supervisor, may_use

# A camera clock running a little ahead must not block the registration.
CLOCK_TOLERANCE = dt.timedelta(minutes=10)
MAX_RETENTION = dt.timedelta(days=10 * 366)
ACCEPTED_FORMATS = "MP4, MOV, WebM/MKV, AVI oder MPEG"


def retention_days() -> int:
    return int(getattr(settings, "LAGEBILD_RECORDINGS_RETENTION_DAYS", 14))


def max_bytes() -> int:
    return int(getattr(settings, "LAGEBILD_RECORDINGS_MAX_BYTES", 4 * 1024**3))


# --- chain of custody ---------------------------------------------------------------------


def add_custody(
    recording: Recording,
    kind: str,
    *,
    actor: Any = None,
    reason: str = "",
    recipient: str = "",
    at: dt.datetime | None = None,
    **detail: Any,
) -> CustodyEvent:
    """Append one link; the caller holds a transaction (and the recording's row lock)."""
    last = recording.custody.order_by("-pk").values_list("entry_hash", flat=True).first()
    real_actor = actor if getattr(actor, "is_authenticated", False) else None
    event = CustodyEvent(
        recording=recording,
        at=(at or timezone.now()).astimezone(dt.UTC),
        kind=kind,
        actor=real_actor,
        actor_name=_name(real_actor) if real_actor else "System",
        reason=reason,
        recipient=recipient,
        detail=detail,
        previous_hash=last or "",
    )
    event.entry_hash = event.compute_hash()
    event.save()
    return event


def _name(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _locked(recording: Recording) -> Recording:
    """The recording again, row-locked, so that two acts never fork its custody chain."""
    return Recording.objects.select_for_update().get(pk=recording.pk)


# --- registration -------------------------------------------------------------------------


@dataclass
class RegistrationInput:
    device_serial: str
    wearer: User | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    activation_reason: str
    activation_note: str = ""
    announced: bool = True
    location_text: str = ""
    incident_id: int | None = None


def _check_upload(upload: UploadedFile | None) -> tuple[bytes, str]:
    if upload is None:
        raise ValidationError({"file": "Bitte die Videodatei der Aufnahme auswählen."})
    if not upload.size:
        raise ValidationError({"file": "Die Datei ist leer. Bitte die vollständige Aufnahme hochladen."})
    if upload.size > max_bytes():
        raise ValidationError(
            {"file": f"Die Datei ist größer als {max_bytes() // 1024**2} MB und wird nicht angenommen."}
        )
    upload.seek(0)
    head = upload.read(512)
    upload.seek(0)
    media_type = storage.sniff_media_type(head)
    if media_type is None:
        raise ValidationError(
            {"file": f"Die Datei ist keine Videoaufnahme. Angenommen werden {ACCEPTED_FORMATS}."}
        )
    return head, media_type


def _validate(user: User, data: RegistrationInput, now: dt.datetime) -> tuple[User, Incident | None]:
    errors: dict[str, str] = {}
    wearer = data.wearer or user
    if not is_supervisor(user) and wearer.pk != user.pk:
        errors["wearer"] = "Sie können nur eigene Aufnahmen registrieren."
    elif wearer.authority_id != user.authority_id or wearer.role not in BODYCAM_ROLES:
        errors["wearer"] = "Trägerin oder Träger muss Außendienst oder Schichtleitung Ihrer Behörde sein."
    if not data.device_serial.strip():
        errors["device_serial"] = "Bitte die Seriennummer der Bodycam angeben."
    if data.started_at is None:
        errors["started_at"] = "Bitte den Beginn der Aufnahme angeben."
    elif data.started_at > later(now, CLOCK_TOLERANCE):
        errors["started_at"] = "Der Beginn liegt in der Zukunft."
    if data.ended_at is None:
        errors["ended_at"] = "Bitte das Ende der Aufnahme angeben."
    elif data.started_at is not None and data.ended_at < data.started_at:
        errors["ended_at"] = "Das Ende liegt vor dem Beginn."
    elif data.ended_at > later(now, CLOCK_TOLERANCE):
        errors["ended_at"] = "Das Ende liegt in der Zukunft."
    if data.activation_reason not in ActivationReason.values:
        errors["activation_reason"] = "Bitte den Anlass der Aktivierung wählen."
    elif data.activation_reason == ActivationReason.OTHER and not data.activation_note.strip():
        errors["activation_note"] = "Bei „Sonstiger Grund“ bitte den Anlass beschreiben."
    if not data.announced and data.activation_reason != ActivationReason.IMMINENT:
        errors["announced"] = (
            "Ohne Ankündigung darf nur bei Gefahr im Verzug aufgenommen werden (§ 15c Abs. 3 PolG NRW)."
        )
    incident = None
    if data.incident_id is not None:
        incident = Incident.objects.filter(pk=data.incident_id, authority_id=user.authority_id).first()
        if incident is None:
            errors["incident"] = f"Feststellung Nr. {data.incident_id} wurde nicht gefunden."
    if errors:
        raise ValidationError(errors)
    return wearer, incident


def register_recording(
    *, user: User, upload: UploadedFile | None, data: RegistrationInput, now: dt.datetime | None = None
) -> Recording:
    """Store the file (streaming copy, hashed while copying) and register the recording."""
    if not may_use(user):
        raise PermissionDenied
    now = now or timezone.now()
    errors: dict[str, Any] = {}
    media_type = ""
    try:
        _, media_type = _check_upload(upload)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        wearer, incident = _validate(user, data, now)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert upload is not None and data.started_at is not None and data.ended_at is not None
    folder = f"{user.authority.code}/{timezone.localtime(data.started_at):%Y/%m}"
    stored = storage.store_stream(
        upload.chunks(storage.CHUNK_SIZE), folder=folder, extension=storage.EXTENSIONS[media_type]
    )
    duplicate = Recording.objects.filter(authority_id=user.authority_id, sha256=stored.sha256).first()
    if duplicate is not None:
        if stored.created:
            storage.remove(stored.relative_path)
        raise ValidationError(
            {"file": f"Diese Datei ist bereits als Aufnahme Nr. {duplicate.pk} registriert."}
        )
    try:
        with transaction.atomic():
            device, _ = Device.objects.get_or_create(
                authority_id=user.authority_id, serial=data.device_serial.strip()
            )
            recording = Recording.objects.create(
                authority_id=user.authority_id,
                device=device,
                wearer=wearer,
                started_at=data.started_at,
                ended_at=data.ended_at,
                incident=incident,
                activation_reason=data.activation_reason,
                activation_note=data.activation_note.strip(),
                announced=data.announced,
                location_text=data.location_text.strip(),
                legal_basis=legal_basis_for(user.authority),
                sha256=stored.sha256,
                size_bytes=stored.size,
                media_type=media_type,
                storage_path=stored.relative_path,
                delete_after=later(data.started_at, dt.timedelta(days=retention_days())),
                registered_at=now,
                registered_by=user,
            )
            add_custody(
                recording,
                CustodyEvent.Kind.REGISTERED,
                actor=user,
                at=now,
                reason=recording.get_activation_reason_display(),
                sha256=stored.sha256,
                size=stored.size,
                device=device.serial,
            )
            audit.log("bodycam.recording.registered", user=user, obj=recording, sha256=stored.sha256)
    except IntegrityError:
        # The same file registered a moment ago by a parallel upload.
        if stored.created:
            storage.remove(stored.relative_path)
        raise ValidationError({"file": "Diese Datei ist bereits registriert."}) from None
    except BaseException:
        if stored.created:
            storage.remove(stored.relative_path)
        raise
    return recording


# --- access, copies, handover -------------------------------------------------------------


ACCESS_KINDS = {"view": CustodyEvent.Kind.VIEWED, "copy": CustodyEvent.Kind.COPIED}


def _require_available(recording: Recording) -> None:
    if recording.is_deleted:
        raise ValidationError("Die Aufnahme wurde gelöscht; nur ihr Nachweis ist noch vorhanden.")


def record_access(*, user: User, recording: Recording, purpose: str, reason: str) -> CustodyEvent:
    """Log a view or a copy with its reason before any byte of the file leaves the directory."""
    if not may_use(user):
        raise PermissionDenied
    if purpose == "copy" and not is_supervisor(user):
        raise PermissionDenied
    _require_available(recording)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Bitte den Grund für den Zugriff angeben."})
    if purpose not in ACCESS_KINDS:
        raise ValidationError({"purpose": "Bitte wählen, ob angesehen oder kopiert wird."})
    with transaction.atomic():
        locked = _locked(recording)
        event = add_custody(locked, ACCESS_KINDS[purpose], actor=user, reason=reason)
        audit.log(f"bodycam.recording.{purpose}", user=user, obj=locked, reason=reason)
    return event


def hand_over(
    *, user: User, recording: Recording, recipient: str, reference: str, reason: str
) -> CustodyEvent:
    """Log the handover of a copy to another body (e.g. the public prosecutor)."""
    if not is_supervisor(user):
        raise PermissionDenied
    _require_available(recording)
    errors = {}
    if not recipient.strip():
        errors["recipient"] = "Bitte angeben, an wen die Aufnahme übergeben wird."
    if not reason.strip():
        errors["reason"] = "Bitte den Grund der Übergabe angeben."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(recording)
        event = add_custody(
            locked,
            CustodyEvent.Kind.HANDED_OVER,
            actor=user,
            reason=reason.strip(),
            recipient=recipient.strip(),
            reference=reference.strip(),
            sha256=locked.sha256,
        )
        audit.log(
            "bodycam.recording.handed_over",
            user=user,
            obj=locked,
            recipient=recipient.strip(),
            reference=reference.strip(),
            reason=reason.strip(),
        )
    return event


# --- four-eyes retention ------------------------------------------------------------------


def slot_of(user: User, recording: Recording) -> str | None:
    """Which confirmation a person can give: the wearer's, a supervisor's, or none."""
    if user.pk == recording.wearer_id:
        return "wearer"
    if is_supervisor(user) and user.authority_id == recording.authority_id:
        return "supervisor"
    return None


def _fill(decision: RetentionDecision, slot: str, user: User, now: dt.datetime) -> None:
    if slot == "wearer":
        decision.wearer_confirmed_by, decision.wearer_confirmed_at = user, now
    else:
        decision.supervisor_confirmed_by, decision.supervisor_confirmed_at = user, now


def _complete_if_confirmed(decision: RetentionDecision, recording: Recording, now: dt.datetime) -> bool:
    if decision.wearer_confirmed_by_id is None or decision.supervisor_confirmed_by_id is None:
        return False
    decision.status = RetentionDecision.Status.CONFIRMED
    decision.closed_at = now
    decision.save()
    recording.state = RetentionState.RETAINED
    recording.delete_after = decision.delete_after
    recording.save(update_fields=["state", "delete_after"])
    add_custody(
        recording,
        CustodyEvent.Kind.RETAINED,
        at=now,
        reason=f"{decision.get_reason_display()}: {decision.note}",
        decision=decision.pk,
        reference=decision.reference,
        delete_after=decision.delete_after.isoformat(),
        wearer=decision.wearer_confirmed_by_id,
        supervisor=decision.supervisor_confirmed_by_id,
    )
    audit.log(
        "bodycam.recording.retained",
        obj=recording,
        decision=decision.pk,
        delete_after=decision.delete_after.isoformat(),
    )
    return True


def request_retention(
    *,
    user: User,
    recording: Recording,
    reason: str,
    reference: str,
    note: str,
    delete_after: dt.datetime | None,
    now: dt.datetime | None = None,
) -> RetentionDecision:
    """Start keeping a recording as evidence; counts as the requesting person's confirmation."""
    now = now or timezone.now()
    slot = slot_of(user, recording)
    if slot is None:
        raise PermissionDenied
    _require_available(recording)
    errors: dict[str, str] = {}
    if reason not in RetentionReason.values:
        errors["reason"] = "Bitte den Grund der Sicherung wählen."
    if not note.strip():
        errors["note"] = "Bitte die Sicherung begründen."
    if delete_after is None:
        errors["delete_after"] = "Bitte das neue Löschdatum angeben."
    elif delete_after <= now:
        errors["delete_after"] = "Das neue Löschdatum muss in der Zukunft liegen."
    elif delete_after > later(now, MAX_RETENTION):
        errors["delete_after"] = "Das neue Löschdatum darf höchstens zehn Jahre in der Zukunft liegen."
    if errors:
        raise ValidationError(errors)
    assert delete_after is not None
    with transaction.atomic():
        locked = _locked(recording)
        if locked.retentions.filter(status=RetentionDecision.Status.OPEN).exists():
            raise ValidationError("Für diese Aufnahme wartet bereits eine Sicherung auf Bestätigung.")
        decision = RetentionDecision(
            recording=locked,
            reason=reason,
            reference=reference.strip(),
            note=note.strip(),
            delete_after=delete_after,
            created_at=now,
            created_by=user,
        )
        _fill(decision, slot, user, now)
        decision.save()
        add_custody(
            locked,
            CustodyEvent.Kind.RETENTION_REQUESTED,
            actor=user,
            at=now,
            reason=f"{decision.get_reason_display()}: {decision.note}",
            decision=decision.pk,
            role=slot,
            reference=decision.reference,
            delete_after=delete_after.isoformat(),
        )
        audit.log("bodycam.retention.requested", user=user, obj=locked, decision=decision.pk)
    return decision


def confirm_retention(
    *, user: User, decision: RetentionDecision, now: dt.datetime | None = None
) -> RetentionDecision:
    """The second pair of eyes. The same person can never give both confirmations."""
    now = now or timezone.now()
    with transaction.atomic():
        recording = _locked(decision.recording)
        decision = RetentionDecision.objects.select_for_update().get(pk=decision.pk)
        slot = slot_of(user, recording)
        if slot is None:
            raise PermissionDenied
        _require_available(recording)
        if decision.status != RetentionDecision.Status.OPEN:
            raise ValidationError("Diese Sicherung ist bereits abgeschlossen.")
        if user.pk in (decision.wearer_confirmed_by_id, decision.supervisor_confirmed_by_id):
            raise ValidationError(
                "Vier-Augen-Prinzip: Sie haben diese Sicherung bereits bestätigt. Die zweite "
                "Bestätigung muss von einer anderen Person kommen."
            )
        filled = decision.wearer_confirmed_by_id if slot == "wearer" else decision.supervisor_confirmed_by_id
        if filled is not None:
            other = (
                "die Trägerin oder der Träger der Kamera" if slot == "supervisor" else "eine Schichtleitung"
            )
            raise ValidationError(
                f"Vier-Augen-Prinzip: Diese Bestätigung liegt schon vor; jetzt muss {other} bestätigen."
            )
        _fill(decision, slot, user, now)
        decision.save()
        add_custody(
            recording,
            CustodyEvent.Kind.RETENTION_CONFIRMED,
            actor=user,
            at=now,
            decision=decision.pk,
            role=slot,
        )
        audit.log("bodycam.retention.confirmed", user=user, obj=recording, decision=decision.pk)
        _complete_if_confirmed(decision, recording, now)
    return decision


def reject_retention(
    *, user: User, decision: RetentionDecision, note: str, now: dt.datetime | None = None
) -> RetentionDecision:
    """The other person does not agree: the recording keeps its deletion date."""
    now = now or timezone.now()
    with transaction.atomic():
        recording = _locked(decision.recording)
        decision = RetentionDecision.objects.select_for_update().get(pk=decision.pk)
        if slot_of(user, recording) is None:
            raise PermissionDenied
        if decision.status != RetentionDecision.Status.OPEN:
            raise ValidationError("Diese Sicherung ist bereits abgeschlossen.")
        if not note.strip():
            raise ValidationError({"note": "Bitte die Ablehnung begründen."})
        decision.status = RetentionDecision.Status.REJECTED
        decision.closed_at, decision.closed_by = now, user
        decision.save()
        add_custody(
            recording,
            CustodyEvent.Kind.RETENTION_REJECTED,
            actor=user,
            at=now,
            reason=note.strip(),
            decision=decision.pk,
        )
        audit.log("bodycam.retention.rejected", user=user, obj=recording, decision=decision.pk)
    return decision


# --- deletion -----------------------------------------------------------------------------


def delete_recording(recording: Recording, *, now: dt.datetime, reason: str) -> None:
    """Remove the file, keep the row as a tombstone (hash, size, custody chain).

    The file goes first: a crash between the two steps leaves a row whose file is missing,
    which the next purge finishes (removing a missing file is fine) and ``verify`` reports.
    """
    storage.remove(recording.storage_path)
    with transaction.atomic():
        locked = _locked(recording)
        if locked.is_deleted:
            return
        locked.state = RetentionState.DELETED
        locked.deleted_at = now
        locked.save(update_fields=["state", "deleted_at"])
        locked.retentions.filter(status=RetentionDecision.Status.OPEN).update(
            status=RetentionDecision.Status.LAPSED, closed_at=now
        )
        add_custody(
            locked,
            CustodyEvent.Kind.DELETED,
            at=now,
            reason=reason,
            sha256=locked.sha256,
            delete_after=locked.delete_after.isoformat(),
        )
        audit.log("bodycam.recording.deleted", obj=locked, reason=reason, sha256=locked.sha256)
