"""The bootstrap's fast forms give the same numbers as the point-estimate functions.

A replicate computes the additive metrics from sums per stratum added up into groups; on the
same weights that must equal what the group functions compute row by row.
"""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks.metric_values import ScoreInputs, ScoreSums
from auditor.stats.bootstrap import aggregate_strata
from auditor.stats.regression import (
    grouped_regression,
    metrics_from_sums,
    regression_terms,
    weighted_sums,
)

N_STRATA = 12
TO_GROUP = np.arange(N_STRATA) % 3  # 12 strata nest in 3 groups


@pytest.fixture()
def rows() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    n = 5000
    strata = rng.integers(0, N_STRATA, n)
    y = rng.random(n) < 0.4
    scores = np.round(rng.random(n), 2)  # many ties, and exact bin edges
    weights = rng.random(n) * rng.integers(0, 3, n)  # some zero weights, as in a replicate
    return strata, y, scores, weights


def test_score_sums_give_the_group_functions_numbers(rows) -> None:  # type: ignore[no-untyped-def]
    strata, y, scores, weights = rows
    inputs = ScoreInputs.build(TO_GROUP[strata], 3, y, scores, None, 0.5, 200)
    sums = ScoreSums.build(inputs, strata, N_STRATA)
    by_stratum, calibration = sums.sums(weights)
    assert calibration is not None
    grouped = aggregate_strata(by_stratum, TO_GROUP, 3)
    bins = calibration.reshape(N_STRATA, -1)
    grouped_bins = aggregate_strata(bins, TO_GROUP, 3).reshape(3, *calibration.shape[1:])
    fast = sums.values_from(grouped, grouped_bins)
    exact = inputs.values(weights)
    assert set(fast) == set(exact) - {"roc_auc", "average_precision"}
    for name, values in fast.items():
        np.testing.assert_allclose(values, exact[name], rtol=0, atol=1e-14, err_msg=name)


def test_regression_sums_give_the_group_functions_numbers(rows) -> None:  # type: ignore[no-untyped-def]
    strata, _, scores, weights = rows
    # far from zero: the one-pass spread must keep its digits
    target = 1e6 + 10 * scores + np.random.default_rng(2).normal(0, 3, len(scores))
    prediction = 1e6 + 9 * scores
    terms, offset = regression_terms(target, prediction)
    sums = weighted_sums(strata, N_STRATA, terms, weights)
    fast = metrics_from_sums(aggregate_strata(sums, TO_GROUP, 3), offset)
    exact = grouped_regression(TO_GROUP[strata], 3, target, prediction, weights)
    for name, values in fast.items():
        attribute = "r2" if name == "r2_score" else name
        np.testing.assert_allclose(values, getattr(exact, attribute), rtol=1e-9, err_msg=name)


def test_aggregate_strata_adds_up_groups_and_keeps_empty_ones() -> None:
    x = np.arange(2 * 4 * 2, dtype=float).reshape(2, 4, 2)  # (B=2, S=4, K=2)
    mapping = np.array([2, 0, 2, 0])  # group 1 has no stratum
    out = aggregate_strata(x, mapping, 3)
    expected = np.zeros((2, 3, 2))
    for s, g in enumerate(mapping):
        expected[:, g] += x[:, s]
    np.testing.assert_array_equal(out, expected)
    identity = aggregate_strata(x, np.arange(4), 4)
    np.testing.assert_array_equal(identity, x)


def test_the_bootstrap_draws_fewer_resamples_when_replicates_would_not_fit_in_memory() -> None:
    from types import SimpleNamespace

    from auditor.checks.resampling import MEMORY_BUDGET, affordable_resamples

    def ctx(*sizes: int) -> SimpleNamespace:
        return SimpleNamespace(groupings=[SimpleNamespace(n_groups=n) for n in sizes])

    assert affordable_resamples(ctx(2, 5, 10), 1000) == 1000  # every usual audit
    many = affordable_resamples(ctx(100, 100, 10_000), 1000)  # 10,000 intersections
    assert 100 <= many < 1000
    per_replicate = 8 * (10_200 * 32 + 10_000 * 45)
    assert many == MEMORY_BUDGET // per_replicate
    assert affordable_resamples(ctx(1000, 1000, 1_000_000), 1000) == 0  # none, not a crash
