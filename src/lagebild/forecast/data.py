"""What the forecast models see, read from the database: places and times of incidents, the grid.

Only ``x_utm``, ``y_utm``, ``occurred_at`` and the category group of an incident are read – never
a description, an address text, a measure or a person (BVerfG 1 BvR 1547/19: places and times,
never persons). The incidents of both authorities are read together inside ``unscoped()``: the
forecast is an aggregate, shared by city and police like the count tables.

Time axis (shared with the pure modules): float days since :data:`EPOCH`, a Monday 00:00 on the
city's wall clock, measured on the local wall clock – ``t = (naive local time − EPOCH) / 1 day`` –
so ``t mod 7`` gives the weekday and the hour even across the DST switches.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import shapely
from django.conf import settings
from django.utils import timezone
from shapely import contains_xy
from shapely.geometry.base import BaseGeometry

from lagebild.analytics.hotspots import Grid, grid_for_extent
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.geo.geometry import parse_polygon
from lagebild.geo.models import Area
from lagebild.geo.points import to_utm32_many

from .models import ALL_GROUPS

EPOCH = dt.datetime(2000, 1, 3)  # a Monday, naive local wall-clock time
DAY = dt.timedelta(days=1)
DEFAULT_CELL_SIZE = 250.0


class NoCityArea(LookupError):
    """There is no active area of kind "city": no grid to forecast on."""


def cell_size() -> float:
    return float(getattr(settings, "LAGEBILD_FORECAST_CELL_SIZE", DEFAULT_CELL_SIZE) or DEFAULT_CELL_SIZE)


def to_t(moment: dt.datetime | dt.date) -> float:
    """Days since the epoch on the local wall clock; a date means its local midnight."""
    if isinstance(moment, dt.datetime):
        naive = timezone.localtime(moment).replace(tzinfo=None) if timezone.is_aware(moment) else moment
    else:
        naive = dt.datetime.combine(moment, dt.time())
    return (naive - EPOCH) / DAY


def from_t(t: float) -> dt.datetime:
    """The aware local instant of wall-clock time ``t`` (the earlier one on the autumn night)."""
    naive = EPOCH + dt.timedelta(days=float(t))
    return naive.replace(tzinfo=timezone.get_current_timezone(), microsecond=0)


def utm_geometry(area: Area) -> BaseGeometry:
    """The area's polygon in EPSG:25832 metres."""
    polygon = parse_polygon(area.geometry)

    def to_utm(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return to_utm32_many(lat, lon)

    return shapely.transform(polygon, to_utm, interleaved=False)


def city_area() -> Area:
    area = Area.objects.filter(kind=Area.Kind.CITY, active=True).order_by("pk").first()
    if area is None:
        raise NoCityArea(
            "Es gibt kein Stadtgebiet (Gebiet der Art „Stadtgebiet“); ohne es kein Prognoseraster."
        )
    return area


@lru_cache(maxsize=4)
def _study_for(area_id: int, updated: dt.datetime, size: float):  # type: ignore[no-untyped-def]
    from .predict import Study

    area = Area.objects.get(pk=area_id)
    polygon = utm_geometry(area)
    xmin, ymin, xmax, ymax = polygon.bounds
    grid = grid_for_extent(xmin, ymin, xmax, ymax, cell_size=size)
    xs, ys = grid.cell_centres()
    mask = np.asarray(contains_xy(polygon, xs, ys), dtype=bool)
    return Study(grid=grid, mask=mask)


def study():  # type: ignore[no-untyped-def]
    """The city's grid (cells of :func:`cell_size` metres, aligned to multiples of it) and the mask
    of the cells whose centre lies in the city polygon."""
    area = city_area()
    return _study_for(area.pk, area.updated_at, cell_size())


def grid_of(run: object) -> Grid:
    """The grid a stored forecast refers to."""
    return Grid(
        x0=run.x0,  # type: ignore[attr-defined]
        y0=run.y0,  # type: ignore[attr-defined]
        cell_size=run.cell_size,  # type: ignore[attr-defined]
        ncols=run.ncols,  # type: ignore[attr-defined]
        nrows=run.nrows,  # type: ignore[attr-defined]
    )


def _times(moments: list[dt.datetime]) -> np.ndarray:
    """Wall-clock days since the epoch. The UTC offset is looked up once per distinct UTC hour
    (offsets change only on the hour), not once per incident."""
    if not moments:
        return np.zeros(0)
    tz = timezone.get_current_timezone()
    utc_seconds = np.fromiter((m.timestamp() for m in moments), dtype=float, count=len(moments))
    hours = np.floor(utc_seconds / 3600.0).astype(np.int64)
    distinct, index = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [dt.datetime.fromtimestamp(int(h) * 3600, tz).utcoffset().total_seconds() for h in distinct]  # type: ignore[union-attr]
    )
    epoch_seconds = EPOCH.replace(tzinfo=dt.UTC).timestamp()
    return (utc_seconds + offsets[index] - epoch_seconds) / 86400.0


def events(group: str, until: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    """The incidents of a category group (or all, ``"all"``) as Events, sorted by time.

    Reads both authorities' incidents (aggregate) and only their place, time and group.
    ``until``: only incidents before this instant.
    """
    from .predict import Events

    with unscoped():
        rows = Incident.objects.all()
        if group != ALL_GROUPS:
            rows = rows.filter(category__group=group)
        if until is not None:
            rows = rows.filter(occurred_at__lt=until)
        values = list(rows.order_by("occurred_at", "pk").values_list("x_utm", "y_utm", "occurred_at"))
    x = np.fromiter((v[0] for v in values), dtype=float, count=len(values))
    y = np.fromiter((v[1] for v in values), dtype=float, count=len(values))
    t = _times([v[2] for v in values])
    order = np.argsort(t, kind="stable")
    return Events(x=x[order], y=y[order], t=t[order])


def groups_with_data() -> list[str]:
    """ "all" and every category group with at least one incident, in the catalogue's order."""
    from lagebild.catalog.models import Category

    with unscoped():
        present = set(Incident.objects.values_list("category__group", flat=True).distinct())
    return [ALL_GROUPS, *[g for g in Category.Group.values if g in present]] if present else []
