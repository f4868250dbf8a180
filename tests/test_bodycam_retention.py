"""Bodycam recordings are deleted 14 days after their start unless two people keep them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from lagebild.bodycam import services, storage
from lagebild.bodycam.models import (
    CustodyEvent,
    Recording,
    RetentionDecision,
    RetentionReason,
    RetentionState,
)
from lagebild.bodycam.retention import due_recordings, purge_due, verify_all
from lagebild.core.models import AuditEvent, Role
from lagebild.core.scoping import unscoped

from .bodycam_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _reload(recording: Recording) -> Recording:
    with unscoped():
        return Recording.objects.get(pk=recording.pk)


def _file(recording: Recording):  # type: ignore[no-untyped-def]
    return storage.absolute_path(recording.storage_path)


@pytest.mark.parametrize(("days", "deleted"), [(13, False), (14, True), (15, True)])
def test_deleted_fourteen_days_after_the_start(clock, kod, register, days, deleted) -> None:
    recording = register(kod)
    assert _file(recording).exists()
    clock.move_to(recording.started_at.astimezone(dt.UTC) + days * DAY, tick=False)

    count = purge_due(clock.now, dry_run=False)

    recording = _reload(recording)
    assert count == (1 if deleted else 0)
    assert (recording.state == RetentionState.DELETED) is deleted
    assert _file(recording).exists() is not deleted
    if deleted:
        # Tombstone: hash, size and the chain stay; the deletion is its last link.
        assert recording.sha256 and recording.size_bytes == 4096
        with unscoped():
            kinds = list(recording.custody.order_by("pk").values_list("kind", flat=True))
        assert kinds == [CustodyEvent.Kind.REGISTERED, CustodyEvent.Kind.DELETED]


def test_one_second_before_the_deadline_nothing_is_due(clock, kod, register) -> None:
    recording = register(kod)
    deadline = recording.started_at.astimezone(dt.UTC) + 14 * DAY
    with unscoped():
        assert not due_recordings(deadline - dt.timedelta(seconds=1)).exists()
        assert list(due_recordings(deadline)) == [recording]


def test_purge_dry_run_counts_and_keeps_everything(clock, kod, polizei, register) -> None:
    first, second = register(kod, "a"), register(polizei, "b")
    clock.move_to(first.started_at.astimezone(dt.UTC) + 20 * DAY, tick=False)

    assert purge_due(clock.now, dry_run=True) == 2
    assert _file(first).exists() and _file(second).exists()
    assert _reload(first).state == RetentionState.STORED

    assert purge_due(clock.now, dry_run=False) == 2
    assert purge_due(clock.now, dry_run=False) == 0  # idempotent
    assert not _file(first).exists() and not _file(second).exists()


def test_purge_command(clock, kod, register) -> None:
    recording = register(kod)
    clock.move_to(recording.started_at.astimezone(dt.UTC) + 15 * DAY, tick=False)
    out = io.StringIO()
    call_command("recordings", "purge", "--dry-run", stdout=out)
    assert "1 Aufnahmen sind fällig" in out.getvalue()
    assert _reload(recording).state == RetentionState.STORED
    out = io.StringIO()
    call_command("recordings", "purge", stdout=out)
    assert "1 fällige Aufnahmen gelöscht" in out.getvalue()
    assert _reload(recording).state == RetentionState.DELETED


def test_purge_finishes_after_a_crash_between_file_and_row(clock, kod, register) -> None:
    recording = register(kod)
    _file(recording).unlink()  # the file went, the row was not updated
    clock.move_to(recording.started_at.astimezone(dt.UTC) + 14 * DAY, tick=False)
    assert purge_due(clock.now, dry_run=False) == 1
    assert _reload(recording).state == RetentionState.DELETED


# --- four eyes ----------------------------------------------------------------------------


def _request(user, recording, clock, days: int = 90) -> RetentionDecision:  # type: ignore[no-untyped-def]
    with unscoped():
        return services.request_retention(
            user=user,
            recording=recording,
            reason=RetentionReason.CRIMINAL,
            reference="StA Dortmund 123 Js 456/26",
            note="Widerstand gegen Vollstreckungsbeamte",
            delete_after=clock.now + days * DAY,
        )


def test_the_wearer_alone_cannot_keep_a_recording(clock, kod, register) -> None:
    recording = register(kod)
    decision = _request(kod, recording, clock)
    with unscoped(), pytest.raises(ValidationError, match="Vier-Augen-Prinzip"):
        services.confirm_retention(user=kod, decision=decision)
    assert _reload(recording).state == RetentionState.STORED

    clock.move_to(recording.started_at.astimezone(dt.UTC) + 14 * DAY, tick=False)
    assert purge_due(clock.now, dry_run=False) == 1
    with unscoped():
        decision.refresh_from_db()
    assert decision.status == RetentionDecision.Status.LAPSED


def test_a_supervisor_alone_cannot_keep_a_recording(clock, kod, kod_lead, make_user, city, register) -> None:
    recording = register(kod)
    decision = _request(kod_lead, recording, clock)
    with unscoped(), pytest.raises(ValidationError, match="Vier-Augen-Prinzip"):
        services.confirm_retention(user=kod_lead, decision=decision)
    # A second shift lead is still not the wearer: the wearer's confirmation is missing.
    other_lead = make_user("kod-lead-2", city, Role.SHIFT_LEAD)
    with unscoped(), pytest.raises(ValidationError, match="Trägerin oder der Träger"):
        services.confirm_retention(user=other_lead, decision=decision)
    assert _reload(recording).state == RetentionState.STORED


def test_a_shift_lead_wearing_the_camera_needs_another_shift_lead(
    clock, kod_lead, make_user, city, register
) -> None:
    recording = register(kod_lead)  # the shift lead wore the camera
    decision = _request(kod_lead, recording, clock)
    assert decision.wearer_confirmed_by == kod_lead and decision.supervisor_confirmed_by is None
    with unscoped(), pytest.raises(ValidationError):
        services.confirm_retention(user=kod_lead, decision=decision)
    other_lead = make_user("kod-lead-2", city, Role.SHIFT_LEAD)
    with unscoped():
        services.confirm_retention(user=other_lead, decision=decision)
    assert _reload(recording).state == RetentionState.RETAINED


def test_wearer_and_supervisor_together_keep_it_until_the_new_date(clock, kod, kod_lead, register) -> None:
    recording = register(kod)
    decision = _request(kod, recording, clock, days=90)
    with unscoped():
        decision = services.confirm_retention(user=kod_lead, decision=decision)
    assert decision.status == RetentionDecision.Status.CONFIRMED
    recording = _reload(recording)
    assert recording.state == RetentionState.RETAINED
    assert recording.delete_after == decision.delete_after

    start = recording.started_at.astimezone(dt.UTC)
    for days in (14, 15, 60):
        clock.move_to(start + days * DAY, tick=False)
        assert purge_due(clock.now, dry_run=False) == 0
    assert _file(recording).exists()

    clock.move_to(decision.delete_after + dt.timedelta(seconds=1), tick=False)
    assert purge_due(clock.now, dry_run=False) == 1
    recording = _reload(recording)
    assert recording.state == RetentionState.DELETED
    with unscoped():
        kinds = list(recording.custody.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        CustodyEvent.Kind.REGISTERED,
        CustodyEvent.Kind.RETENTION_REQUESTED,
        CustodyEvent.Kind.RETENTION_CONFIRMED,
        CustodyEvent.Kind.RETAINED,
        CustodyEvent.Kind.DELETED,
    ]
    # The chain is intact and every step is in the audit trail.
    assert verify_all(clock.now, record=False)[1] == []
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "bodycam.retention.requested",
        "bodycam.retention.confirmed",
        "bodycam.recording.retained",
    } <= actions


def test_rejection_keeps_the_deadline(clock, kod, kod_lead, register) -> None:
    recording = register(kod)
    decision = _request(kod, recording, clock)
    with unscoped():
        services.reject_retention(user=kod_lead, decision=decision, note="Kein Anlass erkennbar")
    assert _reload(recording).state == RetentionState.STORED
    clock.move_to(recording.started_at.astimezone(dt.UTC) + 14 * DAY, tick=False)
    assert purge_due(clock.now, dry_run=False) == 1


def test_others_cannot_take_part(clock, kod, make_user, city, police_lead, register) -> None:
    recording = register(kod)
    colleague = make_user("kod-2", city, Role.FIELD_OFFICER)
    analyst = make_user("analyse-2", city, Role.ANALYST)
    for outsider in (colleague, analyst, police_lead):
        with pytest.raises(PermissionDenied):
            _request(outsider, recording, clock)


def test_new_deletion_date_must_lie_ahead(clock, kod, register) -> None:
    recording = register(kod)
    with unscoped(), pytest.raises(ValidationError) as error:
        services.request_retention(
            user=kod,
            recording=recording,
            reason=RetentionReason.OWI,
            reference="",
            note="",
            delete_after=clock.now - DAY,
        )
    assert set(error.value.message_dict) == {"note", "delete_after"}
