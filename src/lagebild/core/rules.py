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

# Data minimisation (Art. 5(1)(c) GDPR, issue 13): each role sees the detail its purpose needs.
# - Operational roles (field officer, shift lead, the authority's administration) work with
#   single records: free text, exact place, pseudonymous person references.
# - Analysts work with single records without free text or person references (place and time
#   exact: hotspot, displacement and data-quality checks need them) and may export them so.
# - Task force, leadership, executive board, data-protection officer and platform
#   administration see aggregates and locations coarsened to 100 m only: no incident lists,
#   details or exports (the DPO reads the audit log instead of the records).
OPERATIONAL_ROLES = (Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
AGGREGATE_ONLY_ROLES = (
    Role.TASKFORCE,
    Role.LEADERSHIP,
    Role.EXECUTIVE_BOARD,
    Role.DATA_PROTECTION_OFFICER,
    Role.PLATFORM_ADMIN,
)
can_view_incident_records = _has_role(*OPERATIONAL_ROLES, Role.ANALYST)
can_view_free_text = _has_role(*OPERATIONAL_ROLES)

can_record = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
can_plan = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
can_import = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
# Operational roles work with (pseudonymous) person references; analysts and the task
# force see aggregates only.
can_see_persons = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
# Bulk exports only for the purposes that need them: planning and follow-up (shift lead),
# analysis (analyst, without free text) and administration; every export is logged
# ("field.incidents.exported" with format, count and filters).
can_export = _has_role(Role.SHIFT_LEAD, Role.ANALYST, Role.ADMIN)

rules.add_perm("field.view_records", is_authenticated)
rules.add_perm("field.record_incident", can_record)
rules.add_perm("field.plan_shifts", can_plan)
rules.add_perm("field.import_incidents", can_import)
rules.add_perm("field.export_incidents", can_export)
rules.add_perm("field.view_persons", can_see_persons)
rules.add_perm("field.view_incident_records", can_view_incident_records)
rules.add_perm("field.view_free_text", can_view_free_text)
