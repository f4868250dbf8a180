from django.apps import AppConfig


class CitizenConfig(AppConfig):
    name = "lagebild.citizen"
    label = "citizen"
    verbose_name = "Bürgerhinweise"
