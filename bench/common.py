"""Helpers shared by the benchmark subprocesses (each one sets up Django on its own)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lagebild.settings")
    import django

    django.setup()


def prepare_like_a_server() -> None:
    """What ``lagebild/wsgi.py`` does after start-up, so timed calls run as in a serving process."""
    from lagebild.core.runtime import freeze_startup_objects

    freeze_startup_objects()


def log(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def emit(**fields: Any) -> None:
    """One result line on stdout (the runner collects them)."""
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def db_vendor() -> str:
    from django.db import connection

    return "postgres" if connection.vendor == "postgresql" else connection.vendor


def migrate() -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    return time.perf_counter() - started


def base_world() -> dict:
    """Authorities, demo areas, catalogue and accounts (the fixed part of the demo city)."""
    from django.db import transaction

    from lagebild.demo import base

    with transaction.atomic():
        authorities = base.ensure_authorities()
        base.ensure_geography()
        base.ensure_catalogue()
        base.ensure_users(authorities)
    return authorities


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)
