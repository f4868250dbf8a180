"""gunicorn's configuration, read from the environment (LAGEBILD_BIND, LAGEBILD_WORKERS, …).

``lagebild serve`` starts ``gunicorn --config python:lagebild.ops.gunicorn_conf``; the same works
by hand or from a container. The variables and their defaults: lagebild.ops.appserver and
docs/operations.md ("Application server").
"""

from __future__ import annotations

import os
from typing import Any

from lagebild.ops.appserver import gunicorn_options, server_settings

globals().update(gunicorn_options(server_settings(os.environ)))


def on_starting(server: Any) -> None:
    """Empties PROMETHEUS_MULTIPROC_DIR before the first worker counts (stale files add up)."""
    from lagebild.ops.metrics import prepare_multiprocess_dir

    prepare_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    """Removes an ended worker's live metrics files (Prometheus multi-process mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
