"""Newcombe's interval for a difference and Katz's interval for a ratio of two proportions.

Newcombe is checked against the published 95% limits of method 10 in Newcombe (1998),
Table II, examples (a) to (h); Katz against scipy's relative_risk, which implements it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats.contingency import relative_risk

from auditor.stats.intervals import katz_log_ratio, newcombe_difference, z_value

# (k1, n1, k2, n2) -> (lower, upper): Newcombe (1998), Statistics in Medicine 17, Table II,
# method 10 (score interval combining Wilson limits), 95%, published to 4 decimals.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),  # (a) difference 0.2
    ((9, 10, 3, 10), (0.1705, 0.8090)),  # (b) difference 0.6
    ((6, 7, 2, 7), (0.0582, 0.8062)),  # (c)
    ((5, 56, 0, 29), (-0.0381, 0.1926)),  # (d)
    ((0, 10, 0, 20), (-0.1611, 0.2775)),  # (e)
    ((0, 10, 0, 10), (-0.2775, 0.2775)),  # (f)
    ((10, 10, 0, 20), (0.6791, 1.0000)),  # (g)
    ((10, 10, 0, 10), (0.6075, 1.0000)),  # (h)
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_matches_published_table(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    low, high = newcombe_difference(*counts)
    assert round(float(low), 4) == published[0]
    assert round(float(high), 4) == published[1]


def test_newcombe_is_vectorised_and_broadcasts() -> None:
    counts = np.array([c for c, _ in NEWCOMBE_TABLE_II], dtype=float)
    low, high = newcombe_difference(*counts.T)
    expected = np.array([p for _, p in NEWCOMBE_TABLE_II])
    np.testing.assert_allclose(low, expected[:, 0], atol=5e-5)
    np.testing.assert_allclose(high, expected[:, 1], atol=5e-5)
    # A scalar second group broadcasts against an array first group.
    low_b, high_b = newcombe_difference([56, 9], [70, 10], 48, 80)
    assert low_b.shape == high_b.shape == (2,)
    assert round(float(low_b[0]), 4) == 0.0524


def test_newcombe_properties_on_random_counts() -> None:
    rng = np.random.default_rng(1)
    n1 = rng.integers(1, 200, 2000)
    n2 = rng.integers(1, 200, 2000)
    k1 = rng.integers(0, n1 + 1)
    k2 = rng.integers(0, n2 + 1)
    for confidence in (0.8, 0.95, 0.99):
        low, high = newcombe_difference(k1, n1, k2, n2, confidence)
        d = k1 / n1 - k2 / n2
        assert np.all(low <= d) and np.all(d <= high)
        assert np.all(low >= -1.0) and np.all(high <= 1.0)
    # Higher confidence, wider interval.
    low90, high90 = newcombe_difference(k1, n1, k2, n2, 0.90)
    low99, high99 = newcombe_difference(k1, n1, k2, n2, 0.99)
    assert np.all(low99 <= low90) and np.all(high99 >= high90)


def test_newcombe_fractional_counts_and_empty_groups() -> None:
    low, high = newcombe_difference([3.4, 2.0, 0.0, 0.0], [7.9, 5.0, 0.0, 0.0], 1.5, [6.2, 0, 4, 0])
    assert np.all(np.isfinite([low[0], high[0]]))
    assert low[0] <= 3.4 / 7.9 - 1.5 / 6.2 <= high[0]
    assert np.all(np.isnan(low[1:])) and np.all(np.isnan(high[1:]))


def test_katz_matches_scipy_relative_risk() -> None:
    rng = np.random.default_rng(2)
    n1 = rng.integers(1, 500, 300)
    n2 = rng.integers(1, 500, 300)
    k1 = rng.integers(1, n1 + 1)
    k2 = rng.integers(1, n2 + 1)
    for confidence in (0.9, 0.95, 0.99):
        low, high = katz_log_ratio(k1, n1, k2, n2, confidence)
        for i in range(k1.size):
            ci = relative_risk(int(k1[i]), int(n1[i]), int(k2[i]), int(n2[i])).confidence_interval(
                confidence
            )
            assert low[i] == pytest.approx(ci.low, rel=1e-12, abs=0)
            assert high[i] == pytest.approx(ci.high, rel=1e-12, abs=0)


def test_katz_zero_numerator_uses_half_count_for_the_upper_bound() -> None:
    low, high = katz_log_ratio(0, 20, 6, 30)
    z = z_value(0.95)
    # Hand formula with k1 -> 0.5 and n1 -> 20.5.
    log_r = math.log((0.5 / 20.5) / (6 / 30))
    se = math.sqrt(1 / 0.5 - 1 / 20.5 + 1 / 6 - 1 / 30)
    assert float(low) == 0.0
    assert float(high) == pytest.approx(math.exp(log_r + z * se), rel=1e-12)


def test_katz_undefined_ratio_is_nan() -> None:
    # n1 == 0, n2 == 0, k2 == 0 (denominator proportion zero), and one defined row.
    low, high = katz_log_ratio([1, 2, 3, 2], [0, 10, 10, 10], [1, 1, 0, 4], [5, 0, 10, 10])
    assert np.all(np.isnan(low[:3])) and np.all(np.isnan(high[:3]))
    assert low[3] < 0.5 < high[3]


def test_katz_fractional_counts() -> None:
    low, high = katz_log_ratio(2.5, 10.3, 4.2, 9.9)
    r = (2.5 / 10.3) / (4.2 / 9.9)
    assert 0 < low < r < high
