"""Absolute and idle limits of a logged-in session, kept as two instants in the session."""

from __future__ import annotations

import time
from typing import Any

from .policy import session_idle_timeout, session_max_age

LOGIN_AT = "lagebild_login_at"
SEEN_AT = "lagebild_seen_at"
# Saving the session on every request would be a database write per page; once a minute
# is precise enough for a 30-minute idle timeout.
SEEN_RESOLUTION = 60.0


def start_session(session: Any) -> None:
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def session_ended(session: Any) -> str | None:
    """ "expired", "idle" or None; marks the session as seen when it is still valid.

    A session without a login instant (made before this check existed) counts as expired:
    its owner logs in again, which costs less than guessing how old it is.
    """
    now = time.time()
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT, login_at)
    if not isinstance(login_at, (int, float)) or now - login_at > session_max_age().total_seconds():
        return "expired"
    if not isinstance(seen_at, (int, float)) or now - seen_at > session_idle_timeout().total_seconds():
        return "idle"
    if now - seen_at >= SEEN_RESOLUTION or now < seen_at:
        session[SEEN_AT] = now
    return None
