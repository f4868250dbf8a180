"""Audit log as a hash chain, step 1 of 3: the new columns (still nullable), the chain head.

The actor becomes a frozen id and name: the user and authority keys lose their database
constraint and ``SET NULL``, so deleting a user changes no audit entry (which the chain and,
on PostgreSQL, the trigger of 0006 would refuse anyway)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_roles_dpo_platform_admin"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="Laufnummer"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_name",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="Handelnde Person (Stand bei Eintrag)"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="purpose",
            field=models.CharField(blank=True, max_length=200, verbose_name="Zweck"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="channel",
            field=models.CharField(
                blank=True,
                choices=[("web", "Web"), ("api", "API"), ("command", "Befehl / Hintergrund")],
                max_length=10,
                verbose_name="Zugang",
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="ip",
            field=models.CharField(blank=True, max_length=45, verbose_name="IP-Adresse"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="Vorheriger Hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="entry_hash",
            field=models.CharField(default="", max_length=64, verbose_name="Hash"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, verbose_name="Zeitpunkt"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="Benutzer",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="authority",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="core.authority",
                verbose_name="Behörde",
            ),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-seq"],
                "verbose_name": "Protokolleintrag",
                "verbose_name_plural": "Protokoll",
            },
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["authority", "at"], name="core_audit_authority_at"),
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0, verbose_name="Letzte Laufnummer")),
                ("entry_hash", models.CharField(max_length=64, verbose_name="Letzter Hash")),
            ],
            options={"verbose_name": "Protokollkopf", "verbose_name_plural": "Protokollkopf"},
        ),
    ]
