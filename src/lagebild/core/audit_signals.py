"""Logins, failed logins and logouts in the audit log (Django's auth signals)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from . import audit


def logged_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    audit.log("auth.login", user=user, obj=user, request=request)


def logged_out(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        audit.log("auth.logout", user=user, obj=user, request=request)


def login_failed(
    sender: Any, credentials: dict | None = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """The name tried, never the password. A name that belongs to no account is not stored
    either (people type their password into the name field by mistake): only that it was unknown."""
    model = get_user_model()
    tried = str((credentials or {}).get(model.USERNAME_FIELD) or "")[:150]
    account = (
        model._default_manager.filter(**{f"{model.USERNAME_FIELD}__iexact": tried}).first() if tried else None
    )
    if account is not None:
        audit.log(
            "auth.login_failed",
            obj=account,
            authority=account.authority_id,
            request=request,
            username=getattr(account, model.USERNAME_FIELD),
        )
    else:
        audit.log("auth.login_failed", object_type="core.user", request=request, username=None, unknown=True)


def connect() -> None:
    user_logged_in.connect(logged_in, dispatch_uid="lagebild.audit.logged_in")
    user_logged_out.connect(logged_out, dispatch_uid="lagebild.audit.logged_out")
    user_login_failed.connect(login_failed, dispatch_uid="lagebild.audit.login_failed")
