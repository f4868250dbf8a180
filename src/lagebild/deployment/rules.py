"""Who works with deployment plans (authority separation is done by scoping: own plans only).

Shift leads plan their authority's week: they compute, edit, approve and apply plans. Analysts
and leadership read plans and their deviations. Field officers see the patrols a plan created
(field pages), not the plan itself.
"""

import rules

from lagebild.core.models import Role
from lagebild.core.rules import _has_role

can_view_plans = _has_role(Role.SHIFT_LEAD, Role.ANALYST, Role.LEADERSHIP)
can_edit_plans = _has_role(Role.SHIFT_LEAD)

rules.add_perm("deployment.view_plans", can_view_plans)
rules.add_perm("deployment.edit_plans", can_edit_plans)
