"""Reads for offence proceedings: the daily deadline worklist, case lists, a case with its file.

Every read of a person's identity data is logged (issue 15, item 1); lists show the file number and
the category, not the name, so opening a case is the one read that reveals a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from lagebild.core import audit

from . import rules
from .models import CLOSED_STATES, Case, CaseDeadline, DeadlineKind, ProceedingsPerson

NOT_PROCEEDINGS = "Bußgeldverfahren sieht nur die Bußgeldstelle der eigenen Behörde."


class CaseNotFound(Exception):
    """The case does not exist or belongs to another authority: both answer alike."""


@dataclass(frozen=True)
class WorklistRow:
    case_id: int
    file_number: str
    category: str
    state: str
    kind: str
    kind_label: str
    due: dt.date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def _require_handler(user: Any) -> None:
    if not rules.can_handle_cases(user):
        raise PermissionDenied(NOT_PROCEEDINGS)


def worklist(
    *, user: Any, today: dt.date, kinds: list[str] | None = None, limit: int | None = None
) -> list[WorklistRow]:
    """The deadlines to act on today: every deadline whose warning period has begun, earliest first.

    Overdue deadlines stay on the list until the case moves on (or is recorded as lapsed by the daily
    run): nothing drops off silently. ``today`` is passed in, never read from the clock here.
    """
    _require_handler(user)
    return worklist_rows(today=today, kinds=kinds, limit=limit)


def worklist_rows(
    *, today: dt.date, kinds: list[str] | None = None, limit: int | None = None
) -> list[WorklistRow]:
    """The worklist of the active scope (also for benchmarks and the daily e-mail, which scope themselves)."""
    rows = CaseDeadline.objects.filter(warn_from__lte=today).exclude(case__state__in=CLOSED_STATES)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    values = rows.order_by("due", "case_id", "kind").values_list(
        "case_id", "case__file_number", "case__category__name", "case__state", "kind", "due"
    )
    if limit is not None:
        values = values[:limit]
    labels = dict(DeadlineKind.choices)
    return [
        WorklistRow(case_id, number, category, state, kind, labels.get(kind, kind), due, (due - today).days)
        for case_id, number, category, state, kind, due in values
    ]


def cases(*, user: Any, state: str | None = None, open_only: bool = False) -> QuerySet[Case]:
    _require_handler(user)
    queryset = Case.objects.select_related("category")
    if state:
        queryset = queryset.filter(state=state)
    if open_only:
        queryset = queryset.exclude(state__in=CLOSED_STATES)
    return queryset


def case_file(*, user: Any, pk: int, purpose: str = "Bearbeitung des Verfahrens") -> Case:
    """One case with person, events, notices and payments; the read of the person is logged."""
    _require_handler(user)
    case = (
        Case.objects.select_related("category", "category_rule", "person", "authority")
        .prefetch_related("events", "notices", "payments", "deadlines")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise CaseNotFound(pk)
    audit.log("proceedings.case.read", user=user, obj=case, purpose=purpose)
    if case.person_id:
        audit.log("proceedings.person.read", user=user, obj=case.person, purpose=purpose, case=case.pk)
    return case


def person(*, user: Any, pk: int, purpose: str = "Bearbeitung des Verfahrens") -> ProceedingsPerson:
    _require_handler(user)
    found = ProceedingsPerson.objects.filter(pk=pk).first()
    if found is None:
        raise CaseNotFound(pk)
    audit.log("proceedings.person.read", user=user, obj=found, purpose=purpose)
    return found
