"""Security matrix entries of the offence proceedings (web part), merged into security_matrix.py.

Record types: "@case" (a case of the city and of the police), "@proceedings_person".
Roles: Role.PROCEEDINGS handles cases; figures are for proceedings.rules.can_view_figures.
"""

from __future__ import annotations

from typing import Any

from lagebild.core.models import Role

from .security_matrix import CITY_SEARCH, NO_RECORD, POLICE_SEARCH, E, Entry  # noqa: F401

HANDLERS = (Role.PROCEEDINGS,)

ROUTES: dict[str, Entry] = {
    "bussgeld/": E(roles=HANDLERS, params=({"kind": "prosecution_limitation"}, {"kind": "gibt-es-nicht"})),
    "bussgeld/verfahren/": E(
        roles=HANDLERS,
        params=(
            {"q": POLICE_SEARCH},
            {"q": CITY_SEARCH},
            {"seite": "2"},
            {"state": "reported"},
            {"state": "open"},
        ),
    ),
    "bussgeld/verfahren/neu/": E(roles=HANDLERS),
    "bussgeld/verfahren/<int:pk>/": E(pk="@case", roles=HANDLERS),
    "bussgeld/verfahren/<int:pk>/person/": E(pk="@case", roles=HANDLERS),
    "bussgeld/verfahren/<int:pk>/person/zuordnen/": E(pk="@case", note="POST only; GET answers 405"),
    "bussgeld/verfahren/<int:pk>/schritt/": E(pk="@case", note="POST only; GET answers 405"),
    "bussgeld/verfahren/<int:pk>/bescheid/": E(pk="@case", note="POST only; GET answers 405"),
    "bussgeld/verfahren/<int:pk>/bescheid/freigeben/": E(pk="@case", note="POST only; GET answers 405"),
    "bussgeld/verfahren/<int:pk>/zahlung/": E(pk="@case", note="POST only; GET answers 405"),
}
ADMIN_MODELS: dict[str, Any] = {}
API_OPERATIONS: dict[str, str] = {}
