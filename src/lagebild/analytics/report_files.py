"""Large reports made by a worker: files in ``LAGEBILD_VAR_DIR/reports``, named by their parameters.

The name is a hash of the report's parameters and the requesting user's authority, so a task
run again overwrites the same file (written under a temporary name and renamed, never half
visible), and a user of another authority, asking for the same report, gets a file of their
own. The directory is private: files leave it only through the report's own download view,
which checks the user's permission first. Files are fresh for :data:`FRESH` (then a new request
makes them anew, with the counts of that moment) and removed after a day.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from django.conf import settings

from lagebild.core import tasking

FRESH = dt.timedelta(minutes=15)
PENDING = dt.timedelta(minutes=10)  # a request older than this is asked again (worker lost it)
KEEP = dt.timedelta(days=1)


def background_days() -> int:
    """Periods longer than this many days are made by a worker (when there is a broker)."""
    return int(getattr(settings, "LAGEBILD_REPORT_BACKGROUND_DAYS", 92))


def folder() -> Path:
    path = Path(settings.VAR_DIR) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def key(kind: str, fmt: str, params: dict[str, object], authority_id: int | None) -> str:
    return tasking.file_key(kind, fmt, *(f"{k}={params[k]}" for k in sorted(params)), authority_id)


def path(name: str, fmt: str) -> Path:
    return folder() / f"{name}.{fmt}"


def _age(file: Path) -> dt.timedelta | None:
    try:
        return dt.timedelta(seconds=time.time() - file.stat().st_mtime)
    except FileNotFoundError:
        return None


def ready(name: str, fmt: str) -> Path | None:
    """The finished file, when it is fresh."""
    file = path(name, fmt)
    age = _age(file)
    return file if age is not None and age <= FRESH else None


def requested(name: str, fmt: str) -> bool:
    age = _age(folder() / f"{name}.{fmt}.requested")
    return age is not None and age <= PENDING


def _stamp(file: Path) -> None:
    # Ages are measured against time.time(), the application's clock (frozen in tests, on DST
    # nights and in other years too); the file system would stamp its own, so set it explicitly.
    now = time.time()
    os.utime(file, (now, now))


def mark_requested(name: str, fmt: str) -> None:
    marker = folder() / f"{name}.{fmt}.requested"
    marker.touch()
    _stamp(marker)


def write(name: str, fmt: str, data: bytes) -> Path:
    """Store the finished file (replacing an older one) and clear its request mark."""
    target = path(name, fmt)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    _stamp(temporary)
    os.replace(temporary, target)
    (folder() / f"{name}.{fmt}.requested").unlink(missing_ok=True)
    _remove_old()
    return target


def _remove_old() -> None:
    for file in folder().iterdir():
        age = _age(file)
        if age is not None and age > KEEP:
            file.unlink(missing_ok=True)
