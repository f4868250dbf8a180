"""Security matrix entries of the offence proceedings (web part), merged into security_matrix.py.

Record types: "@case" (a case of the city and of the police), "@proceedings_person".
Roles: Role.PROCEEDINGS handles cases; figures are for proceedings.rules.can_view_figures.
"""

from __future__ import annotations

from typing import Any

from lagebild.core.models import Role  # noqa: F401

from .security_matrix import NO_RECORD, E, Entry  # noqa: F401

ROUTES: dict[str, Entry] = {}
ADMIN_MODELS: dict[str, Any] = {}
API_OPERATIONS: dict[str, str] = {}
