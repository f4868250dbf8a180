"""The suite's clock: run every test at a chosen instant, and move time inside a test.

``LAGEBILD_TEST_NOW=2027-03-28T02:30:00+01:00`` (or ``pytest --now=...``) runs the suite as
if it were that instant. Every test starts at exactly that instant, whatever ran before it
and however fast the machine is; time then runs on from there, so durations, timeouts and
"the last hour" behave as they do in production. A value without an offset is read as
Europe/Berlin wall-clock time; a date alone means 12:00 on that day. Without the variable
the suite runs at the real time, which CI also does, so both "today" and the awkward
instants in ``.ci/run`` (DST nights, ISO week 53, 29 February, Monday 00:00) are covered.

Several instants separated by spaces (``LAGEBILD_TEST_NOW="2027-03-28T02:30:00+01:00
2028-02-29T09:00:00+01:00"``) spread the tests over them: each test starts at the instant its
node id picks (a stable hash, so a failure reproduces with the same value, and the failure
report names the instant). ``.ci/run`` uses this to run every test at one instant around
midnight and at one calendar oddity in two runs instead of six.

``LAGEBILD_TEST_ORDER=reverse`` or ``shuffle:SEED`` runs the tests in another order, to show
that no test depends on what ran before it (pytest-django's grouping of transactional tests
after the others is kept).

Inside a test, the ``clock`` fixture moves time::

    def test_deadline(clock):
        clock.move_to("2027-01-04T08:00:00+01:00")
        clock.shift(dt.timedelta(days=3))

The clock is patched with time-machine, process-wide (the live server thread of the
browser tests sees it too). The database's own clock (PostgreSQL ``now()``) is not: the
code therefore never asks the database for the time.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import zlib
from collections.abc import Generator, Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine

BERLIN = ZoneInfo("Europe/Berlin")
ENV_NOW = "LAGEBILD_TEST_NOW"
ENV_ORDER = "LAGEBILD_TEST_ORDER"

_instants: list[dt.datetime] = []
_frozen_at: dt.datetime | None = None
_session_travel: time_machine.travel | None = None


def parse_instant(value: str) -> dt.datetime:
    """An ISO 8601 instant; without an offset it is Berlin time, a bare date means noon."""
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(12), tzinfo=BERLIN)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise pytest.UsageError(f"{ENV_NOW} / --now: not an ISO 8601 instant: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BERLIN)
    return parsed


def frozen_at() -> dt.datetime | None:
    """The instant the running test started at, or None when the suite runs at the real time."""
    return _frozen_at


def instant_for(nodeid: str) -> dt.datetime | None:
    """The instant a test starts at: with several configured, the one its node id picks."""
    if not _instants:
        return None
    return _instants[zlib.crc32(nodeid.encode()) % len(_instants)]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        default=os.environ.get(ENV_NOW, ""),
        help=f"run every test as if it started at this instant (ISO 8601; env {ENV_NOW})",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _frozen_at, _session_travel
    value = str(config.getoption("--now") or "")
    if not value.strip():
        return
    _instants[:] = [parse_instant(part) for part in value.split()]
    _frozen_at = _instants[0]
    # Also for what runs outside a test: collection, session fixtures, the live server.
    _session_travel = time_machine.travel(_frozen_at, tick=True)
    _session_travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _session_travel
    if _session_travel is not None:
        _session_travel.stop()
        _session_travel = None


def pytest_report_header(config: pytest.Config) -> str:
    order = os.environ.get(ENV_ORDER, "") or "as collected"
    if not _instants:
        return f"clock: real time; order: {order}"
    described = [
        f"{instant.isoformat()} ({local:%a %d.%m.%Y %H:%M %Z}, ISO week {local.isocalendar().week})"
        for instant in _instants
        for local in [instant.astimezone(BERLIN)]
    ]
    if len(described) == 1:
        return f"clock: every test starts at {described[0]}; order: {order}"
    return f"clock: each test starts at one of {'; '.join(described)} (by node id); order: {order}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: runs before pytest-django's stable sort, which then keeps its groups.
    order = os.environ.get(ENV_ORDER, "").strip()
    if not order:
        return
    if order == "reverse":
        items.reverse()
    elif order.startswith("shuffle:"):
        random.Random(order.partition(":")[2]).shuffle(items)
    else:
        raise pytest.UsageError(f"{ENV_ORDER} must be 'reverse' or 'shuffle:SEED', not {order!r}")


@pytest.fixture(autouse=True)
def _start_at_the_frozen_instant(request: pytest.FixtureRequest) -> Iterator[None]:
    global _frozen_at
    instant = instant_for(request.node.nodeid)
    if instant is None:
        yield
        return
    _frozen_at = instant
    request.node.user_properties.append(("started_at", instant.isoformat()))
    with time_machine.travel(instant, tick=True):
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    instant = instant_for(item.nodeid)
    if instant is not None and report.failed:
        report.sections.append(("clock", f"started at {instant.isoformat()} (LAGEBILD_TEST_NOW)"))
    return report


class Clock:
    """Moves the process clock inside one test (time keeps running unless ``tick=False``)."""

    def __init__(self) -> None:
        self._travel: time_machine.travel | None = None
        self._traveller: time_machine.Traveller | None = None

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).astimezone(BERLIN)

    def move_to(self, instant: dt.datetime | str, *, tick: bool = True) -> dt.datetime:
        destination = parse_instant(instant) if isinstance(instant, str) else instant
        if destination.tzinfo is None:
            destination = destination.replace(tzinfo=BERLIN)
        if self._traveller is None:
            self._travel = time_machine.travel(destination, tick=tick)
            self._traveller = self._travel.start()
        else:
            self._traveller.move_to(destination, tick=tick)
        return destination.astimezone(BERLIN)

    def shift(self, delta: dt.timedelta) -> dt.datetime:
        if self._traveller is None:
            self.move_to(self.now)
        assert self._traveller is not None
        self._traveller.shift(delta)
        return self.now

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = self._traveller = None


@pytest.fixture
def clock() -> Iterator[Clock]:
    controller = Clock()
    yield controller
    controller.stop()
