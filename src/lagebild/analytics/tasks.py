"""Background tasks of the analytics: bringing the count tables up to date after an import."""

from __future__ import annotations

from lagebild.core import tasking

from . import aggregates
from .models import PendingCounts


@tasking.task(name="analytics.apply_deferred_counts")
def apply_deferred_counts() -> int:
    """Apply the counts a large import deferred; the number of runs applied.

    Idempotent by design (``aggregates.catch_up``): the pending runs are applied and deleted in
    one transaction, so a worker killed halfway leaves them as they were, and the rerun (or any
    read of the counts in between) applies each exactly once.
    """
    waiting = PendingCounts.objects.count()
    aggregates.catch_up()
    return waiting
