"""Who must log in with a second factor, and the limits of a session.

Every role Lagebild has can see personal data: field officers and shift leads record and
read incidents about people, analysts and the Sonderstab read them, leadership and the
executive board open incidents and reports, administrators manage accounts, the data-
protection officer reads the audit trail of persons. So two-factor login is required for
every account; there is no exempt role, and a role added later is covered without a change
here (fail closed). Only ``LAGEBILD_TWO_FACTOR_REQUIRED=0`` switches it off, and the
settings refuse that unless ``LAGEBILD_DEBUG`` is on (demo and development).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

# Roles that may log in without a second factor even in production: deliberately none.
EXEMPT_ROLES: frozenset[str] = frozenset()


def two_factor_required(user: Any) -> bool:
    if not getattr(settings, "LAGEBILD_TWO_FACTOR_REQUIRED", True):
        return False
    return getattr(user, "role", None) not in EXEMPT_ROLES


def session_max_age() -> dt.timedelta:
    """After this time since the login the session ends, however active it was."""
    return dt.timedelta(minutes=int(getattr(settings, "LAGEBILD_SESSION_MAX_MINUTES", 12 * 60)))


def session_idle_timeout() -> dt.timedelta:
    """After this time without a request the session ends."""
    return dt.timedelta(minutes=int(getattr(settings, "LAGEBILD_SESSION_IDLE_MINUTES", 30)))
