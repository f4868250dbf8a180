"""Reads of the evidence register, already narrowed to what the user may see.

The authority scope (``AuthorityScopedManager``) hides the other authority's recordings; on
top of it a field officer sees only the recordings they wore the camera for, a shift lead
all of their authority's, every other role none. "Not yours" and "does not exist" are the
same ``None`` here, so views answer both with the same 404.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import CustodyEvent, Recording, RetentionDecision
from .rules import is_supervisor, may_use


def recordings_for(user: object) -> QuerySet[Recording]:
    queryset = Recording.objects.select_related("device", "wearer", "incident")
    if not may_use(user):
        return queryset.none()
    # The scope already filters by authority; the explicit filter guards a view that runs
    # with another scope active by mistake.
    queryset = queryset.filter(authority_id=getattr(user, "authority_id", None))
    if is_supervisor(user):
        return queryset
    return queryset.filter(wearer_id=getattr(user, "pk", None))


def recording_for(user: object, pk: int) -> Recording | None:
    return recordings_for(user).filter(pk=pk).first()


def custody_chain(recording: Recording) -> QuerySet[CustodyEvent]:
    return recording.custody.select_related("actor").order_by("pk")


def retention_decisions(recording: Recording) -> QuerySet[RetentionDecision]:
    return recording.retentions.select_related(
        "created_by", "wearer_confirmed_by", "supervisor_confirmed_by", "closed_by"
    ).order_by("-created_at", "-pk")


def open_decision(recording: Recording) -> RetentionDecision | None:
    return recording.retentions.filter(status=RetentionDecision.Status.OPEN).first()
