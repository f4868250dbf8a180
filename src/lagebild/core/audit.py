"""Writing the audit trail. Services call :func:`log` for writes and personal-data reads.

Each entry is appended to a hash chain (``core.audit_chain``): the chain head row is locked,
the entry gets the next sequence number and the hash over its content and the previous hash,
and the head moves on, all in the caller's transaction. An action that rolls back leaves no
entry and no gap. Because the head stays locked until the caller commits, call :func:`log`
as the last write of a transaction: every writer in the application queues for this lock, so
taking it last keeps the wait short and gives all transactions the same lock order (count
rows, records, … then the head), which rules out deadlocks on PostgreSQL.

Where an entry comes from (client address, web or API) is taken from the request the
:class:`AuditContextMiddleware` remembers; outside a request (commands, scheduled jobs) the
channel is ``command``.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .audit_chain import GENESIS, canonical_time, entry_hash, normalise_detail
from .models import AuditChainHead, AuditEvent

_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "lagebild_audit_request", default=None
)

API_PREFIXES = ("/api/", "/open311/")


class AuditContextMiddleware:
    """Remembers the request, so entries written during it know the client address and channel."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def _proxy_trusted() -> bool:
    value = str(getattr(settings, "LAGEBILD_TRUSTED_PROXY", "") or "").strip().lower()
    return bool(value) and value not in {"0", "false", "no", "nein", "off"}


def _normal_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxy appended to
    X-Forwarded-For when ``LAGEBILD_TRUSTED_PROXY`` declares one (a client can write anything
    into that header, so without a proxy it is ignored)."""
    remote = _normal_ip(request.META.get("REMOTE_ADDR", ""))
    if _proxy_trusted():
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return _normal_ip(forwarded[-1]) or remote
    return remote


def channel_of(request: HttpRequest | None) -> str:
    if request is None:
        return AuditEvent.Channel.COMMAND
    path = getattr(request, "path", "") or ""
    return AuditEvent.Channel.API if path.startswith(API_PREFIXES) else AuditEvent.Channel.WEB


def actor_name(user: Any) -> str:
    """The actor as the entry keeps it even after the account is deleted: "Kim Ordnung (kod)"."""
    if user is None:
        return ""
    username = getattr(user, "username", "") or ""
    full = " ".join(part for part in (user.first_name, user.last_name) if part).strip()
    return (f"{full} ({username})" if full else username)[:200]


def log(
    action: str,
    *,
    user: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    purpose: str = "",
    request: HttpRequest | None = None,
    authority: Any = None,
    **detail: Any,
) -> AuditEvent:
    """Append an entry: who (``user``), what (``action`` on ``obj`` or ``object_type``/``object_id``),
    why (``purpose``), from where (``request``, else the current request) and ``detail``.

    The entry's authority is the actor's; without an actor, ``authority`` or the object's."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    real_user = user if getattr(user, "is_authenticated", False) else None
    if authority is not None:
        authority_id = getattr(authority, "pk", authority)
    elif real_user is not None:
        authority_id = real_user.authority_id
    else:
        authority_id = getattr(obj, "authority_id", None)
    if request is None:
        request = _current_request.get()
    return _append(
        AuditEvent(
            user_id=real_user.pk if real_user is not None else None,
            actor_name=actor_name(real_user),
            authority_id=authority_id,
            action=action[:80],
            object_type=object_type[:60],
            object_id=str(object_id if object_id is not None else "")[:40],
            purpose=(purpose or "")[:200],
            channel=channel_of(request),
            # Staff's and login attempts' addresses; never a citizen's (anonymous reports stay so).
            ip=client_ip(request)
            if request is not None and (real_user or action.startswith("auth."))
            else "",
            detail=normalise_detail(detail),
        )
    )


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    # First entry ever, or after a flush: start from the last entry (if any survived).
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    seq, digest = last if last is not None else (0, GENESIS)
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(pk=1, seq=seq, entry_hash=digest)], ignore_conflicts=True
    )
    return AuditChainHead.objects.select_for_update().get(pk=1)


def _append(event: AuditEvent) -> AuditEvent:
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        event.seq = head.seq + 1
        event.at = timezone.now()
        event.prev_hash = head.entry_hash
        event.entry_hash = entry_hash(
            seq=event.seq,
            at=canonical_time(event.at),
            user_id=event.user_id,
            actor_name=event.actor_name,
            authority_id=event.authority_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            purpose=event.purpose,
            channel=event.channel,
            ip=event.ip,
            detail=event.detail,
            prev_hash=event.prev_hash,
        )
        if connection.vendor == "postgresql":
            _insert_and_move_head(event)
        else:
            event.save(force_insert=True)
            AuditChainHead.objects.filter(pk=1).update(seq=event.seq, entry_hash=event.entry_hash)
    return event


def _insert_and_move_head(event: AuditEvent) -> None:
    """PostgreSQL: the entry and the new head in one statement (one round trip fewer for
    every write in the application)."""
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH entry AS (INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
            f"RETURNING id) UPDATE {head} SET seq = %s, entry_hash = %s WHERE id = 1 "
            f"RETURNING (SELECT id FROM entry)",
            [*values, event.seq, event.entry_hash],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
