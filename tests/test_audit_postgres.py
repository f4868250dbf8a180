"""The audit log on a real PostgreSQL: the trigger refuses changes, the application role has
no privilege to change entries, and concurrent writers keep the chain intact."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from lagebild.core import audit
from lagebild.core.audit_verify import verify
from lagebild.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="trigger, roles and row locks exist on PostgreSQL only (DATABASE_URL=postgres://…)",
)

TABLE = AuditEvent._meta.db_table


@pytest.fixture(autouse=True)
def _anchors(tmp_path, settings):
    settings.LAGEBILD_AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")


def refused(statement: str, params: list | None = None, *, before: tuple[str, ...] = ()) -> str:
    """Run a statement in a savepoint and return the database's refusal ('' if it went through)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for setup in before:
                cursor.execute(setup)
            cursor.execute(statement, params or [])
    except DatabaseError as exc:
        return str(exc)
    return ""


@pytest.fixture
def entries(kod):
    return [audit.log(f"test.{n}", user=kod) for n in range(3)]


def test_trigger_refuses_update_delete_and_truncate(entries):
    first = entries[0].pk
    assert "unveränderlich: UPDATE" in refused(f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", [first])
    assert "unveränderlich: DELETE" in refused(f"DELETE FROM {TABLE} WHERE id = %s", [first])
    assert "unveränderlich: TRUNCATE" in refused(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == 3
    assert verify().ok


def test_owner_may_change_only_with_the_maintenance_setting(entries):
    on = ("SET LOCAL lagebild.audit_maintenance = 'on'",)
    assert refused(f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", [entries[0].pk], before=on) == ""


def test_application_role_cannot_change_entries(entries):
    call_command("setup-db-roles", "--role", "lagebild_test_app", "--nologin")
    as_app = ("SET LOCAL ROLE lagebild_test_app",)
    # Reads and appends work under the application's role ...
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE lagebild_test_app")
        appended = audit.log("test.as_app", object_type="x", object_id=1)
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        assert cursor.fetchone()[0] == 4
        cursor.execute("SELECT count(*) FROM field_incident")
    assert appended.seq == 4
    # ... changing, removing and emptying do not, not even with the owner's maintenance setting.
    with_setting = (*as_app, "SET LOCAL lagebild.audit_maintenance = 'on'")
    for statement in (
        f"UPDATE {TABLE} SET action = 'x' WHERE id = {entries[0].pk}",
        f"DELETE FROM {TABLE} WHERE id = {entries[0].pk}",
        f"TRUNCATE {TABLE}",
        "DELETE FROM core_auditchainhead",
    ):
        assert "permission denied" in refused(statement, before=with_setting), statement
    # Everything else the application writes stays writable.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege('lagebild_test_app', 'field_incident', 'UPDATE'), "
            "has_table_privilege('lagebild_test_app', 'field_incident', 'DELETE'), "
            "has_table_privilege('lagebild_test_app', 'core_auditchainhead', 'UPDATE'), "
            f"has_table_privilege('lagebild_test_app', '{TABLE}', 'INSERT'), "
            f"has_table_privilege('lagebild_test_app', '{TABLE}', 'UPDATE')"
        )
        assert cursor.fetchone() == (True, True, True, True, False)
        # A bodycam recording's chain of custody is append-only for the application as well.
        cursor.execute(
            "SELECT has_table_privilege('lagebild_test_app', 'bodycam_custodyevent', 'INSERT'), "
            "has_table_privilege('lagebild_test_app', 'bodycam_custodyevent', 'UPDATE'), "
            "has_table_privilege('lagebild_test_app', 'bodycam_custodyevent', 'DELETE')"
        )
        assert cursor.fetchone() == (True, False, False)
    assert verify().ok


def test_setup_db_roles_rerun_names_no_superuser_only_attributes_for_a_plain_role(entries):
    """An owner role with CREATEROLE (not superuser) re-runs setup-db-roles after each migrate;
    PostgreSQL refuses it NOBYPASSRLS, so an existing plain role is altered by LOGIN only."""
    import importlib

    command = importlib.import_module("lagebild.core.management.commands.setup-db-roles")
    first = command.grant_statements("lagebild_test_plain", password=None, login=False)
    assert "NOBYPASSRLS" in first[0][0] and first[0][0].startswith("CREATE ROLE")
    with connection.cursor() as cursor:
        cursor.execute('CREATE ROLE "lagebild_test_plain" NOLOGIN')
        cursor.execute('CREATE ROLE "lagebild_test_mighty" NOLOGIN CREATEDB')
    again = command.grant_statements("lagebild_test_plain", password=None, login=False)
    assert again[0][0] == 'ALTER ROLE "lagebild_test_plain" NOLOGIN'
    mighty = command.grant_statements("lagebild_test_mighty", password=None, login=True)
    assert "NOCREATEDB" in mighty[0][0] and mighty[0][0].startswith('ALTER ROLE "lagebild_test_mighty" LOGIN')


def test_setup_db_roles_is_repeatable_and_refuses_odd_names(entries):
    from django.core.management.base import CommandError

    call_command("setup-db-roles", "--role", "lagebild_test_app", "--nologin")
    call_command("setup-db-roles", "--role", "lagebild_test_app", "--nologin")
    with pytest.raises(CommandError):
        call_command("setup-db-roles", "--role", 'x"; DROP TABLE core_user; --')
    with pytest.raises(CommandError, match="Unbekannte Tabelle"):
        call_command("setup-db-roles", "--role", "lagebild_test_app", "--append-only", "gibt_es_nicht")
    # Other apps' append-only tables lose UPDATE and DELETE the same way.
    call_command(
        "setup-db-roles", "--role", "lagebild_test_app", "--nologin", "--append-only", "core_authority"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege('lagebild_test_app', 'core_authority', 'INSERT'), "
            "has_table_privilege('lagebild_test_app', 'core_authority', 'UPDATE')"
        )
        assert cursor.fetchone() == (True, False)


def test_a_role_granted_update_by_mistake_is_still_stopped_by_the_trigger(entries):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE lagebild_test_careless NOLOGIN")
        cursor.execute(f"GRANT SELECT, UPDATE ON {TABLE} TO lagebild_test_careless")
    before = ("SET LOCAL ROLE lagebild_test_careless", "SET LOCAL lagebild.audit_maintenance = 'on'")
    assert "unveränderlich: UPDATE" in refused(f"UPDATE {TABLE} SET action = 'x'", before=before)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_gapless_and_valid(make_user, city):
    writer = make_user("parallel", city)
    per_thread, threads = 25, 2
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            barrier.wait()
            for step in range(per_thread):
                # Some entries share a transaction with other work, as in the services.
                with transaction.atomic():
                    audit.log("test.parallel", user=writer, thread=number, step=step)
                    if step % 5 == 0:
                        audit.log("test.parallel.second", user=writer, thread=number, step=step)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures
    expected = threads * (per_thread + per_thread // 5)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    assert AuditChainHead.objects.get().seq == expected
    result = verify()
    assert result.ok, result.problems
    # Both threads really interleaved.
    order = list(AuditEvent.objects.order_by("seq").values_list("detail__thread", flat=True))
    assert sum(1 for a, b in itertools.pairwise(order) if a != b) >= 2


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_the_chain_restarts(kod):
    audit.log("test.before", user=kod)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert "unveränderlich" in refused(f"TRUNCATE {TABLE}")  # the setting was only for the flush
    from lagebild.core.models import Authority, User

    authority = Authority.objects.create(code="x", name="X", kind=Authority.Kind.CITY)
    user = User.objects.create_user(username="neu", password="geheim-123", authority=authority)
    assert audit.log("test.after", user=user).seq == 1
    assert verify().ok
