"""Deployment optimisation: where and when to patrol so that the most expected risk is covered.

Pure (no Django): the Django side builds a :class:`PlanInput` from the forecast (expected events
per patrol zone and shift) and the staff input, and shows the :class:`PlanResult`. Places and
times only, never persons. The model, every parameter and its default: docs/deployment-optimisation.md.

In short: each shift (slot) is split into ``parts_per_slot`` equal parts (default two halves of
4 h). Teams of three kinds (KOD, police, joint "Doppelstreife") patrol one zone per part; a team
that changes zone between consecutive parts loses the travel time from its presence in the later
part. Covered risk of a zone in a part = expected events × a concave piecewise-linear share of
the (weighted) presence: the first team covers ``coverage_shares[0]``, the second
``coverage_shares[1]`` more, and so on. A mixed-integer programme (scipy.optimize.milp, HiGHS)
maximises the covered risk under staff per shift, focus-area minimums, travel and maximum hours.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from . import explain as wording

KINDS = ("kod", "police", "joint")
JOINT = 2
KIND_LABELS = wording.KIND_LABELS
# Keys of max_team_hours / max_slot_team_hours: each kind's hours count against its own cap. Joint
# teams are staffed separately (joint_teams is its own availability, the officers in them are not
# in kod_teams/police_teams), so their hours count against the "joint" cap only. (Counting them
# half against the KOD and half against the police cap coupled the two caps and made a week take
# 10 s instead of 1 s; the Django side can lower the KOD/police caps by the joint hours it plans.)
HOUR_SHARES = {"kod": {"kod": 1.0}, "police": {"police": 1.0}, "joint": {"joint": 1.0}}
CAP_KEYS = ("kod", "police", "joint")
DEFAULT_COVERAGE_SHARES = (0.5, 0.25, 0.125)
DEFAULT_JOINT_BONUS = 0.25
DEFAULT_MAX_MOVE_MINUTES = 15.0
DEFAULT_EXPLAIN_TOP = 3
EPS = 1e-9


@dataclass(frozen=True)
class Slot:
    """A shift: ``start``/``end`` in days since a Monday 00:00 (local wall clock), e.g. Fri 14–22 h."""

    key: str
    label: str  # "Spätschicht Fr"
    start: float
    end: float

    @property
    def hours(self) -> float:
        return round((self.end - self.start) * 24.0, 6)  # days as floats: 7.999999999 h is 8 h


@dataclass(frozen=True)
class ZoneInput:
    code: str
    name: str
    focus: bool = False
    min_teams: int = 0  # teams present in every part of a focus slot (focus zones only)
    focus_slots: frozenset[str] | None = None  # slot keys where the minimum applies; None = all


@dataclass(frozen=True)
class PlanInput:
    zones: Sequence[ZoneInput]
    slots: Sequence[Slot]
    risk: np.ndarray  # (zones, slots): expected events per zone and slot
    kod_teams: Sequence[int]  # available teams per slot
    police_teams: Sequence[int]
    joint_teams: Sequence[int]
    travel_minutes: np.ndarray | None = None  # (zones, zones); None = no travel time
    max_team_hours: Mapping[str, float] = field(default_factory=dict)  # per week, keys CAP_KEYS
    max_slot_team_hours: Mapping[str, float] = field(default_factory=dict)  # per slot, keys CAP_KEYS
    forbidden_zones: Mapping[str, Collection[str]] = field(default_factory=dict)  # kind → zone codes
    parts_per_slot: int = 2
    part_risk: np.ndarray | None = None  # (zones, slots, parts); default: risk split evenly
    coverage_shares: Sequence[float] = DEFAULT_COVERAGE_SHARES
    joint_bonus: float = DEFAULT_JOINT_BONUS  # a joint team in the zone adds bonus × coverage_shares[0]
    max_move_minutes: float = DEFAULT_MAX_MOVE_MINUTES  # longer zone changes within a shift are not planned
    time_limit_seconds: float = 30.0
    mip_rel_gap: float = 1e-4  # HiGHS default; the result reports the gap reached
    explain_top: int = DEFAULT_EXPLAIN_TOP  # unassigned zones up to this risk rank get a reason


@dataclass(frozen=True)
class Assignment:
    """``teams`` teams of ``kind`` patrol ``zone`` during part ``part`` of ``slot``.

    ``part`` 1..parts_per_slot; 0 means every part of the slot in this zone (hand edits).
    ``from_zone`` (parts ≥ 2): where these teams patrolled in the previous part; None = they start
    now. The same code as ``zone`` means they stay. ``hours`` are hours of presence (teams × part
    length − travel); ``covered_risk`` is this row's share of the zone's covered expected events.
    """

    slot: str
    zone: str
    kind: str
    teams: int
    part: int = 0
    from_zone: str | None = None
    hours: float = 0.0
    covered_risk: float = 0.0
    label: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Unassigned:
    slot: str
    part: int
    zone: str
    risk: float
    rank: int
    reason: str


@dataclass(frozen=True)
class Evaluation:
    covered_risk: float
    violations: list[str]
    rows: list[Assignment]  # normalised per part, with hours and covered risk
    team_hours: dict[str, float]

    @property
    def feasible(self) -> bool:
        return not self.violations

    def __float__(self) -> float:
        return self.covered_risk


@dataclass(frozen=True)
class PlanResult:
    status: str  # "optimal", "time_limit", "infeasible", "invalid", "error"
    message: str  # German
    assignments: list[Assignment]
    objective: float  # expected events covered (recomputed from the assignments)
    total_risk: float
    seconds: float
    mip_gap: float | None = None
    solver_objective: float | None = None
    dual_bound: float | None = None
    unassigned: list[Unassigned] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)  # German, one per missed focus minimum
    team_hours: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("optimal", "time_limit")


# --------------------------------------------------------------------------------------------
# Derived arrays


@dataclass(frozen=True)
class _Problem:
    pi: PlanInput
    Z: int
    S: int
    P: int
    risk: np.ndarray  # (Z, S, P)
    part_hours: np.ndarray  # (S,)
    available: np.ndarray  # (K, S) int
    allowed: np.ndarray  # (K, Z) bool
    travel: np.ndarray  # (Z, Z) minutes
    movable: np.ndarray  # (Z, Z) bool: a team may change from a to b between parts
    focus_min: np.ndarray  # (Z, S) int
    weights: np.ndarray  # (K,)
    shares: np.ndarray  # (J,)
    zone_index: dict[str, int]
    slot_index: dict[str, int]

    def part_start(self, s: int, p: int) -> float:
        slot = self.pi.slots[s]
        return slot.start + (slot.end - slot.start) * p / self.P

    def part_label(self, s: int, p: int) -> str:
        label = self.pi.slots[s].label
        return f"{label}, {wording.window(self.part_start(s, p), self.part_start(s, p + 1))}"


def _validate(pi: PlanInput) -> list[str]:
    errors: list[str] = []
    Z, S = len(pi.zones), len(pi.slots)
    if Z == 0 or S == 0:
        errors.append("Keine Zonen oder keine Schichten angegeben.")
        return errors
    risk = np.asarray(pi.risk, dtype=float)
    if risk.shape != (Z, S):
        errors.append(f"Risikomatrix hat Form {risk.shape}, erwartet ({Z} Zonen, {S} Schichten).")
    elif not np.all(np.isfinite(risk)) or (risk < 0).any():
        errors.append("Erwartete Vorfälle müssen endliche Zahlen ≥ 0 sein.")
    for kind, teams in zip(KINDS, (pi.kod_teams, pi.police_teams, pi.joint_teams), strict=True):
        if len(teams) != S:
            errors.append(f"Verfügbare Streifen {KIND_LABELS[kind]}: {len(teams)} Werte, erwartet {S}.")
        elif any(int(t) != t or t < 0 for t in teams):
            errors.append(f"Verfügbare Streifen {KIND_LABELS[kind]} müssen ganze Zahlen ≥ 0 sein.")
    if pi.parts_per_slot < 1:
        errors.append("Eine Schicht braucht mindestens einen Abschnitt.")
    if pi.part_risk is not None and np.asarray(pi.part_risk).shape != (Z, S, pi.parts_per_slot):
        errors.append(f"Risiko je Abschnitt: erwartet Form ({Z}, {S}, {pi.parts_per_slot}).")
    if pi.travel_minutes is not None and np.asarray(pi.travel_minutes).shape != (Z, Z):
        errors.append(f"Fahrzeitmatrix: erwartet Form ({Z}, {Z}).")
    if len(pi.coverage_shares) == 0 or any(s < 0 for s in pi.coverage_shares):
        errors.append("Abdeckungsanteile müssen angegeben und ≥ 0 sein.")
    elif any(b > a + EPS for a, b in itertools.pairwise(pi.coverage_shares)):
        errors.append("Abdeckungsanteile müssen fallen (jede weitere Streife deckt weniger zusätzlich ab).")
    elif sum(pi.coverage_shares) + pi.joint_bonus * pi.coverage_shares[0] > 1 + EPS:
        errors.append("Abdeckungsanteile und Doppelstreifen-Bonus dürfen zusammen höchstens 100 % ergeben.")
    if pi.joint_bonus < 0:
        errors.append("Bonus für Doppelstreifen muss ≥ 0 sein.")
    codes = [zone.code for zone in pi.zones]
    if len(set(codes)) != len(codes):
        errors.append("Zonencodes sind nicht eindeutig.")
    keys = [slot.key for slot in pi.slots]
    if len(set(keys)) != len(keys):
        errors.append("Schichtschlüssel sind nicht eindeutig.")
    if any(slot.end <= slot.start for slot in pi.slots):
        errors.append("Jede Schicht muss nach ihrem Beginn enden.")
    for zone in pi.zones:
        if zone.min_teams < 0:
            errors.append(f"Zone {zone.name}: Mindestpräsenz muss ≥ 0 sein.")
        if zone.focus_slots is not None and not set(zone.focus_slots) <= set(keys):
            errors.append(f"Zone {zone.name}: unbekannte Schicht in den Schwerpunktzeiten.")
    for key in list(pi.max_team_hours) + list(pi.max_slot_team_hours):
        if key not in CAP_KEYS:
            errors.append(f"Unbekannte Art für Höchststunden: {key!r} (kod, police, joint).")
    for kind, forbidden in pi.forbidden_zones.items():
        if kind not in KINDS:
            errors.append(f"Unbekannte Streifenart {kind!r}.")
        elif not set(forbidden) <= set(codes):
            errors.append(f"Gesperrte Zonen für {KIND_LABELS[kind]}: unbekannter Zonencode.")
    return errors


def _problem(pi: PlanInput) -> _Problem:
    Z, S, P = len(pi.zones), len(pi.slots), pi.parts_per_slot
    if pi.part_risk is not None:
        risk = np.asarray(pi.part_risk, dtype=float)
    else:
        risk = np.repeat(np.asarray(pi.risk, dtype=float)[:, :, None] / P, P, axis=2)
    part_hours = np.array([slot.hours / P for slot in pi.slots])
    available = np.array([list(pi.kod_teams), list(pi.police_teams), list(pi.joint_teams)], dtype=int)
    allowed = np.ones((len(KINDS), Z), dtype=bool)
    zone_index = {zone.code: i for i, zone in enumerate(pi.zones)}
    for kind, codes in pi.forbidden_zones.items():
        for code in codes:
            allowed[KINDS.index(kind), zone_index[code]] = False
    travel = np.zeros((Z, Z)) if pi.travel_minutes is None else np.asarray(pi.travel_minutes, dtype=float)
    movable = travel <= pi.max_move_minutes + EPS
    np.fill_diagonal(movable, True)
    focus_min = np.zeros((Z, S), dtype=int)
    for z, zone in enumerate(pi.zones):
        if zone.focus and zone.min_teams > 0:
            for s, slot in enumerate(pi.slots):
                if zone.focus_slots is None or slot.key in zone.focus_slots:
                    focus_min[z, s] = zone.min_teams
    weights = np.ones(len(KINDS))  # every team counts as one; the joint bonus is a separate term
    return _Problem(
        pi=pi, Z=Z, S=S, P=P, risk=risk, part_hours=part_hours, available=available, allowed=allowed,
        travel=travel, movable=movable, focus_min=focus_min, weights=weights,
        shares=np.asarray(pi.coverage_shares, dtype=float), zone_index=zone_index,
        slot_index={slot.key: s for s, slot in enumerate(pi.slots)},
    )  # fmt: skip


def _presence_after_move(pr: _Problem, s: int, a: int, b: int) -> float:
    """Share of a part a team is present in zone b after coming from zone a (1 when it stays)."""
    if a == b:
        return 1.0
    return max(0.0, 1.0 - pr.travel[a, b] / (pr.part_hours[s] * 60.0))


def coverage(presence: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Covered share of presence n (weighted teams): Σ_j shares[j] · clip(n − j, 0, 1); concave."""
    presence = np.asarray(presence, dtype=float)
    steps = np.arange(len(shares), dtype=float)
    return (np.clip(presence[..., None] - steps, 0.0, 1.0) * shares).sum(axis=-1)


# --------------------------------------------------------------------------------------------
# Evaluation of any assignment list


@dataclass
class _Routes:
    """Team counts per kind, slot, part, zone and the flows between consecutive parts."""

    x: np.ndarray  # (K, S, P, Z) teams on patrol
    flows: dict[tuple[int, int, int, int, int], int]  # (k, s, p, a, b) → teams from a (p−1) to b (p)
    starts: np.ndarray  # (K, S, P, Z) teams starting in part p (not on patrol in p−1)


def _presence(pr: _Problem, routes: _Routes) -> tuple[np.ndarray, np.ndarray]:
    """Teams present, all kinds and joint teams only (S, P, Z)."""
    return np.einsum("k,kspz->spz", pr.weights, routes.x.astype(float)), routes.x[JOINT].astype(float)


def _travel_loss(pr: _Problem, s: int, p: int, a: int, b: int) -> float:
    """Expected events one team fails to cover in zone b while driving there from zone a.

    Charged at the first team's share: exact when the team arrives in an empty zone, otherwise
    an upper bound (the team's real marginal share is smaller), so zone changes are planned
    conservatively. Linear, so the relaxation of the programme stays tight.
    """
    return (1.0 - _presence_after_move(pr, s, a, b)) * pr.shares[0] * pr.risk[b, s, p]


def _covered_share(pr: _Problem, presence: np.ndarray, joint: np.ndarray) -> np.ndarray:
    """Share of expected events covered: concave in presence, plus the joint bonus (once per zone)."""
    return coverage(presence, pr.shares) + pr.pi.joint_bonus * pr.shares[0] * np.clip(joint, 0.0, 1.0)


def _team_hours(pr: _Problem, x: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """Weekly team-hours per cap key, and per slot (S, len(CAP_KEYS))."""
    per_slot = np.zeros((pr.S, len(CAP_KEYS)))
    for k, kind in enumerate(KINDS):
        kind_hours = x[k].sum(axis=(1, 2)) * pr.part_hours  # (S,)
        for key, share in HOUR_SHARES[kind].items():
            per_slot[:, CAP_KEYS.index(key)] += share * kind_hours
    return {key: float(per_slot[:, c].sum()) for c, key in enumerate(CAP_KEYS)}, per_slot


def _check(pr: _Problem, routes: _Routes) -> list[str]:
    """German messages for every violated constraint."""
    pi, violations = pr.pi, []
    for k, kind in enumerate(KINDS):
        for s, slot in enumerate(pi.slots):
            used = int(routes.x[k, s, 0].sum() + routes.starts[k, s, 1:].sum())
            if used > pr.available[k, s]:
                violations.append(
                    f"{slot.label}: {used} Streifen {KIND_LABELS[kind]} eingeplant, "
                    f"verfügbar sind nur {pr.available[k, s]}."
                )
            for z in range(pr.Z):
                if not pr.allowed[k, z] and routes.x[k, s, :, z].any():
                    violations.append(
                        f"{slot.label}: Zone {pi.zones[z].name} ist für {KIND_LABELS[kind]} gesperrt."
                    )
    for (_k, s, p, a, b), count in routes.flows.items():
        if count and a != b and not pr.movable[a, b]:
            violations.append(
                f"{pr.part_label(s, p)}: Wechsel von {pi.zones[a].name} nach {pi.zones[b].name} dauert "
                f"{wording.number(pr.travel[a, b], 0)} Min., geplant werden höchstens "
                f"{wording.number(pi.max_move_minutes, 0)} Min."
            )
    for s in range(pr.S):
        for z, zone in enumerate(pi.zones):
            if pr.focus_min[z, s]:
                for p in range(pr.P):
                    present = int(routes.x[:, s, p, z].sum())
                    if present < pr.focus_min[z, s]:
                        violations.append(
                            f"{pr.part_label(s, p)}: Schwerpunktraum {zone.name} braucht mindestens "
                            f"{wording.teams(int(pr.focus_min[z, s]))}, eingeplant {present}."
                        )
    weekly, per_slot = _team_hours(pr, routes.x)
    for key, cap in pi.max_team_hours.items():
        if weekly[key] > cap + 1e-6:
            violations.append(
                f"Wochenhöchststunden {KIND_LABELS[key]}: {wording.hours(weekly[key])} eingeplant, "
                f"erlaubt {wording.hours(cap)}."
            )
    for key, cap in pi.max_slot_team_hours.items():
        c = CAP_KEYS.index(key)
        for s, slot in enumerate(pi.slots):
            if per_slot[s, c] > cap + 1e-6:
                violations.append(
                    f"{slot.label}: {wording.hours(per_slot[s, c])} {KIND_LABELS[key]} eingeplant, "
                    f"erlaubt je Schicht {wording.hours(cap)}."
                )
    return violations


def _routes_from_assignments(pr: _Problem, assignments: Sequence[Assignment]) -> tuple[_Routes, list[str]]:
    K = len(KINDS)
    x = np.zeros((K, pr.S, pr.P, pr.Z), dtype=int)
    starts = np.zeros_like(x)
    flows: dict[tuple[int, int, int, int, int], int] = defaultdict(int)
    problems: list[str] = []
    for row in assignments:
        if row.slot not in pr.slot_index or row.zone not in pr.zone_index or row.kind not in KINDS:
            problems.append(f"Unbekannte Schicht, Zone oder Streifenart: {row.slot}/{row.zone}/{row.kind}.")
            continue
        if row.teams < 0 or not 0 <= row.part <= pr.P:
            problems.append(f"Ungültige Zeile: {row.teams} Streifen in Abschnitt {row.part}.")
            continue
        k, s, z = KINDS.index(row.kind), pr.slot_index[row.slot], pr.zone_index[row.zone]
        if row.part == 0:  # the whole slot in one zone
            x[k, s, :, z] += row.teams
            starts[k, s, 0, z] += row.teams
            for p in range(1, pr.P):
                flows[(k, s, p, z, z)] += row.teams
            continue
        p = row.part - 1
        x[k, s, p, z] += row.teams
        if p == 0 or row.from_zone is None:
            starts[k, s, p, z] += row.teams
        elif row.from_zone not in pr.zone_index:
            problems.append(f"Unbekannte Herkunftszone {row.from_zone}.")
            starts[k, s, p, z] += row.teams
        else:
            flows[(k, s, p, pr.zone_index[row.from_zone], z)] += row.teams
    for k, s, p, a in {(k, s, p, a) for (k, s, p, a, _b) in flows}:
        leaving = sum(c for (k2, s2, p2, a2, _b), c in flows.items() if (k2, s2, p2, a2) == (k, s, p, a))
        if leaving > x[k, s, p - 1, a]:
            problems.append(
                f"{pr.part_label(s, p)}: {leaving} Streifen {KIND_LABELS[KINDS[k]]} kommen aus "
                f"{pr.pi.zones[a].name}, dort waren vorher nur {x[k, s, p - 1, a]}."
            )
    return _Routes(x=x, flows=dict(flows), starts=starts), problems


def _rows(pr: _Problem, routes: _Routes) -> tuple[list[Assignment], float]:
    """Normalised rows (per part; from_zone for parts ≥ 2) with hours and covered risk."""
    presence, joint = _presence(pr, routes)
    base = pr.risk.transpose(1, 2, 0) * coverage(presence, pr.shares)  # (S, P, Z)
    bonus = pr.risk.transpose(1, 2, 0) * (_covered_share(pr, presence, joint) - coverage(presence, pr.shares))
    loss = np.zeros_like(base)
    for (_k, s, p, a, b), count in routes.flows.items():
        if a != b:
            loss[s, p, b] += count * _travel_loss(pr, s, p, a, b)
    covered = base + bonus - loss
    rows: list[Assignment] = []
    for s, slot in enumerate(pr.pi.slots):
        for p in range(pr.P):
            for z, zone in enumerate(pr.pi.zones):
                if not routes.x[:, s, p, z].any():
                    continue
                pieces: list[tuple[int, int | None, int, float]] = []  # kind, from, teams, weighted presence
                for k in range(len(KINDS)):
                    if p > 0:
                        for a in range(pr.Z):
                            count = routes.flows.get((k, s, p, a, z), 0)
                            if count:
                                pieces.append((k, a, count, pr.weights[k] * count))
                    fresh = int(routes.starts[k, s, p, z]) if p > 0 else int(routes.x[k, s, p, z])
                    if fresh:
                        pieces.append((k, None, fresh, pr.weights[k] * fresh))
                total = sum(piece[3] for piece in pieces)
                joint_total = sum(piece[3] for piece in pieces if piece[0] == JOINT)
                for k, a, count, weighted in pieces:
                    # The base coverage by presence, the joint bonus to the joint teams.
                    row_covered = base[s, p, z] * weighted / total if total > 0 else 0.0
                    if k == JOINT and joint_total > 0:
                        row_covered += bonus[s, p, z] * weighted / joint_total
                    presence_share = 1.0
                    if a is not None and a != z:
                        row_covered -= count * _travel_loss(pr, s, p, a, z)
                        presence_share = _presence_after_move(pr, s, a, z)
                    rows.append(
                        Assignment(
                            slot=slot.key,
                            zone=zone.code,
                            kind=KINDS[k],
                            teams=count,
                            part=p + 1,
                            from_zone=None if a is None else pr.pi.zones[a].code,
                            hours=count * presence_share * pr.part_hours[s],
                            covered_risk=float(row_covered),
                            label=pr.part_label(s, p),
                        )
                    )
    return rows, float(covered.sum())


def evaluate(plan_input: PlanInput, assignments: Sequence[Assignment]) -> Evaluation:
    """Covered risk of any assignment list (e.g. a shift lead's edit) and the constraints it violates."""
    errors = _validate(plan_input)
    if errors:
        return Evaluation(covered_risk=0.0, violations=errors, rows=[], team_hours={})
    pr = _problem(plan_input)
    routes, problems = _routes_from_assignments(pr, assignments)
    rows, covered = _rows(pr, routes)
    weekly, _ = _team_hours(pr, routes.x)
    return Evaluation(
        covered_risk=covered, violations=problems + _check(pr, routes), rows=rows, team_hours=weekly
    )


# --------------------------------------------------------------------------------------------
# The mixed-integer programme


class _Columns:
    def __init__(self) -> None:
        self.count = 0
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []

    def add(self, cost: float, upper: float, integer: bool) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        self.count += 1
        return self.count - 1


class _Rows:
    def __init__(self) -> None:
        self.data: list[float] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, entries: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(self.lower)
        for col, value in entries:
            self.rows.append(r)
            self.cols.append(col)
            self.data.append(value)
        self.lower.append(lower)
        self.upper.append(upper)

    def constraint(self, columns: int) -> LinearConstraint:
        matrix = sparse.csr_array((self.data, (self.rows, self.cols)), shape=(len(self.lower), columns))
        return LinearConstraint(matrix, np.array(self.lower), np.array(self.upper))


def _build(pr: _Problem, focus_slack: bool, integer_flows: bool):
    """Columns and rows of the MILP. With ``focus_slack`` the focus minimums may be missed at a cost.

    The flows between parts appear only in the flow-conservation and availability rows (a network
    matrix), so for integral team counts an optimal vertex has integral flows: they are continuous
    unless ``integer_flows`` (the fallback when a solver answer had fractional flows anyway).
    """
    K = len(KINDS)
    cols, rows = _Columns(), _Rows()
    x: dict[tuple[int, int, int, int], int] = {}
    f: dict[tuple[int, int, int, int, int], int] = {}
    start: dict[tuple[int, int, int, int], int] = {}
    slack: dict[tuple[int, int, int], int] = {}
    total_risk = float(pr.risk.sum())
    # Missing one focus team costs more than all risk there is: minimums come first.
    slack_cost = (total_risk * max(pr.weights) + 1.0) if focus_slack else 0.0
    for k in range(K):
        for s in range(pr.S):
            avail = int(pr.available[k, s])
            if avail == 0:
                continue
            for p in range(pr.P):
                for z in range(pr.Z):
                    if pr.allowed[k, z]:
                        x[(k, s, p, z)] = cols.add(0.0, avail, True)
            for p in range(1, pr.P):
                for b in range(pr.Z):
                    if not pr.allowed[k, b]:
                        continue
                    start[(k, s, p, b)] = cols.add(0.0, avail, False)
                    for a in range(pr.Z):
                        if pr.allowed[k, a] and pr.movable[a, b] and _presence_after_move(pr, s, a, b) > 0:
                            cost = _travel_loss(pr, s, p, a, b) if a != b else 0.0
                            f[(k, s, p, a, b)] = cols.add(cost, avail, integer_flows)
    # Coverage segments y[s, p, z, j] ∈ [0, 1], Σ_j y ≤ weighted presence; maximise Σ risk · share_j · y.
    y: dict[tuple[int, int, int], list[int]] = {}
    u: dict[tuple[int, int, int], int] = {}  # joint bonus ∈ [0, 1] ≤ joint presence
    for s in range(pr.S):
        for p in range(pr.P):
            for z in range(pr.Z):
                if pr.risk[z, s, p] > 0:
                    y[(s, p, z)] = [cols.add(-pr.risk[z, s, p] * share, 1.0, False) for share in pr.shares]
                    if pr.pi.joint_bonus > 0 and (JOINT, s, p, z) in x:
                        u[(s, p, z)] = cols.add(
                            -pr.risk[z, s, p] * pr.pi.joint_bonus * pr.shares[0], 1.0, False
                        )
    if focus_slack:
        for s in range(pr.S):
            for z in range(pr.Z):
                if pr.focus_min[z, s]:
                    for p in range(pr.P):
                        slack[(s, p, z)] = cols.add(slack_cost, pr.focus_min[z, s], False)

    into: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    out_of: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    for (k, s, p, a, b), col in f.items():
        into[(k, s, p, b)].append(col)
        out_of[(k, s, p, a)].append(col)
    for (k, s, p, b), col_start in start.items():  # teams in b at p come from p−1 or start now
        rows.add(
            [(col, 1.0) for col in into[(k, s, p, b)]] + [(col_start, 1.0), (x[(k, s, p, b)], -1.0)], 0, 0
        )
    for (k, s, p, a), cols_out in out_of.items():  # no more continue from a than were there
        rows.add([(col, 1.0) for col in cols_out] + [(x[(k, s, p - 1, a)], -1.0)], -np.inf, 0)
    for k in range(K):
        for s in range(pr.S):
            entries = [(x[(k, s, 0, z)], 1.0) for z in range(pr.Z) if (k, s, 0, z) in x]
            entries += [(col, 1.0) for (k2, s2, _p, _b), col in start.items() if (k2, s2) == (k, s)]
            if entries:
                rows.add(entries, -np.inf, float(pr.available[k, s]))
    for (s, p, z), segment_cols in y.items():
        entries = [(col, 1.0) for col in segment_cols]
        entries += [(x[(k, s, p, z)], -pr.weights[k]) for k in range(K) if (k, s, p, z) in x]
        rows.add(entries, -np.inf, 0.0)
    for (s, p, z), col in u.items():
        entries = [(col, 1.0), (x[(JOINT, s, p, z)], -1.0)]
        rows.add(entries, -np.inf, 0.0)
    for s in range(pr.S):
        for z in range(pr.Z):
            if pr.focus_min[z, s]:
                for p in range(pr.P):
                    entries = [(x[(k, s, p, z)], 1.0) for k in range(K) if (k, s, p, z) in x]
                    if (s, p, z) in slack:
                        entries.append((slack[(s, p, z)], 1.0))
                    rows.add(entries, float(pr.focus_min[z, s]), np.inf)

    def hour_entries(key: str, slots: range) -> list[tuple[int, float]]:
        entries = []
        for (k, s, _p, _z), col in x.items():
            share = HOUR_SHARES[KINDS[k]].get(key, 0.0)
            if share and s in slots:
                entries.append((col, share * pr.part_hours[s]))
        return entries

    for key, cap in pr.pi.max_team_hours.items():
        entries = hour_entries(key, range(pr.S))
        if entries:
            rows.add(entries, -np.inf, float(cap))
    for key, cap in pr.pi.max_slot_team_hours.items():
        for s in range(pr.S):
            entries = hour_entries(key, range(s, s + 1))
            if entries:
                rows.add(entries, -np.inf, float(cap))
    if cols.count == 0:  # no team anywhere: one idle column keeps the programme well-formed
        cols.add(0.0, 0.0, False)
    return cols, rows, x, f, start, slack


def _solve(pr: _Problem, focus_slack: bool, time_limit: float, integer_flows: bool = False):
    cols, rows, x, f, start, slack = _build(pr, focus_slack, integer_flows)
    constraints = [rows.constraint(cols.count)] if rows.lower else []
    result = milp(
        c=np.array(cols.cost),
        integrality=np.array(cols.integer),
        bounds=Bounds(np.zeros(cols.count), np.array(cols.upper)),
        constraints=constraints,
        options={"time_limit": time_limit, "mip_rel_gap": pr.pi.mip_rel_gap, "presolve": True},
    )
    if not integer_flows and result.x is not None:
        flows = np.array([result.x[col] for col in f.values()])
        if flows.size and np.abs(flows - np.round(flows)).max() > 1e-6:
            return _solve(pr, focus_slack, time_limit, integer_flows=True)
    return result, x, f, start, slack


def _routes_from_solution(pr: _Problem, values: np.ndarray, x, f) -> _Routes:
    K = len(KINDS)
    xs = np.zeros((K, pr.S, pr.P, pr.Z), dtype=int)
    for (k, s, p, z), col in x.items():
        xs[k, s, p, z] = round(values[col])
    flows = {key: round(values[col]) for key, col in f.items() if round(values[col])}
    starts = np.zeros_like(xs)
    starts[:, :, 0, :] = xs[:, :, 0, :]
    for k in range(K):
        for s in range(pr.S):
            for p in range(1, pr.P):
                for b in range(pr.Z):
                    came = sum(flows.get((k, s, p, a, b), 0) for a in range(pr.Z))
                    starts[k, s, p, b] = xs[k, s, p, b] - came
    return _Routes(x=xs, flows=flows, starts=starts)


def optimise(plan_input: PlanInput) -> PlanResult:
    """Best plan by the MILP; never raises: problems come back as status and German message."""
    started = time.perf_counter()
    errors = _validate(plan_input)
    if errors:
        return PlanResult(
            status="invalid", message="Eingaben unvollständig: " + " ".join(errors), assignments=[],
            objective=0.0, total_risk=0.0, seconds=time.perf_counter() - started,
        )  # fmt: skip
    pr = _problem(plan_input)
    total_risk = float(pr.risk.sum())
    try:
        result, x, f, _start, _slack = _solve(pr, False, plan_input.time_limit_seconds)
        if result.status == 2:  # infeasible: find the smallest shortfall of the focus minimums
            remaining = max(1.0, plan_input.time_limit_seconds - (time.perf_counter() - started))
            relaxed, x, f, _start, _slack = _solve(pr, True, remaining)
            if relaxed.x is None:
                raise RuntimeError(relaxed.message)
            routes = _routes_from_solution(pr, relaxed.x, x, f)
            shortfalls = _shortfall_messages(pr, routes)
            return _result(
                pr, routes, "infeasible",
                "Kein zulässiger Plan: " + " ".join(shortfalls) + " Angezeigt wird der Plan mit den "
                "wenigsten fehlenden Streifen.",
                started, relaxed, shortfalls,
            )  # fmt: skip
        if result.x is None:
            return PlanResult(
                status="error", message=f"Optimierung ohne Ergebnis abgebrochen ({result.message}).",
                assignments=[], objective=0.0, total_risk=total_risk, seconds=time.perf_counter() - started,
            )  # fmt: skip
        routes = _routes_from_solution(pr, result.x, x, f)
        status = "optimal" if result.status == 0 else "time_limit"
        return _result(pr, routes, status, "", started, result, [])
    except Exception as exc:  # the solver or a corner case: report, do not crash the page
        return PlanResult(
            status="error", message=f"Optimierung fehlgeschlagen: {exc}", assignments=[], objective=0.0,
            total_risk=total_risk, seconds=time.perf_counter() - started,
        )  # fmt: skip


def _shortfall_messages(pr: _Problem, routes: _Routes) -> list[str]:
    messages = []
    weekly, _ = _team_hours(pr, routes.x)
    for s in range(pr.S):
        for z, zone in enumerate(pr.pi.zones):
            need = int(pr.focus_min[z, s])
            if not need:
                continue
            for p in range(pr.P):
                present = int(routes.x[:, s, p, z].sum())
                if present >= need:
                    continue
                allowed_staff = int(sum(pr.available[k, s] for k in range(len(KINDS)) if pr.allowed[k, z]))
                staff = ", ".join(
                    f"{pr.available[k, s]} {wording.KIND_LABELS_PLURAL[kind]}" for k, kind in enumerate(KINDS)
                )
                if allowed_staff == 0:
                    cause = "in dieser Schicht ist keine Streife verfügbar, die dort eingesetzt werden darf"
                elif allowed_staff < need:
                    cause = f"in dieser Schicht dürfen dort nur {allowed_staff} Streifen eingesetzt werden"
                elif int(pr.focus_min[:, s].sum()) > int(pr.available[:, s].sum()):
                    cause = (
                        f"die Schwerpunkträume brauchen in dieser Schicht zusammen "
                        f"{wording.teams(int(pr.focus_min[:, s].sum()))}, verfügbar sind {staff}"
                    )
                elif pr.pi.max_team_hours:
                    caps = ", ".join(
                        f"{KIND_LABELS[key]} {wording.hours(weekly[key])} von {wording.hours(cap)}"
                        for key, cap in pr.pi.max_team_hours.items()
                    )
                    cause = f"die Höchststunden reichen nicht ({caps})"
                else:
                    cause = f"zu wenig Personal (verfügbar: {staff})"
                messages.append(
                    f"{pr.part_label(s, p)}, Zone {zone.name}: Mindestpräsenz {wording.teams(need)} nicht "
                    f"erreichbar, möglich sind {present} – {cause}."
                )
    return messages


def _result(pr, routes: _Routes, status: str, message: str, started: float, solved, shortfalls) -> PlanResult:
    rows, covered = _rows(pr, routes)
    total_risk = float(pr.risk.sum())
    weekly, _ = _team_hours(pr, routes.x)
    presence, joint = _presence(pr, routes)
    rows = _explain_rows(pr, routes, rows, _covered_share(pr, presence, joint))
    unassigned = _explain_unassigned(pr, routes, presence, weekly)
    if not message:
        share = covered / total_risk if total_risk > 0 else 0.0
        prefix = "Optimaler Plan" if status == "optimal" else "Plan (Zeitlimit erreicht, evtl. nicht optimal)"
        message = (
            f"{prefix}: {wording.number(covered)} von {wording.number(total_risk)} erwarteten Vorfällen "
            f"abgedeckt ({wording.percent(share)})."
        )
    gap = getattr(solved, "mip_gap", None)
    bound = getattr(solved, "mip_dual_bound", None)
    return PlanResult(
        status=status, message=message, assignments=rows, objective=covered, total_risk=total_risk,
        seconds=time.perf_counter() - started, mip_gap=None if gap is None else float(gap),
        solver_objective=None if solved.fun is None or status == "infeasible" else float(-solved.fun),
        dual_bound=None if bound is None else float(-bound), unassigned=unassigned, shortfalls=shortfalls,
        team_hours=weekly,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Explanations


def _ranks(pr: _Problem) -> np.ndarray:
    """Rank (1 = highest expected events) of each zone within its slot part: (Z, S, P)."""
    order = np.argsort(-pr.risk, axis=0, kind="stable")
    ranks = np.empty_like(order)
    for s in range(pr.S):
        for p in range(pr.P):
            ranks[order[:, s, p], s, p] = np.arange(1, pr.Z + 1)
    return ranks


def _explain_rows(
    pr: _Problem, routes: _Routes, rows: list[Assignment], shares: np.ndarray
) -> list[Assignment]:
    ranks = _ranks(pr)
    explained = []
    for row in rows:
        s, z, p = pr.slot_index[row.slot], pr.zone_index[row.zone], row.part - 1
        zone = pr.pi.zones[z]
        risk = pr.risk[z, s, p]
        present = routes.x[:, s, p, z]
        share = float(shares[s, p, z])
        text = (
            f"Zone {zone.name}, {pr.part_label(s, p)}: {wording.number(risk)} erwartete Vorfälle "
            f"(Rang {ranks[z, s, p]} von {pr.Z} in diesem Zeitraum)"
        )
        if pr.focus_min[z, s]:
            text += f", Schwerpunktraum mit Mindestpräsenz {wording.teams(int(pr.focus_min[z, s]))}"
        text += (
            f"; {wording.composition({kind: int(present[k]) for k, kind in enumerate(KINDS)})} "
            f"{'deckt' if present.sum() == 1 else 'decken'} {wording.percent(share)} ab "
            f"({wording.number(risk * share)} Vorfälle)"
        )
        count = int(present.sum())
        if 2 <= count <= len(pr.shares):
            extra = wording.percent(pr.shares[count - 1])
            text += f", die {wording.ordinal(count)} Streife deckt weitere {extra} ab"
        text += "."
        if row.kind == "joint" and pr.pi.joint_bonus > 0:
            text += (
                f" Doppelstreife: Maßnahmen beider Behörden möglich, Bonus "
                f"{wording.percent(pr.pi.joint_bonus * pr.shares[0])} Abdeckung."
            )
        if row.from_zone is not None and row.from_zone != row.zone:
            a = pr.zone_index[row.from_zone]
            text += (
                f" Wechselt aus Zone {pr.pi.zones[a].name} ({wording.number(pr.travel[a, z], 0)} Min. Fahrt, "
                f"{wording.hours(row.hours / row.teams)} Präsenz je Streife)."
            )
        explained.append(replace(row, reason=text))
    return explained


def _explain_unassigned(
    pr: _Problem, routes: _Routes, presence: np.ndarray, weekly: dict[str, float]
) -> list[Unassigned]:
    ranks = _ranks(pr)
    covered_share = coverage(presence, pr.shares)  # (S, P, Z)
    out = []
    for s, slot in enumerate(pr.pi.slots):
        used = routes.x[:, s, 0].sum(axis=1) + routes.starts[:, s, 1:].sum(axis=(1, 2))
        for p in range(pr.P):
            # The least any deployed zone gains from its last team: what a team elsewhere is worth.
            marginal = []
            for z in range(pr.Z):
                count = presence[s, p, z]
                if routes.x[:, s, p, z].any():
                    lower = float(coverage(max(0.0, count - 1.0), pr.shares))
                    marginal.append((pr.risk[z, s, p] * (covered_share[s, p, z] - lower), z))
            for z, zone in enumerate(pr.pi.zones):
                risk = pr.risk[z, s, p]
                if routes.x[:, s, p, z].any() or ranks[z, s, p] > pr.pi.explain_top or risk <= 0:
                    continue
                kinds = [k for k in range(len(KINDS)) if pr.allowed[k, z] and pr.available[k, s] > 0]
                spare = [k for k in kinds if used[k] < pr.available[k, s]]
                if not kinds:
                    reason = "In dieser Schicht ist keine Streife verfügbar, die diese Zone bestreifen darf."
                elif spare:
                    capped, uncapped = [], False
                    for k in spare:
                        kind_capped = False
                        for key in HOUR_SHARES[KINDS[k]]:
                            cap = pr.pi.max_team_hours.get(key)
                            if (
                                cap is not None
                                and weekly[key] + pr.part_hours[s] * HOUR_SHARES[KINDS[k]][key] > cap + 1e-6
                            ):
                                used_hours = wording.hours(weekly[key])
                                capped.append(f"{KIND_LABELS[key]} {used_hours} von {wording.hours(cap)}")
                                kind_capped = True
                        uncapped = uncapped or not kind_capped
                    if capped and not uncapped:
                        reason = "Wochenhöchststunden ausgeschöpft (" + ", ".join(sorted(set(capped))) + ")."
                    elif pr.pi.max_slot_team_hours:
                        reason = "Höchststunden dieser Schicht ausgeschöpft."
                    else:
                        reason = (
                            "Freie Streifen würden andere Bedingungen verletzen (Mindestpräsenz, Fahrzeit)."
                        )
                else:
                    staff = wording.composition({KINDS[k]: int(pr.available[k, s]) for k in kinds})
                    reason = f"Alle verfügbaren Streifen dieser Schicht sind eingesetzt: {staff}"
                    if marginal:
                        value, other = min(marginal)
                        first = risk * pr.shares[0]
                        if value >= first - 1e-9:
                            weakest = pr.pi.zones[other].name
                            reason += (
                                f"; die schwächste eingesetzte Streife (Zone {weakest}) deckt "
                                f"{wording.number(value)} Vorfälle ab, hier wären es {wording.number(first)}"
                            )
                        else:
                            reason += "; Mindestpräsenz in Schwerpunkträumen und Fahrzeiten binden Streifen"
                    reason += "."
                out.append(
                    Unassigned(
                        slot=slot.key,
                        part=p + 1,
                        zone=zone.code,
                        risk=float(risk),
                        rank=int(ranks[z, s, p]),
                        reason=f"Zone {zone.name}, {pr.part_label(s, p)}: {wording.number(risk)} erwartete "
                        f"Vorfälle (Rang {ranks[z, s, p]} von {pr.Z}), keine Streife. {reason}",
                    )
                )
    return out


# --------------------------------------------------------------------------------------------
# Exact enumeration for small instances (tests)


def _team_routes(pr: _Problem, k: int, s: int) -> list[tuple[int | None, ...]]:
    """Every route one team of kind k may take in slot s: a zone per part, patrolling a contiguous run."""
    zones = [z for z in range(pr.Z) if pr.allowed[k, z]]
    routes = []
    for first in range(pr.P):
        for last in range(first, pr.P):
            for path in itertools.product(zones, repeat=last - first + 1):
                if all(
                    pr.movable[a, b] and _presence_after_move(pr, s, a, b) > 0
                    for a, b in itertools.pairwise(path)
                ):
                    routes.append((None,) * first + path + (None,) * (pr.P - 1 - last))
    return routes


def brute_force(plan_input: PlanInput, max_combinations: int = 2_000_000) -> PlanResult:
    """Exact optimum by enumerating every team's route in every slot (small instances only).

    Slots are independent except for the weekly hour caps, so each slot's combinations are
    enumerated completely and the best value per weekly-hours vector is kept; the slots are then
    combined over all hour vectors within the caps (exact, no pruning by value).
    """
    started = time.perf_counter()
    errors = _validate(plan_input)
    if errors:
        return PlanResult("invalid", " ".join(errors), [], 0.0, 0.0, time.perf_counter() - started)
    pr = _problem(plan_input)
    K = len(KINDS)
    per_slot: list[dict[tuple[float, ...], tuple[float, tuple]]] = []
    for s in range(pr.S):
        choices_per_kind = []
        for k in range(K):
            routes = _team_routes(pr, k, s)
            options = [()]
            for n in range(1, int(pr.available[k, s]) + 1):
                options += list(itertools.combinations_with_replacement(range(len(routes)), n))
            choices_per_kind.append((routes, options))
        size = math.prod(len(options) for _routes, options in choices_per_kind)
        if size > max_combinations:
            return PlanResult(
                "invalid", f"Zu groß für die Aufzählung ({size} Kombinationen).", [], 0.0, 0.0, 0.0
            )
        best: dict[tuple[float, ...], tuple[float, tuple]] = {}
        for combo in itertools.product(*(options for _routes, options in choices_per_kind)):
            x = np.zeros((K, pr.P, pr.Z), dtype=int)
            presence = np.zeros((pr.P, pr.Z))
            joint = np.zeros((pr.P, pr.Z))
            loss = 0.0
            for k, chosen in enumerate(combo):
                routes = choices_per_kind[k][0]
                for index in chosen:
                    previous = None
                    for p, zone in enumerate(routes[index]):
                        if zone is not None:
                            x[k, p, zone] += 1
                            presence[p, zone] += pr.weights[k]
                            if k == JOINT:
                                joint[p, zone] += 1
                            if previous is not None and previous != zone:
                                loss += _travel_loss(pr, s, p, previous, zone)
                        previous = zone
            if (x.sum(axis=0) < pr.focus_min[:, s][None, :]).any():
                continue
            hours = np.zeros(len(CAP_KEYS))
            for k, kind in enumerate(KINDS):
                for key, share in HOUR_SHARES[kind].items():
                    hours[CAP_KEYS.index(key)] += share * x[k].sum() * pr.part_hours[s]
            if any(
                hours[CAP_KEYS.index(key)] > cap + 1e-6 for key, cap in plan_input.max_slot_team_hours.items()
            ):
                continue
            value = float((pr.risk[:, s, :].T * _covered_share(pr, presence, joint)).sum()) - loss
            key = tuple(round(float(h), 6) for h in hours)
            if key not in best or value > best[key][0] + 1e-12:
                best[key] = (value, combo)
        per_slot.append(best)
    # Combine slots: best total per cumulative hours vector within the weekly caps.
    caps = np.array([plan_input.max_team_hours.get(key, np.inf) for key in CAP_KEYS])
    totals: dict[tuple[float, ...], tuple[float, tuple]] = {(0.0,) * len(CAP_KEYS): (0.0, ())}
    for best in per_slot:
        merged: dict[tuple[float, ...], tuple[float, tuple]] = {}
        for hours, (value, picks) in totals.items():
            for slot_hours, (slot_value, combo) in best.items():
                combined = tuple(round(a + b, 6) for a, b in zip(hours, slot_hours, strict=True))
                if (np.array(combined) > caps + 1e-6).any():
                    continue
                total = value + slot_value
                if combined not in merged or total > merged[combined][0] + 1e-12:
                    merged[combined] = (total, (*picks, combo))
        totals = merged
    if not totals:
        return PlanResult(
            "infeasible", "Kein zulässiger Plan (Aufzählung).", [], 0.0, float(pr.risk.sum()),
            time.perf_counter() - started,
        )  # fmt: skip
    objective, picks = max(totals.values(), key=lambda item: item[0])
    assignments = []
    for s, combo in enumerate(picks):
        for k, chosen in enumerate(combo):
            routes = _team_routes(pr, k, s)
            for index in chosen:
                previous = None
                for p, zone in enumerate(routes[index]):
                    if zone is not None:
                        assignments.append(
                            Assignment(
                                slot=pr.pi.slots[s].key,
                                zone=pr.pi.zones[zone].code,
                                kind=KINDS[k],
                                teams=1,
                                part=p + 1,
                                from_zone=None if previous is None else pr.pi.zones[previous].code,
                            )
                        )
                    previous = zone
    return PlanResult(
        status="optimal", message="Optimum durch Aufzählung.", assignments=assignments, objective=objective,
        total_risk=float(pr.risk.sum()), seconds=time.perf_counter() - started,
    )  # fmt: skip
