from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lagebild.api"
    label = "api"
    verbose_name = "API"
