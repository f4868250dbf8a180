"""The suite's clock spreads tests over several instants, reproducibly (tests/clock.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SPRING = "2027-03-28T02:30:00+01:00"
LEAP = "2028-02-29T09:00:00+01:00"

PROBE = """
import datetime as dt
import pytest

@pytest.mark.parametrize("number", range(12))
def test_records_its_start(number):
    print(f"START {number} {dt.datetime.now(dt.UTC).date().isoformat()}")

def test_fails_to_show_its_instant():
    assert False
"""


def run_probe(tmp_path: Path, now: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    root = Path(__file__).resolve().parent.parent
    environ = {**os.environ, "LAGEBILD_TEST_NOW": now, "PYTHONPATH": str(root)}
    environ.pop("LAGEBILD_TEST_ORDER", None)
    plugins = ["-p", "tests.clock", "-p", "no:cacheprovider", "-p", "no:django"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-s", "-n", "0", *plugins, str(tmp_path / "test_probe.py")],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def started_on(output: str) -> dict[str, str]:
    return dict(re.findall(r"START (\d+) (\S+)", output))


def test_several_instants_spread_the_tests_and_every_run_picks_the_same(tmp_path):
    first = run_probe(tmp_path, f"{SPRING} {LEAP}")
    second = run_probe(tmp_path, f"{SPRING}  {LEAP}")

    dates = started_on(first.stdout)
    assert len(dates) == 12
    # Each test starts on one of the two days (UTC dates of the instants), both are used ...
    assert set(dates.values()) == {"2027-03-28", "2028-02-29"}
    # ... and a rerun gives every test the same instant, so a failure reproduces.
    assert started_on(second.stdout) == dates
    # The failure report names the instant the failing test started at.
    assert "started at" in first.stdout and "(LAGEBILD_TEST_NOW)" in first.stdout
    assert "1 failed, 12 passed" in first.stdout


def test_one_instant_starts_every_test_there(tmp_path):
    result = run_probe(tmp_path, LEAP)
    assert set(started_on(result.stdout).values()) == {"2028-02-29"}
    assert "every test starts at 2028-02-29T09:00:00+01:00" in result.stdout
