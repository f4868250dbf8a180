"""API tokens that belong to a user, expire, can be revoked and are stored only as a hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """One API token. The plain key exists only in the answer that created it.

    ``key_hash`` is the SHA-256 of the key: a copy of the database (or a curious
    administrator) cannot use a token; ``prefix`` (the first characters) lets the owner
    tell tokens apart in the list without revealing enough to guess the rest.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="Benutzer", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("Bezeichnung", max_length=100)
    prefix = models.CharField("Anfang", max_length=12)
    key_hash = models.CharField("SHA-256", max_length=64, unique=True)
    created_at = models.DateTimeField("Angelegt", default=timezone.now)
    expires_at = models.DateTimeField("Gültig bis", db_index=True)
    last_used_at = models.DateTimeField("Zuletzt benutzt", null=True, blank=True)
    revoked_at = models.DateTimeField("Widerrufen", null=True, blank=True)

    class Meta:
        verbose_name = "API-Token"
        verbose_name_plural = "API-Tokens"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now=None) -> bool:  # type: ignore[no-untyped-def]
        return self.expires_at <= (now or timezone.now())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_usable(self, now=None) -> bool:  # type: ignore[no-untyped-def]
        return not self.is_revoked and not self.is_expired(now)
