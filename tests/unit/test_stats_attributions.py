"""SHAP attribution audits: hand-computed values, bootstrap behaviour, sampling, reasons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.stats.attribution_bootstrap import group_sums
from auditor.stats.attributions import (
    explanation_disparity,
    gap_attribution,
    global_importance,
    group_importance,
    principal_reasons,
    stratified_sample,
)

# Six rows, two features, two groups of three; every expectation below is worked by hand.
PHI = np.array([[1.0, -2.0], [3.0, 0.0], [-1.0, 1.0], [2.0, 2.0], [0.0, -1.0], [-2.0, 4.0]])
CODES = np.array([0, 0, 0, 1, 1, 1])
BASE = 0.5
OUTPUT = BASE + PHI.sum(axis=1)  # [-0.5, 3.5, 0.5, 4.5, -0.5, 2.5]
TOL = 1e-12


def _synthetic(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SHAP-like values whose mean differs by group, with codes and positive weights."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    phi = rng.normal(size=(n, p)) + 0.3 * codes[:, None] * np.arange(p)
    return phi, codes, rng.uniform(0.5, 2.0, n)


# --- point estimates, by hand ---------------------------------------------------------------


def test_global_importance_by_hand() -> None:
    imp = global_importance(PHI, resamples=0)
    np.testing.assert_allclose(imp.mean_abs, [9 / 6, 10 / 6], rtol=0, atol=TOL)
    np.testing.assert_allclose(imp.mean, [3 / 6, 4 / 6], rtol=0, atol=TOL)
    assert imp.defined and imp.weight == 6
    assert np.all(np.isnan(imp.mean_abs_low)), "no resamples, no interval"
    weighted = global_importance(PHI, weights=np.array([1, 1, 2, 1, 1, 1.0]), resamples=0)
    # |phi| column 0 with row 2 counted twice: (1 + 3 + 2 + 2 + 0 + 2) / 7.
    np.testing.assert_allclose(weighted.mean_abs, [10 / 7, 11 / 7], rtol=0, atol=TOL)
    np.testing.assert_allclose(weighted.mean, [2 / 7, 5 / 7], rtol=0, atol=TOL)


def test_group_importance_by_hand() -> None:
    imp = group_importance(PHI, CODES, 3, resamples=0)
    np.testing.assert_allclose(imp.mean_abs[:2], [[5 / 3, 1.0], [4 / 3, 7 / 3]], atol=TOL)
    np.testing.assert_allclose(imp.mean[:2], [[1.0, -1 / 3], [0.0, 5 / 3]], atol=TOL)
    np.testing.assert_array_equal(imp.rows, [3, 3, 0])
    np.testing.assert_array_equal(imp.defined, [True, True, False])
    # The empty group is NaN, never 0.
    assert np.all(np.isnan(imp.mean_abs[2])) and np.all(np.isnan(imp.mean[2]))


def test_zero_weight_group_is_nan_and_flagged() -> None:
    w = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    imp = group_importance(PHI, CODES, 2, weights=w, resamples=50)
    np.testing.assert_array_equal(imp.defined, [True, False])
    assert np.all(np.isnan(imp.mean[1])) and np.all(np.isnan(imp.mean_abs_high[1]))
    assert np.all(np.isfinite(imp.mean[0]))
    none = global_importance(PHI, weights=np.zeros(6), resamples=10)
    assert not none.defined and np.all(np.isnan(none.mean_abs))
    gap = gap_attribution(PHI, OUTPUT, CODES, 0, 1, weights=w, resamples=10)
    assert not gap.defined and np.isnan(gap.output_gap) and not gap.additive


def test_explanation_disparity_by_hand() -> None:
    d = explanation_disparity(PHI, CODES, 2, min_group_size=3, resamples=0)
    # Feature 0: group 0 mean 1 vs group 1 mean 0; feature 1: 5/3 vs -1/3.
    np.testing.assert_allclose(d.gap, [1.0, 2.0], atol=TOL)
    np.testing.assert_array_equal(d.high_group, [0, 1])
    np.testing.assert_array_equal(d.low_group, [1, 0])
    np.testing.assert_array_equal(d.order, [1, 0])
    # Groups below the size floor are left out: one eligible group has no range.
    small = explanation_disparity(PHI, CODES, 2, min_group_size=4, resamples=20)
    assert not small.eligible.any() and np.all(np.isnan(small.gap))
    np.testing.assert_array_equal(small.high_group, [-1, -1])


def test_disparity_ignores_small_group() -> None:
    codes = np.array([0, 0, 0, 1, 1, 2])  # group 2 has one row with an extreme phi
    phi = PHI.copy()
    phi[5] = [100.0, -100.0]
    d = explanation_disparity(phi, codes, 3, min_group_size=2, resamples=0)
    np.testing.assert_array_equal(d.eligible, [True, True, False])
    # Group 1 is rows 3-4: means (1, 0.5) against group 0's (1, -1/3).
    np.testing.assert_allclose(d.gap, [0.0, 0.5 + 1 / 3], atol=TOL)
    np.testing.assert_array_equal(d.high_group, [1, 1])  # a tie still names two groups
    np.testing.assert_array_equal(d.low_group, [0, 0])


def test_gap_attribution_by_hand() -> None:
    gap = gap_attribution(PHI, OUTPUT, CODES, 0, 1, resamples=0)
    assert gap.mean_output_a == pytest.approx(3.5 / 3, abs=TOL)
    assert gap.mean_output_b == pytest.approx(6.5 / 3, abs=TOL)
    assert gap.output_gap == pytest.approx(-1.0, abs=TOL)
    np.testing.assert_allclose(gap.difference, [1.0, -2.0], atol=TOL)
    assert abs(gap.residual) < TOL and gap.additive and gap.defined


def test_gap_attribution_sums_to_output_gap() -> None:
    phi, codes, w = _synthetic(5000, 8, seed=3)
    output = 1.7 + phi.sum(axis=1)  # additive: the base value cancels in the gap
    gap = gap_attribution(phi, output, codes, 2, 0, weights=w, resamples=200)
    assert abs(gap.difference.sum() - gap.output_gap) < TOL
    assert abs(gap.residual) < TOL and gap.additive
    assert np.all(gap.difference_low <= gap.difference) and np.all(
        gap.difference <= gap.difference_high
    )
    # A non-additive explanation shows in the residual instead of being hidden.
    off = gap_attribution(phi, np.tanh(output), codes, 2, 0, weights=w, resamples=0)
    assert not off.additive and abs(off.residual) > 0.1


# --- intervals --------------------------------------------------------------------------------


def test_intervals_cover_estimates() -> None:
    phi, codes, w = _synthetic(400, 4, seed=1)
    imp = global_importance(phi, weights=w, strata=codes, resamples=200)
    assert np.all((imp.mean_abs_low <= imp.mean_abs) & (imp.mean_abs <= imp.mean_abs_high))
    assert np.all((imp.mean_low <= imp.mean) & (imp.mean <= imp.mean_high))
    grp = group_importance(phi, codes, 3, weights=w, resamples=200)
    assert np.all((grp.mean_low <= grp.mean) & (grp.mean <= grp.mean_high))
    assert np.all((grp.mean_abs_low <= grp.mean_abs) & (grp.mean_abs <= grp.mean_abs_high))
    d = explanation_disparity(phi, codes, 3, weights=w, resamples=200)
    assert np.all((d.gap_low >= 0) & (d.gap_low <= d.gap) & (d.gap <= d.gap_high))
    gap = gap_attribution(phi, phi.sum(1), codes, 0, 1, weights=w, resamples=200)
    assert gap.output_gap_low <= gap.output_gap <= gap.output_gap_high


def test_duplicated_rows_narrow_intervals() -> None:
    phi, codes, _ = _synthetic(300, 3, seed=2)
    once = group_importance(phi, codes, 3, resamples=300)
    four = group_importance(np.tile(phi, (4, 1)), np.tile(codes, 4), 3, resamples=300)
    np.testing.assert_allclose(four.mean, once.mean, atol=TOL)
    ratio = (four.mean_high - four.mean_low) / (once.mean_high - once.mean_low)
    assert np.all(ratio < 0.75) and np.median(ratio) == pytest.approx(0.5, abs=0.15)


def test_weight_scale_changes_nothing() -> None:
    phi, codes, w = _synthetic(300, 3, seed=4)
    for fn in (
        lambda w_: group_importance(phi, codes, 3, weights=w_, resamples=100, seed=9),
        lambda w_: global_importance(phi, weights=w_, strata=codes, resamples=100, seed=9),
        lambda w_: explanation_disparity(phi, codes, 3, weights=w_, resamples=100, seed=9),
        lambda w_: gap_attribution(phi, phi.sum(1), codes, 1, 2, weights=w_, resamples=100),
    ):
        a, b = fn(w), fn(7 * w)
        for name, value in vars(a).items():
            if name != "weight":
                np.testing.assert_allclose(vars(b)[name], value, rtol=1e-12, atol=TOL)


def test_row_permutation_leaves_estimates() -> None:
    phi, codes, w = _synthetic(300, 3, seed=5)
    perm = np.random.default_rng(0).permutation(300)
    a = group_importance(phi, codes, 3, weights=w, resamples=0)
    b = group_importance(phi[perm], codes[perm], 3, weights=w[perm], resamples=0)
    np.testing.assert_allclose(b.mean, a.mean, atol=TOL)
    np.testing.assert_allclose(b.mean_abs, a.mean_abs, atol=TOL)
    d1 = explanation_disparity(phi, codes, 3, weights=w, resamples=0)
    d2 = explanation_disparity(phi[perm], codes[perm], 3, weights=w[perm], resamples=0)
    np.testing.assert_allclose(d2.gap, d1.gap, atol=TOL)
    np.testing.assert_array_equal(d2.high_group, d1.high_group)


def test_seed_reproducible() -> None:
    phi, codes, w = _synthetic(200, 3, seed=6)
    a = group_importance(phi, codes, 3, weights=w, resamples=100, seed=11)
    b = group_importance(phi, codes, 3, weights=w, resamples=100, seed=11)
    c = group_importance(phi, codes, 3, weights=w, resamples=100, seed=12)
    np.testing.assert_array_equal(a.mean_low, b.mean_low)
    np.testing.assert_array_equal(a.mean_abs_high, b.mean_abs_high)
    assert not np.array_equal(a.mean_low, c.mean_low)


def test_bootstrap_se_matches_analytic() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    phi = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5]
    imp = global_importance(phi, resamples=2000, seed=1, confidence=0.6827)
    half_width = (imp.mean_abs_high - imp.mean_abs_low) / 2  # one SE for a normal statistic
    analytic = np.abs(phi).std(axis=0) / np.sqrt(n)
    np.testing.assert_allclose(half_width, analytic, rtol=0.1)


def test_resampling_keeps_group_sizes_and_chunks_agree() -> None:
    phi, codes, _ = _synthetic(500, 2, seed=8)
    ones = np.ones(500)
    est, reps = group_sums(phi, ones, codes, 3, codes, 3, 40, seed=3)
    # Weight column of every replicate = the group's row count: strata keep their size.
    np.testing.assert_array_equal(reps[..., -1], np.broadcast_to(est[:, -1], (40, 3)))
    _, small = group_sums(phi, ones, codes, 3, codes, 3, 40, seed=3, memory_bytes=1)
    # Batch shape changes BLAS blocking, so sums agree to rounding, not bit for bit.
    np.testing.assert_allclose(small, reps, rtol=1e-12, atol=TOL)


# --- stratified sample ------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 400), min_size=1, max_size=6),
    budget=st.integers(1, 600),
    floor=st.integers(1, 60),
    seed=st.integers(0, 2**16),
)
def test_stratified_sample_properties(sizes: list[int], budget: int, floor: int, seed: int) -> None:
    codes = np.random.default_rng(seed).permutation(np.repeat(np.arange(len(sizes)), sizes))
    s = stratified_sample(codes, len(sizes), budget, seed=seed, min_per_group=floor)
    population = np.asarray(sizes)
    np.testing.assert_array_equal(s.population, population)
    assert np.all(np.diff(s.indices) > 0), "sorted, no repeats"
    np.testing.assert_array_equal(np.bincount(codes[s.indices], minlength=len(sizes)), s.sampled)
    assert np.all((s.sampled > 0) == (population > 0)), "every non-empty group represented"
    floors = np.minimum(population, floor).sum()
    if codes.size <= budget:
        assert s.indices.size == codes.size and np.all(s.design_weights == 1)
    else:
        assert s.indices.size == max(budget, floors)
    # Design weights restore each group's share of the full data.
    share = np.bincount(codes[s.indices], weights=s.design_weights, minlength=len(sizes))
    np.testing.assert_allclose(share, population, rtol=1e-12)  # each group's full row count
    if population.sum():
        np.testing.assert_allclose(share / share.sum(), population / population.sum(), atol=TOL)
    again = stratified_sample(codes, len(sizes), budget, seed=seed, min_per_group=floor)
    np.testing.assert_array_equal(again.indices, s.indices)


def test_stratified_sample_allocation_by_hand() -> None:
    codes = np.repeat([0, 1, 2, 3], [10_000, 30, 500, 0])
    s = stratified_sample(codes, 4, 1000, seed=0)
    # Floors 50, 30, 50; the remaining 870 go 9950 : 450 -> 832.4 + 37.6 -> 832 + 38.
    np.testing.assert_array_equal(s.sampled, [882, 30, 88, 0])
    np.testing.assert_allclose(s.fraction[:3], [0.0882, 1.0, 0.176])
    assert np.isnan(s.fraction[3])
    np.testing.assert_allclose(np.unique(s.design_weights), sorted([10_000 / 882, 1.0, 500 / 88]))


def test_design_weighted_estimate_is_unbiased() -> None:
    # Importance over many small samples averages to the full-data importance.
    phi, codes, _ = _synthetic(3000, 2, seed=9)
    codes = np.where(np.arange(3000) < 60, 2, np.minimum(codes, 1))  # a small group 2
    phi[codes == 2] += 3.0
    full = global_importance(phi, resamples=0).mean
    means = []
    for seed in range(200):
        s = stratified_sample(codes, 3, 300, seed=seed, min_per_group=40)
        means.append(global_importance(phi[s.indices], s.design_weights, resamples=0).mean)
    np.testing.assert_allclose(np.mean(means, axis=0), full, atol=0.02)


# --- principal reasons ------------------------------------------------------------------------


def test_principal_reasons_by_hand() -> None:
    low = principal_reasons(PHI, OUTPUT, "low", n_individuals=2, top_k=2)
    np.testing.assert_array_equal(low.rows, [0, 4])  # outputs -0.5 twice: ties by row
    np.testing.assert_array_equal(low.outputs, [-0.5, -0.5])
    assert low.reasons() == [[(1, -2.0)], [(1, -1.0)]]  # phi >= 0 is never a reason
    np.testing.assert_array_equal(low.n_reasons, [1, 1])
    high = principal_reasons(PHI, OUTPUT, "high", n_individuals=2, top_k=1, feature_names="ab")
    np.testing.assert_array_equal(high.rows, [3, 1])
    assert high.reasons() == [[(0, 2.0)], [(0, 3.0)]]
    assert high.named_reasons() == [[("a", 2.0)], [("a", 3.0)]]
    with pytest.raises(ValueError, match="feature names"):
        principal_reasons(PHI, OUTPUT, "low", feature_names=["only one"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), adverse=st.sampled_from(["low", "high"]))
def test_principal_reasons_properties(seed: int, adverse: str) -> None:
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(50, 6))
    output = phi.sum(axis=1)
    r = principal_reasons(phi, output, adverse, n_individuals=5, top_k=3)  # type: ignore[arg-type]
    sign = 1 if adverse == "low" else -1
    worst = np.sort(sign * output)[:5]
    np.testing.assert_array_equal(sign * r.outputs, worst)
    for row, reasons in zip(r.rows, r.reasons(), strict=True):
        pushes = sign * phi[row]
        expected = np.argsort(pushes)[: min(3, int(np.sum(pushes < 0)))]
        assert [f for f, _ in reasons] == list(expected)
        assert all(sign * v < 0 and v == phi[row, f] for f, v in reasons)
