"""Start-up checks of the city's proceedings settings: a typo stops the start with a German message
instead of failing on the first worklist or letter."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from .models import DeadlineKind


def _whole_number(value: Any, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


@register()
def proceedings_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    kinds = {str(kind) for kind in DeadlineKind}
    for kind, days in (getattr(settings, "LAGEBILD_PROCEEDINGS_WARN_DAYS", {}) or {}).items():
        if kind not in kinds:
            errors.append(
                Error(
                    f"LAGEBILD_PROCEEDINGS_WARN_DAYS: unbekannte Frist „{kind}“.",
                    hint="Bekannt: " + ", ".join(sorted(kinds)),
                    id="lagebild.proceedings.E001",
                )
            )
        elif _whole_number(days, 0, 365) is None:
            errors.append(
                Error(
                    f"LAGEBILD_PROCEEDINGS_WARN_DAYS: „{kind}={days}“ ist keine Zahl von 0 bis 365 Tagen.",
                    id="lagebild.proceedings.E002",
                )
            )
    for name in ("LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS", "LAGEBILD_PROCEEDINGS_REMINDER_DAYS"):
        value = getattr(settings, name, None)
        if value is not None and _whole_number(value, 1, 90) is None:
            errors.append(
                Error(f"{name}: „{value}“ ist keine Zahl von 1 bis 90 Tagen.", id="lagebild.proceedings.E003")
            )
    return errors
