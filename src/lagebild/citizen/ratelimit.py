"""Database-backed rate limits for the public forms (no cache server needed, works on SQLite).

Fixed windows per client address: a counter row per (scope, window length, address, window
start). Limits come from ``settings.LAGEBILD_RATE_LIMITS`` (tests) or the environment
variable of the same name (``off`` disables them, e.g. for load tests from one address).
The client address is REMOTE_ADDR; ``X-Forwarded-For`` is only believed when the direct
peer is listed in ``LAGEBILD_TRUSTED_PROXIES`` (comma-separated addresses or networks).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import logging
import os

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import RateCounter

logger = logging.getLogger(__name__)

Limits = tuple[tuple[int, int], ...]  # (max hits, window seconds)

# "report": stored reports; "support": supports of existing reports; "post": every POST
# attempt, including invalid ones, so that nobody can hammer the validation for free.
DEFAULT_LIMITS: dict[str, Limits] = {
    "report": ((5, 10 * 60), (30, 24 * 60 * 60)),
    "support": ((10, 10 * 60), (50, 24 * 60 * 60)),
    "post": ((40, 10 * 60), (300, 24 * 60 * 60)),
}
CLEANUP_EVERY = 100
_hits = itertools.count(1)


def _parse_limits(text: str) -> Limits:
    """``"5/600,30/86400"`` → ((5, 600), (30, 86400))."""
    limits = []
    for part in text.split(","):
        if "/" not in part:
            continue
        count, seconds = part.split("/", 1)
        try:
            limits.append((int(count), int(seconds)))
        except ValueError:
            logger.warning("Ignoring malformed rate limit %r", part)
    return tuple(limits)


def limits_for(scope: str) -> Limits:
    configured = getattr(settings, "LAGEBILD_RATE_LIMITS", None)
    if configured is None:
        raw = os.environ.get("LAGEBILD_RATE_LIMITS", "").strip()
        if raw.lower() in {"off", "0", "aus", "false", "no"}:
            return ()
        if raw:
            # One spec for all scopes, e.g. "5/600,30/86400".
            return _parse_limits(raw)
        return DEFAULT_LIMITS.get(scope, ())
    if not configured:
        return ()
    return tuple(configured.get(scope, ()))


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = getattr(settings, "LAGEBILD_TRUSTED_PROXIES", None)
    if raw is None:
        raw = os.environ.get("LAGEBILD_TRUSTED_PROXIES", "")
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    networks = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            logger.warning("Ignoring malformed trusted proxy %r", item)
    return networks


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The address to count against; IPv6 clients are counted per /64 network."""
    remote = _ip(request.META.get("REMOTE_ADDR", "") or "")
    proxies = _trusted_proxies()

    def trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in proxies)

    client = remote
    if remote is not None and proxies and trusted(remote):
        forwarded = [_ip(part) for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        # Walk from the nearest hop outwards; the first address not of our own proxies is the client.
        for hop in reversed(forwarded):
            if hop is None:
                break
            client = hop
            if not trusted(hop):
                break
    if client is None:
        return "unknown"
    if client.version == 6:
        if client.ipv4_mapped is not None:
            return str(client.ipv4_mapped)
        return str(ipaddress.ip_network(f"{client}/64", strict=False))
    return str(client)


def _window_start(now: dt.datetime, seconds: int) -> dt.datetime:
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)


def _key(scope: str, seconds: int, address: str) -> str:
    return f"{scope}:{seconds}:{address}"[:120]


def _increment(key: str, window_start: dt.datetime) -> int:
    rows = RateCounter.objects.filter(key=key, window_start=window_start)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=window_start, count=1)
                return 1
            except IntegrityError:  # another request created the row in the meantime
                rows.update(count=F("count") + 1)
        return rows.values_list("count", flat=True).first() or 1


def _cleanup(now: dt.datetime) -> None:
    longest = max(
        (seconds for limits in DEFAULT_LIMITS.values() for _, seconds in limits), default=24 * 60 * 60
    )
    for scope in DEFAULT_LIMITS:
        longest = max([longest, *(seconds for _, seconds in limits_for(scope))])
    RateCounter.objects.filter(window_start__lt=now - dt.timedelta(seconds=longest)).delete()


def retry_after(request: HttpRequest, scope: str, *, now: dt.datetime | None = None) -> int | None:
    """Seconds to wait if any window of ``scope`` is already full, else None (counts nothing)."""
    now = now or timezone.now()
    address = client_address(request)
    wait = None
    for limit, seconds in limits_for(scope):
        start = _window_start(now, seconds)
        count = (
            RateCounter.objects.filter(key=_key(scope, seconds, address), window_start=start)
            .values_list("count", flat=True)
            .first()
            or 0
        )
        if count >= limit:
            remaining = int((start + dt.timedelta(seconds=seconds) - now).total_seconds()) + 1
            wait = max(wait or 0, remaining)
    return wait


def hit(request: HttpRequest, scope: str, *, now: dt.datetime | None = None) -> int | None:
    """Count one hit in every window of ``scope``; returns seconds to wait if this hit was over a limit."""
    now = now or timezone.now()
    address = client_address(request)
    wait = None
    for limit, seconds in limits_for(scope):
        start = _window_start(now, seconds)
        count = _increment(_key(scope, seconds, address), start)
        if count > limit:
            remaining = int((start + dt.timedelta(seconds=seconds) - now).total_seconds()) + 1
            wait = max(wait or 0, remaining)
    if next(_hits) % CLEANUP_EVERY == 0:
        _cleanup(now)
    return wait
