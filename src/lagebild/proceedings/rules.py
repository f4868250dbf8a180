"""Who works on offence proceedings (authority separation is done by scoping).

Cases and the identity data of persons (§ 111 OWiG) are for the proceedings role (Bußgeldstelle) of
the owning authority only: the field records the offence report, the Bußgeldstelle decides. Figures
about proceedings (counts, durations, rates) are aggregates and open to analysts, the task force and
leadership, like the other analytics.
"""

import rules

from lagebild.core.models import Role
from lagebild.core.rules import _has_role

can_handle_cases = _has_role(Role.PROCEEDINGS)
can_view_figures = _has_role(
    Role.PROCEEDINGS, Role.ANALYST, Role.TASKFORCE, Role.LEADERSHIP, Role.EXECUTIVE_BOARD, Role.ADMIN
)

rules.add_perm("proceedings.handle_cases", can_handle_cases)
rules.add_perm("proceedings.view_figures", can_view_figures)
