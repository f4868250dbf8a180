"""The client's IP address, trusting ``X-Forwarded-For`` only from configured proxies.

Login lockout (django-axes) and API throttling count per address. Behind a reverse proxy
every request comes from the proxy's address, so the real client is in the
``X-Forwarded-For`` header; but anyone can send that header, so it is read only when the
direct peer is one of ``LAGEBILD_TRUSTED_PROXIES`` (addresses or networks). Then the
right-most address that is not itself a trusted proxy is the client: the proxies append,
so what lies left of it was written by the client and proves nothing. ``"*"`` (from
``LAGEBILD_TRUSTED_PROXY=1``) means: the peer is the one proxy, its last hop is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in configured)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _valid(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""


def client_ip(request: Any) -> str:
    meta = getattr(request, "META", {})
    peer = str(meta.get("REMOTE_ADDR", "") or "")
    configured = tuple(getattr(settings, "LAGEBILD_TRUSTED_PROXIES", ()) or ())
    if not configured:
        return peer
    hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    if "*" in configured:
        # One proxy, whatever its address: the hop it appended is the client.
        return _valid(hops[-1]) if hops and _valid(hops[-1]) else peer
    networks = _networks(configured)
    if not _is_trusted(peer, networks):
        return peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: count the proxy rather than a made-up client
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
