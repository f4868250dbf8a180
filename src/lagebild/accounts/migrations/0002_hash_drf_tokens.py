"""DRF's plain-text tokens (rest_framework.authtoken) become hashed Lagebild tokens.

Each existing key keeps working (its SHA-256 is stored), expires after the default validity
from now on, and its plain copy is deleted from ``authtoken_token``. The authtoken app is no
longer installed, so its table is read with SQL, and only where it exists (a fresh
installation never had it).
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

LEGACY_TABLE = "authtoken_token"


def _instant(value):
    moment = value if isinstance(value, dt.datetime) else parse_datetime(str(value or ""))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def hash_legacy_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    now = timezone.now()
    days = int(getattr(settings, "LAGEBILD_API_TOKEN_DAYS", 90))
    table = connection.ops.quote_name(LEGACY_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id, created FROM {table}")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        ApiToken.objects.get_or_create(
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            defaults={
                "user_id": user_id,
                "name": "Übernommener Token",
                "prefix": key[:8],
                "created_at": _instant(created) or now,
                "expires_at": now + dt.timedelta(days=days),
            },
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_api_tokens"),
    ]

    operations = [
        migrations.RunPython(hash_legacy_tokens, migrations.RunPython.noop),
    ]
