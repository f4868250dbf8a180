"""Retention of the audit log: the oldest entries go, the chain stays verifiable from its new start."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from lagebild.core import audit
from lagebild.core.audit_verify import verify
from lagebild.core.models import AuditChainHead, AuditEvent
from lagebild.privacy import engine


@pytest.fixture
def anchors(tmp_path, settings):
    path = tmp_path / "anchors.jsonl"
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(path)
    return path


def test_retention_removes_the_oldest_entries_and_keeps_the_chain_verifiable(
    clock, kod, polizei, anchors, django_capture_on_commit_callbacks
):
    clock.move_to("2025-03-10T10:00:00+01:00")
    old = [audit.log("test.old", user=kod if n % 2 else polizei) for n in range(4)]
    clock.move_to("2026-06-10T10:00:00+02:00")
    kept = [audit.log("test.new", user=kod) for n in range(3)]
    # Entries of 2025 are due at the end of 2026 (end of the year after their creation).
    clock.move_to("2026-12-31T23:00:00+01:00")
    engine.run(types=["audit_entry"])
    assert AuditEvent.objects.filter(action="test.old").count() == 4  # one day before: nothing
    clock.move_to("2027-01-02T08:00:00+01:00")
    with django_capture_on_commit_callbacks(execute=True):  # the anchor is written after the commit
        report = engine.run(types=["audit_entry"])
    assert report.counts["audit_entry"]["deleted"] == 4
    assert not AuditEvent.objects.filter(action="test.old").exists()
    assert AuditEvent.objects.filter(action="test.new").count() == 3
    head = AuditChainHead.objects.get()
    assert (head.start_seq, head.start_hash) == (old[-1].seq, old[-1].entry_hash)
    marker = AuditEvent.objects.get(action="audit.pruned")
    assert marker.detail["start_seq"] == old[-1].seq and marker.detail["removed"] == 4
    assert json.loads(anchors.read_text().splitlines()[-1])["seq"] == old[-1].seq
    result = verify()
    assert result.ok, result.problems
    assert result.entries == len(kept) + 3  # the kept ones, the marker and the two runs' own entries


def test_a_run_for_one_authority_removes_no_entry(clock, kod, anchors):
    clock.move_to("2024-03-10T10:00:00+01:00")
    audit.log("test.old", user=kod)
    clock.move_to("2027-03-10T10:00:00+01:00")
    engine.run(types=["audit_entry"], authority_id=kod.authority_id)
    assert AuditEvent.objects.filter(action="test.old").exists()


def test_start_removed_without_the_retention_marker_is_found(kod, anchors):
    entries = [audit.log("test.x", user=kod) for _ in range(4)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL lagebild.audit_maintenance = 'on'")
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq <= 2")
    # Someone also moves the chain's start to cover it up.
    AuditChainHead.objects.update(start_seq=2, start_hash=entries[1].entry_hash)
    problems = verify().problems
    assert [(p.kind, p.seq) for p in problems] == [("head", 2)]
    AuditChainHead.objects.update(start_seq=0, start_hash="0" * 64)
    assert [(p.kind, p.seq) for p in verify().problems] == [("removed", 3)]


def test_only_the_oldest_entries_can_be_removed(kod, anchors):
    from lagebild.core.audit_retention import prune

    entries = [audit.log("test.x", user=kod) for _ in range(3)]
    with pytest.raises(ValueError, match="ältesten"):
        prune([entries[1].pk])
    assert AuditEvent.objects.count() == 3
