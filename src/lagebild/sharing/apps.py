from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "lagebild.sharing"
    label = "sharing"
    verbose_name = "Weitergaben zwischen Behörden"
