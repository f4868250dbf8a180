from django.apps import AppConfig


class BodycamConfig(AppConfig):
    name = "lagebild.bodycam"
    label = "bodycam"
    verbose_name = "Bodycam-Beweismittel"

    def ready(self) -> None:
        from . import checks, rules  # noqa: F401  (registers the system check and permissions)
