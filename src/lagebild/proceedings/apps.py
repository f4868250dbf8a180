from django.apps import AppConfig


class ProceedingsConfig(AppConfig):
    name = "lagebild.proceedings"
    label = "proceedings"
    verbose_name = "Bußgeldverfahren"

    def ready(self) -> None:
        from . import checks, rules  # noqa: F401  (registers the checks and permissions)
