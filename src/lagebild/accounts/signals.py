"""Remembers when a session logged in, for the absolute session limit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .sessionlimits import start_session


@receiver(user_logged_in, dispatch_uid="lagebild.accounts.start_session")
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        start_session(request.session)
