"""Citizen reports for the demo city: routing targets and rules, ~8,500 reports a year.

The Ordnungsamt receives about 8,500 complaints a year (phone, e-mail, letter, walk-ins at
the Citywache, and online). The reports are planned with numpy and written in bulk, like
the field records (``generator``), for speed; they keep the invariants of
``citizen.services.report_create``: every report is located (areas, UTM, H3), routed by the
same first-match rules (``services.rule_matches``), has its due date from
``sla.add_working_days`` and a status history that starts with "Neu". Status progress is
realistic: most reports are resolved within their service level, some late, some still
open and overdue, waste is forwarded to the EDG, some are duplicates merged into an
earlier report (supporters counted), and resolved KOD reports are linked to the incidents
the patrols recorded for them.

Deterministic for the same configuration (own random stream derived from the seed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone

from lagebild.citizen.models import (
    Channel,
    Report,
    ReportArea,
    ReportStatus,
    RoutingRule,
    RoutingTarget,
    ServiceType,
    StatusChange,
    new_public_id,
)
from lagebild.citizen.retention import anonymise_reporters, retention_days
from lagebild.citizen.services import rule_matches
from lagebild.citizen.sla import add_working_days
from lagebild.core.models import Authority, User
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.geo.services import locate_many

from . import bulk
from . import profiles as pf
from .base import CITY, POLICE
from .generator import DemoConfig, Planner, World
from .names import FIRST_NAMES, LAST_NAMES

REPORTS_PER_YEAR = 8500
SEED_OFFSET = 311

# Share of the yearly volume per service code (unknown services get a small share).
SERVICE_WEIGHTS = {
    "wilder-muell": 0.20,
    "laerm": 0.12,
    "hund-ohne-leine": 0.08,
    "drogenkonsum": 0.08,
    "belaestigung": 0.08,
    "betteln": 0.07,
    "lagern-campieren": 0.06,
    "graffiti": 0.05,
    "verwahrlostes-grundstueck": 0.04,
    "wildes-plakatieren": 0.03,
    "tauben-fuettern": 0.03,
    "alkohol-spielplatz": 0.03,
    "drogenhandel": 0.03,
    "strassenprostitution": 0.02,
    "blindenleitsystem": 0.02,
    "autorennen": 0.02,
    "sonstiges": 0.02,
}
DEFAULT_WEIGHT = 0.01

# Channels on working days and on weekends (no phone hotline, no post at weekends).
WEEKDAY_CHANNELS = {
    Channel.PHONE: 0.38,
    Channel.EMAIL: 0.22,
    Channel.WEB: 0.24,
    Channel.LETTER: 0.06,
    Channel.CITYWACHE: 0.10,
}
WEEKEND_CHANNELS = {Channel.WEB: 0.55, Channel.EMAIL: 0.33, Channel.CITYWACHE: 0.12}

TARGETS = {
    "kod": ("Kommunaler Ordnungsdienst (KOD)", RoutingTarget.Kind.KOD, CITY, ""),
    "police": ("Polizeipräsidium Dortmund", RoutingTarget.Kind.POLICE, POLICE, ""),
    "edg": ("EDG Entsorgung Dortmund", RoutingTarget.Kind.WASTE, None, "service@edg.demo.invalid"),
    "green": ("Grünflächenamt", RoutingTarget.Kind.OFFICE, None, "gruenflaechen@stadt.demo.invalid"),
}
WASTE_SERVICES = ("wilder-muell",)
GREEN_SERVICES = ("verwahrlostes-grundstueck", "tauben-fuettern")

# Outcomes of reports handled inside Lagebild (shares; the rest is resolved).
P_DUPLICATE = 0.06
P_FORWARD_LATER = 0.04
P_REJECTED = 0.03
P_NOT_RESOLVABLE = 0.05
P_STUCK = 0.012  # never closed: the overdue backlog of the queue

RESOLVED_NOTES = (
    "Der Ordnungsdienst war vor Ort und hat die Situation geklärt. Vielen Dank für Ihren Hinweis.",
    "Erledigt: Die Verursacher wurden angesprochen.",
    "Vor Ort geprüft und erledigt.",
    "Der Ordnungsdienst hat den Ort mehrfach kontrolliert; der Missstand ist behoben.",
)
POLICE_NOTES = ("Die Polizei war vor Ort.", "Erledigt durch die Polizei.")
NOT_RESOLVABLE_NOTES = (
    "Bei der Kontrolle vor Ort war nichts mehr festzustellen.",
    "Der Missstand konnte nicht behoben werden; der Ort bleibt unter Beobachtung.",
)
REJECTED_NOTES = (
    "Die Meldung ließ sich keinem prüfbaren Ort zuordnen.",
    "Dafür ist das Ordnungsamt nicht zuständig; bitte wenden Sie sich an die Hausverwaltung.",
)


@dataclass
class CitizenResult:
    created: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0

    def line(self) -> str:
        if self.skipped:
            return "Bürgerhinweise: bereits vorhanden oder keine Meldekategorien – nichts hinzugefügt."
        c = self.created
        return (
            f"Bürgerhinweise: {c.get('reports', 0)} Meldungen ({c.get('open', 0)} offen, davon "
            f"{c.get('overdue', 0)} überfällig; {c.get('forwarded', 0)} weitergeleitet, "
            f"{c.get('duplicates', 0)} Doppelmeldungen), {c.get('rules', 0)} Zuständigkeitsregeln, "
            f"{c.get('linked', 0)} mit Feststellungen verknüpft, bei {c.get('anonymised', 0)} die "
            f"Kontaktdaten nach Ablauf der Aufbewahrungsfrist gelöscht, in {self.seconds:.1f} s."
        )


# --- routing targets and rules ---------------------------------------------------------------


def ensure_routing(authorities: dict[str, Authority], services: dict[str, ServiceType]) -> tuple[dict, int]:
    """Targets by name (created if missing); rules only when there are none yet."""
    targets = {}
    for key, (name, kind, authority_code, email) in TARGETS.items():
        target, _ = RoutingTarget.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "authority": authorities.get(authority_code) if authority_code else None,
                "email": email,
            },
        )
        targets[key] = target
    if RoutingRule.objects.exists():
        return targets, 0
    rules: list[RoutingRule] = []
    position = 10
    for code in WASTE_SERVICES:
        if code in services:
            rules.append(
                RoutingRule(
                    position=position,
                    name="Wilder Müll an die EDG",
                    service=services[code],
                    target=targets["edg"],
                )
            )
            position += 10
    police_matters = [
        s for s in services.values() if s.category is not None and s.category.competent_authority == "police"
    ]
    for service in sorted(police_matters, key=lambda s: s.sort_order):
        rules.append(
            RoutingRule(
                position=position, name=f"{service.name}: Polizei", service=service, target=targets["police"]
            )
        )
        position += 10
    for service in sorted(services.values(), key=lambda s: s.sort_order):
        if service.about_people and not service.acute and service not in police_matters:
            rules.append(
                RoutingRule(
                    position=position,
                    name=f"Nachts (22–6 Uhr) {service.name}: Polizei",
                    service=service,
                    time_from=dt.time(22),
                    time_to=dt.time(6),
                    target=targets["police"],
                )
            )
            position += 10
    rules.append(RoutingRule(position=900, name="Alles andere an den KOD", target=targets["kod"]))
    RoutingRule.objects.bulk_create(rules)
    return targets, len(rules)


# --- planning ----------------------------------------------------------------------------------


def _choice(rng: np.random.Generator, weights: dict, n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _minute_of_day(rng: np.random.Generator, channel: str) -> int:
    """Minute after midnight at which a report arrives on this channel."""
    if channel == Channel.PHONE:
        return int(rng.uniform(7 * 60, 19 * 60))
    if channel == Channel.LETTER:
        return int(rng.uniform(9 * 60, 12 * 60))
    if channel == Channel.CITYWACHE:
        return int(rng.uniform(9 * 60, 20 * 60 + 30))
    draw = rng.random()
    if channel == Channel.WEB:
        if draw < 0.14:  # at night, people report from their balcony
            return int(rng.uniform(22 * 60, 30 * 60)) % (24 * 60)
        if draw < 0.5:
            return int(rng.uniform(17 * 60, 22 * 60))
        return int(rng.uniform(7 * 60, 17 * 60))
    if draw < 0.06:
        return int(rng.uniform(22 * 60, 30 * 60)) % (24 * 60)
    return int(rng.uniform(7 * 60, 22 * 60))


def _hours(rng: np.random.Generator, median: float, sigma: float) -> float:
    return float(rng.lognormal(math.log(median), sigma))


@dataclass
class Plan:
    service: list[ServiceType]
    channel: list[str]
    at: list[dt.datetime]
    lat: np.ndarray
    lon: np.ndarray
    place: list[str]
    spot: list[str]


def plan_reports(
    config: DemoConfig, world: World, services: list[ServiceType]
) -> tuple[Plan, np.random.Generator]:
    planner = Planner(dataclasses.replace(config, seed=config.seed + SEED_OFFSET), world)
    rng = planner.rng
    first = max(config.first_day, config.end_date - dt.timedelta(days=round(config.months * 30.44)))
    day_index = [i for i, d in enumerate(planner.days) if d >= first]
    days = [planner.days[i] for i in day_index]
    n = round(REPORTS_PER_YEAR * len(days) / 365.25 * config.scale)
    weights = {s.code: SERVICE_WEIGHTS.get(s.code, DEFAULT_WEIGHT) for s in services}
    by_code = {s.code: s for s in services}
    codes = _choice(rng, weights, n)
    day_of = np.zeros(n, dtype=np.int64)
    lat, lon = np.zeros(n), np.zeros(n)
    place = [""] * n
    spot = [""] * n
    for code in by_code:
        idx = np.flatnonzero(codes == code)
        if not len(idx):
            continue
        category = by_code[code].category.code if by_code[code].category else ""
        if category in pf.PROFILES and category in planner.code_index:
            w = planner.day_weights(category)[day_index]
            keys, key_weights = planner._components(category, 0)
        else:
            w = np.ones(len(days))
            keys, key_weights = [pf.BACKGROUND], np.array([1.0])
        day_of[idx] = rng.choice(len(days), size=len(idx), p=w / w.sum())
        chosen = rng.choice(len(keys), size=len(idx), p=key_weights)
        for k, key in enumerate(keys):
            sub = idx[chosen == k]
            if not len(sub):
                continue
            if key == pf.BACKGROUND:
                la, lo, labels = planner._background(len(sub))
            else:
                la, lo = planner._scatter(key, len(sub))
                labels = [planner.hotspot_label.get(key, "")] * len(sub)
            lat[sub], lon[sub] = la, lo
            for j, i in enumerate(sub.tolist()):
                place[i] = labels[j]
                spot[i] = key
    # Points scattered across the city boundary are moved to the background.
    located = locate_many(lat, lon)
    outside = np.flatnonzero(~located.inside)
    if len(outside):
        la, lo, labels = planner._background(len(outside))
        lat[outside], lon[outside] = la, lo
        for j, i in enumerate(outside.tolist()):
            place[i], spot[i] = labels[j], pf.BACKGROUND
    tz = timezone.get_current_timezone()
    channels, moments = [], []
    for i in range(n):
        day = days[int(day_of[i])]
        pool = WEEKDAY_CHANNELS if day.weekday() < 5 else WEEKEND_CHANNELS
        if day.weekday() == 6:
            pool = {k: v for k, v in pool.items() if k != Channel.CITYWACHE}  # Citywache: Mon–Sat
        channel = str(_choice(rng, pool, 1)[0])
        minute = _minute_of_day(rng, channel)
        channels.append(channel)
        moments.append(dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz))
    order = sorted(range(n), key=lambda i: (moments[i], i))
    plan = Plan(
        service=[by_code[str(codes[i])] for i in order],
        channel=[channels[i] for i in order],
        at=[moments[i] for i in order],
        lat=lat[order],
        lon=lon[order],
        place=[place[i] for i in order],
        spot=[spot[i] for i in order],
    )
    return plan, rng


# --- writing -----------------------------------------------------------------------------------


@dataclass(slots=True)
class PlannedReport:
    """The fields of a report the demo sets (model instances would cost seconds here)."""

    pk: int
    authority_id: int
    service: ServiceType
    status: str
    channel: str
    address_text: str
    lat: float
    lon: float
    x_utm: float
    y_utm: float
    h3_cell: str
    reporter_name: str
    reporter_email: str
    reporter_phone: str
    public_token: str
    requested_at: dt.datetime
    updated_at: dt.datetime
    due_at: dt.datetime
    target: RoutingTarget
    routing_rule: RoutingRule | None
    entered_by_id: int | None
    first_response_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    duplicate_of_id: int | None = None
    supporters: int = 0
    description: str = ""


@dataclass
class Rows:
    reports: list[PlannedReport] = field(default_factory=list)
    history: list[tuple] = field(default_factory=list)
    links: list[tuple[int, int]] = field(default_factory=list)


def _contact(rng: np.random.Generator, channel: str) -> tuple[str, str, str]:
    share = {Channel.WEB: 0.45, Channel.EMAIL: 0.95, Channel.PHONE: 0.6, Channel.LETTER: 0.9}.get(
        channel, 0.5
    )
    if rng.random() >= share:
        return "", "", ""
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    email = ""
    phone = ""
    if channel in (Channel.WEB, Channel.EMAIL) or rng.random() < 0.3:
        local = f"{first}.{last}".lower()
        for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ş", "s"), ("ı", "i")):
            local = local.replace(umlaut, plain)
        email = f"{local}@example.org"
    if channel in (Channel.PHONE, Channel.CITYWACHE) or rng.random() < 0.2:
        phone = f"0231 {int(rng.integers(100000, 999999))}"
    name = f"{first} {last}" if channel != Channel.WEB or rng.random() < 0.6 else ""
    return name, email, phone


def generate_reports(config: DemoConfig, log: Callable[[str], None] = lambda _msg: None) -> CitizenResult:
    """Create the demo's routing and reports unless reports exist already."""
    started = time.perf_counter()
    result = CitizenResult()
    with unscoped():
        services = {s.code: s for s in ServiceType.objects.select_related("category").filter(active=True)}
        if Report.objects.exists() or not services:
            result.skipped = True
            return result
        authorities = {a.code: a for a in Authority.objects.filter(code__in=[CITY, POLICE])}
        world = World.load()
        if len(authorities) < 2 or world.boundary is None:
            result.skipped = True
            return result
        with transaction.atomic():
            targets, rule_count = ensure_routing(authorities, services)
            reportable = [s for s in services.values() if not s.acute]
            plan, rng = plan_reports(config, world, reportable)
            rows, counts = build_rows(config, plan, rng, authorities, targets)
            write_rows(rows)
            counts["linked"] = link_incidents(rows, rng)
            counts["rules"] = rule_count
            # As the daily retention job would have done by now: two years of reports include
            # many closed longer ago than the retention period allows contact data to be kept.
            counts["anonymised"] = anonymise_reporters(days=retention_days(), now=config.data_end).count
        result.created = counts
    result.seconds = time.perf_counter() - started
    log(result.line())
    return result


def build_rows(
    config: DemoConfig,
    plan: Plan,
    rng: np.random.Generator,
    authorities: dict[str, Authority],
    targets: dict[str, RoutingTarget],
) -> tuple[Rows, dict[str, int]]:
    n = len(plan.at)
    rules = list(RoutingRule.objects.filter(active=True).select_related("target").order_by("position", "id"))
    located = locate_many(plan.lat, plan.lon)
    ids = bulk.reserve_ids(Report, n)
    users = {u.username: u.pk for u in User.objects.filter(username__in=["kod", "kod-lead", "polizei"])}
    city, police = authorities[CITY], authorities[POLICE]
    # The demo's "now" is the end of its data, not the wall clock: same data on any day.
    now = config.data_end - dt.timedelta(seconds=1)
    rows = Rows()
    counts: dict[str, int] = defaultdict(int)
    # Earlier open-or-recent report per (service, spot) for duplicates, with its supporters.
    last_of: dict[tuple[int, str, int], tuple[int, dt.datetime | None]] = {}
    supporters: dict[int, int] = defaultdict(int)
    due_cache: dict[tuple[dt.date, int], dt.datetime] = {}
    for i in range(n):
        service = plan.service[i]
        channel = plan.channel[i]
        at = plan.at[i]
        area_ids = set(located.area_ids[i])
        rule = next(
            (r for r in rules if rule_matches(r, service_id=service.pk, area_ids=area_ids, at=at)), None
        )
        target = rule.target if rule else targets["kod"]
        authority_id = target.authority_id or city.pk
        key = (at.date(), service.service_level_days)
        if key not in due_cache:
            due_cache[key] = add_working_days(timezone.localtime(at), service.service_level_days)
        due = due_cache[key]
        name, email, phone = _contact(rng, channel)
        report = PlannedReport(
            pk=ids[i],
            authority_id=authority_id,
            service=service,
            status=ReportStatus.NEW,
            channel=channel,
            address_text=plan.place[i],
            lat=round(float(plan.lat[i]), 6),
            lon=round(float(plan.lon[i]), 6),
            x_utm=float(located.x_utm[i]),
            y_utm=float(located.y_utm[i]),
            h3_cell=located.h3_cells[i],
            reporter_name=name,
            reporter_email=email,
            reporter_phone=phone,
            public_token=secrets.token_urlsafe(16),
            requested_at=at,
            updated_at=at,
            due_at=due,
            target=target,
            routing_rule=rule,
            entered_by_id=users.get("kod-lead") if channel not in (Channel.WEB, Channel.OPEN311) else None,
        )
        history = [(at, None, "", ReportStatus.NEW, "Ihre Meldung ist eingegangen.", "")]
        police_case = authority_id == police.pk
        handler = users.get("polizei") if police_case else users.get("kod")
        triage = users.get("polizei") if police_case else users.get("kod-lead")
        if channel == Channel.WEB and plan.spot[i] != pf.BACKGROUND:
            supporters[report.pk] += int(rng.poisson(0.4))
        if target.authority_id is None:
            history.append(
                (at, None, ReportStatus.NEW, ReportStatus.FORWARDED, f"Weitergeleitet an: {target.name}.", "")
            )
            _close(report, ReportStatus.FORWARDED, at, response=None)
            counts["forwarded"] += 1
        else:
            _progress(
                report,
                history,
                rng,
                now,
                handler,
                triage,
                service,
                targets,
                last_of,
                supporters,
                plan.spot[i],
                counts,
            )
        if report.status != ReportStatus.DUPLICATE:
            last_of[(service.pk, plan.spot[i], authority_id)] = (report.pk, report.closed_at)
        rows.reports.append(report)
        for when, user, from_status, to_status, public, internal in history:
            rows.history.append((report.pk, when, user, from_status, to_status, public, internal))
        rows.links.extend((report.pk, area_id) for area_id in sorted(area_ids))
    for report in rows.reports:
        report.supporters = supporters.get(report.pk, 0)
        if report.status in (
            ReportStatus.NEW,
            ReportStatus.TRIAGE,
            ReportStatus.ASSIGNED,
            ReportStatus.IN_PROGRESS,
        ):
            counts["open"] += 1
            counts["overdue"] += int(report.due_at is not None and report.due_at < now)
    counts["reports"] = n
    return rows, dict(counts)


def _close(report: PlannedReport, status: str, at: dt.datetime, *, response: dt.datetime | None) -> None:
    report.status = status
    report.closed_at = at
    report.updated_at = at
    if response is not None and report.first_response_at is None:
        report.first_response_at = response


def _progress(
    report: PlannedReport,
    history: list[tuple],
    rng: np.random.Generator,
    now: dt.datetime,
    handler: int | None,
    triage: int | None,
    service: ServiceType,
    targets: dict[str, RoutingTarget],
    last_of: dict[tuple[int, str, int], tuple[int, dt.datetime | None]],
    supporters: dict[int, int],
    spot: str,
    counts: dict[str, int],
) -> None:
    """Status changes of a report handled in Lagebild, up to ``now``."""
    at = report.requested_at
    first = at + dt.timedelta(hours=min(_hours(rng, 4.0, 1.0), 96))
    if first > now:
        return  # still new
    draw = rng.random()
    earlier, earlier_closed = last_of.get((service.pk, spot, report.authority_id), (None, None))
    still_open = earlier is not None and (earlier_closed is None or earlier_closed > first)
    if draw < P_DUPLICATE and still_open and spot != pf.BACKGROUND:
        report.duplicate_of_id = earlier
        supporters[earlier] += 1 + supporters.get(report.pk, 0)
        note = f"Zusammengeführt mit Meldung {earlier}; sie wird dort weiter bearbeitet."
        history.append((first, triage, ReportStatus.NEW, ReportStatus.DUPLICATE, note, ""))
        _close(report, ReportStatus.DUPLICATE, first, response=first)
        counts["duplicates"] += 1
        return
    step = ReportStatus.ASSIGNED if rng.random() < 0.5 else ReportStatus.IN_PROGRESS
    public = (
        f"Zuständig: {report.target.name}."
        if step == ReportStatus.ASSIGNED
        else "Ihre Meldung wird bearbeitet."
    )
    history.append((first, triage, ReportStatus.NEW, step, public, ""))
    report.status = step
    report.first_response_at = first
    report.updated_at = first
    draw = rng.random()
    if draw < P_STUCK:
        return  # forgotten: stays open past its due date
    sla_hours = max(service.service_level_days, 1) * 24 * 7 / 5
    closed = at + dt.timedelta(hours=sla_hours * _hours(rng, 0.45, 0.65))
    closed = max(closed, first + dt.timedelta(minutes=30))
    if closed > now:
        return
    draw = rng.random()
    forwardable = service.code in GREEN_SERVICES or service.code in WASTE_SERVICES
    if draw < P_FORWARD_LATER and forwardable:
        target = targets["green"] if service.code in GREEN_SERVICES else targets["edg"]
        note = f"Weitergeleitet an: {target.name}."
        history.append(
            (closed, triage, step, ReportStatus.FORWARDED, note, "Zuständigkeit liegt nicht beim KOD.")
        )
        report.target = target
        report.routing_rule = None
        _close(report, ReportStatus.FORWARDED, closed, response=None)
        counts["forwarded"] += 1
        return
    police_case = report.target.kind == RoutingTarget.Kind.POLICE
    if draw < P_FORWARD_LATER + P_REJECTED:
        status, notes = ReportStatus.REJECTED, REJECTED_NOTES
    elif draw < P_FORWARD_LATER + P_REJECTED + P_NOT_RESOLVABLE:
        status, notes = ReportStatus.NOT_RESOLVABLE, NOT_RESOLVABLE_NOTES
    else:
        status, notes = ReportStatus.RESOLVED, POLICE_NOTES if police_case else RESOLVED_NOTES
    note = notes[int(rng.integers(len(notes)))]
    internal = "Streife hat den Ort kontrolliert." if rng.random() < 0.3 else ""
    history.append((closed, handler, step, status, note, internal))
    _close(report, status, closed, response=None)


REPORT_FIELDS = [
    "id",
    "authority",
    "joint",
    "service",
    "status",
    "channel",
    "description",
    "attributes",
    "address_text",
    "address_id",
    "lat",
    "lon",
    "x_utm",
    "y_utm",
    "h3_cell",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "anonymised_at",
    "public_token",
    "public_id",
    "requested_at",
    "updated_at",
    "first_response_at",
    "closed_at",
    "due_at",
    "target",
    "routing_rule",
    "duplicate_of",
    "supporters",
    "entered_by",
    "api_client",
    "external_source",
    "external_id",
]


def write_rows(rows: Rows) -> None:
    adapt = bulk.datetime_adapter()
    bulk.insert(
        Report,
        REPORT_FIELDS,
        (
            (
                r.pk,
                r.authority_id,
                False,
                r.service.pk,
                r.status,
                r.channel,
                r.description,
                "{}",
                r.address_text,
                "",
                r.lat,
                r.lon,
                r.x_utm,
                r.y_utm,
                r.h3_cell,
                r.reporter_name,
                r.reporter_email,
                r.reporter_phone,
                None,
                r.public_token,
                new_public_id(),  # random, like the token: the Open311 feed is not walkable
                adapt(r.requested_at),
                adapt(r.updated_at),
                adapt(r.first_response_at),
                adapt(r.closed_at),
                adapt(r.due_at),
                r.target.pk,
                r.routing_rule.pk if r.routing_rule else None,
                r.duplicate_of_id,
                r.supporters,
                r.entered_by_id,
                None,
                "",
                "",
            )
            for r in rows.reports
        ),
    )
    bulk.insert(
        StatusChange,
        ["report", "at", "user", "from_status", "to_status", "public_note", "internal_note"],
        ((r, adapt(at), u, f, t, p, i) for r, at, u, f, t, p, i in rows.history),
    )
    bulk.insert(ReportArea, ["report", "area"], rows.links)


def link_incidents(rows: Rows, rng: np.random.Generator, radius_m: float = 400) -> int:
    """Link resolved KOD reports to an incident the patrols recorded for a citizen report."""
    incidents = list(
        Incident.objects.filter(source=Incident.Source.CITIZEN_REPORT)
        .order_by("occurred_at", "id")
        .values_list("id", "category_id", "occurred_at", "x_utm", "y_utm", "authority_id")
    )
    by_category: dict[int, list[tuple]] = defaultdict(list)
    for row in incidents:
        by_category[row[1]].append(row)
    times = {c: np.array([r[2].timestamp() for r in items]) for c, items in by_category.items()}
    used: set[int] = set()
    links = []
    for report in rows.reports:
        category_id = report.service.category_id
        if (
            report.status not in (ReportStatus.RESOLVED, ReportStatus.NOT_RESOLVABLE)
            or category_id not in times
        ):
            continue
        items = by_category[category_id]
        start = np.searchsorted(times[category_id], report.requested_at.timestamp())
        end = np.searchsorted(times[category_id], report.closed_at.timestamp(), side="right")
        for row in items[start:end]:
            if row[0] in used or row[5] != report.authority_id:
                continue
            if math.hypot(row[3] - report.x_utm, row[4] - report.y_utm) <= radius_m:
                used.add(row[0])
                links.append(Report.incidents.through(report_id=report.pk, incident_id=row[0]))
                break
    Report.incidents.through.objects.bulk_create(links, batch_size=2000)
    return len(links)
