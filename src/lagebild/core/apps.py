from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lagebild.core"
    label = "core"
    verbose_name = "Grunddaten"
