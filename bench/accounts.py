"""Logins for the benches as production has them: with the second factor and a hashed API token."""

from __future__ import annotations

from typing import Any


def two_factor_login(client: Any, user: Any) -> None:
    """``force_login`` plus a verified second factor (the settings refuse to switch it off with DEBUG off)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="Bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def api_key(user: Any) -> str:
    from lagebild.accounts.tokens import token_create

    return token_create(user=user, name="Bench").key
