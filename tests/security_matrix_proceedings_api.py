"""Security matrix entries of the offence proceedings (api part), merged into security_matrix.py.

Record types: "@case" (a case of the city and of the police), "@proceedings_person".
Roles: Role.PROCEEDINGS handles cases; figures are for proceedings.rules.can_view_figures.

Also the figures page and the case export (CSV) under /bussgeld/ (``proceedings/urls_figures.py``):
their entries are merged once ``proceedings/urls.py`` includes those patterns (before, an entry
without its pattern would be stale).
"""

from __future__ import annotations

from typing import Any

from lagebild.core.models import Role

from .security_matrix import NO_RECORD, E, Entry  # noqa: F401

HANDLERS = (Role.PROCEEDINGS,)
FIGURE_ROLES = (
    Role.PROCEEDINGS,
    Role.ANALYST,
    Role.TASKFORCE,
    Role.LEADERSHIP,
    Role.EXECUTIVE_BOARD,
    Role.ADMIN,
)
PERIOD = {"start": "2000-01-01", "end": "2199-12-31"}

ROUTES: dict[str, Entry] = {
    "api/v1/proceedings/cases/": E(
        roles=HANDLERS,
        lists="case",
        params=(
            {"state": "reported"},
            {"open": "true"},
            {"opened_from": "2000-01-01"},
            {"page_size": "1"},
            {"page": "2", "page_size": "1"},
        ),
    ),
    "api/v1/proceedings/cases/<int:pk>/": E(pk="@case", roles=HANDLERS),
    "api/v1/proceedings/figures/": E(roles=FIGURE_ROLES, params=(PERIOD,)),
}

WEB_ROUTES: dict[str, Entry] = {
    "bussgeld/kennzahlen/": E(roles=FIGURE_ROLES, params=(PERIOD,)),
    "bussgeld/verfahren/export.csv": E(roles=HANDLERS, params=(PERIOD, {"stand": "reported"})),
}


def _web_included() -> bool:
    from lagebild.proceedings import urls

    return any(getattr(p, "name", None) == "figures" for p in urls.urlpatterns)


if _web_included():
    ROUTES.update(WEB_ROUTES)

ADMIN_MODELS: dict[str, Any] = {}
API_OPERATIONS: dict[str, str] = {
    "GET /api/v1/proceedings/cases/": "route",
    "GET /api/v1/proceedings/cases/{id}/": "route",
    "GET /api/v1/proceedings/figures/": "route",
}
