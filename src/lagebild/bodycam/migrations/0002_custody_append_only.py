"""Chain of custody: append-only on PostgreSQL; the actor column no longer changes on deletion.

A trigger refuses UPDATE and DELETE of custody entries and TRUNCATE of the table, for every
role. As with the audit log (core 0006), emptying the whole database stays possible for the
owner of the tables only while ``lagebild.audit_maintenance`` is on (``lagebild flush`` and
the test suite's flush). The actor column has no foreign-key constraint and no ON DELETE
action, so deleting an account does not have to change past entries (the frozen name stays).
SQLite has no such triggers: there the model refuses changes and ``recordings verify`` checks
the hash chain.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FUNCTION = "lagebild_custody_append_only"

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
    RAISE EXCEPTION 'Die Verwahrkette ist unveränderlich: % auf % ist nicht erlaubt.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS bodycam_custodyevent_append_only ON bodycam_custodyevent;
CREATE TRIGGER bodycam_custodyevent_append_only BEFORE UPDATE OR DELETE ON bodycam_custodyevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
DROP TRIGGER IF EXISTS bodycam_custodyevent_no_truncate ON bodycam_custodyevent;
CREATE TRIGGER bodycam_custodyevent_no_truncate BEFORE TRUNCATE ON bodycam_custodyevent
    FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS bodycam_custodyevent_append_only ON bodycam_custodyevent;
DROP TRIGGER IF EXISTS bodycam_custodyevent_no_truncate ON bodycam_custodyevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("bodycam", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="custodyevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="Person",
            ),
        ),
        migrations.RunPython(install, remove, elidable=False),
    ]
