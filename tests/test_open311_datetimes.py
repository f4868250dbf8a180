"""Open311 datetimes: the string path for database texts gives exactly what the datetime path gives."""

from __future__ import annotations

import datetime as dt

import pytest

from lagebild.citizen.open311.serialize import W3CFormatter, naive_utc, plain_utc

# Around both DST changes of Europe/Berlin (01:00 UTC), at a new year and in ordinary hours.
_INSTANTS = [
    dt.datetime(2026, 3, 29, 0, 59, 59, 999999),
    dt.datetime(2026, 3, 29, 1, 0, 0),
    dt.datetime(2026, 3, 29, 1, 0, 0, 1),
    dt.datetime(2026, 10, 25, 0, 30, 15, 500000),
    dt.datetime(2026, 10, 25, 1, 0, 0),
    dt.datetime(2026, 10, 25, 1, 59, 59),
    dt.datetime(2025, 12, 31, 22, 59, 59, 250000),
    dt.datetime(2025, 12, 31, 23, 0, 0),
    dt.datetime(2026, 7, 14, 12, 5, 9, 120000),
]


def _texts(value: dt.datetime) -> list[str]:
    sqlite = value.isoformat(sep=" ")  # as Django stores it on SQLite
    postgres = (
        f"{value:%Y-%m-%d %H:%M:%S}" + (f".{value:%f}".rstrip("0") if value.microsecond else "") + "+00"
    )
    return [sqlite, postgres]


@pytest.mark.parametrize("value", _INSTANTS)
@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata"])
def test_database_texts_format_as_through_datetimes(value, zone, settings):
    settings.TIME_ZONE = zone
    for text in _texts(value):
        assert plain_utc(text) == f"{value:%Y-%m-%d %H:%M:%S}"
        assert W3CFormatter().raw(text) == W3CFormatter()(naive_utc(text)), (zone, text)


def test_other_texts_take_the_datetime_path():
    assert plain_utc(None) is None
    for text in ("2026-03-29 02:30:00+02", "2026-03-29T01:00:00", "2026-03-29 01:00:00.x"):
        assert plain_utc(text) is None
    assert W3CFormatter().raw("2026-03-29 03:30:00+02") == W3CFormatter()(dt.datetime(2026, 3, 29, 1, 30))
    assert W3CFormatter().raw(None) is None
