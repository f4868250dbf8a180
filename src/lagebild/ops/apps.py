from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Production operations: background jobs and their schedule, health, metrics, backups."""

    name = "lagebild.ops"
    label = "ops"
    verbose_name = "Betrieb"
