"""German wording for deployment plans: numbers, time windows, team counts (pure, no Django)."""

from __future__ import annotations

from collections.abc import Mapping

KIND_LABELS = {"kod": "KOD", "police": "Polizei", "joint": "Doppelstreife"}
KIND_LABELS_PLURAL = {"kod": "KOD", "police": "Polizei", "joint": "Doppelstreifen"}
ORDINALS = ("erste", "zweite", "dritte", "vierte", "fünfte", "sechste", "siebte", "achte")


def number(value: float, digits: int = 1) -> str:
    """German decimal comma: 6.25 → "6,3" (one digit by default)."""
    return f"{value:.{digits}f}".replace(".", ",")


def hours(value: float) -> str:
    return f"{number(value, 1)} h" if abs(value - round(value)) > 1e-9 else f"{round(value)} h"


def percent(share: float) -> str:
    """0.25 → "25 %", 0.125 → "12,5 %" (one digit only where it matters)."""
    value = 100 * share
    return f"{round(value)} %" if abs(value - round(value)) < 0.05 else f"{number(value)} %"


def clock(t_days: float) -> str:
    """Wall-clock time of a moment given in days since a Monday 00:00 (local): 0.75 → "18 Uhr"."""
    minutes = round((t_days % 1.0) * 24 * 60) % (24 * 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour}" if minute == 0 else f"{hour}:{minute:02d}"


def window(start: float, end: float) -> str:
    return f"{clock(start)}–{clock(end)} Uhr"


def teams(count: int) -> str:
    return "1 Streife" if count == 1 else f"{count} Streifen"


def composition(by_kind: Mapping[str, int]) -> str:
    """ "2 Streifen (1 KOD, 1 Doppelstreife)"; kinds with zero teams are left out."""
    total = sum(by_kind.values())
    parts = []
    for kind in ("kod", "police", "joint"):
        count = by_kind.get(kind, 0)
        if count:
            label = KIND_LABELS[kind] if count == 1 else KIND_LABELS_PLURAL[kind]
            parts.append(f"{count} {label}")
    if len(parts) == 1:
        kind = next(k for k in ("kod", "police", "joint") if by_kind.get(k, 0))
        label = KIND_LABELS[kind] if total == 1 else KIND_LABELS_PLURAL[kind]
        return f"{teams(total)} ({label})"
    return f"{teams(total)} ({', '.join(parts)})"


def ordinal(index: int) -> str:
    """1 → "erste"; beyond the table "9." style."""
    return ORDINALS[index - 1] if 1 <= index <= len(ORDINALS) else f"{index}."
