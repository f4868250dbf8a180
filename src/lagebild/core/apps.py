from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    name = "lagebild.core"
    label = "core"
    verbose_name = "Grunddaten"

    def ready(self) -> None:
        # The admin role maintains master data (users, areas, catalogue) in the Django
        # admin; grant it the model permissions there without per-user permission rows.
        import rules

        from .models import ADMIN_APPS
        from .rules import is_admin

        for model in apps.get_models():
            meta = model._meta
            if meta.app_label not in ADMIN_APPS:
                continue
            for action in ("view", "add", "change", "delete"):
                name = f"{meta.app_label}.{action}_{meta.model_name}"
                if not rules.perm_exists(name):
                    rules.add_perm(name, is_admin)

        # Logins, failed logins and logouts go into the audit log.
        from .audit_signals import connect

        connect()
