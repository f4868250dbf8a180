"""docs/data-protection.md: the generated part between two markers, from the registry."""

from __future__ import annotations

from pathlib import Path

from .records import markdown_table

START = "<!-- Beginn: erzeugt von `lagebild data-protection-table --write`, nicht von Hand ändern -->"
END = "<!-- Ende der erzeugten Tabelle -->"


def table() -> str:
    # The defaults of the registry, not this installation's settings: the document describes the
    # product; an installation's own periods are shown by `lagebild retention policies`.
    return markdown_table()


def render(text: str) -> str:
    if START not in text or END not in text:
        raise ValueError(f"Das Dokument enthält die Marken für die Tabelle nicht ({START!r} … {END!r}).")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{table()}\n{END}{tail}"


def write(path: Path) -> None:
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


def matches(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
        return render(text) == text
    except (FileNotFoundError, ValueError):
        return False
