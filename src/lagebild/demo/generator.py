"""Synthetic shifts, patrols, incidents and measures for the demo city.

Deterministic for the same seed, end date and scale (``numpy.random.default_rng``). The
plan is built in memory with numpy and written with plain multi-row inserts (``bulk``) in
one transaction. This is the one place that writes field records without going through
``field.services`` (for speed: a year in seconds); it keeps the same rules: measures are checked with
``field.measures.measure_errors``, points are located with ``geo.services.locate_many``
and must lie inside the city, each incident gets its category rule and area links, and
patrol figures are computed like ``services._refresh_patrol_figures``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import shapely
from django.db import connection, transaction
from django.utils import timezone

from lagebild.catalog.models import Category, CategoryRule
from lagebild.catalog.selectors import pick_rule, rules_by_category
from lagebild.core.models import Authority, User
from lagebild.core.scoping import unscoped
from lagebild.field.measures import MeasureInput, measure_errors
from lagebild.field.models import (
    POLICE_ONLY_MEASURES,
    Incident,
    IncidentArea,
    Measure,
    MeasureType,
    Patrol,
    PatrolMember,
    Person,
    Shift,
)
from lagebild.field.services import shift_times
from lagebild.geo.models import Area, Place
from lagebild.geo.services import area_index, locate_many

from . import bulk
from . import calibration as cal
from . import profiles as pf
from .base import CITY, POLICE, staff_ids

AUTHORITY_CODES = (CITY, POLICE)
MEASURE_ORDER = [m.value for m in MeasureType]

METRES_PER_DEG_LAT = 111_320.0

# Spatial modes of an incident: inside or outside the Wallring during its operation, displaced
# after it, inside or outside the City during the November operation.
NORMAL, INSIDE_OPERATION, OUTSIDE_OPERATION, DISPLACED, INSIDE_NOVEMBER, OUTSIDE_NOVEMBER = range(6)
# Which exact plan an incident belongs to.
NO_BLOCK, OPERATION, POLICE_WINDOW, NOVEMBER = 0, 1, 2, 3


DEFAULT_MONTHS = 24


@dataclass(frozen=True)
class DemoConfig:
    end_date: dt.date
    seed: int = 2023
    # Two years: every comparison with the year before (cockpit week, 28 days, year to date)
    # falls on generated days, whatever the date (see analytics.periods).
    months: int = DEFAULT_MONTHS
    scale: float = 1.0
    start_date: dt.date | None = None
    operation_start: dt.date | None = None
    # The backtest and the week's risk maps at the end (forecast app): `lagebild demo` computes
    # them; tests that build demos for other purposes leave them out (the backtest takes a minute).
    forecasts: bool = False

    @property
    def last_day(self) -> dt.date:
        return self.end_date - dt.timedelta(days=1)

    @property
    def data_end(self) -> dt.datetime:
        """The instant the demo data is "as of": local midnight at the start of ``end_date``.

        Everything relative to "now" in the demo (open reports, anonymised contacts) uses this
        instant rather than the wall clock, so the same configuration gives the same data on any
        day and at any time it is loaded.
        """
        return dt.datetime.combine(self.end_date, dt.time(0, 0), tzinfo=timezone.get_current_timezone())

    @property
    def operation(self) -> cal.Period:
        return cal.operation_period(self.operation_start or cal.operation_start(self.end_date))

    @property
    def police_window(self) -> cal.Period:
        return cal.police_period(cal.police_window_start(self.operation.start))

    @property
    def november_operation(self) -> cal.Period:
        """The KOD's November operation in the City; in the demo only if the data range holds it
        (the range is not widened for it)."""
        return cal.november_period(cal.november_operation_start(self.end_date))

    @property
    def first_day(self) -> dt.date:
        if self.start_date:
            return self.start_date
        first = cal.add_months(self.end_date, -self.months)
        if self.months >= 12:
            # Analysts need a before-period for the operation (8–12 weeks are recommended).
            first = min(first, self.operation.start - dt.timedelta(weeks=12))
        return first


@dataclass
class DemoResult:
    created: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    operation: cal.Period | None = None
    police_window: cal.Period | None = None
    november_operation: cal.Period | None = None


# --- the world the generator reads ---------------------------------------------------------


@dataclass
class World:
    authorities: dict[str, Authority]
    categories: dict[str, Category]
    rules: dict[int, list[CategoryRule]]
    areas: dict[str, Area]
    geometries: dict[str, Any]
    places: dict[str, tuple[float, float]]
    boundary: Any
    staff: dict[str, list[int]]
    users: dict[str, User]

    @classmethod
    def load(cls) -> World:
        authorities = {a.code: a for a in Authority.objects.filter(code__in=AUTHORITY_CODES)}
        areas = {a.code: a for a in Area.objects.filter(active=True)}
        geometries = {code: shapely.geometry.shape(a.geometry) for code, a in areas.items()}
        for geometry in geometries.values():
            shapely.prepare(geometry)
        return cls(
            authorities=authorities,
            categories={c.code: c for c in Category.objects.filter(active=True)},
            rules=rules_by_category(),
            areas=areas,
            geometries=geometries,
            places={p.name: (p.lon, p.lat) for p in Place.objects.all()},
            boundary=area_index().boundary,
            staff={code: staff_ids(code) for code in AUTHORITY_CODES},
            users={u.username: u for u in User.objects.filter(username__in=["kod", "kod-lead", "polizei"])},
        )


# --- plan structures -------------------------------------------------------------------------


@dataclass
class PatrolPlan:
    authority: str
    shift: int
    name: str
    area: str | None
    clothing: str
    planned_start: dt.datetime
    planned_end: dt.datetime
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None
    members: list[tuple[int, str]]  # (user id, authority code)

    @property
    def joint(self) -> bool:
        return len({code for _, code in self.members}) > 1


@dataclass
class ShiftPlan:
    authority: str
    date: dt.date
    kind: str
    lead: int | None


@dataclass
class IncidentPlan:
    day: np.ndarray
    authority: np.ndarray  # 0 city, 1 police
    category: np.ndarray  # index into Planner.codes
    mode: np.ndarray
    block: np.ndarray
    minute: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.day)

    def take(self, order: np.ndarray) -> IncidentPlan:
        return IncidentPlan(
            day=self.day[order],
            authority=self.authority[order],
            category=self.category[order],
            mode=self.mode[order],
            block=self.block[order],
            minute=self.minute[order],
            lat=self.lat[order],
            lon=self.lon[order],
            label=[self.label[i] for i in order.tolist()],
        )


@dataclass
class MeasurePlan:
    incident: int
    type: str
    amount: Decimal | None = None
    seizure_kind: str = ""
    quantity: Decimal | None = None
    quantity_unit: str = ""
    referral_service: str = ""
    note: str = ""
    person: int | None = None  # index into Planner.persons


# --- the planner ----------------------------------------------------------------------------


class Planner:
    def __init__(self, config: DemoConfig, world: World) -> None:
        self.config = config
        self.world = world
        self.rng = np.random.default_rng(config.seed)
        first, last = config.first_day, config.last_day
        self.days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        self.n_days = len(self.days)
        self.weekday = np.array([d.weekday() for d in self.days])
        self.doy = np.array([d.timetuple().tm_yday for d in self.days], dtype=float)
        self.codes = [code for code in pf.PROFILES if code in world.categories]
        self.code_index = {code: i for i, code in enumerate(self.codes)}
        operation, window = config.operation, config.police_window
        inside = operation.start >= first and operation.end <= last
        self.operation = operation if inside and cal.OPERATION_AREA in world.geometries else None
        self.police_window = window if window.start >= first and window.end <= last else None
        november = config.november_operation
        inside = november.start >= first and november.end <= last
        self.november = november if inside and cal.NOVEMBER_AREA in world.geometries else None
        self.in_operation = np.array([bool(self.operation and d in self.operation) for d in self.days])
        self.in_window = np.array([bool(self.police_window and d in self.police_window) for d in self.days])
        self.in_november = np.array([bool(self.november and d in self.november) for d in self.days])
        self.tz = timezone.get_current_timezone()
        self._hotspot_centres()

    # -- calendar

    def day_weights(self, code: str) -> np.ndarray:
        profile = pf.PROFILES[code]
        weekday = pf.WEEKDAY_PROFILES[profile.weekdays]
        weekday = weekday / weekday.mean()
        season = 1 + profile.season * np.cos(2 * np.pi * (self.doy - 196) / 365.25)
        return weekday[self.weekday] * season

    def days_since_operation_end(self) -> np.ndarray:
        if self.operation is None:
            return np.full(self.n_days, np.inf)
        end = self.operation.end
        return np.array([(d - end).days for d in self.days], dtype=float)

    # -- shifts and patrols

    def plan_patrols(self) -> tuple[list[ShiftPlan], list[PatrolPlan]]:
        """Two KOD shifts and three police shifts a day, with patrols of two or three."""
        self.shifts: list[ShiftPlan] = []
        self.patrols: list[PatrolPlan] = []
        # (day index, authority index, shift kind) -> patrols; joint patrols count for both.
        self.patrols_at: dict[tuple[int, int, str], list[int]] = defaultdict(list)
        # Today's shifts are planned but not worked yet; incidents end the day before.
        for i, day in enumerate([*self.days, self.config.end_date]):
            self._plan_day(i, day)
        return self.shifts, self.patrols

    def _plan_day(self, i: int, day: dt.date) -> None:
        rng = self.rng
        users = self.world.users
        kod_staff, police_staff = self.world.staff[CITY], self.world.staff[POLICE]
        weekday = day.weekday()
        weekend = weekday in (4, 5)
        operation = bool(self.operation and day in self.operation)
        window = bool(self.police_window and day in self.police_window)
        november = bool(self.november and day in self.november)
        if operation:
            kod_total = cal.OPERATION_STAFF_PER_WEEKDAY[weekday]  # "up to 45 a day in two shifts"
        elif november:
            kod_total = cal.NOVEMBER_STAFF_PER_WEEKDAY[weekday]
        else:
            kod_total = KOD_STAFF_PER_WEEKDAY[weekday] + int(rng.integers(-2, 3))
        joint_count = 3 if operation else (2 if weekend else 1)
        police_per_shift = {
            "early": 2,
            "late": (3 if window else 2) + (1 if weekend else 0),
            "night": (3 if window else 2) + (1 if weekend else 0),
        }
        police_needed = 2 * (sum(police_per_shift.values()) + joint_count)
        kod_today = [
            int(x) for x in rng.choice(kod_staff, size=min(kod_total, len(kod_staff)), replace=False)
        ]
        police_today = [
            int(x)
            for x in rng.choice(police_staff, size=min(police_needed, len(police_staff)), replace=False)
        ]
        lead = users["kod-lead"].pk if "kod-lead" in users else None
        shift_of: dict[tuple[str, str], int] = {}
        for authority, kinds in ((CITY, ("early", "late")), (POLICE, ("early", "late", "night"))):
            for kind in kinds:
                shift_of[(authority, kind)] = len(self.shifts)
                shift_lead = lead if authority == CITY else (police_staff[0] if police_staff else None)
                self.shifts.append(ShiftPlan(authority=authority, date=day, kind=kind, lead=shift_lead))

        plain_share = {CITY: cal.NOVEMBER_PLAIN_CLOTHES if november else 0.15, POLICE: 0.2}

        def add(authority: str, kind: str, name: str, area: str, members: list[tuple[int, str]]) -> None:
            plain = rng.random() < plain_share[authority] and len({c for _, c in members}) == 1
            self._add_patrol(i, day, shift_of[(authority, kind)], authority, kind, name, area, members, plain)

        # Doppelstreifen (two KOD, two police) in the late shift, planned by the city.
        joint_members = []
        for _ in range(joint_count):
            if len(kod_today) < 2 or len(police_today) < 2:
                break
            joint_members.append([
                (kod_today.pop(), CITY), (kod_today.pop(), CITY),
                (police_today.pop(), POLICE), (police_today.pop(), POLICE),
            ])  # fmt: skip
        if day == self.config.end_date and joint_members and "kod" in users and "polizei" in users:
            # The demo logins are on today's Doppelstreife, so "my patrol" is not empty.
            joint_members[0][0] = (users["kod"].pk, CITY)
            joint_members[0][2] = (users["polizei"].pk, POLICE)
        for n, members in enumerate(joint_members, start=1):
            area = ("pz-city", "pz-nordstadt-sued", "pz-city")[(n - 1) % 3]
            add(CITY, "late", f"Doppelstreife {zone_label(area)} {n}", area, members)

        early_count = round(len(kod_today) * 0.4)
        zones = kod_zones(i, operation, november)
        for kind, staff in (("early", kod_today[:early_count]), ("late", kod_today[early_count:])):
            n = 0
            while len(staff) >= 2:
                size = 3 if len(staff) == 3 or (len(staff) >= 5 and rng.random() < 0.2) else 2
                members, staff = staff[:size], staff[size:]
                area = zones[n % len(zones)]
                n += 1
                add(CITY, kind, f"KOD {zone_label(area)} {n}", area, [(m, CITY) for m in members])
        for kind, count in police_per_shift.items():
            for n in range(1, count + 1):
                if len(police_today) < 2:
                    break
                members = [(police_today.pop(), POLICE), (police_today.pop(), POLICE)]
                area = police_zones(i)[(n - 1) % 6]
                add(POLICE, kind, f"Streife {zone_label(area)} {n}", area, members)

    def _add_patrol(
        self,
        i: int,
        day: dt.date,
        shift: int,
        authority: str,
        kind: str,
        name: str,
        area: str,
        members: list[tuple[int, str]],
        plain: bool,
    ) -> None:
        start, end = shift_times(day, kind)
        actual_start = actual_end = None
        if day != self.config.end_date:
            # Briefing before and handover after the shift: the patrol covers the whole shift.
            actual_start = start - dt.timedelta(minutes=int(self.rng.integers(0, 11)))
            actual_end = end + dt.timedelta(minutes=int(self.rng.integers(0, 31)))
        index = len(self.patrols)
        self.patrols.append(
            PatrolPlan(
                authority=authority,
                shift=shift,
                name=name,
                area=area,
                clothing=Patrol.Clothing.PLAIN if plain else Patrol.Clothing.UNIFORM,
                planned_start=start,
                planned_end=end,
                actual_start=actual_start,
                actual_end=actual_end,
                members=members,
            )
        )
        for code in sorted({code for _, code in members}):
            self.patrols_at[(i, AUTHORITY_CODES.index(code), kind)].append(index)

    # -- incidents: how many, which category, which exact plan

    def plan_incidents(self) -> IncidentPlan:
        rng = self.rng
        scale = self.config.scale
        parts: list[tuple[np.ndarray, int, int, int, int]] = []  # (days, authority, category, mode, block)
        since_end = self.days_since_operation_end()
        for a, authority in enumerate(AUTHORITY_CODES):
            for code in self.codes:
                profile = pf.PROFILES[code]
                rate = profile.rate.get(authority, 0.0) * scale
                if rate <= 0:
                    continue
                expected = rate / 365.25 * self.day_weights(code)
                if authority == POLICE:
                    expected = np.where(self.in_window, 0.0, expected)
                counts = rng.poisson(expected)
                days = np.repeat(np.arange(self.n_days), counts)
                modes = np.where(self.in_operation[days] & (a == 0), OUTSIDE_OPERATION, NORMAL)
                # During an operation the KOD's records in its area are those of the exact plan.
                modes = np.where(self.in_november[days] & (a == 0), OUTSIDE_NOVEMBER, modes)
                for mode in (NORMAL, OUTSIDE_OPERATION, OUTSIDE_NOVEMBER):
                    parts.append((days[modes == mode], a, self.code_index[code], mode, NO_BLOCK))
                if code in pf.DISPLACED_CATEGORIES and self.operation is not None:
                    extra = expected * self.wallring_share(code) * self.displacement_curve(since_end)
                    days = np.repeat(np.arange(self.n_days), rng.poisson(extra))
                    parts.append((days, a, self.code_index[code], DISPLACED, NO_BLOCK))
        blocks = []
        if self.operation is not None:
            blocks.append((OPERATION, cal.OPERATION_BLOCK, 0, self.in_operation, INSIDE_OPERATION))
        if self.police_window is not None:
            blocks.append((POLICE_WINDOW, cal.POLICE_BLOCK, 1, self.in_window, NORMAL))
        if self.november is not None:
            blocks.append((NOVEMBER, cal.NOVEMBER_BLOCK, 0, self.in_november, INSIDE_NOVEMBER))
        for block_id, block, a, mask, mode in blocks:
            block_days = np.flatnonzero(mask)
            for code, n in block.incidents.items():
                if code not in self.code_index:
                    continue
                weights = self.day_weights(code)[block_days]
                per_day = rng.multinomial(n, weights / weights.sum())
                parts.append((np.repeat(block_days, per_day), a, self.code_index[code], mode, block_id))
        day = np.concatenate([p[0] for p in parts]).astype(np.int64)
        sizes = [len(p[0]) for p in parts]
        plan = IncidentPlan(
            day=day,
            authority=np.repeat([p[1] for p in parts], sizes).astype(np.int64),
            category=np.repeat([p[2] for p in parts], sizes).astype(np.int64),
            mode=np.repeat([p[3] for p in parts], sizes).astype(np.int64),
            block=np.repeat([p[4] for p in parts], sizes).astype(np.int64),
        )
        return plan

    def displacement_curve(self, since_end: np.ndarray) -> np.ndarray:
        """Extra share of the former Wallring level showing up just outside it."""
        during = self.in_operation
        curve = np.where(
            since_end > 0,
            pf.DISPLACEMENT_PEAK * np.exp(-np.maximum(since_end, 0) / pf.DISPLACEMENT_DECAY_DAYS),
            0.0,
        )
        ramp = pf.DISPLACEMENT_PEAK * (0.5 + 0.5 * (since_end + cal.OPERATION_DAYS) / cal.OPERATION_DAYS)
        return np.where(during, ramp, curve)

    def wallring_share(self, code: str) -> float:
        places = pf.PROFILES[code].places
        return sum(w for key, w in places.items() if key in self.wallring_hotspots) / sum(places.values())

    # -- time of day

    def plan_times(self, plan: IncidentPlan) -> None:
        rng = self.rng
        hours = np.zeros(len(plan), dtype=np.int64)
        for a, authority in enumerate(AUTHORITY_CODES):
            for c, code in enumerate(self.codes):
                idx = np.flatnonzero((plan.authority == a) & (plan.category == c))
                if len(idx) == 0:
                    continue
                weights = pf.HOUR_PROFILES[pf.PROFILES[code].hours].copy()
                if authority == CITY:
                    mask = np.zeros(24)
                    mask[pf.KOD_HOURS[0] : pf.KOD_HOURS[1]] = 1
                    weights = weights * mask + mask * 0.2  # KOD only works 06–22
                hours[idx] = rng.choice(24, size=len(idx), p=weights / weights.sum())
        minutes = rng.integers(0, 60, size=len(plan))
        plan.minute = hours * 60 + minutes

    # -- places

    def _hotspot_centres(self) -> None:
        world = self.world
        wallring = world.geometries.get(cal.OPERATION_AREA)
        city = world.geometries.get(cal.NOVEMBER_AREA)
        self.hotspot_ok: dict[str, bool] = {}
        self.hotspot_label: dict[str, str] = {}
        self.wallring_hotspots: set[str] = set()
        self.city_hotspots: set[str] = set()
        for key, spot in pf.HOTSPOTS.items():
            if spot.area:
                geometry = world.geometries.get(spot.area)
                ok = geometry is not None
                centre = geometry.representative_point() if ok else None
                self.hotspot_label[key] = world.areas[spot.area].name if ok else ""
            else:
                ok = spot.place in world.places
                centre = shapely.Point(world.places[spot.place]) if ok else None
                self.hotspot_label[key] = spot.place
            self.hotspot_ok[key] = ok
            if ok and wallring is not None and wallring.contains(centre):
                self.wallring_hotspots.add(key)
            if ok and city is not None and city.contains(centre):
                self.city_hotspots.add(key)

    def _uniform_in(self, geometry: Any, n: int, exclude: Any = None) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        min_lon, min_lat, max_lon, max_lat = geometry.bounds
        lons, lats = np.zeros(0), np.zeros(0)
        while len(lons) < n:
            want = max(16, int((n - len(lons)) * 2.5))
            lo = rng.uniform(min_lon, max_lon, want)
            la = rng.uniform(min_lat, max_lat, want)
            ok = shapely.contains_xy(geometry, lo, la)
            if exclude is not None:
                ok &= ~shapely.contains_xy(exclude, lo, la)
            lons = np.concatenate([lons, lo[ok]])
            lats = np.concatenate([lats, la[ok]])
        return lats[:n], lons[:n]

    def _scatter(self, key: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        spot = pf.HOTSPOTS[key]
        if spot.area:
            lat, lon = self._uniform_in(self.world.geometries[spot.area], n)
        else:
            lon0, lat0 = self.world.places[spot.place]
            lat, lon = np.full(n, lat0), np.full(n, lon0)
        sigma_lat = spot.sigma_m / METRES_PER_DEG_LAT
        sigma_lon = sigma_lat / math.cos(math.radians(51.5))
        return lat + self.rng.normal(0, sigma_lat, n), lon + self.rng.normal(0, sigma_lon, n)

    def _background(self, n: int, exclude: Any = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
        codes = [c for c in pf.DISTRICT_WEIGHTS if c in self.world.geometries]
        weights = np.array([pf.DISTRICT_WEIGHTS[c] for c in codes])
        if not codes:  # no districts: spread over the city
            lat, lon = self._uniform_in(self.world.boundary, n, exclude)
            return lat, lon, [""] * n
        chosen = self.rng.choice(len(codes), size=n, p=weights / weights.sum())
        lat, lon = np.zeros(n), np.zeros(n)
        labels = [""] * n
        for d, code in enumerate(codes):
            idx = np.flatnonzero(chosen == d)
            if len(idx):
                lat[idx], lon[idx] = self._uniform_in(self.world.geometries[code], len(idx), exclude)
                for i in idx.tolist():
                    labels[i] = self.world.areas[code].name
        return lat, lon, labels

    def _displaced(self, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
        zones = [(z, w) for z, w in pf.DISPLACEMENT_ZONES if z in self.world.geometries]
        wallring = self.world.geometries.get(cal.OPERATION_AREA)
        weights = np.array([w for _, w in zones])
        chosen = self.rng.choice(len(zones), size=n, p=weights / weights.sum())
        lat, lon = np.zeros(n), np.zeros(n)
        labels = [""] * n
        for z, (code, _) in enumerate(zones):
            idx = np.flatnonzero(chosen == z)
            if len(idx):
                lat[idx], lon[idx] = self._uniform_in(self.world.geometries[code], len(idx), exclude=wallring)
                for i in idx.tolist():
                    labels[i] = self.world.areas[code].name
        return lat, lon, labels

    def _components(self, code: str, mode: int) -> tuple[list[str], np.ndarray]:
        places = {
            k: w for k, w in pf.PROFILES[code].places.items() if k == pf.BACKGROUND or self.hotspot_ok.get(k)
        }
        if mode == INSIDE_OPERATION:
            places = {k: w for k, w in places.items() if k in self.wallring_hotspots}
            places["wallring"] = max(0.25 * sum(places.values()), 0.05)
        elif mode == OUTSIDE_OPERATION:
            places = {k: w for k, w in places.items() if k not in self.wallring_hotspots} or {
                pf.BACKGROUND: 1.0
            }
        elif mode == INSIDE_NOVEMBER:
            places = {k: w for k, w in places.items() if k in self.city_hotspots}
            places[cal.NOVEMBER_AREA] = max(0.25 * sum(places.values()), 0.05)
        elif mode == OUTSIDE_NOVEMBER:
            places = {k: w for k, w in places.items() if k not in self.city_hotspots} or {pf.BACKGROUND: 1.0}
        keys = list(places)
        weights = np.array([places[k] for k in keys], dtype=float)
        return keys, weights / weights.sum()

    def plan_places(self, plan: IncidentPlan) -> None:
        rng = self.rng
        n = len(plan)
        lat, lon = np.zeros(n), np.zeros(n)
        labels = [""] * n
        component = np.full(n, "", dtype=object)
        wallring = self.world.geometries.get(cal.OPERATION_AREA)
        city = self.world.geometries.get(cal.NOVEMBER_AREA)
        for c, code in enumerate(self.codes):
            for mode in (NORMAL, INSIDE_OPERATION, OUTSIDE_OPERATION, INSIDE_NOVEMBER, OUTSIDE_NOVEMBER):
                idx = np.flatnonzero((plan.category == c) & (plan.mode == mode))
                if len(idx):
                    keys, weights = self._components(code, mode)
                    component[idx] = np.array(keys, dtype=object)[
                        rng.choice(len(keys), size=len(idx), p=weights)
                    ]
        component[plan.mode == DISPLACED] = "displaced"
        # Sample per component; points outside the city (or on the wrong side of the
        # Wallring during the operation) are drawn again.
        todo = np.arange(n)
        for _attempt in range(50):
            if len(todo) == 0:
                break
            for key in sorted(set(component[todo].tolist())):
                idx = todo[component[todo] == key]
                if key == pf.BACKGROUND:
                    lat[idx], lon[idx], names = self._background(len(idx))
                elif key == "displaced":
                    lat[idx], lon[idx], names = self._displaced(len(idx))
                elif key == "wallring":
                    lat[idx], lon[idx] = self._uniform_in(wallring, len(idx))
                    names = [self.world.areas[cal.OPERATION_AREA].name] * len(idx)
                elif key == cal.NOVEMBER_AREA:
                    lat[idx], lon[idx] = self._uniform_in(city, len(idx))
                    names = [zone_label(key)] * len(idx)
                else:
                    lat[idx], lon[idx] = self._scatter(key, len(idx))
                    names = [self.hotspot_label[key]] * len(idx)
                for i, name in zip(idx.tolist(), names, strict=True):
                    labels[i] = name
            # Checked as stored (six decimals, about 0.1 m): a point drawn just inside the
            # boundary may lie outside once rounded.
            lat[todo], lon[todo] = np.round(lat[todo], 6), np.round(lon[todo], 6)
            bad = ~shapely.contains_xy(self.world.boundary, lon[todo], lat[todo])
            if wallring is not None:
                in_ring = shapely.contains_xy(wallring, lon[todo], lat[todo])
                modes = plan.mode[todo]
                bad |= (modes == INSIDE_OPERATION) & ~in_ring
                bad |= ((modes == OUTSIDE_OPERATION) | (modes == DISPLACED)) & in_ring
            if city is not None and self.november is not None:
                in_city = shapely.contains_xy(city, lon[todo], lat[todo])
                modes = plan.mode[todo]
                bad |= (modes == INSIDE_NOVEMBER) & ~in_city
                bad |= (modes == OUTSIDE_NOVEMBER) & in_city
            todo = todo[bad]
        if len(todo):
            raise RuntimeError("Konnte keine Punkte im Stadtgebiet erzeugen – fehlen die Gebiete?")
        plan.lat, plan.lon, plan.label = np.round(lat, 6), np.round(lon, 6), labels
        self.component = component

    def relieve_wallring(self, plan: IncidentPlan) -> IncidentPlan:
        """After the operation the Wallring hotspots are calmer for some weeks (thinning)."""
        if self.operation is None:
            return plan
        since_end = self.days_since_operation_end()[plan.day]
        relief = np.where(
            since_end > 0, pf.WALLRING_RELIEF * np.exp(-since_end / pf.WALLRING_RELIEF_DECAY_DAYS), 0
        )
        in_ring = np.array([c in self.wallring_hotspots for c in self.component.tolist()])
        drop = in_ring & (plan.block == NO_BLOCK) & (self.rng.random(len(plan)) < relief)
        keep = np.flatnonzero(~drop)
        self.component = self.component[keep]
        return plan.take(keep)

    # -- measures

    def plan_measures(self, plan: IncidentPlan, rule_of: list[CategoryRule | None]) -> list[MeasurePlan]:
        rng = self.rng
        n = len(plan)
        chosen: list[list[str]] = [[] for _ in range(n)]
        self.cash_incidents: set[int] = set()
        # Exact plans first.
        exact = (
            (OPERATION, cal.OPERATION_BLOCK),
            (POLICE_WINDOW, cal.POLICE_BLOCK),
            (NOVEMBER, cal.NOVEMBER_BLOCK),
        )
        for block_id, block in exact:
            for code, counts in block.measures.items():
                if code not in self.code_index:
                    continue
                idx = np.flatnonzero((plan.block == block_id) & (plan.category == self.code_index[code]))
                if len(idx) == 0:
                    continue
                order = rng.permutation(idx)
                # A caution with fee replaces the OWi report, so the two never meet.
                owi, fee = counts.get("offence_report", 0), counts.get("caution_fee", 0)
                for i in order[:owi].tolist():
                    chosen[i].append("offence_report")
                for i in order[owi : owi + fee].tolist():
                    chosen[i].append("caution_fee")
                for measure_type, k in counts.items():
                    if measure_type in ("offence_report", "caution_fee"):
                        continue
                    picked = rng.choice(idx, size=min(k, len(idx)), replace=False)
                    for i in picked.tolist():
                        chosen[i].append(measure_type)
                    if block_id == POLICE_WINDOW and code == "drug-dealing" and measure_type == "seizure":
                        cash = rng.choice(picked, size=min(cal.CASH_SEIZURES, len(picked)), replace=False)
                        self.cash_incidents = set(cash.tolist())
        # Random draws for everything else.
        police_probs = police_measure_probabilities()
        for a, authority in enumerate(AUTHORITY_CODES):
            for c, code in enumerate(self.codes):
                idx = np.flatnonzero((plan.block == NO_BLOCK) & (plan.authority == a) & (plan.category == c))
                if len(idx) == 0:
                    continue
                probs = pf.PROFILES[code].kod_measures if authority == CITY else police_probs.get(code, {})
                if not probs:
                    probs = {"contact": 0.6, "criminal_complaint": 0.3}
                draws = {t: rng.random(len(idx)) < p for t, p in probs.items()}
                if "caution_fee" in draws and "offence_report" in draws:
                    draws["offence_report"] &= ~draws["caution_fee"]
                for j, i in enumerate(idx.tolist()):
                    chosen[i].extend(t for t, hit in draws.items() if hit[j])
                    if not chosen[i] and pf.PROFILES[code].needs_measure:
                        chosen[i].append("contact")
        return self._measure_details(plan, chosen, rule_of)

    def _measure_details(
        self, plan: IncidentPlan, chosen: list[list[str]], rule_of: list[CategoryRule | None]
    ) -> list[MeasurePlan]:
        rng = self.rng
        measures: list[MeasurePlan] = []
        cash_left = list(cash_amounts(rng))
        weapons = (
            "Messer (Klinge über 12 cm)",
            "Einhandmesser",
            "Schlagring",
            "Schreckschusswaffe",
            "Teleskopschlagstock",
        )
        drugs = ("Crack", "Heroin", "Kokain", "Cannabis", "Amphetamin")
        others = {
            "illegal-car-race": "Fahrzeug",
            "illegal-trade": "Ware (Zigaretten)",
            "youth-protection": "Alkohol",
        }
        for i, types in enumerate(chosen):
            if not types:
                continue
            code = self.codes[int(plan.category[i])]
            rule = rule_of[i]
            police = int(plan.authority[i]) == 1
            for measure_type in sorted(set(types), key=MEASURE_ORDER.index):
                m = MeasurePlan(incident=i, type=measure_type)
                if measure_type in POLICE_ONLY_MEASURES and not police:
                    continue
                if measure_type == "caution_fee":
                    if not (rule and rule.caution_allowed and rule.caution_amount):
                        m.type = "caution"  # the catalogue allows no fee here: oral caution
                    else:
                        m.amount = rule.caution_amount
                elif measure_type == "seizure":
                    kind = pf.SEIZURE_KIND.get(code, "other")
                    if i in self.cash_incidents or (
                        code == "drug-dealing"
                        and police
                        and plan.block[i] != POLICE_WINDOW
                        and rng.random() < 0.15
                    ):
                        kind = "cash"
                    m.seizure_kind = kind
                    if kind == "cash":
                        value = (
                            cash_left.pop()
                            if plan.block[i] == POLICE_WINDOW
                            else round(float(rng.lognormal(7.2, 0.8)), -1) + 10
                        )
                        m.amount = Decimal(str(value)).quantize(Decimal("0.01"))
                    elif kind == "weapon":
                        m.quantity, m.quantity_unit = Decimal("1"), "Stück"
                        m.note = weapons[int(rng.integers(len(weapons)))]
                    elif kind == "drugs":
                        grams = max(0.1, round(float(rng.lognormal(1.0, 0.9)), 1))
                        m.quantity, m.quantity_unit = Decimal(str(grams)), "g"
                        m.note = drugs[int(rng.integers(len(drugs)))]
                    else:
                        m.quantity, m.quantity_unit = Decimal("1"), "Stück"
                        m.note = others.get(code, "Gegenstand")
                elif measure_type == "referral":
                    m.referral_service = pf.REFERRAL_SERVICE.get(code, "street_social_work")
                measures.append(m)
        return measures

    def plan_persons(self, plan: IncidentPlan, measures: list[MeasurePlan]) -> list[tuple[int, str]]:
        """Pseudonymous persons (authority index, age group), attached to part of the measures."""
        rng = self.rng
        by_incident: dict[int, list[MeasurePlan]] = defaultdict(list)
        for m in measures:
            if m.type in pf.PERSON_MEASURES:
                by_incident[m.incident].append(m)
        incidents = sorted(by_incident)
        named = [i for i, r in zip(incidents, rng.random(len(incidents)), strict=True) if r < pf.PERSON_SHARE]
        persons: list[tuple[int, str]] = []
        pools: dict[tuple[int, bool], list[int]] = {}
        drug_codes = {self.code_index[c] for c in pf.DRUG_CATEGORIES if c in self.code_index}
        groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
        for i in named:
            groups[(int(plan.authority[i]), int(plan.category[i]) in drug_codes)].append(i)
        for (a, is_drugs), members in sorted(groups.items()):
            size = max(5, len(members) // 3)
            weights = pf.AGE_WEIGHTS_DRUGS if is_drugs else pf.AGE_WEIGHTS_OTHER
            ages = rng.choice(len(pf.AGE_GROUPS), size=size, p=weights)
            pools[(a, is_drugs)] = list(range(len(persons), len(persons) + size))
            persons.extend((a, pf.AGE_GROUPS[int(g)]) for g in ages)
            # Some people meet the patrols again and again.
            repeat = 1.0 / (np.arange(size) + 5.0) ** 0.8
            picks = rng.choice(size, size=len(members), p=repeat / repeat.sum())
            for i, pick in zip(members, picks.tolist(), strict=True):
                for m in by_incident[i]:
                    m.person = pools[(a, is_drugs)][pick]
        return persons


ZONE_LABELS = {
    "pz-city": "City", "pz-nordstadt-sued": "Nord-Süd", "pz-nordstadt-nord": "Nord",
    "pz-kreuzviertel": "Kreuzviertel", "01": "Innenstadt-West", "02": "Innenstadt-Nord",
    "03": "Innenstadt-Ost", "04": "Eving", "05": "Scharnhorst", "06": "Brackel", "07": "Aplerbeck",
    "08": "Hörde", "09": "Hombruch", "10": "Lütgendortmund", "11": "Huckarde", "12": "Mengede",
}  # fmt: skip
KOD_STAFF_PER_WEEKDAY = (30, 32, 32, 33, 36, 36, 24)


def zone_label(area: str | None) -> str:
    return ZONE_LABELS.get(area or "", "Stadt")


OUTER_DISTRICTS = ["03", "08", "06", "09", "07", "04", "10", "05", "11", "12"]


def kod_zones(day_index: int, operation: bool, november: bool = False) -> list[str]:
    rotation = [OUTER_DISTRICTS[(day_index + k) % len(OUTER_DISTRICTS)] for k in range(4)]
    if november:  # reinforced patrols in the City, the rest of the city with fewer
        return [
            "pz-city",
            "pz-city",
            "pz-nordstadt-sued",
            "pz-city",
            "pz-city",
            "pz-kreuzviertel",
            "pz-city",
            "pz-city",
            *rotation[:2],
        ]
    if operation:
        return [
            "pz-city",
            "pz-city",
            "pz-city",
            "pz-nordstadt-sued",
            "pz-city",
            "pz-kreuzviertel",
            "pz-city",
            *rotation,
        ]
    return ["pz-city", "pz-nordstadt-sued", "pz-city", "pz-nordstadt-nord", "pz-kreuzviertel", *rotation]


def police_zones(day_index: int) -> list[str]:
    return ["pz-city", "pz-nordstadt-sued", "pz-nordstadt-nord", "pz-city", "pz-kreuzviertel",
            OUTER_DISTRICTS[day_index % len(OUTER_DISTRICTS)]]  # fmt: skip


def police_measure_probabilities() -> dict[str, dict[str, float]]:
    """Outside the calibrated eight weeks the police act in the same proportions."""
    block = cal.POLICE_BLOCK
    return {
        code: {t: k / block.incidents[code] for t, k in counts.items()}
        for code, counts in block.measures.items()
    }


def cash_amounts(rng: np.random.Generator) -> list[Decimal]:
    """CASH_SEIZURES amounts that add up to exactly CASH_SEIZED (rounded to 10 €)."""
    raw = rng.lognormal(7.3, 0.9, cal.CASH_SEIZURES)
    raw = raw / raw.sum() * float(cal.CASH_SEIZED)
    values = [max(Decimal("10"), Decimal(int(round(v, -1)))) for v in raw[:-1]]
    values.append(cal.CASH_SEIZED - sum(values))
    assert values[-1] > 0
    return values


# --- writing --------------------------------------------------------------------------------


def demo_data_present() -> bool:
    with unscoped():
        return Incident.objects.filter(authority__code__in=AUTHORITY_CODES).exists()


def generate(config: DemoConfig, log: Callable[[str], None] = lambda _msg: None) -> DemoResult:
    """Create the synthetic records unless demo records exist already."""
    started = time.perf_counter()
    result = DemoResult(first_day=config.first_day, last_day=config.last_day)
    with unscoped():
        if demo_data_present():
            result.skipped = True
            result.seconds = time.perf_counter() - started
            return result
        world = World.load()
        if len(world.authorities) < 2 or not world.categories or world.boundary is None:
            raise RuntimeError("Behörden, Gebiete und Katalog müssen vor den Demodaten angelegt sein.")
        planner = Planner(config, world)
        result.operation, result.police_window = planner.operation, planner.police_window
        result.november_operation = planner.november
        shifts, patrols = planner.plan_patrols()
        plan = planner.plan_incidents()
        planner.plan_times(plan)
        planner.plan_places(plan)
        plan = planner.relieve_wallring(plan)
        # Chronological order, so that the first incidents are the earliest ones.
        order = np.lexsort((plan.category, plan.authority, plan.minute, plan.day))
        plan = plan.take(order)
        planner.component = planner.component[order]
        located = locate_many(plan.lat, plan.lon)
        if not bool(np.all(located.inside)):
            raise RuntimeError("Ein Demo-Punkt liegt außerhalb des Stadtgebiets.")
        occurred = occurred_datetimes(planner, plan)
        rule_of = rules_for(planner, plan, world)
        measures = planner.plan_measures(plan, rule_of)
        persons = planner.plan_persons(plan, measures)
        patrol_of, recorder_of = assign_patrols(planner, plan, patrols, located.area_ids, world)
        elapsed = time.perf_counter() - started
        log(f"Plan: {len(plan)} Feststellungen, {len(measures)} Maßnahmen ({elapsed:.1f} s)")
        with transaction.atomic():
            result.created = write(
                planner,
                world,
                shifts,
                patrols,
                plan,
                located,
                occurred,
                rule_of,
                measures,
                persons,
                patrol_of,
                recorder_of,
            )
    result.seconds = time.perf_counter() - started
    return result


def occurred_datetimes(planner: Planner, plan: IncidentPlan) -> list[dt.datetime]:
    tz = planner.tz
    days = planner.days
    out = []
    for d, minute in zip(plan.day.tolist(), plan.minute.tolist(), strict=True):
        day = days[d]
        out.append(dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz))
    return out


def rules_for(planner: Planner, plan: IncidentPlan, world: World) -> list[CategoryRule | None]:
    cache: dict[tuple[int, int], CategoryRule | None] = {}
    result = []
    for c, d in zip(plan.category.tolist(), plan.day.tolist(), strict=True):
        key = (c, d)
        if key not in cache:
            category = world.categories[planner.codes[c]]
            cache[key] = pick_rule(world.rules.get(category.pk, []), planner.days[d])
        result.append(cache[key])
    return result


def assign_patrols(
    planner: Planner, plan: IncidentPlan, patrols: list[PatrolPlan], area_ids: list[list[int]], world: World
) -> tuple[list[int | None], list[int]]:
    """Each incident goes to a patrol of its authority on duty then, in its area if possible."""
    rng = planner.rng
    area_code_of = {a.pk: code for code, a in world.areas.items()}
    patrol_of: list[int | None] = []
    recorder_of: list[int] = []
    choices = rng.random((len(plan), 2))
    for i in range(len(plan)):
        day, minute, a = int(plan.day[i]), int(plan.minute[i]), int(plan.authority[i])
        hour = minute // 60
        if hour < 6:
            day, kind = day - 1, "night"
        elif hour < 14:
            kind = "early"
        elif hour < 22:
            kind = "late"
        else:
            kind = "night"
        candidates = planner.patrols_at.get((day, a, kind), [])
        codes = {area_code_of.get(area_id) for area_id in area_ids[i]}
        local = [p for p in candidates if patrols[p].area in codes]
        pool = local or candidates
        if pool:
            p = pool[int(choices[i, 0] * len(pool))]
            members = [uid for uid, code in patrols[p].members if code == AUTHORITY_CODES[a]]
            patrol_of.append(p)
            recorder_of.append(members[int(choices[i, 1] * len(members))])
        else:
            staff = world.staff[AUTHORITY_CODES[a]]
            patrol_of.append(None)
            recorder_of.append(staff[int(choices[i, 1] * len(staff))])
    return patrol_of, recorder_of


def _pseudonyms(rng: np.random.Generator, n: int) -> list[str]:
    with unscoped():
        taken = set(Person.objects.filter(pseudonym__startswith="P-").values_list("pseudonym", flat=True))
    out: list[str] = []
    while len(out) < n:
        value = f"P-{int(rng.integers(0, 2**40)):010X}"
        if value not in taken:
            taken.add(value)
            out.append(value)
    return out


def write(
    planner: Planner,
    world: World,
    shifts: list[ShiftPlan],
    patrols: list[PatrolPlan],
    plan: IncidentPlan,
    located: Any,
    occurred: list[dt.datetime],
    rule_of: list[CategoryRule | None],
    measures: list[MeasurePlan],
    persons: list[tuple[int, str]],
    patrol_of: list[int | None],
    recorder_of: list[int],
) -> dict[str, int]:
    rng = planner.rng
    authority_id = {code: world.authorities[code].pk for code in AUTHORITY_CODES}
    kind_of = {code: world.authorities[code].kind for code in AUTHORITY_CODES}
    stamp = bulk.datetime_adapter()
    shift_ids = bulk.reserve_ids(Shift, len(shifts))
    shift_rows = []
    for pk, s in zip(shift_ids, shifts, strict=True):
        start, end = shift_times(s.date, s.kind)
        shift_rows.append(
            (
                pk,
                authority_id[s.authority],
                bulk.db_date(s.date),
                s.kind,
                stamp(start),
                stamp(end),
                s.lead,
                "",
            )
        )
    bulk.insert(
        Shift, ["id", "authority", "date", "kind", "starts_at", "ends_at", "lead", "note"], shift_rows
    )

    patrol_ids = bulk.reserve_ids(Patrol, len(patrols))
    patrol_rows = []
    member_rows = []
    for pk, p in zip(patrol_ids, patrols, strict=True):
        # Same figures as services._refresh_patrol_figures.
        kinds = {kind_of[code] for _, code in p.members}
        joint = Authority.Kind.CITY in kinds and Authority.Kind.POLICE in kinds
        start, end = p.actual_start or p.planned_start, p.actual_end or p.planned_end
        # In UTC: aware datetimes sharing a ZoneInfo subtract as wall-clock times (DST!).
        seconds = max((end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds(), 0)
        staff_hours = (Decimal(len(p.members)) * Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))
        area = world.areas.get(p.area or "")
        patrol_rows.append((
            pk, authority_id[p.authority], shift_ids[p.shift], p.name, area.pk if area else None, joint,
            p.clothing, stamp(p.planned_start), stamp(p.planned_end), stamp(p.actual_start),
            stamp(p.actual_end), len(p.members), staff_hours, stamp(p.planned_start - dt.timedelta(days=2)),
        ))  # fmt: skip
        member_rows.extend((pk, uid, authority_id[code]) for uid, code in p.members)
    bulk.insert(
        Patrol,
        ["id", "authority", "shift", "name", "area", "joint", "clothing", "planned_start", "planned_end",
         "actual_start", "actual_end", "member_count", "staff_hours", "created_at"],
        patrol_rows,
    )  # fmt: skip
    bulk.insert(PatrolMember, ["patrol", "user", "authority"], member_rows)

    pseudonyms = _pseudonyms(rng, len(persons))
    used = sorted({m.person for m in measures if m.person is not None})
    person_ids = dict(zip(used, bulk.reserve_ids(Person, len(used)), strict=True))
    person_rows = []
    first_seen: dict[int, dt.datetime] = {}
    for m in measures:
        if m.person is not None and m.person not in first_seen:
            first_seen[m.person] = occurred[m.incident]
    for i in used:
        a, age_group = persons[i]
        person_rows.append(
            (
                person_ids[i],
                authority_id[AUTHORITY_CODES[a]],
                pseudonyms[i],
                age_group,
                stamp(first_seen[i]),
            )
        )
    bulk.insert(Person, ["id", "authority", "pseudonym", "age_group", "created_at"], person_rows)

    categories = [world.categories[code] for code in planner.codes]
    texts = [pf.PROFILES[code].texts for code in planner.codes]
    draws = rng.random((len(plan), 3)).tolist()
    video = {
        world.areas[c].pk
        for c in ("keuningpark", "muensterstrasse", "brueckstrassenviertel")
        if c in world.areas
    }
    incident_ids = bulk.reserve_ids(Incident, len(plan))
    incident_rows = []
    link_rows = []
    authorities = plan.authority.tolist()
    category_idx = plan.category.tolist()
    blocks = plan.block.tolist()
    lats, lons = plan.lat.tolist(), plan.lon.tolist()
    xs, ys = located.x_utm.tolist(), located.y_utm.tolist()
    for i, pk in enumerate(incident_ids):
        c, a = category_idx[i], authorities[i]
        code = planner.codes[c]
        patrol = patrol_of[i]
        options = texts[c]
        description = options[int(draws[i][0] * len(options))] if options and draws[i][1] < 0.7 else ""
        area_ids = located.area_ids[i]
        rule = rule_of[i]
        incident_rows.append((
            pk, authority_id[AUTHORITY_CODES[a]], bool(patrol is not None and patrols[patrol].joint),
            stamp(occurred[i]), stamp(occurred[i] + dt.timedelta(minutes=4)), recorder_of[i],
            patrol_ids[patrol] if patrol is not None else None, categories[c].pk, rule.pk if rule else None,
            incident_source(code, a, blocks[i], draws[i][2], not video.isdisjoint(area_ids)),
            description, plan.label[i][:200], lats[i], lons[i], xs[i], ys[i], located.h3_cells[i], "",
        ))  # fmt: skip
        link_rows.extend((pk, area_id) for area_id in area_ids)
    bulk.insert(
        Incident,
        ["id", "authority", "joint", "occurred_at", "recorded_at", "recorded_by", "patrol", "category",
         "category_rule", "source", "description", "address_text", "lat", "lon", "x_utm", "y_utm", "h3_cell",
         "external_id"],
        incident_rows,
    )  # fmt: skip
    bulk.insert(IncidentArea, ["incident", "area"], link_rows)

    measure_rows = []
    for m in measures:
        i = m.incident
        police = authorities[i] == 1
        rule = rule_of[i]
        errors = measure_errors(
            MeasureInput(type=m.type, amount=m.amount, seizure_kind=m.seizure_kind, quantity=m.quantity,
                         quantity_unit=m.quantity_unit, referral_service=m.referral_service, note=m.note),
            authority_is_police=police,
            caution_allowed=bool(rule and rule.caution_allowed),
        )  # fmt: skip
        if errors:
            raise RuntimeError(f"Ungültige Demo-Maßnahme: {errors}")
        incident = incident_rows[i]
        measure_rows.append((
            incident[0], m.type, incident[1], incident[5], incident[3],
            person_ids[m.person] if m.person is not None else None, m.amount, m.seizure_kind, m.quantity,
            m.quantity_unit, m.referral_service, m.note,
        ))  # fmt: skip
    bulk.insert(
        Measure,
        ["incident", "type", "authority", "taken_by", "taken_at", "person", "amount", "seizure_kind",
         "quantity", "quantity_unit", "referral_service", "note"],
        measure_rows,
    )  # fmt: skip
    if bulk.is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "shifts": len(shift_rows),
        "patrols": len(patrol_rows),
        "incidents": len(incident_rows),
        "measures": len(measure_rows),
        "persons": len(person_rows),
    }


def incident_source(code: str, authority: int, block: int, draw: float, in_video_area: bool) -> str:
    if block in (OPERATION, NOVEMBER):
        return Incident.Source.PATROL
    if authority == 0:
        share = pf.PROFILES[code].citizen_share
        return Incident.Source.CITIZEN_REPORT if draw < share else Incident.Source.PATROL
    if in_video_area and draw < 0.3:
        return Incident.Source.CAMERA
    return Incident.Source.CONTROL_ROOM if draw > 0.75 else Incident.Source.PATROL
