"""The recommendation workflow as data: states, transitions and who may make them (no Django).

A city configures its own workflow as a JSON file (``LAGEBILD_RECOMMENDATION_WORKFLOW``); the
German default is ``data/recommendation_workflow.json``: Entwurf → eingereicht beim
Verwaltungsvorstand → beschlossen / abgelehnt / zur Überarbeitung zurück → in Umsetzung →
umgesetzt, and zurückgezogen before a decision. A definition is checked when it is loaded, so a
broken file stops the start instead of a meeting.

Actors are what a user is in relation to a recommendation, not Django roles: ``group_lead`` and
``group_member`` of its working group, ``chair`` and ``secretary`` of the task force,
``executive_board`` (role Verwaltungsvorstand), ``leadership`` (mayor, police president).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_WORKFLOW_FILE = Path(__file__).parent / "data" / "recommendation_workflow.json"

ACTORS = frozenset(
    {"group_lead", "group_member", "chair", "secretary", "executive_board", "leadership", "admin"}
)


class WorkflowError(ValueError):
    """The workflow definition is inconsistent (raised at load time)."""


@dataclass(frozen=True)
class State:
    code: str
    label: str
    editable: bool = False  # title, text and links may change
    decided: bool = False  # the executive board has decided: only superseding changes it
    final: bool = False  # no way out


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    label: str
    actors: frozenset[str]
    rationale_required: bool = False


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]

    def state(self, code: str) -> State:
        for state in self.states:
            if state.code == code:
                return state
        raise KeyError(code)

    def label(self, code: str) -> str:
        try:
            return self.state(code).label
        except KeyError:
            return code

    def transitions_from(self, code: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == code]

    def transition(self, source: str, target: str) -> Transition | None:
        for transition in self.transitions:
            if transition.source == source and transition.target == target:
                return transition
        return None

    def allowed(self, source: str, actors: Iterable[str]) -> list[Transition]:
        """The transitions out of ``source`` that someone acting as any of ``actors`` may make."""
        mine = set(actors)
        return [t for t in self.transitions_from(source) if t.actors & mine]

    @property
    def awaiting_decision(self) -> frozenset[str]:
        """States whose next step belongs to the executive board (they go on the agenda)."""
        return frozenset(t.source for t in self.transitions if "executive_board" in t.actors)


def parse_workflow(data: Any) -> Workflow:
    """A checked workflow from its JSON form; :class:`WorkflowError` names every problem at once."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise WorkflowError("Die Workflow-Definition muss ein JSON-Objekt sein.")
    states: list[State] = []
    for raw in data.get("states") or []:
        try:
            states.append(
                State(
                    code=str(raw["code"]),
                    label=str(raw["label"]),
                    editable=bool(raw.get("editable", False)),
                    decided=bool(raw.get("decided", False)),
                    final=bool(raw.get("final", False)),
                )
            )
        except (KeyError, TypeError):
            problems.append(f"Zustand ohne Kürzel oder Bezeichnung: {raw!r}.")
    codes = [s.code for s in states]
    if not states:
        problems.append("Es gibt keine Zustände.")
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        problems.append(f"Doppelte Zustände: {', '.join(duplicates)}.")
    initial = str(data.get("initial", ""))
    if initial not in codes:
        problems.append(f"Der Anfangszustand „{initial}“ ist kein Zustand.")
    transitions: list[Transition] = []
    for raw in data.get("transitions") or []:
        try:
            transition = Transition(
                source=str(raw["from"]),
                target=str(raw["to"]),
                label=str(raw["label"]),
                actors=frozenset(str(a) for a in raw["by"]),
                rationale_required=bool(raw.get("rationale_required", False)),
            )
        except (KeyError, TypeError):
            problems.append(f"Übergang unvollständig (from, to, label, by): {raw!r}.")
            continue
        for end in (transition.source, transition.target):
            if end not in codes:
                problems.append(
                    f"Übergang {transition.source} → {transition.target}: „{end}“ ist kein Zustand."
                )
        unknown = ", ".join(sorted(transition.actors - ACTORS))
        if unknown:
            problems.append(
                f"Übergang {transition.source} → {transition.target}: unbekannte Beteiligte {unknown}."
            )
        if not transition.actors:
            problems.append(
                f"Übergang {transition.source} → {transition.target}: niemand darf ihn ausführen."
            )
        transitions.append(transition)
    pairs = [(t.source, t.target) for t in transitions]
    for pair in sorted({p for p in pairs if pairs.count(p) > 1}):
        problems.append(f"Übergang {pair[0]} → {pair[1]} ist doppelt definiert.")
    finals = {s.code for s in states if s.final}
    for transition in transitions:
        if transition.source in finals:
            problems.append(f"Aus dem Endzustand „{transition.source}“ führt ein Übergang heraus.")
    if initial in codes:
        reachable, frontier = {initial}, [initial]
        while frontier:
            current = frontier.pop()
            for transition in transitions:
                if transition.source == current and transition.target not in reachable:
                    reachable.add(transition.target)
                    frontier.append(transition.target)
        unreachable = [c for c in codes if c not in reachable]
        if unreachable:
            problems.append(f"Nicht erreichbare Zustände: {', '.join(unreachable)}.")
    if problems:
        raise WorkflowError(" ".join(problems))
    return Workflow(
        name=str(data.get("name", "Workflow")),
        initial=initial,
        states=tuple(states),
        transitions=tuple(transitions),
    )


def load_workflow(path: Path | str | None = None) -> Workflow:
    """The workflow from a JSON file (default: the German standard workflow)."""
    source = Path(path) if path else DEFAULT_WORKFLOW_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkflowError(f"Workflow-Datei {source} nicht lesbar: {exc}") from exc
    return parse_workflow(data)
