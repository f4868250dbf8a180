"""Background tasks of the analytics: count tables after an import, reports of long periods."""

from __future__ import annotations

import datetime as dt
import logging

from lagebild.core import tasking

from . import aggregates, report_files
from .models import PendingCounts

logger = logging.getLogger(__name__)


@tasking.task(name="analytics.apply_deferred_counts")
def apply_deferred_counts() -> int:
    """Apply the counts a large import deferred; the number of runs applied.

    Idempotent by design (``aggregates.catch_up``): the pending runs are applied and deleted in
    one transaction, so a worker killed halfway leaves them as they were, and the rerun (or any
    read of the counts in between) applies each exactly once.
    """
    waiting = PendingCounts.objects.count()
    aggregates.catch_up()
    logger.info("Deferred counts applied (%d runs)", waiting)
    return waiting


@tasking.task(name="analytics.render_balance_report", time_limit=15 * 60)
def render_balance_report(fmt: str, area_id: int, start: str, end: str, authority: str, name: str) -> str:
    """Make the balance report (PDF or XLSX) of a long period and store it (``report_files``).

    The file name is fixed by the parameters: a rerun overwrites it, never adds a second file.
    """
    from .balance import balance_pdf, balance_series, balance_xlsx, build_balance

    balance = build_balance(
        area_id, dt.date.fromisoformat(start), dt.date.fromisoformat(end), authority=authority
    )
    series = balance_series(balance)
    data = balance_pdf(balance, series) if fmt == "pdf" else balance_xlsx(balance, series)
    return str(report_files.write(name, fmt, data))
