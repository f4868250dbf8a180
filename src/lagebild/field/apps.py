from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "lagebild.field"
    label = "field"
    verbose_name = "Außendienst"
