"""The city's proceedings settings are checked at start with German messages, and they take effect."""

from __future__ import annotations

import datetime as dt

from lagebild.proceedings import letters, services
from lagebild.proceedings.checks import proceedings_settings


def test_good_settings_pass_and_take_effect(settings):
    settings.LAGEBILD_PROCEEDINGS_WARN_DAYS = {"payment": "7"}
    settings.LAGEBILD_PROCEEDINGS_REMINDER_DAYS = "10"
    assert proceedings_settings() == []
    assert services.warn_days()["payment"] == 7 and services.warn_days()["objection"] == 3
    # 01.12.2025 (Monday) + 10 days = Thursday 11.12.2025.
    assert letters.reminder_pay_by(dt.date(2025, 12, 1)) == dt.date(2025, 12, 11)


def test_typos_stop_the_start_with_german_messages(settings):
    settings.LAGEBILD_PROCEEDINGS_WARN_DAYS = {"zahlung": "7", "payment": "sieben"}
    settings.LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS = "0"
    messages = [error.msg for error in proceedings_settings()]
    assert len(messages) == 3
    assert any("unbekannte Frist „zahlung“" in m for m in messages)
    assert any("payment=sieben" in m for m in messages)
    assert any("HEARING_REPLY_DAYS" in m for m in messages)
