from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "lagebild.catalog"
    label = "catalog"
    verbose_name = "Katalog"
