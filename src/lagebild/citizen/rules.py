"""Role permissions for citizen reports (authority separation is done by scoping)."""

import rules

from lagebild.core.models import Role
from lagebild.core.rules import _has_role, can_view_incident_records

can_triage = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
can_handle = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
can_enter = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
# "Triage roles" see reporter name and e-mail; every access is logged.
can_see_reporter = _has_role(Role.SHIFT_LEAD, Role.ADMIN)

# Data minimisation (issue 13): single reports (citizens' free text, exact place, photos) for
# the roles that work with them and analysts; everyone else sees the statistics only.
rules.add_perm("citizen.view_reports", can_view_incident_records)
rules.add_perm("citizen.view_statistics", rules.is_authenticated)
rules.add_perm("citizen.triage", can_triage)
rules.add_perm("citizen.handle", can_handle)
rules.add_perm("citizen.enter_report", can_enter)
rules.add_perm("citizen.view_reporter", can_see_reporter)
