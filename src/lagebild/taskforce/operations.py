"""Writes of the automatic operation evaluation: freeze the snapshot on the operation.

An operation is evaluated once on or after the Monday after its last day and once more when the
period after it (as long as the operation) has passed, so that the "after" figures are complete.
An operation whose area, dates or authorities changed after its evaluation is evaluated again.
Everything else leaves it untouched, so ``lagebild evaluate-operations`` can run every day (or
every hour): a second run changes nothing.

The snapshot (:func:`lagebild.taskforce.evaluation.build_evaluation`) is computed outside the
transaction (it only reads); evaluation and ``evaluated_at`` are then written together, after
checking under a row lock that no other run has stored the same stage meanwhile.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lagebild.analytics.documents import number_de
from lagebild.core import audit

from . import evaluation as ev
from .models import Operation

EVALUATED = "evaluated"
COMPLETED = "completed"
REEVALUATED = "reevaluated"
NOT_DUE = "not_due"
UP_TO_DATE = "up_to_date"
REFUSED = "refused"
WRITTEN = (EVALUATED, COMPLETED, REEVALUATED)


@dataclass(frozen=True)
class Outcome:
    """What happened to one operation, with a German sentence for the log."""

    operation: Operation
    action: str
    message: str
    seconds: float = 0.0

    @property
    def written(self) -> bool:
        return self.action in WRITTEN


def _date_de(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


def _label(operation: Operation) -> str:
    return f"„{operation.name}“ ({operation.code})"


def due_action(operation: Operation, today: dt.date, *, force: bool = False) -> tuple[str, str]:
    """(action, German reason): whether ``operation`` is to be evaluated on ``today`` and why."""
    problem = ev.period_problem(operation.start, operation.end)
    if problem and operation.start is not None and operation.end is not None and operation.end < today:
        # Unusable dates: store the German note once instead of failing every night.
        if operation.evaluation is None or force:
            return EVALUATED, problem
        return UP_TO_DATE, problem
    if operation.end is None or operation.end >= today:
        return NOT_DUE, (
            f"läuft noch bis {_date_de(operation.end)}; ausgewertet wird ab dem Montag danach, "
            f"{_date_de(ev.evaluation_day(operation.end))}."
            if operation.end
            else "hat kein Enddatum."
        )
    stored = ev.stage_of(operation.evaluation)
    complete_from = ev.completion_day(operation.start, operation.end)
    wanted = ev.STAGE_FINAL if today >= complete_from else ev.STAGE_FIRST
    if force:
        return (REEVALUATED if stored else EVALUATED), "auf Anforderung (--force) neu ausgewertet"
    if stored is None:
        first_day = ev.evaluation_day(operation.end)
        if today < first_day:
            return NOT_DUE, f"wird am Montag, {_date_de(first_day)}, ausgewertet."
        return EVALUATED, ""
    assert operation.evaluation is not None
    if operation.evaluation.get("fingerprint") != ev.operation_fingerprint(operation):
        return REEVALUATED, "Gebiet, Zeitraum oder Behörden wurden nach der Auswertung geändert"
    if stored == ev.STAGE_FIRST and wanted == ev.STAGE_FINAL:
        return COMPLETED, ""
    if stored == ev.STAGE_FIRST:
        return UP_TO_DATE, (
            f"ist ausgewertet; vervollständigt wird die Auswertung am {_date_de(complete_from)}."
        )
    return UP_TO_DATE, "ist ausgewertet und vervollständigt."


def _evaluated_at(today: dt.date | None) -> dt.datetime:
    """Now; for an evaluation dated in the past (``today`` given, e.g. the demo) its local midnight."""
    if today is None or today == timezone.localdate():
        return timezone.now()
    return dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())


def evaluate_operation(operation: Operation, *, today: dt.date | None = None, force: bool = False) -> Outcome:
    """Evaluate ``operation`` if it is due on ``today`` (default: today), or always with ``force``
    once it has ended. Writes ``evaluation`` and ``evaluated_at`` together; never raises for bad
    data (the snapshot carries German notes instead)."""
    day = today or timezone.localdate()
    action, reason = due_action(operation, day, force=force)
    if action not in WRITTEN:
        return Outcome(operation, action, f"{_label(operation)} {reason}".strip())
    began = time.perf_counter()
    snapshot = ev.build_evaluation(operation, today=day)
    seconds = time.perf_counter() - began
    snapshot["seconds"] = round(seconds, 3)
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        if not force and due_action(locked, day)[0] not in WRITTEN:
            return Outcome(
                locked, UP_TO_DATE, f"{_label(locked)} wurde inzwischen von einem anderen Lauf ausgewertet."
            )
        locked.evaluation = snapshot
        locked.evaluated_at = _evaluated_at(today)
        locked.save(update_fields=["evaluation", "evaluated_at"])
        audit.log("taskforce.operation_evaluate", obj=locked, stage=snapshot["stage"], outcome=action)
    operation.evaluation, operation.evaluated_at = locked.evaluation, locked.evaluated_at
    return Outcome(operation, action, _message(operation, action, reason, snapshot, seconds), seconds)


def _message(operation: Operation, action: str, reason: str, snapshot: dict[str, Any], seconds: float) -> str:
    verb = {
        EVALUATED: "ausgewertet",
        COMPLETED: "vervollständigt (Zeitraum nach dem Einsatz abgeschlossen)",
        REEVALUATED: "neu ausgewertet",
    }[action]
    text = f"{_label(operation)} {verb}"
    if reason:
        text += f" – {reason}"
    after = (snapshot.get("periods") or {}).get("after") or {}
    if snapshot.get("stage") == ev.STAGE_FIRST and after.get("status") != "complete":
        completion = ev.completion_day(operation.start, operation.end)
        text += f"; Zeitraum danach noch offen, Ergänzung am {_date_de(completion)}"
    notes = snapshot.get("notes") or []
    if notes:
        text += f". Hinweise: {' '.join(notes)}"
    return f"{text.rstrip('.')} ({number_de(seconds, 1)} s)."


def candidates(code: str = "") -> QuerySet[Operation]:
    operations = Operation.objects.select_related("area", "task_force").prefetch_related("authorities")
    if code:
        operations = operations.filter(code=code)
    return operations.order_by("end", "task_force__code", "code")


def evaluate_due(
    *,
    today: dt.date | None = None,
    force: bool = False,
    code: str = "",
    operations: Iterable[Operation] | None = None,
) -> list[Outcome]:
    """Evaluate every operation that is due (or the one with ``code``); one outcome per operation."""
    wanted = list(operations) if operations is not None else list(candidates(code))
    return [evaluate_operation(operation, today=today, force=force) for operation in wanted]
