from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "lagebild.demo"
    label = "demo"
    verbose_name = "Demo"
