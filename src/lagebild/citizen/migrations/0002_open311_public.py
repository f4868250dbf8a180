"""Open311: which categories the public feed shows, and random public ids (issue 13).

Existing categories stay public unless they are police matters (their catalogue category is
the police's); existing reports get a random public id, in batches, so the migration also runs
on a million reports.
"""

import base64
import secrets

from django.db import migrations, models

import lagebild.citizen.models

BATCH = 5000


def _new_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def publish_non_police_categories(apps, schema_editor):
    ServiceType = apps.get_model("citizen", "ServiceType")
    ServiceType.objects.exclude(category__competent_authority="police").update(public_in_open311=True)
    ServiceType.objects.filter(category__competent_authority="police").update(public_in_open311=False)


def give_public_ids(apps, schema_editor):
    Report = apps.get_model("citizen", "Report")
    # The manager of the historical model is a plain manager: no authority scope needed.
    while True:
        batch = list(Report._base_manager.filter(public_id__isnull=True).values_list("pk", flat=True)[:BATCH])
        if not batch:
            return
        Report._base_manager.bulk_update(
            [Report(pk=pk, public_id=_new_id()) for pk in batch], ["public_id"], batch_size=1000
        )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("citizen", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicetype",
            name="public_in_open311",
            field=models.BooleanField(
                default=False,
                help_text="Nur für Kategorien ohne Bezug zu Ermittlungen: Hinweise an die Polizei "
                "(z. B. auf Drogenhandel) werden nie veröffentlicht.",
                verbose_name="Meldungen im öffentlichen Open311-Feed zeigen",
            ),
        ),
        migrations.RunPython(publish_non_police_categories, migrations.RunPython.noop),
        migrations.AddField(
            model_name="report",
            name="public_id",
            field=models.CharField(max_length=24, null=True, editable=False),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="report",
            name="public_id",
            field=models.CharField(
                default=lagebild.citizen.models.new_public_id,
                editable=False,
                max_length=24,
                unique=True,
                verbose_name="Öffentliche Kennung (Open311)",
            ),
        ),
    ]
