from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    name = "lagebild.deployment"
    label = "deployment"
    verbose_name = "Einsatzplanung"

    def ready(self) -> None:
        from . import rules  # noqa: F401  (registers the permissions)
