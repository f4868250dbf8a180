from django.apps import AppConfig


class ForecastConfig(AppConfig):
    name = "lagebild.forecast"
    label = "forecast"
    verbose_name = "Prognosen und Backtests"

    def ready(self) -> None:
        from . import rules  # noqa: F401  (registers the permissions)
