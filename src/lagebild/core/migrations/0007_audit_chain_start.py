"""Audit log: where the chain starts once retention has removed its oldest entries."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="start_seq",
            field=models.BigIntegerField(default=0, verbose_name="Gelöscht bis Laufnummer"),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="start_hash",
            field=models.CharField(
                default="0000000000000000000000000000000000000000000000000000000000000000",
                max_length=64,
                verbose_name="Hash des zuletzt gelöschten Eintrags",
            ),
        ),
    ]
