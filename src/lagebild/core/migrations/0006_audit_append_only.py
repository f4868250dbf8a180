"""Audit log as a hash chain, step 3 of 3: every entry numbered; on PostgreSQL, append-only.

The trigger refuses UPDATE and DELETE of entries and TRUNCATE of the table, for every role.
The web application's own role (``lagebild setup-db-roles``) also has no UPDATE, DELETE or
TRUNCATE privilege on the table; the trigger is the second lock, for the owner of the tables
(who runs the migrations and could otherwise change entries by mistake or by a script).

One exception, and why it is sound: emptying the whole database. Django's ``flush`` (used by
the test suite after every transactional test, and by ``lagebild flush``) truncates every
table. ``lagebild flush`` (core/management/commands/flush.py) therefore sets the session
setting ``lagebild.audit_maintenance = 'on'`` for its statement and resets it afterwards, and
the trigger lets a change through only when that setting is on *and* the current role owns the
table (a member of the owner role; superusers count). The owner can drop the trigger anyway, so
this gives the owner nothing new, while the application role, even with the setting on, stays
refused; and a flush also empties the chain head, so the chain restarts from nothing. SQLite has
no triggers of this kind and no roles: there ``audit verify`` and the anchors are the protection.
"""

from django.db import migrations, models

FUNCTION = "lagebild_audit_append_only"

INSTALL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner name;
BEGIN
    SELECT tableowner INTO owner FROM pg_tables
        WHERE schemaname = TG_TABLE_SCHEMA AND tablename = TG_TABLE_NAME;
    IF coalesce(current_setting('lagebild.audit_maintenance', true), '') = 'on'
            AND pg_has_role(current_user, owner, 'MEMBER') THEN
        IF TG_LEVEL = 'ROW' THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'Das Protokoll ist unveränderlich: % auf % ist nicht erlaubt.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_audit_chain_existing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="Laufnummer"),
        ),
        migrations.RunPython(install, remove, elidable=False),
    ]
