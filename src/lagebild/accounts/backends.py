"""django-axes' lockout check, with one explicit allowance for the test client.

Axes counts failures per username and client address and so needs the request in
``authenticate()``. Every login form passes it. Django's test client ``Client.login()``
passes none, and axes would then raise; the suite's fixture sets
``LAGEBILD_LOGIN_WITHOUT_REQUEST`` so that such logins skip only this check (they cannot
be brute-forced: there is no request). In production the setting is off and a call
without a request is refused, as axes intends.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ):  # type: ignore[no-untyped-def]
        if request is None and getattr(settings, "LAGEBILD_LOGIN_WITHOUT_REQUEST", False):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
