"""Audit log as a hash chain, step 2 of 3: chain the entries written before the chain existed.

They are numbered in the order they were written (id), get the actor's name as it is now
(entries whose user was already deleted keep an empty name) and their hashes; the chain head
is set to the last one."""

from django.db import migrations

from lagebild.core.audit_chain import GENESIS, canonical_time, entry_hash

BATCH = 5000


def chain_existing(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    User = apps.get_model("core", "User")
    names = {}
    for pk, username, first, last in User.objects.values_list("pk", "username", "first_name", "last_name"):
        full = f"{first} {last}".strip()
        names[pk] = f"{full} ({username})" if full else username
    table = schema_editor.quote_name(AuditEvent._meta.db_table)
    seq, prev, last_id = 0, GENESIS, 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            rows = list(
                AuditEvent.objects.filter(pk__gt=last_id)
                .order_by("pk")
                .values_list(
                    "pk", "at", "user_id", "authority_id", "action", "object_type", "object_id", "detail"
                )[:BATCH]
            )
            if not rows:
                break
            updates = []
            for pk, at, user_id, authority_id, action, object_type, object_id, detail in rows:
                seq += 1
                name = names.get(user_id, "") if user_id else ""
                digest = entry_hash(
                    seq=seq,
                    at=canonical_time(at),
                    user_id=user_id,
                    actor_name=name,
                    authority_id=authority_id,
                    action=action,
                    object_type=object_type,
                    object_id=object_id,
                    purpose="",
                    channel="",
                    ip="",
                    detail=detail,
                    prev_hash=prev,
                )
                updates.append((seq, name, prev, digest, pk))
                prev = digest
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, actor_name = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                updates,
            )
            last_id = rows[-1][0]
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "entry_hash": prev})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_audit_chain_fields"),
    ]

    operations = [
        migrations.RunPython(chain_existing, migrations.RunPython.noop, elidable=False),
    ]
