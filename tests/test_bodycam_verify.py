"""``lagebild recordings verify`` re-hashes every stored file and checks every custody chain."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from lagebild.bodycam import services, storage
from lagebild.bodycam.models import CustodyEvent, Recording
from lagebild.bodycam.retention import verify_all
from lagebild.core.scoping import unscoped

from .bodycam_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("recordings", "verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_all_good(kod, polizei, register) -> None:
    register(kod, "a"), register(polizei, "b")
    code, out, err = _verify()
    assert code == 0 and err == ""
    assert "2 Dateien geprüft, alle Prüfsummen stimmen." in out
    with unscoped():
        results = list(
            CustodyEvent.objects.filter(kind=CustodyEvent.Kind.VERIFIED).values_list("detail", flat=True)
        )
    assert results == [{"result": "ok"}, {"result": "ok"}]


def test_a_modified_file_is_reported(kod, register) -> None:
    good, changed = register(kod, "a"), register(kod, "b")
    path = storage.absolute_path(changed.storage_path)
    data = bytearray(path.read_bytes())
    data[2000] ^= 0x01  # one bit
    path.write_bytes(bytes(data))

    code, _, err = _verify()

    assert code == 1
    assert f"Aufnahme Nr. {changed.pk}: Prüfsumme weicht ab: erwartet {changed.sha256}" in err
    assert f"Aufnahme Nr. {good.pk}" not in err
    assert "1 Probleme gefunden" in err
    with unscoped():
        last = changed.custody.order_by("-pk").first()
    assert last.kind == CustodyEvent.Kind.VERIFIED and last.detail == {"result": "mismatch"}


def test_a_missing_file_is_reported(kod, register) -> None:
    recording = register(kod)
    storage.absolute_path(recording.storage_path).unlink()
    code, _, err = _verify()
    assert code == 1
    assert f"Aufnahme Nr. {recording.pk}: Datei fehlt: {recording.storage_path}" in err


def test_a_changed_custody_entry_is_reported(kod, register) -> None:
    recording = register(kod)
    with unscoped(), transaction.atomic():
        # Past the model's append-only guard, as the owner of the tables could (on PostgreSQL
        # only with the maintenance switch the trigger honours for the owner).
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lagebild.audit_maintenance = 'on'")
        CustodyEvent.objects.filter(recording=recording).update(reason="geändert")
    _, problems = verify_all(record=False)
    assert [p.kind for p in problems] == ["chain"]
    assert "wurde verändert" in problems[0].message


def test_custody_entries_cannot_be_changed_or_deleted_through_the_model(kod, register) -> None:
    recording = register(kod)
    with unscoped():
        event = recording.custody.get()
    event.reason = "anders"
    with pytest.raises(Exception, match="nicht geändert"):
        event.save()
    with pytest.raises(Exception, match="nicht gelöscht"):
        event.delete()


def test_deleted_recordings_are_not_missing(clock, kod, register) -> None:
    import datetime as dt

    from lagebild.bodycam.retention import purge_due

    recording = register(kod)
    clock.move_to(recording.started_at.astimezone(dt.UTC) + dt.timedelta(days=14), tick=False)
    purge_due(clock.now, dry_run=False)
    code, out, _ = _verify()
    assert code == 0 and "0 Dateien geprüft" in out
    with unscoped():
        assert Recording.objects.get(pk=recording.pk).sha256 == recording.sha256


def test_demo_recordings_are_deterministic_and_verified(kod, kod_lead, polizei, recordings_dir) -> None:
    from lagebild.bodycam import demo
    from lagebild.bodycam.models import RetentionState

    assert demo.generate() == 5
    assert demo.generate() == 0  # once only
    with unscoped():
        hashes = set(Recording.objects.values_list("sha256", flat=True))
        states = sorted(Recording.objects.values_list("state", flat=True))
        kept = Recording.objects.get(state=RetentionState.RETAINED)
        kinds = list(kept.custody.order_by("pk").values_list("kind", flat=True))
    assert hashes == {hashlib.sha256(demo.demo_file(str(i))).hexdigest() for i in range(5)}
    assert states.count(RetentionState.RETAINED) == 1 and states.count(RetentionState.STORED) == 4
    assert kinds[-2:] == [CustodyEvent.Kind.COPIED, CustodyEvent.Kind.HANDED_OVER]
    assert verify_all(record=False)[1] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger only on PostgreSQL")
def test_postgresql_refuses_changes_to_the_chain(kod, register) -> None:
    recording = register(kod)
    with unscoped():
        for change in (
            lambda: CustodyEvent.objects.filter(recording=recording).update(reason="geändert"),
            lambda: CustodyEvent.objects.filter(recording=recording)._raw_delete(connection.alias),
        ):
            with pytest.raises(DatabaseError, match="Verwahrkette ist unveränderlich"), transaction.atomic():
                change()
        assert recording.custody.get().reason == "Konkrete Gefahr für Leib oder Leben (§ 15c Abs. 1 PolG NRW)"


def test_deleting_an_account_keeps_its_entries(kod, make_user, city, register) -> None:
    recording = register(kod)
    reviewer = make_user("pruefung", city, "shift_lead", first_name="Rita", last_name="Prüfer")
    with unscoped():
        services.record_access(user=reviewer, recording=recording, purpose="view", reason="Prüfung")
    reviewer.delete()
    with unscoped():
        viewed = recording.custody.order_by("pk").last()
    assert viewed.actor_name == "Rita Prüfer (pruefung)"
    assert verify_all(record=False)[1] == []
