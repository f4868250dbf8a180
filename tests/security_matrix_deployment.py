"""Security matrix entries of the deployment planning (/einsatzplanung/), merged into security_matrix.py.

Record type "@plan": a draft deployment plan of the city and of the police (seeded in
tests/test_security_matrix.py ``seed``), the marker in an assignment's reason. Plans are the
own authority's only (no joint plans). Readers: deployment.rules.can_view_plans.
"""

from __future__ import annotations

from typing import Any

from lagebild.core.models import Role

from .security_matrix import E, Entry

PLAN_READERS = (Role.SHIFT_LEAD, Role.ANALYST, Role.LEADERSHIP)

ROUTES: dict[str, Entry] = {
    "einsatzplanung/": E(roles=PLAN_READERS),
    "einsatzplanung/<int:pk>/": E(pk="@plan", roles=PLAN_READERS),
    "einsatzplanung/<int:pk>/aendern/": E(pk="@plan", note="POST only; GET answers 405"),
    "einsatzplanung/<int:pk>/freigeben/": E(pk="@plan", note="POST only; GET answers 405"),
    "einsatzplanung/<int:pk>/umsetzen/": E(pk="@plan", note="POST only; GET answers 405"),
    "einsatzplanung/<int:pk>/abweichungen/": E(pk="@plan", note="POST only; GET answers 405"),
    # Effect of patrols: an aggregate of both partners' incidents and patrols (like the displacement
    # analysis), no single records; the leak checks run on it.
    "einsatzplanung/wirkung/": E(scoped=False, heavy=True, params=({"weeks": "4"},)),
}
ADMIN_MODELS: dict[str, Any] = {}
API_OPERATIONS: dict[str, str] = {}
