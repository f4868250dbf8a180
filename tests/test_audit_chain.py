"""The audit log as a hash chain: appended in order, tampering found and located, anchors.

Tampering is done the way someone with database access would: SQL on the table, past the
application (on PostgreSQL with the maintenance setting the trigger asks of the owner).
"""

from __future__ import annotations

import itertools
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from lagebild.core import audit
from lagebild.core.audit_chain import GENESIS, canonical_form, canonical_time, entry_hash
from lagebild.core.audit_verify import anchor, verify
from lagebild.core.models import AuditChainHead, AuditEvent, Role

TABLE = AuditEvent._meta.db_table


def sql(statement: str, params: list | None = None) -> None:
    """Change the table directly, like an attacker with database access."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL lagebild.audit_maintenance = 'on'")
        cursor.execute(statement, params or [])


@pytest.fixture
def anchors(tmp_path, settings):
    path = tmp_path / "anchors.jsonl"
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(path)
    return path


@pytest.fixture
def chain(kod, polizei, anchors) -> list[AuditEvent]:
    """Six entries by users of both authorities, with details of every JSON kind."""
    entries = []
    for number in range(6):
        user = kod if number % 2 == 0 else polizei
        entries.append(
            audit.log(
                f"test.action{number}",
                user=user,
                obj=user,
                purpose="Prüfung",
                number=number,
                share=0.25 * number,
                whole=2.0,
                names=["Ä", "b"],
                nested={"z": None, "a": True},
            )
        )
    return entries


def problems(kind: str | None = None) -> list:
    result = verify()
    assert not result.ok
    return [p for p in result.problems if kind is None or p.kind == kind]


def test_entries_are_numbered_without_gaps_and_linked(chain):
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.entry_hash
    head = AuditChainHead.objects.get()
    assert (head.seq, head.entry_hash) == (6, rows[-1].entry_hash)
    result = verify()
    assert result.ok, result.problems
    assert result.entries == 6


def test_hash_covers_actor_purpose_channel_and_details(chain, kod):
    first = AuditEvent.objects.get(seq=1)
    assert first.actor_name == "Kim Ordnung (kod)"
    assert first.authority_id == kod.authority_id
    assert first.purpose == "Prüfung"
    assert first.channel == AuditEvent.Channel.COMMAND  # no request: a command or job
    # Whole floats are kept as integers, so both databases give back what was hashed.
    assert first.detail["whole"] == 2 and isinstance(first.detail["whole"], int)
    assert first.entry_hash == entry_hash(
        seq=1,
        at=canonical_time(first.at),
        user_id=kod.pk,
        actor_name="Kim Ordnung (kod)",
        authority_id=kod.authority_id,
        action="test.action0",
        object_type="core.user",
        object_id=str(kod.pk),
        purpose="Prüfung",
        channel="command",
        ip="",
        detail=first.detail,
        prev_hash=GENESIS,
    )


def test_changed_entry_is_found_with_its_position(chain):
    target = chain[2]
    sql(f"UPDATE {TABLE} SET detail = %s WHERE id = %s", [json.dumps({"number": 99}), target.pk])
    found = problems()
    assert [(p.kind, p.seq, p.id) for p in found] == [("changed", 3, target.pk)]
    assert f"Laufnummer 3, ID {target.pk}" in str(found[0])


def test_changed_actor_is_found(chain):
    sql(f"UPDATE {TABLE} SET actor_name = %s WHERE id = %s", ["Jemand anderes", chain[4].pk])
    assert [(p.kind, p.seq) for p in problems()] == [("changed", 5)]


def test_removed_entry_is_found_with_its_position(chain):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])
    found = problems()
    assert [(p.kind, p.seq, p.id) for p in found] == [("removed", 4, chain[3].pk)]
    assert "Laufnummer 3" in found[0].message


def test_removed_last_entries_are_found_from_the_head(chain):
    sql(f"DELETE FROM {TABLE} WHERE seq >= 5")
    assert [(p.kind, p.seq) for p in problems()] == [("removed", 6)]


def test_reordered_entries_are_found(chain):
    second, third = chain[1], chain[2]
    sql(f"UPDATE {TABLE} SET seq = -1 WHERE id = %s", [second.pk])
    sql(f"UPDATE {TABLE} SET seq = 2 WHERE id = %s", [third.pk])
    sql(f"UPDATE {TABLE} SET seq = 3 WHERE id = %s", [second.pk])
    found = problems()
    assert ("reordered", 3, second.pk) in [(p.kind, p.seq, p.id) for p in found]
    assert {p.kind for p in found} <= {"reordered", "changed", "broken"}


def test_inserted_entry_is_found_even_with_a_valid_hash(chain, kod):
    """A forged entry slipped in at position 3 with a correct hash of its own: the later
    entries are renumbered (changed), and the old third entry points past the forged one."""
    for entry in reversed(chain[2:]):
        sql(f"UPDATE {TABLE} SET seq = seq + 1 WHERE id = %s", [entry.pk])
    prev = chain[1].entry_hash
    at = chain[2].at
    forged_hash = entry_hash(
        seq=3,
        at=canonical_time(at),
        user_id=kod.pk,
        actor_name="Kim Ordnung (kod)",
        authority_id=kod.authority_id,
        action="field.incident.created",
        object_type="",
        object_id="",
        purpose="",
        channel="web",
        ip="",
        detail={},
        prev_hash=prev,
    )
    forged = AuditEvent(
        seq=3,
        at=at,
        user_id=kod.pk,
        actor_name="Kim Ordnung (kod)",
        authority_id=kod.authority_id,
        action="field.incident.created",
        channel="web",
        detail={},
        prev_hash=prev,
        entry_hash=forged_hash,
    )
    forged.save(force_insert=True)
    found = problems()
    assert ("inserted", 3, forged.pk) in [(p.kind, p.seq, p.id) for p in found]


def test_entry_appended_past_the_head_is_found(chain, kod):
    last = chain[-1]
    digest = entry_hash(
        seq=7,
        at=canonical_time(last.at),
        user_id=None,
        actor_name="",
        authority_id=None,
        action="x",
        object_type="",
        object_id="",
        purpose="",
        channel="",
        ip="",
        detail={},
        prev_hash=last.entry_hash,
    )
    AuditEvent(seq=7, at=last.at, action="x", prev_hash=last.entry_hash, entry_hash=digest).save(
        force_insert=True
    )
    assert [(p.kind, p.seq) for p in problems()] == [("inserted", 7)]


def test_whole_chain_rewrite_is_found_by_the_anchor(chain, anchors):
    written = anchor()
    assert written["seq"] == 6
    assert verify().ok
    # Rewrite every entry with a changed detail and fresh, consistent hashes and head.
    prev = GENESIS
    for row in AuditEvent.objects.order_by("seq"):
        detail = {**row.detail, "number": 1000 + row.seq}
        digest = entry_hash(
            seq=row.seq,
            at=canonical_time(row.at),
            user_id=row.user_id,
            actor_name=row.actor_name,
            authority_id=row.authority_id,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            purpose=row.purpose,
            channel=row.channel,
            ip=row.ip,
            detail=detail,
            prev_hash=prev,
        )
        sql(
            f"UPDATE {TABLE} SET detail = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
            [json.dumps(detail), prev, digest, row.pk],
        )
        prev = digest
    AuditChainHead.objects.filter(pk=1).update(entry_hash=prev)
    found = problems()
    assert [(p.kind, p.seq) for p in found] == [("anchor", 6)]
    assert "neu geschrieben" in found[0].message


def test_commands_verify_and_anchor(chain, anchors, capsys):
    call_command("audit", "anchor")
    assert json.loads(anchors.read_text().splitlines()[-1])["seq"] == 6
    call_command("audit", "verify")
    assert "Protokoll in Ordnung: 6 Einträge" in capsys.readouterr().out
    sql(f"UPDATE {TABLE} SET action = 'anders' WHERE seq = 2")
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    assert failure.value.returncode == 1
    assert f"FEHLER changed: Laufnummer 2, ID {chain[1].pk}" in capsys.readouterr().out


def test_audit_help_lists_the_daily_anchor(capsys):
    from django.core.management import load_command_class

    command = load_command_class("lagebild.core", "audit")
    help_text = command.create_parser("lagebild", "audit").format_help()
    assert "Tägliche Aufgaben" in help_text
    assert "lagebild audit anchor" in help_text


def test_deleted_user_stays_the_actor_with_id_and_name(make_user, city, anchors):
    leaving = make_user("weg", city, Role.FIELD_OFFICER, first_name="Wera", last_name="Weg")
    entry = audit.log("field.incident.viewed", user=leaving, object_type="field.incident", object_id=7)
    leaving_id = leaving.pk
    leaving.delete()
    entry = AuditEvent.objects.get(pk=entry.pk)
    assert entry.user_id == leaving_id
    assert entry.actor_name == "Wera Weg (weg)"
    assert verify().ok


def test_rolled_back_action_leaves_neither_entry_nor_gap(kod, anchors):
    from django.db import transaction

    audit.log("one", user=kod)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.log("two", user=kod)
        raise RuntimeError
    audit.log("three", user=kod)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "action")) == [(1, "one"), (2, "three")]
    assert verify().ok


def test_existing_entries_chained_by_the_migration_verify(kod, anchors):
    """The data migration's chaining (0005) gives entries verify accepts."""
    from importlib import import_module

    from django.apps import apps as global_apps

    migration = import_module("lagebild.core.migrations.0005_audit_chain_existing")
    # Entries as they were before the chain: no number, no hash.
    for number in range(3):
        AuditEvent(
            seq=-(number + 1), user_id=kod.pk, authority_id=kod.authority_id, action=f"alt{number}"
        ).save(force_insert=True)
    AuditChainHead.objects.all().delete()

    class Editor:
        connection = connection

        @staticmethod
        def quote_name(name: str) -> str:
            return connection.ops.quote_name(name)

    if connection.vendor == "postgresql":  # the trigger came after this migration
        sql("SELECT 1")
    migration.chain_existing(global_apps, Editor)
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "action", "actor_name"))
    assert rows == [
        (1, "alt0", "Kim Ordnung (kod)"),
        (2, "alt1", "Kim Ordnung (kod)"),
        (3, "alt2", "Kim Ordnung (kod)"),
    ]
    assert verify().ok


@given(
    text=st.text(max_size=30),
    number=st.integers(min_value=0, max_value=2**62),
    maybe=st.none() | st.integers(min_value=1, max_value=2**31),
    detail=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=4,
    ),
)
def test_fast_canonical_form_is_the_json_array(text, number, maybe, detail):
    """The hand-written canonical form is byte for byte the sorted, compact, ASCII JSON array."""
    row = (number, text, maybe, text, maybe, text, text, text, text, text, text, detail, text)
    expected = json.dumps([1, *row], ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    assert canonical_form(row) == expected
