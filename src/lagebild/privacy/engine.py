"""The retention engine: ``lagebild retention run [--dry-run]``.

For every record type with a retention (``records.RECORD_TYPES``), its handler finds what is
due and deletes or anonymises it in committed batches; each batch writes its entries to the
deletion log in the same transaction. So:

* idempotent: what is anonymised is recognised by its state and skipped, what is deleted is gone;
* resumable: a run that dies midway keeps its committed batches; the next start continues the
  unfinished run (same run id) and nothing is counted twice;
* the analytics count tables stay as they are: handlers anonymise counted records and keep
  every field the counts are built from (see docs/data-protection.md).

Files (photos, recordings) are removed after the batch's commit, never before: a rolled
back batch must not leave a record without its file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string

from lagebild.core import audit
from lagebild.core.scoping import unscoped

from . import policies
from .handlers import Due, HandlerUnavailable
from .models import DeletionLogEntry, RetentionHold, RetentionRun
from .records import RECORD_TYPES, Action, RecordType, Retention

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class RunReport:
    run_id: int | None
    dry_run: bool
    authority_id: int | None
    resumed: bool = False
    # record type → action → number (for this run, including batches before a crash)
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # authority id (None: records without an authority) → record type → number
    per_authority: dict[int | None, Counter] = field(default_factory=lambda: defaultdict(Counter))
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def handler_for(record_type: RecordType) -> Any:
    """The record type's handler object; raises HandlerUnavailable when its app is missing."""
    if not record_type.handler:
        raise HandlerUnavailable(record_type.key)
    try:
        handler = import_string(record_type.handler)
    except ImportError as exc:
        raise HandlerUnavailable(record_type.handler) from exc
    handler = handler() if isinstance(handler, type) else handler
    if hasattr(handler, "model"):
        handler.model()  # raises HandlerUnavailable when the app is not installed
    handler.action  # noqa: B018 (a delegating handler looks its target up here)
    return handler


def _skip(record_type: RecordType, now: dt.datetime, run_row: RetentionRun | None = None) -> tuple[Any, ...]:
    """Object ids not to touch: held past their retention, or already done in this run.

    Records anonymised by earlier runs are recognised by the handlers from their state, not
    from the log: an id may be given again to a new record after a deletion.
    """
    held = RetentionHold.objects.filter(record_type=record_type.key, until__gt=now).order_by()
    if run_row is None:
        return (held,)
    return (held, DeletionLogEntry.objects.filter(run=run_row, record_type=record_type.key).order_by())


def _selected(types: Iterable[str] | None) -> list[RecordType]:
    chosen = [rt for rt in RECORD_TYPES if rt.action is not Action.KEEP]
    if types is not None:
        wanted = set(types)
        unknown = wanted - {rt.key for rt in RECORD_TYPES}
        if unknown:
            raise ValueError(f"Unbekannte Datensatztypen: {', '.join(sorted(unknown))}.")
        chosen = [rt for rt in chosen if rt.key in wanted]
    return chosen


def _remove_files(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            logger.exception("Datei konnte nicht gelöscht werden: %s", path)


def run(
    *,
    dry_run: bool = False,
    authority_id: int | None = None,
    types: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    retention: dict[str, Retention] | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[RecordType, Sequence[Due]], None] | None = None,
) -> RunReport:
    """Delete or anonymise everything due at ``now`` (default: the current time).

    ``authority_id``: only that authority's records (records without an authority, such as
    task-force meetings, only in a run over all authorities). ``retention`` overrides the
    configured retention per type (the old ``anonymise-reports --days``). ``on_batch`` is
    called inside each batch's transaction, after the changes (progress output).
    """
    now = now or timezone.now()
    chosen = _selected(types)
    overrides = {**policies.overrides(), **(retention or {})}
    with unscoped():
        if dry_run:
            return _dry_run(chosen, now=now, authority_id=authority_id, overrides=overrides)
        run_row, resumed = _start(authority_id, [rt.key for rt in chosen], now)
        report = RunReport(run_id=run_row.pk, dry_run=False, authority_id=authority_id, resumed=resumed)
        for record_type in chosen:
            try:
                handler = handler_for(record_type)
                action = handler.action
            except HandlerUnavailable as exc:
                report.skipped[record_type.key] = f"nicht verfügbar ({exc})"
                continue
            period = overrides.get(record_type.key) or record_type.default_retention
            assert period is not None
            while True:
                with transaction.atomic():
                    due = list(
                        handler.find_due(
                            now=now,
                            retention=period,
                            authority_id=authority_id,
                            skip=_skip(record_type, now, run_row),
                            limit=batch_size,
                        )
                    )
                    if not due:
                        break
                    files = handler.apply(due, now=now) or []
                    DeletionLogEntry.objects.bulk_create(
                        DeletionLogEntry(
                            run=run_row,
                            record_type=record_type.key,
                            object_id=int(d.object_id),
                            record_start=getattr(d, "start", None),
                            authority_id=d.authority_id,
                            action=action,
                            due_at=d.due_at,
                            done_at=timezone.now(),
                        )
                        for d in due
                    )
                    if on_batch is not None:
                        on_batch(record_type, due)
                    paths = list(files)
                    transaction.on_commit(lambda paths=paths: _remove_files(paths))
        _finish(run_row, report)
    return report


def _start(authority_id: int | None, keys: list[str], now: dt.datetime) -> tuple[RetentionRun, bool]:
    """The unfinished run of the same scope and record types (a crash), or a new one."""
    with transaction.atomic():
        unfinished = RetentionRun.objects.select_for_update().filter(
            finished_at__isnull=True, authority_id=authority_id
        )
        for candidate in unfinished.order_by("-started_at", "-id"):
            if sorted(candidate.record_types) == sorted(keys):
                candidate.resumed_at = now
                candidate.save(update_fields=["resumed_at"])
                return candidate, True
        fresh = RetentionRun.objects.create(started_at=now, authority_id=authority_id, record_types=keys)
        return fresh, False


def _finish(run_row: RetentionRun, report: RunReport) -> None:
    rows = (
        DeletionLogEntry.objects.filter(run=run_row)
        .values("record_type", "action", "authority_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        report.counts[row["record_type"]][row["action"]] += row["n"]
        report.per_authority[row["authority_id"]][row["record_type"]] += row["n"]
    with transaction.atomic():
        run_row.finished_at = timezone.now()
        run_row.save(update_fields=["finished_at"])
        audit.log(
            "privacy.retention.run",
            object_type="privacy.retentionrun",
            object_id=run_row.pk,
            resumed=report.resumed,
            authority_id=report.authority_id,
            counts={key: dict(c) for key, c in report.counts.items()},
            skipped=report.skipped,
        )


def _dry_run(
    chosen: list[RecordType], *, now: dt.datetime, authority_id: int | None, overrides: dict[str, Retention]
) -> RunReport:
    report = RunReport(run_id=None, dry_run=True, authority_id=authority_id)
    for record_type in chosen:
        try:
            handler = handler_for(record_type)
            action = handler.action
        except HandlerUnavailable as exc:
            report.skipped[record_type.key] = f"nicht verfügbar ({exc})"
            continue
        period = overrides.get(record_type.key) or record_type.default_retention
        assert period is not None
        for due in handler.find_due(
            now=now, retention=period, authority_id=authority_id, skip=_skip(record_type, now), limit=None
        ):
            report.counts[record_type.key][action] += 1
            report.per_authority[due.authority_id][record_type.key] += 1
    return report


def due_dates() -> dict[str, Retention | None]:
    """The effective retention of every record type (defaults with the settings applied)."""
    overrides = policies.overrides()
    return {rt.key: overrides.get(rt.key) or rt.default_retention for rt in RECORD_TYPES}
