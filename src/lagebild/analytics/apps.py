from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "lagebild.analytics"
    label = "analytics"
    verbose_name = "Auswertung"
