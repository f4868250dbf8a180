"""Writing the audit trail. Services call :func:`log` for writes and personal-data reads."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent


def log(
    action: str,
    *,
    user: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    **detail: Any,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    real_user = user if getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        user=real_user,
        authority_id=getattr(real_user, "authority_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
    )
