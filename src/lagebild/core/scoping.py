"""Authority scoping in the data layer.

City and police each see their own records; both see joint ones. Scoped models use
:class:`AuthorityScopedManager` as their default manager, which refuses to build a
query unless a scope is active. A view, command or task that forgets to choose a scope
therefore fails loudly instead of leaking another authority's records.

The request middleware activates the scope of the logged-in user; API views do it after
token authentication; management commands and system jobs say ``with unscoped():``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from django.db import models
from django.db.models import Q


class ScopeError(RuntimeError):
    """Raised when scoped records are queried without an active authority scope."""


@dataclass(frozen=True)
class Scope:
    authority_id: int | None
    unrestricted: bool = False


_current: ContextVar[Scope | None] = ContextVar("lagebild_authority_scope", default=None)


def current_scope() -> Scope | None:
    return _current.get()


def activate(authority_id: int | None) -> Token:
    """Activate the scope of one authority; ``None`` means "sees no records"."""
    return _current.set(Scope(authority_id=authority_id))


def deactivate(token: Token) -> None:
    _current.reset(token)


@contextmanager
def authority_scope(authority_or_id: object) -> Iterator[None]:
    authority_id = getattr(authority_or_id, "pk", authority_or_id)
    token = _current.set(Scope(authority_id=authority_id))  # type: ignore[arg-type]
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """For system code (migrations of data, demo loader, retention jobs, benchmarks)."""
    token = _current.set(Scope(authority_id=None, unrestricted=True))
    try:
        yield
    finally:
        _current.reset(token)


def scope_for_user(user: object) -> Scope:
    authority_id = getattr(user, "authority_id", None) if getattr(user, "is_authenticated", False) else None
    return Scope(authority_id=authority_id)


Visibility = Callable[[int], Q]


class AuthorityScopedManager(models.Manager):
    """Default manager that filters by the active scope and fails without one.

    The visibility rule is a class attribute because Django derives related managers
    (``incident.measures``) from the default manager's class, not from its instance.
    """

    visibility: Visibility

    def __new__(cls, visibility: Visibility | None = None, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        # Related managers (``report.incidents``) subclass this class and are created with
        # a model instance as first argument: that is no visibility rule.
        if visibility is not None and not isinstance(visibility, models.Model):
            cls = type(cls.__name__, (cls,), {"visibility": staticmethod(visibility)})
        return super().__new__(cls)

    def __init__(self, visibility: Visibility | None = None) -> None:
        super().__init__()

    def get_queryset(self) -> models.QuerySet:
        scope = _current.get()
        if scope is None:
            raise ScopeError(
                f"{self.model.__name__} was queried without an authority scope. "
                "Use authority_scope(...) or unscoped() explicitly."
            )
        queryset = super().get_queryset()
        if scope.unrestricted:
            return queryset
        if scope.authority_id is None:
            return queryset.none()
        return queryset.filter(self.visibility(scope.authority_id))


def own_or_joint(prefix: str = "") -> Visibility:
    """Visibility rule: records of the scope's authority plus all joint records."""

    def rule(authority_id: int) -> Q:
        return Q(**{f"{prefix}authority_id": authority_id}) | Q(**{f"{prefix}joint": True})

    return rule


def own_only(prefix: str = "") -> Visibility:
    def rule(authority_id: int) -> Q:
        return Q(**{f"{prefix}authority_id": authority_id})

    return rule
