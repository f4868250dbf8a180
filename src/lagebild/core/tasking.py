"""How every background task of Lagebild is declared, sent and run (docs/operations.md).

``@tasking.task(name=…)`` declares a task with the common policy of :class:`LagebildTask`:

* acknowledged late (``acks_late``) and handed back to the broker when the worker process dies
  (``reject_on_worker_lost``): a task killed halfway (``kill -9``) is delivered again and redone.
  Every task is therefore written to be idempotent: it checks the database state it would
  change, in the same transaction as the change, and a second run finds nothing left to do.
* retried with exponential backoff and jitter on transient errors (database unreachable or
  locked, broker or network connection lost, mail relay refusing for now), a bounded number of
  times; any other error is a bug and fails the task at once (logged with its request id).
* bounded in time: a hanging task is ended after :data:`TIME_LIMIT` seconds.

:func:`enqueue` sends a task only after the current transaction commits, so a worker never
looks for a record that is not visible yet, and a rolled-back request sends nothing.
Without a broker (``LAGEBILD_BROKER_URL`` empty) Celery runs tasks in the calling process
(``task_always_eager``); :func:`run_or_enqueue` then runs the task at once and returns its
result, so the page behaves exactly as without background work.

The request id of the web request (or task) that sends a task travels in the task's headers
and is active while the task runs, so log lines of both carry the same id.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import smtplib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import kombu.exceptions
from celery import Task, shared_task
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from . import requestid

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "lagebild_request_id"
TIME_LIMIT = 30 * 60  # seconds; must stay below the Redis visibility timeout (settings)
MAX_RETRIES = 8  # with backoff 5 s … 10 min: about half an hour of outage is bridged

# Errors after which the same task, tried again a little later, can succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,  # database restarting, unreachable, "database is locked"
    InterfaceError,  # connection closed under us
    kombu.exceptions.OperationalError,  # broker connection lost while sending a follow-up task
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPDataError,  # 4xx "try again later" answers arrive as data errors
    ConnectionError,
    TimeoutError,
    socket.gaierror,  # name resolution of the relay failed
)

F = TypeVar("F", bound=Callable[..., Any])


class LagebildTask(Task):
    """The common policy of all tasks (see the module docstring)."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 5
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = MAX_RETRIES
    time_limit = TIME_LIMIT
    soft_time_limit = TIME_LIMIT - 30
    # Nobody waits for a result: tasks write their outcome to the database (see the docs).
    ignore_result = True

    def retry(self, *args: Any, exc: BaseException | None = None, **kwargs: Any) -> Any:
        # In-process (no broker) a retry would run the task again at once, inside the user's
        # request; there the error goes to the caller as it did before tasks existed.
        if self.request.is_eager and exc is not None:
            raise exc
        return super().retry(*args, exc=exc, **kwargs)


def task(*, name: str, **options: Any) -> Callable[[F], Any]:
    """Declare a task with the common policy; ``options`` override it (e.g. ``time_limit``)."""
    if "time_limit" in options and "soft_time_limit" not in options:
        options["soft_time_limit"] = max(int(options["time_limit"]) - 30, 1)
    return shared_task(name=name, base=LagebildTask, **options)  # type: ignore[no-any-return]


def broker_configured() -> bool:
    """True when tasks go to a broker and run in worker processes."""
    return not bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True))


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` once the current transaction commits (at once outside of a transaction).

    Without a broker the task then runs in this process, and its errors reach the caller.
    """
    transaction.on_commit(functools.partial(task.apply_async, args, kwargs))


def run_or_enqueue(task: Task, *args: Any, **kwargs: Any) -> Any:
    """Without a broker: run ``task`` now and return its result. With one: :func:`enqueue`, ``None``."""
    if broker_configured():
        enqueue(task, *args, **kwargs)
        return None
    return task.apply(args, kwargs, throw=True).get()


def file_key(*parts: object) -> str:
    """A deterministic name for what a task stores: the same parameters, the same file."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Whether this process holds the lock ``name``; at most one holder at a time, machine-wide.

    On PostgreSQL a session advisory lock (all servers sharing the database), otherwise a lock
    file under ``LAGEBILD_VAR_DIR`` (SQLite runs on one machine). Both vanish with the process,
    so a worker killed with ``kill -9`` leaves no stale lock behind.
    """
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = bool(cursor.fetchone()[0])
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{file_key(name)}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- request id: from the sender's context into the task's --------------------------------------


@before_task_publish.connect
def _send_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = requestid.current()
    if headers is not None and request_id and not headers.get(REQUEST_ID_HEADER):
        headers[REQUEST_ID_HEADER] = request_id


_tokens: dict[str, Any] = {}


@task_prerun.connect
def _activate_request_id(task_id: str = "", task: Task | None = None, **_: Any) -> None:
    if task is None or task.request.is_eager:
        return  # in-process: the caller's id is active already
    request_id = task.request.get(REQUEST_ID_HEADER) or (task.request.headers or {}).get(REQUEST_ID_HEADER)
    # A task sent by the scheduler has no request: its own id names its log lines.
    _tokens[task_id] = requestid.activate(str(request_id or task_id or requestid.new()))


@task_postrun.connect
def _deactivate_request_id(task_id: str = "", **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError):
            requestid.deactivate(token)
