"""TOTP enrolment and verification with django-otp; recovery codes kept only as hashes.

django-otp's ``otp_static`` stores its tokens in plain text. Lagebild stores in that field
the first 80 bits of the SHA-256 of a recovery code instead, and hashes what the user types
before asking the device: a copy of the database yields no usable recovery code. The codes
themselves have 80 random bits, so the unsalted hash cannot be reversed by trying codes.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import segno
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lagebild.core import audit

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 signs, no 0/O or 1/I to confuse
RECOVERY_CODE_LENGTH = 16  # 16 × 5 bits = 80 bits
TOTP_DEVICE_NAME = "Authenticator-App"
RECOVERY_DEVICE_NAME = "Wiederherstellungscodes"


def normalise_code(text: str) -> str:
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def recovery_hash(code: str) -> str:
    digest = hashlib.sha256(normalise_code(code).encode()).digest()
    return base64.b32encode(digest[:10]).decode()  # 16 characters, the width of StaticToken.token


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    secret: str  # base32, grouped for typing
    qr_svg: str  # inline SVG, made on the server


def enrolment_start(user: Any) -> Enrolment:
    """A fresh, unconfirmed TOTP device; earlier unconfirmed ones (and their secrets) are gone."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return enrolment_show(device)


def enrolment_show(device: TOTPDevice) -> Enrolment:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, dark="#000", light="#fff", title="QR-Code für die Authenticator-App")
    return Enrolment(device=device, secret=grouped, qr_svg=svg)


def enrolment_confirm(*, user: Any, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirms ``device`` with a code from the app; returns the new recovery codes (shown once)."""
    if device.user_id != user.pk or device.confirmed:
        return None
    if not device.verify_is_allowed()[0] or not device.verify_token(normalise_code(code)):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_replace(user)
    audit.log("accounts.two_factor.enrolled", user=user, obj=user, device=TOTP_DEVICE_NAME)
    return codes


def recovery_codes_replace(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=recovery_hash(code)) for code in codes)
    return codes


def recovery_codes_renew(user: Any) -> list[str]:
    codes = recovery_codes_replace(user)
    audit.log("accounts.two_factor.recovery_codes_renewed", user=user, obj=user)
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@dataclass(frozen=True)
class Verification:
    device: Any | None
    recovery_codes_left: int | None = None
    wait_seconds: int | None = None  # set when django-otp throttles after wrong codes


def verify(user: Any, code: str) -> Verification:
    """Checks a TOTP code (6 digits) or a recovery code; a recovery code is used up."""
    typed = normalise_code(code)
    if not typed:
        return Verification(device=None)
    if typed.isdigit() and len(typed) == 6:
        devices: list[Any] = list(TOTPDevice.objects.filter(user=user, confirmed=True))
        token = typed
    else:
        devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
        token = recovery_hash(typed)
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            locked_until = (info or {}).get("locked_until")
            wait = None
            if locked_until is not None:
                wait = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
            return Verification(device=None, wait_seconds=wait or 1)
        if device.verify_token(token):
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                audit.log("accounts.two_factor.recovery_code_used", user=user, obj=user, left=left)
                return Verification(device=device, recovery_codes_left=left)
            return Verification(device=device)
    audit.log("accounts.two_factor.failed", user=user, obj=user)
    return Verification(device=None)


def two_factor_reset(user: Any, *, actor: Any = None, via: str = "command") -> int:
    """Removes every second factor of ``user`` (lost phone): the next login enrols anew."""
    removed = (
        TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    )
    audit.log("accounts.two_factor.reset", user=actor, obj=user, username=user.username, via=via)
    return removed
