"""Effective retention per record type: the registry's default, overridden by settings.

``LAGEBILD_RETENTION = {"incident": "P3Y", "photo": "P6M"}`` in the settings, or the
environment variable ``LAGEBILD_RETENTION="incident=P3Y,photo=P6M"`` (read by settings.py).
Checked when Lagebild starts (``PrivacyConfig.ready``): a wrong value stops the start with a
German message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .records import BY_KEY, Action, Retention

SETTING = "LAGEBILD_RETENTION"


def parse_env(text: str) -> dict[str, str]:
    """``incident=P3Y,photo=P6M`` → ``{"incident": "P3Y", "photo": "P6M"}`` (checked later)."""
    result: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        result[key.strip()] = value.strip() if sep else ""
    return result


def problems(configured: object) -> list[str]:
    """German messages for everything wrong with a LAGEBILD_RETENTION value; empty when it is fine."""
    if configured is None:
        return []
    if not isinstance(configured, Mapping):
        return [f"{SETTING} muss eine Zuordnung Datensatztyp → Dauer sein, z. B. {{'incident': 'P3Y'}}."]
    found = []
    for key, value in configured.items():
        record_type = BY_KEY.get(key)
        if record_type is None:
            found.append(f"{SETTING}: unbekannter Datensatztyp {key!r}. Bekannt: {', '.join(BY_KEY)}.")
            continue
        if record_type.action is Action.KEEP:
            found.append(
                f"{SETTING}[{key!r}]: {record_type.name} ist anonym und wird nicht gelöscht; keine Frist."
            )
            continue
        if record_type.configured_by:
            found.append(
                f"{SETTING}[{key!r}]: die Frist für {record_type.name} wird mit "
                f"{record_type.configured_by} eingestellt."
            )
            continue
        try:
            retention = Retention.parse(str(value), end_of_year=record_type.end_of_year)
        except ValueError as exc:
            found.append(f"{SETTING}[{key!r}]: {exc}")
            continue
        if record_type.maximum and retention.longer_than(Retention.parse(record_type.maximum)):
            found.append(
                f"{SETTING}[{key!r}]: höchstens {record_type.maximum} ({record_type.legal_basis}); "
                "länger nur für einzelne Datensätze, die mit Grund gesichert sind."
            )
    return found


def validate_settings() -> None:
    found = problems(getattr(settings, SETTING, None))
    if found:
        raise ImproperlyConfigured("Aufbewahrungsfristen fehlerhaft:\n" + "\n".join(found))


def overrides() -> dict[str, Retention]:
    """The configured retentions; the reporter-contact period also from the older
    ``LAGEBILD_REPORTER_RETENTION_DAYS`` when LAGEBILD_RETENTION does not name it."""
    configured = getattr(settings, SETTING, None) or {}
    validate_settings()
    result = {
        key: Retention.parse(str(value), end_of_year=BY_KEY[key].end_of_year)
        for key, value in configured.items()
    }
    if "citizen_report" not in result and os.environ.get("LAGEBILD_REPORTER_RETENTION_DAYS", "").strip():
        from lagebild.citizen.retention import retention_days

        try:
            result["citizen_report"] = Retention(days=retention_days())
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
    return result


def effective(key: str) -> Retention | None:
    return overrides().get(key) or BY_KEY[key].default_retention
