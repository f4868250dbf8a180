from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "lagebild.privacy"
    label = "privacy"
    verbose_name = "Datenschutz und Aufbewahrung"

    def ready(self) -> None:
        # A wrong retention setting stops the start with a German message instead of deleting
        # too early or never (LAGEBILD_RETENTION, see docs/data-protection.md).
        from .policies import validate_settings

        validate_settings()
