"""Change statistics of the cockpit: Poisson z, flags, percent change, E-test."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from lagebild.analytics.changestats import (
    Change,
    change_flag,
    percent_change,
    poisson_e_test,
    poisson_z,
)


@pytest.mark.parametrize(
    ("current", "prior", "expected"),
    [(25, 16, 2.0), (9, 4, 2.0), (12, 7, 1.637), (40, 25, 2.649), (16, 25, -2.0), (0, 0, 0.0)],
)
def test_poisson_z_check_values(current, prior, expected):
    assert poisson_z(current, prior) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize(
    ("z", "flag"),
    [(0.0, 0), (1.99, 0), (2.0, 2), (2.649, 2), (3.0, 3), (-2.0, -2), (-2.99, -2), (-3.5, -3), (None, 0)],
)
def test_flags_at_two_and_three(z, flag):
    assert change_flag(z) == flag


def test_percent_change_is_none_without_prior():
    assert percent_change(25, 16) == pytest.approx(56.25)
    assert percent_change(9, 4) == pytest.approx(125.0)
    assert percent_change(5, 0) is None
    assert percent_change(0, 0) is None
    assert percent_change(0, 8) == pytest.approx(-100.0)


@pytest.mark.parametrize(("current", "prior", "expected"), [(25, 16, 0.1648), (20, 10, 0.0688)])
def test_e_test_check_values(current, prior, expected):
    assert poisson_e_test(current, prior) == pytest.approx(expected, abs=5e-5)


def test_e_test_reproduces_krishnamoorthy_thomson_examples_and_is_symmetric():
    # ptools tests/testthat/test-etest.R (examples from the original article)
    assert poisson_e_test(0, 3) == pytest.approx(0.0884, abs=5e-4)
    assert round(poisson_e_test(6, 2), 4) == 0.1749
    assert poisson_e_test(6, 2) == pytest.approx(poisson_e_test(2, 6), abs=1e-12)
    # Equal rates over equal exposures give the same p as the plain counts.
    assert poisson_e_test(3, 0, 2, 2) == pytest.approx(poisson_e_test(3, 0), abs=1e-12)


def test_e_test_without_evidence_of_change_is_one():
    assert poisson_e_test(0, 0) == 1.0
    assert poisson_e_test(7, 7) == 1.0
    assert poisson_e_test(20, 10, 2, 1) == 1.0


def _e_test_by_enumeration(k1: int, k2: int, t1: float, t2: float) -> float:
    """Direct double sum over a grid large enough to hold all the probability mass."""
    rate = (k1 + k2) / (t1 + t2)
    size = int(rate * max(t1, t2) * 3 + 80)
    x1, x2 = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    variance = x1 / t1**2 + x2 / t2**2
    with np.errstate(all="ignore"):
        statistic = np.where(variance > 0, (x1 / t1 - x2 / t2) / np.sqrt(variance), 0.0)
    observed = abs((k1 / t1 - k2 / t2) / math.sqrt(k1 / t1**2 + k2 / t2**2))
    weight = stats.poisson.pmf(x1, t1 * rate) * stats.poisson.pmf(x2, t2 * rate)
    return float(weight[np.abs(statistic) >= observed * (1 - 1e-9)].sum())


@given(
    k1=st.integers(0, 50),
    k2=st.integers(0, 50),
    t1=st.sampled_from([1.0, 0.5, 2.0, 3.7]),
    t2=st.sampled_from([1.0, 1.3, 4.0]),
)
def test_e_test_equals_the_double_sum_it_is_defined_by(k1, k2, t1, t2):
    if k1 / t1 == k2 / t2:
        return
    assert poisson_e_test(k1, k2, t1, t2) == pytest.approx(_e_test_by_enumeration(k1, k2, t1, t2), abs=1e-10)


def test_e_test_handles_year_to_date_sized_counts_quickly():
    p_value = poisson_e_test(100_000, 99_000)
    normal_approximation = 2 * stats.norm.sf(1000 / math.sqrt(199_000))
    assert p_value == pytest.approx(normal_approximation, rel=0.05)


def test_change_bundles_one_indicator_window():
    change = Change.of(25, 16)
    assert change.delta == 9
    assert change.percent == pytest.approx(56.25)
    assert change.z == pytest.approx(2.0)
    assert change.flag == 2
    assert change.flag_label == "auffälliger Anstieg (z ≥ 2)"
    assert change.e_test_p() == pytest.approx(0.1648, abs=5e-5)


def test_amounts_get_no_poisson_statistic():
    staff_hours = Change.of(412.5, 380.0, is_count=False)
    assert staff_hours.delta == pytest.approx(32.5)
    assert staff_hours.percent == pytest.approx(8.5526, abs=1e-4)
    assert staff_hours.z is None
    assert staff_hours.flag == 0
    assert staff_hours.e_test_p() is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: poisson_z(-1, 4),
        lambda: percent_change(3, -2),
        lambda: Change.of(-5, 3),
        lambda: poisson_e_test(-1, 3),
    ],
)
def test_negative_input_is_refused_in_german(call):
    with pytest.raises(ValueError, match="darf nicht negativ sein"):
        call()


def test_other_bad_input_is_refused_in_german():
    with pytest.raises(ValueError, match="ganze Zahl"):
        poisson_e_test(2.5, 3)
    with pytest.raises(ValueError, match="ganze Zahl"):
        Change.of(2.5, 3).e_test_p()
    with pytest.raises(ValueError, match="länger als 0"):
        poisson_e_test(2, 3, 0, 1)
    with pytest.raises(ValueError, match="keine endliche Zahl"):
        poisson_z(float("nan"), 3)
    with pytest.raises(ValueError, match="keine Zahl"):
        Change.of("viele", 3)
