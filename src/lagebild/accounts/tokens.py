"""Creating, checking and revoking API tokens (services and selectors in one small module)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from lagebild.core import audit

from .models import ApiToken

PREFIX_LENGTH = 8
# Writing "last used" on every request would turn each API read into a write; once a minute
# is precise enough for the owner's list.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def default_days() -> int:
    return int(getattr(settings, "LAGEBILD_API_TOKEN_DAYS", 90))


def max_days() -> int:
    return int(getattr(settings, "LAGEBILD_API_TOKEN_MAX_DAYS", 365))


def hash_key(key: str) -> str:
    # The key has 160 random bits: a plain SHA-256 cannot be reversed by trying keys,
    # and unlike a password hash it costs nothing on every API request.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # shown exactly once


def token_create(
    *, user: Any, name: str, days: int | None = None, actor: Any = None, via: str = "web"
) -> NewToken:
    """A new token for ``user``, valid for ``days`` (default and maximum from the settings)."""
    days = default_days() if days is None else days
    if days < 1 or days > max_days():
        raise ValidationError({"days": f"Die Gültigkeit muss zwischen 1 und {max_days()} Tagen liegen."})
    name = (name or "").strip() or "API-Token"
    if len(name) > 100:
        raise ValidationError({"name": "Die Bezeichnung darf höchstens 100 Zeichen lang sein."})
    if not user.is_active:
        raise ValidationError("Der Benutzer ist deaktiviert; ein Token wäre unwirksam.")
    key = secrets.token_hex(20)  # 40 hex digits, the format DRF's tokens had
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    audit.log(
        "accounts.api_token.created",
        user=actor if actor is not None else user,
        obj=token,
        owner=user.username,
        name=name,
        prefix=token.prefix,
        expires_at=token.expires_at.isoformat(),
        via=via,
    )
    return NewToken(token=token, key=key)


def token_revoke(*, token: ApiToken, actor: Any = None, via: str = "web") -> bool:
    """Revokes ``token``; False if it was revoked already (revoking twice changes nothing)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.log(
        "accounts.api_token.revoked",
        user=actor if actor is not None else token.user,
        obj=token,
        owner=token.user.username,
        prefix=token.prefix,
        via=via,
    )
    return True


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


class TokenRejected(Exception):
    """The key is unknown, expired or revoked; ``code`` says which (for the API's error body)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def token_authenticate(key: str) -> ApiToken:
    """The usable token for ``key`` with its user and authority loaded, or TokenRejected."""
    token = ApiToken.objects.select_related("user__authority").filter(key_hash=hash_key(key)).first()
    if token is None:
        raise TokenRejected("token_invalid", "Ungültiger Token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected("token_revoked", "Dieser Token wurde widerrufen.")
    if token.expires_at <= now:
        raise TokenRejected("token_expired", "Dieser Token ist abgelaufen. Bitte legen Sie einen neuen an.")
    if not token.user.is_active:
        raise TokenRejected("user_inactive", "Der Benutzer ist deaktiviert.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
