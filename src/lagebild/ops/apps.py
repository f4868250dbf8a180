from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Production operations: background jobs and their schedule, health, metrics, backups."""

    name = "lagebild.ops"
    label = "ops"
    verbose_name = "Betrieb"

    def ready(self) -> None:
        # Counters for logins and tasks, and Celery logging through settings.LOGGING, in every
        # process: web server, workers, scheduler.
        from . import logging, metrics

        metrics.connect()
        logging.use_for_celery()

        # The job schedule is written after every migrate (lagebild schedule install).
        from django.db.models.signals import post_migrate

        from .schedules import install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self)
