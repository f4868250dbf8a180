"""The id of the request (or task) being served, for log lines and for tasks it starts.

A context variable, so threads and tasks each see their own id. The middleware sets it from a
trusted ``X-Request-ID`` or a new one; tasks receive it in their headers and set it again.
"""

import uuid
from contextvars import ContextVar, Token

_current: ContextVar[str] = ContextVar("lagebild_request_id", default="")


def current() -> str:
    """The id of the request or task being served, or "" outside of one."""
    return _current.get()


def new() -> str:
    return uuid.uuid4().hex


def activate(request_id: str) -> Token[str]:
    return _current.set(request_id)


def deactivate(token: Token[str]) -> None:
    _current.reset(token)
