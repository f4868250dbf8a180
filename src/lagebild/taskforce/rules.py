"""Who may do what in the task force: actors of a user, and the django-rules permissions.

Access follows membership, not authority: a police officer in a working group sees the whole
workspace like a city member does. The executive board (role Verwaltungsvorstand) and the
leadership (mayor, police president) see it too; the board alone decides recommendations.
"""

from __future__ import annotations

from typing import Any

import rules
from django.db.models import Q

from lagebild.core.models import Role

from .models import TaskForce, TaskForceMember, WorkingGroup

OBSERVING_ROLES = frozenset({Role.EXECUTIVE_BOARD, Role.LEADERSHIP, Role.ADMIN})


def actors(user: Any, task_force: TaskForce, group: WorkingGroup | None = None) -> frozenset[str]:
    """What ``user`` is in relation to the task force (and a working group), as workflow actors."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    found: set[str] = set()
    functions = set(
        TaskForceMember.objects.filter(task_force=task_force, user=user).values_list("function", flat=True)
    )
    if TaskForceMember.Function.CHAIR in functions:
        found.add("chair")
    if TaskForceMember.Function.SECRETARY in functions:
        found.add("secretary")
    if user.role == Role.EXECUTIVE_BOARD:
        found.add("executive_board")
    if user.role == Role.LEADERSHIP:
        found.add("leadership")
    if user.role == Role.ADMIN:
        found.add("admin")
    if group is not None:
        if group.lead_id == user.pk:
            found.update({"group_lead", "group_member"})
        elif group.members.filter(pk=user.pk).exists():
            found.add("group_member")
    return frozenset(found)


def is_member(user: Any, task_force: TaskForce) -> bool:
    """Sees the workspace: a member of the task force or of one of its groups, or an observing role."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role in OBSERVING_ROLES:
        return True
    if TaskForceMember.objects.filter(task_force=task_force, user=user).exists():
        return True
    return WorkingGroup.objects.filter(_in_group(user), task_force=task_force).exists()


def _in_group(user: Any) -> Q:
    return Q(lead=user) | Q(members=user)


def can_edit_group(user: Any, group: WorkingGroup) -> bool:
    """Goals, milestones and draft recommendations of a group: its lead and members, the chair."""
    found = actors(user, group.task_force, group)
    return bool(found & {"group_lead", "group_member", "chair", "secretary", "admin"})


def can_run_meetings(user: Any, task_force: TaskForce) -> bool:
    return bool(actors(user, task_force) & {"chair", "secretary", "admin"})


@rules.predicate
def sees_any_task_force(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role in OBSERVING_ROLES:
        return True
    return (
        TaskForceMember.objects.filter(user=user).exists()
        or WorkingGroup.objects.filter(_in_group(user)).exists()
    )


rules.add_perm("taskforce.view_workspace", sees_any_task_force)
