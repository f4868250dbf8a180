"""CSV cells that a spreadsheet shows as text and never runs as a formula (CSV injection).

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, after their own trimming, tab or carriage return) as a formula, so ``=HYPERLINK(...)``
typed into a free-text field by a citizen or an officer would become a link or a calculation
in whoever opens the export. OWASP's advice: prefix such a cell with a single quote. Every CSV
writer of Lagebild passes its text cells through :func:`guard`; the incident import takes the
quote off again (``field.importer._plain_text``), so an export still imports to the same records.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(text: str) -> str:
    """``=1+2`` → ``'=1+2``; any other text unchanged."""
    if text and text.startswith(FORMULA_START):
        return "'" + text
    return text


def guard_row(cells: Iterable[object]) -> list[object]:
    """A row with every text cell guarded; numbers stay numbers (a negative number is no formula)."""
    return [guard(cell) if isinstance(cell, str) else cell for cell in cells]
