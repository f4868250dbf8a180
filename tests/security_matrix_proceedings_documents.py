"""Security matrix entries of the offence proceedings (documents part), merged into security_matrix.py.

Record types: "@case" (a case of the city and of the police), "@proceedings_person", "@caution" (an
open caution with fee of each authority).
Roles: Role.PROCEEDINGS handles cases; figures are for proceedings.rules.can_view_figures.

The seeded cases are freshly opened (state "reported", a person assigned): the hearing letter and
the export form answer 200 to the owning Bußgeldstelle; the notice and the reminder answer 409
until a notice is approved / the case is final, so their role check is in
tests/test_proceedings_documents.py (roles=None here; "not yours" = "missing" is still checked).
PDF bodies are compressed: the marker search cannot read them, so the cross-authority content of
the PDFs is checked by text extraction in tests/test_proceedings_documents.py.
"""

from __future__ import annotations

from typing import Any

from lagebild.core.models import Role

from .security_matrix import E, Entry

PROCEEDINGS = (Role.PROCEEDINGS,)
CAUTION_PRINTERS = (Role.PROCEEDINGS, Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)

ROUTES: dict[str, Entry] = {
    "bussgeld/verfahren/<int:pk>/anhoerung.pdf": E(pk="@case", roles=PROCEEDINGS, heavy=True),
    "bussgeld/verfahren/<int:pk>/bescheid.pdf": E(
        pk="@case", heavy=True, note="409 until a notice is approved; roles in test_proceedings_documents"
    ),
    "bussgeld/verfahren/<int:pk>/mahnung.pdf": E(
        pk="@case", heavy=True, note="409 until the case is final; roles in test_proceedings_documents"
    ),
    "bussgeld/verfahren/<int:pk>/akte/": E(pk="@case", roles=PROCEEDINGS, note="GET: form; POST: the export"),
    # The certificate also for the roles that record incidents: they hand it over on the spot.
    "bussgeld/verwarnungen/<int:pk>/bescheinigung.pdf": E(pk="@caution", roles=CAUTION_PRINTERS, heavy=True),
    # Cautions (§ 56 OWiG, views_caution): documented from the incident page, paid at the Bußgeldstelle.
    "bussgeld/massnahmen/<int:pk>/verwarnung/": E(pk="@measure", note="POST only; GET answers 405"),
    "bussgeld/verwarnungen/": E(
        roles=PROCEEDINGS, params=({"stand": "open"}, {"stand": "kein-stand"}, {"seite": "2"})
    ),
    "bussgeld/verwarnungen/<int:pk>/bezahlt/": E(pk="@caution", note="POST only; GET answers 405"),
    "bussgeld/schreiben/tagesausgang.pdf": E(
        roles=PROCEEDINGS, heavy=True, params=({"tag": "2025-03-20"}, {"tag": "kein-datum"})
    ),
}
ADMIN_MODELS: dict[str, Any] = {}
API_OPERATIONS: dict[str, str] = {}
