"""Regression metrics by group, against numpy and scikit-learn run on each group's rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from auditor.stats.regression import grouped_regression

TOL = 1e-12


def make(offset: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Five groups: 0-2 ordinary, 3 empty, 4 with a constant target (0.1, which rounds)."""
    rng = np.random.default_rng(seed)
    n = 3000
    codes = rng.choice([0, 1, 2, 4], size=n, p=[0.5, 0.3, 0.15, 0.05]).astype(np.int64)
    y = offset + rng.normal(0.0, 1.0 + codes, size=n) * (1 + offset / 1e3)
    pred = y + rng.normal(0.3, 2.0, size=n) * (1 + offset / 1e3)
    y[codes == 4] = 0.1
    w = rng.uniform(0.1, 4.0, size=n)
    return codes, y, pred, w


@pytest.mark.parametrize("offset", [0.0, 1e6])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_matches_sklearn(offset: float, weighted: bool) -> None:
    codes, y, pred, w = make(offset)
    weights = w if weighted else None
    got = grouped_regression(codes, 5, y, pred, weights)
    for g in (0, 1, 2, 4):
        rows = codes == g
        sw = None if weights is None else w[rows]
        yt, yp = y[rows], pred[rows]
        expected = {
            "weight": rows.sum() if sw is None else sw.sum(),
            "mean_prediction": np.average(yp, weights=sw),
            "mean_target": np.average(yt, weights=sw),
            "mean_absolute_error": mean_absolute_error(yt, yp, sample_weight=sw),
            "root_mean_squared_error": np.sqrt(mean_squared_error(yt, yp, sample_weight=sw)),
        }
        if g != 4:
            expected["r2"] = r2_score(yt, yp, sample_weight=sw)
        for name, value in expected.items():
            actual = getattr(got, name)[g]
            # Means of values near 1e6 agree to ~1e-16 relative, not to 1e-12 absolute.
            assert actual == pytest.approx(value, rel=TOL, abs=TOL), (name, g)
    assert np.isnan(got.r2[4])  # constant target: R^2 undefined (sklearn says 1.0 or 0.0)
    assert got.weight[3] == 0
    for name in ("mean_prediction", "mean_target", "mean_absolute_error"):
        assert np.isnan(getattr(got, name)[3]), name
    assert np.isnan(got.root_mean_squared_error[3]) and np.isnan(got.r2[3])


def test_r2_accuracy_with_a_large_mean() -> None:
    # Spread 1e-3 around 1e8: sum(y^2) - n * mean^2 would lose every digit; the two-pass
    # formula keeps them.
    rng = np.random.default_rng(1)
    codes = np.zeros(1000, dtype=np.int64)
    y = 1e8 + rng.normal(0.0, 1e-3, size=1000)
    pred = y + rng.normal(0.0, 5e-4, size=1000)
    got = grouped_regression(codes, 1, y, pred)
    assert got.r2[0] == pytest.approx(r2_score(y, pred), rel=1e-9)


def test_constant_target_ignores_zero_weight_rows() -> None:
    codes = np.array([0, 0, 0, 1, 1, 1], dtype=np.int64)
    y = np.array([0.1, 0.1, 7.0, 1.0, 2.0, 3.0])
    pred = np.array([0.2, 0.0, 1.0, 1.5, 2.0, 2.5])
    w = np.array([1.0, 2.0, 0.0, 1.0, 1.0, 1.0])
    got = grouped_regression(codes, 2, y, pred, w)
    assert np.isnan(got.r2[0])  # the only varying row has zero weight
    assert got.r2[1] == pytest.approx(r2_score(y[3:], pred[3:]), abs=TOL)
    unweighted = grouped_regression(codes, 2, y, pred)
    assert unweighted.r2[0] == pytest.approx(r2_score(y[:3], pred[:3]), abs=TOL)
    np.testing.assert_array_equal(got.weight, [3.0, 3.0])
