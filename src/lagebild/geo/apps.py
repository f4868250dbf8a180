from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "lagebild.geo"
    label = "geo"
    verbose_name = "Geografie"
