"""The stratified bootstrap: both resampling paths against multinomial theory and each other."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from auditor.stats.bootstrap import (
    aggregate_strata,
    percentile_interval,
    resample_cells,
    row_multiplicities,
)

# Stratum -> counts of (TN, FP, FN, TP); stratum 2 is empty, stratum 3 has one cell only.
CELLS = np.array(
    [
        [5.0, 3.0, 2.0, 10.0],
        [1.0, 7.0, 4.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 6.0, 0.0],
        [30.0, 10.0, 5.0, 15.0],
    ]
)


def _moments(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance and fourth central moment of each cell's binomial(n, p) count."""
    n = cells.sum(axis=1, keepdims=True)
    p = np.divide(cells, n, out=np.zeros_like(cells), where=n > 0)
    npq = n * p * (1 - p)
    return cells, npq, npq * (1 + 3 * (n - 2) * p * (1 - p))


def _rows(cells: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One row per counted unit, in shuffled order: (stratum code, cell index)."""
    s, k = np.nonzero(cells)
    reps = cells[s, k].astype(int)
    strata, cell = np.repeat(s, reps), np.repeat(k, reps)
    order = rng.permutation(strata.size)
    return strata[order], cell[order]


def _cells_from_rows(m: np.ndarray, strata: np.ndarray, cell: np.ndarray, s: int) -> np.ndarray:
    return np.bincount(strata * 4 + cell, weights=m, minlength=s * 4).reshape(s, 4)


def test_resample_cells_keeps_totals_and_shape() -> None:
    out = resample_cells(CELLS, 300, np.random.default_rng(0))
    assert out.shape == (300, 5, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(out.sum(axis=2), np.broadcast_to(CELLS.sum(axis=1), (300, 5)))
    assert np.all(out[:, 2] == 0)  # empty stratum
    np.testing.assert_array_equal(out[:, 3], np.broadcast_to(CELLS[3], (300, 4)))
    assert np.all(out[:, 1, 3] == 0)  # a cell with no rows is never drawn


def test_resample_cells_means_converge() -> None:
    b = 20000
    out = resample_cells(CELLS, b, np.random.default_rng(1))
    mean, var, _ = _moments(CELLS)
    # Five standard errors of a mean of b multinomial draws.
    assert np.all(np.abs(out.mean(axis=0) - mean) <= 5 * np.sqrt(var / b) + 1e-12)


def test_resample_cells_is_reproducible() -> None:
    a = resample_cells(CELLS, 50, np.random.default_rng(7))
    b = resample_cells(CELLS, 50, np.random.default_rng(7))
    c = resample_cells(CELLS, 50, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_resample_cells_refuses_fractional_counts() -> None:
    with pytest.raises(ValueError, match="whole counts"):
        resample_cells(np.array([[1.5, 2.0]]), 10, np.random.default_rng(0))


def test_row_multiplicities_keep_each_stratum_size() -> None:
    rng = np.random.default_rng(2)
    strata = rng.integers(0, 6, 500)
    strata[strata == 4] = 5  # stratum 4 has no rows
    size = np.bincount(strata, minlength=6)
    draws = list(row_multiplicities(strata, 6, 200, np.random.default_rng(3)))
    assert len(draws) == 200
    for m in draws:
        assert m.shape == (500,) and m.dtype == np.float64
        assert np.all(m >= 0) and np.all(m == np.round(m))
        np.testing.assert_array_equal(np.bincount(strata, weights=m, minlength=6), size)
    # Every row gets drawn sometimes: draws cover the whole stratum, not a fixed part of it.
    assert np.all(np.sum(draws, axis=0) > 0)


def test_row_multiplicities_are_reproducible() -> None:
    strata = np.random.default_rng(4).integers(0, 3, 100)
    a = list(row_multiplicities(strata, 3, 20, np.random.default_rng(9)))
    b = list(row_multiplicities(strata, 3, 20, np.random.default_rng(9)))
    np.testing.assert_array_equal(a, b)


def test_row_multiplicities_refuses_bad_codes_at_the_call() -> None:
    with pytest.raises(ValueError, match="stratum codes"):
        row_multiplicities(np.array([0, 3]), 3, 5, np.random.default_rng(0))


def test_both_paths_have_the_multinomial_distribution() -> None:
    b = 4000
    strata, cell = _rows(CELLS, np.random.default_rng(5))
    fast = resample_cells(CELLS, b, np.random.default_rng(6))
    general = np.stack(
        [
            _cells_from_rows(m, strata, cell, 5)
            for m in row_multiplicities(strata, 5, b, np.random.default_rng(6))
        ]
    )
    mean, var, mu4 = _moments(CELLS)
    se_mean = np.sqrt(var / b)
    se_var = np.sqrt(np.clip(mu4 - var**2, 0, None) / b)  # large-b s.e. of a sample variance
    for draws in (fast, general):
        assert np.all(np.abs(draws.mean(axis=0) - mean) <= 5 * se_mean + 1e-12)
        assert np.all(np.abs(draws.var(axis=0, ddof=1) - var) <= 5 * se_var + 1e-12)
    # And against each other: the difference of two independent estimates.
    assert np.all(np.abs(fast.mean(0) - general.mean(0)) <= 5 * np.sqrt(2) * se_mean + 1e-12)
    assert np.all(
        np.abs(fast.var(0, ddof=1) - general.var(0, ddof=1)) <= 5 * np.sqrt(2) * se_var + 1e-12
    )


def test_aggregate_strata_hand_example() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    groups = np.array([0, 1, 0])
    expected = np.array([[6.0, 8.0], [3.0, 4.0], [0.0, 0.0]])  # group 2 has no strata
    np.testing.assert_array_equal(aggregate_strata(x, groups, 3), expected)
    batch = np.stack([x, 10 * x])  # (B, S, K) -> (B, G, K)
    np.testing.assert_array_equal(
        aggregate_strata(batch, groups, 3), np.stack([expected, 10 * expected])
    )


def test_percentile_interval_matches_numpy_on_defined_values() -> None:
    rng = np.random.default_rng(10)
    samples = rng.normal(size=(200, 5))
    samples[rng.choice(200, 60, replace=False), 1] = np.nan  # 140 defined
    samples[:100, 2] = np.nan  # exactly half defined: still an interval
    samples[:101, 3] = np.nan  # fewer than half: NaN bounds
    samples[:, 4] = np.nan  # never defined
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no all-NaN or empty-slice warnings
        low, high, n_defined = percentile_interval(samples, 0.9)
    np.testing.assert_array_equal(n_defined, [200, 140, 100, 99, 0])
    for j in range(3):
        column = samples[:, j][~np.isnan(samples[:, j])]
        np.testing.assert_allclose([low[j], high[j]], np.percentile(column, [5, 95]), rtol=1e-12)
    assert np.isnan(low[3:]).all() and np.isnan(high[3:]).all()


def test_percentile_interval_keeps_trailing_shape() -> None:
    samples = np.random.default_rng(11).random((500, 2, 3))
    low, high, n_defined = percentile_interval(samples, 0.95)
    assert low.shape == high.shape == n_defined.shape == (2, 3)
    np.testing.assert_allclose(low, np.percentile(samples, 2.5, axis=0), rtol=1e-12)
    np.testing.assert_allclose(high, np.percentile(samples, 97.5, axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="confidence"):
        percentile_interval(samples, 1.0)


def test_resample_cells_speed(capsys: pytest.CaptureFixture[str]) -> None:
    cells = np.random.default_rng(12).integers(0, 500, (200, 4)).astype(float)
    rng = np.random.default_rng(13)
    start = time.perf_counter()
    out = resample_cells(cells, 1000, rng)
    elapsed = time.perf_counter() - start
    assert out.shape == (1000, 200, 4)
    with capsys.disabled():
        print(f"\nresample_cells: 1000 resamples x 200 strata in {elapsed:.3f} s")
