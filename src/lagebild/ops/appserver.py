"""The application server's settings, read from the environment (docs/operations.md).

``lagebild serve`` and ``gunicorn -c python:lagebild.ops.gunicorn_conf`` both take their
gunicorn settings from here, so a systemd unit, a container and ``make serve`` start the same
server. Pure functions of the environment: importing this module loads neither Django nor
gunicorn (the gunicorn master stays small; each worker loads the application itself).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WSGI_APP = "lagebild.wsgi:application"
CONFIG_MODULE = "python:lagebild.ops.gunicorn_conf"

DEFAULT_BIND = "127.0.0.1:8000"
# 2 × cores + 1 (gunicorn's rule of thumb), but each worker holds the whole application
# (~150 MB) and a database connection: beyond this many, add threads or servers instead.
MAX_DEFAULT_WORKERS = 12
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_GRACEFUL_TIMEOUT_SECONDS = 30
DEFAULT_KEEPALIVE_SECONDS = 5
DEFAULT_MAX_REQUESTS = 2000
# Combined, parsable access-log line plus the duration in milliseconds.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


class ServerConfigError(ValueError):
    """A LAGEBILD_* server variable that cannot be used; the message is for the operator (German)."""


@dataclass(frozen=True)
class ServerSettings:
    bind: tuple[str, ...]
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    keepalive: int
    max_requests: int
    max_requests_jitter: int
    access_log: str | None
    forwarded_allow_ips: str
    control_socket: str | None


def available_cores() -> int:
    """The cores this process may run on (a container's or systemd's CPU limit included)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(cores: int) -> int:
    return min(2 * cores + 1, MAX_DEFAULT_WORKERS)


def _int(environ: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ServerConfigError(f"{name}={text!r} ist keine ganze Zahl.") from None
    if value < minimum:
        raise ServerConfigError(f"{name}={value} ist zu klein (mindestens {minimum}).")
    return value


def _forwarded_allow_ips(trusted_proxy: str) -> str:
    """gunicorn trusts X-Forwarded-Proto from the same proxies as Lagebild (LAGEBILD_TRUSTED_PROXY)."""
    text = trusted_proxy.strip()
    if not text or text.lower() in {"0", "false", "no", "nein", "off"}:
        return "127.0.0.1,::1"  # gunicorn's own default
    if text.lower() in {"1", "true", "yes", "ja", "on"}:
        return "*"  # "the peer is the proxy": only the proxy can reach the bind address
    return text


def server_settings(environ: Mapping[str, str], *, cores: int | None = None) -> ServerSettings:
    """The server's settings from LAGEBILD_* variables; raises ServerConfigError on a bad value."""
    bind = tuple(item.strip() for item in environ.get("LAGEBILD_BIND", "").split(",") if item.strip())
    workers = _int(environ, "LAGEBILD_WORKERS", default_workers(cores or available_cores()), minimum=1)
    max_requests = _int(environ, "LAGEBILD_MAX_REQUESTS", DEFAULT_MAX_REQUESTS, minimum=0)
    timeout = _int(environ, "LAGEBILD_TIMEOUT", DEFAULT_TIMEOUT_SECONDS, minimum=1)
    access_log = environ.get("LAGEBILD_ACCESS_LOG", "").strip()
    control_socket = environ.get("LAGEBILD_CONTROL_SOCKET", "").strip()
    return ServerSettings(
        bind=bind or (DEFAULT_BIND,),
        workers=workers,
        threads=_int(environ, "LAGEBILD_THREADS", 1, minimum=1),
        timeout=timeout,
        graceful_timeout=_int(
            environ, "LAGEBILD_GRACEFUL_TIMEOUT", DEFAULT_GRACEFUL_TIMEOUT_SECONDS, minimum=0
        ),
        keepalive=_int(environ, "LAGEBILD_KEEPALIVE", DEFAULT_KEEPALIVE_SECONDS, minimum=0),
        max_requests=max_requests,
        # Spread the restarts so the workers do not all restart in the same minute.
        max_requests_jitter=_int(environ, "LAGEBILD_MAX_REQUESTS_JITTER", max_requests // 10, minimum=0),
        access_log=access_log or None,
        forwarded_allow_ips=_forwarded_allow_ips(environ.get("LAGEBILD_TRUSTED_PROXY", "")),
        control_socket=control_socket or None,
    )


def gunicorn_options(settings: ServerSettings) -> dict[str, Any]:
    """The settings under gunicorn's names (a gunicorn config module's globals)."""
    options: dict[str, Any] = {
        "wsgi_app": WSGI_APP,
        "bind": list(settings.bind),
        "workers": settings.workers,
        "threads": settings.threads,
        # More than one thread needs the threaded worker; gunicorn picks it, said here explicitly.
        "worker_class": "gthread" if settings.threads > 1 else "sync",
        "timeout": settings.timeout,
        "graceful_timeout": settings.graceful_timeout,
        "keepalive": settings.keepalive,
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests_jitter,
        "accesslog": settings.access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "proc_name": "lagebild-web",
        # Each worker loads the application after the fork: no database connection or
        # thread is shared between processes, and a restarted worker gets fresh code.
        "preload_app": False,
        # Heartbeat files in memory, not on a disk a slow NFS or full /tmp could stall.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
    }
    if settings.control_socket:
        options["control_socket"] = settings.control_socket
    else:
        # gunicornc's socket would default to ~/.gunicorn/gunicorn.ctl, shared by every
        # server of the same user: only where the operator names one.
        options["control_socket_disable"] = True
    return options


def describe(settings: ServerSettings) -> str:
    """One German line for the operator: what is about to start."""
    threads = f" mit je {settings.threads} Threads" if settings.threads > 1 else ""
    restarts = (
        f"Neustart je Prozess nach {settings.max_requests} (±{settings.max_requests_jitter}) Anfragen"
        if settings.max_requests
        else "kein Neustart nach Anfragenzahl"
    )
    return (
        f"gunicorn auf {', '.join(settings.bind)}: {settings.workers} Prozesse{threads}, "
        f"Zeitlimit {settings.timeout} s, {restarts}, "
        f"Zugriffsprotokoll {settings.access_log or 'aus'}."
    )


def gunicorn_command(python: str | None = None) -> list[str]:
    """The command ``lagebild serve`` replaces itself with."""
    return [python or sys.executable, "-m", "gunicorn", "--config", CONFIG_MODULE, WSGI_APP]
