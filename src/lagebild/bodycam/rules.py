"""Who may use the evidence register (django-rules). Authority separation is in the data layer.

Field officers see and register their own recordings; shift leads see their authority's and
act as the supervisor of the four-eyes retention. Analysts, the task force, leadership,
administrators and the data-protection officer see no recordings: their purpose needs none.
"""

from __future__ import annotations

import rules

from lagebild.core.models import Role

BODYCAM_ROLES = frozenset({Role.FIELD_OFFICER, Role.SHIFT_LEAD})


def may_use(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in BODYCAM_ROLES


def is_supervisor(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) == Role.SHIFT_LEAD


rules.add_perm("bodycam.view_recordings", rules.predicate(may_use, name="bodycam.may_use"))
rules.add_perm("bodycam.supervise", rules.predicate(is_supervisor, name="bodycam.is_supervisor"))
