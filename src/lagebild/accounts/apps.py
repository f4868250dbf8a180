from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lagebild.accounts"
    label = "accounts"
    verbose_name = "Anmeldung und Zugänge"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (records the login instant for the session limits)
