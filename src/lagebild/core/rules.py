"""Role permissions (django-rules predicates). Authority separation is enforced by scoping."""

from __future__ import annotations

import rules

from .models import Role


def _has_role(*roles: str) -> rules.Predicate:
    @rules.predicate(name=f"has_role({','.join(roles)})")
    def predicate(user: object) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in roles

    return predicate


is_field_officer = _has_role(Role.FIELD_OFFICER)
is_shift_lead = _has_role(Role.SHIFT_LEAD)
is_analyst = _has_role(Role.ANALYST)
is_admin = _has_role(Role.ADMIN)
is_authenticated = rules.is_authenticated

can_record = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
can_plan = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
can_import = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
# Operational roles work with (pseudonymous) person references; analysts and the task
# force see aggregates only.
can_see_persons = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
can_export = _has_role(
    Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ANALYST, Role.TASKFORCE, Role.LEADERSHIP, Role.ADMIN
)

rules.add_perm("field.view_records", is_authenticated)
rules.add_perm("field.record_incident", can_record)
rules.add_perm("field.plan_shifts", can_plan)
rules.add_perm("field.import_incidents", can_import)
rules.add_perm("field.export_incidents", can_export)
rules.add_perm("field.view_persons", can_see_persons)
