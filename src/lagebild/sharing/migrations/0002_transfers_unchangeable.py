"""On PostgreSQL, transfers and their events cannot be changed, not even with raw SQL.

The models refuse ``save()`` of an existing row and ``QuerySet.update()``; this trigger is the
second lock, for scripts and the database console. It lets one change through: the reference to
a deleted user account set to NULL (``on_delete=SET_NULL``), because the frozen name and login
stay in the row. Deleting rows stays possible for the retention job (§ 29 Abs. 2 PolG NRW:
transfer records are deleted at the end of the following calendar year); the audit log keeps
its own record of every transfer. SQLite has no such triggers.
"""

from django.db import migrations

FUNCTION = "lagebild_sharing_unchangeable"

INSTALL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    user_column text := TG_ARGV[0];
BEGIN
    IF (to_jsonb(NEW) - user_column) = (to_jsonb(OLD) - user_column)
            AND (to_jsonb(NEW) ->> user_column) IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'Weitergaben sind unveränderlich: UPDATE auf % ist nicht erlaubt.', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS sharing_transfer_unchangeable ON sharing_transfer;
CREATE TRIGGER sharing_transfer_unchangeable BEFORE UPDATE ON sharing_transfer
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}('created_by_id');
DROP TRIGGER IF EXISTS sharing_transferevent_unchangeable ON sharing_transferevent;
CREATE TRIGGER sharing_transferevent_unchangeable BEFORE UPDATE ON sharing_transferevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}('user_id');
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS sharing_transfer_unchangeable ON sharing_transfer;
DROP TRIGGER IF EXISTS sharing_transferevent_unchangeable ON sharing_transferevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
