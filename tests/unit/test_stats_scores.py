"""Threshold-free score metrics by group, against scikit-learn run on each group's rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from auditor.checks.metric_values import score_levels
from auditor.stats.scores import (
    ScoreLevels,
    ScoreRanking,
    calibration_bins,
    grouped_brier,
    grouped_calibration,
    grouped_share_above,
    scores_are_probabilities,
    top_k_mask,
    weighted_median,
)

ADULT_CSV = Path(__file__).resolve().parents[1] / "data" / "adult.csv"
TOL = 1e-12


class Data:
    """Rows of a grouped scoring problem, with optional sample weights."""

    def __init__(
        self,
        codes: np.ndarray,
        n_groups: int,
        y: np.ndarray,
        s: np.ndarray,
        w: np.ndarray | None,
    ) -> None:
        self.codes, self.n_groups, self.y, self.s, self.w = codes, n_groups, y, s, w


def random_data(weighted: bool, seed: int = 0) -> Data:
    """Six groups: 0-2 mixed, 3 empty, 4 positives only, 5 negatives only; many ties."""
    rng = np.random.default_rng(seed)
    n = 4000
    codes = rng.choice([0, 1, 2, 4, 5], size=n, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    s = np.round(rng.beta(2, 3, size=n), 2)  # 2 decimals: ~100 distinct scores, many ties
    y = rng.random(n) < s
    y[codes == 4] = True
    y[codes == 5] = False
    w = rng.uniform(0.1, 5.0, size=n) if weighted else None
    return Data(codes.astype(np.int64), 6, y, s, w)


def adult_data(weighted: bool) -> Data:
    """UCI Adult, groups race x sex, a deterministic logistic score with tied values."""
    frame = pd.read_csv(ADULT_CSV)
    y = (frame["income-per-year"] == ">50K").to_numpy()
    z = (
        0.3 * (frame["education-num"] - 10)
        + 0.04 * (frame["age"] - 38)
        + 0.03 * (frame["hours-per-week"] - 40)
        + 0.0002 * frame["capital-gain"]
        - 1.5
    ).to_numpy(dtype=float)
    s = np.round(1.0 / (1.0 + np.exp(-z)), 3)
    group = frame["race"] + "/" + frame["sex"]
    codes, names = pd.factorize(group, sort=True)
    w = frame["fnlwgt"].to_numpy(dtype=float) if weighted else None
    return Data(codes.astype(np.int64), len(names), y, s, w)


def per_group(data: Data, metric: Callable[..., float], needs_both: bool) -> np.ndarray:
    """The sklearn metric on each group's rows; NaN where it is undefined."""
    out = np.full(data.n_groups, np.nan)
    for g in range(data.n_groups):
        rows = data.codes == g
        y = data.y[rows]
        if not y.any() or (needs_both and y.all()):
            continue
        kwargs = {} if data.w is None else {"sample_weight": data.w[rows]}
        out[g] = metric(y, data.s[rows], **kwargs)
    return out


DATASETS = {
    "random": random_data(False),
    "random_weighted": random_data(True),
    "adult": adult_data(False),
    "adult_weighted": adult_data(True),
}


@pytest.fixture(params=list(DATASETS))
def data(request: pytest.FixtureRequest) -> Data:
    return DATASETS[request.param]


def test_roc_auc_and_average_precision_match_sklearn(data: Data) -> None:
    ranking = ScoreRanking(data.codes, data.n_groups, data.y, data.s)
    auc = ranking.roc_auc(data.w)
    ap = ranking.average_precision(data.w)
    np.testing.assert_allclose(auc, per_group(data, roc_auc_score, True), rtol=0, atol=TOL)
    expected_ap = per_group(data, average_precision_score, False)
    np.testing.assert_allclose(ap, expected_ap, rtol=0, atol=TOL)
    assert np.isfinite(auc).any() and np.isfinite(ap).any()


def test_undefined_groups_are_nan() -> None:
    data = DATASETS["random_weighted"]
    ranking = ScoreRanking(data.codes, data.n_groups, data.y, data.s)
    auc, ap = ranking.roc_auc(data.w), ranking.average_precision(data.w)
    assert np.isnan(auc[[3, 4, 5]]).all()  # empty, positives only, negatives only
    assert np.isnan(ap[[3, 5]]).all() and ap[4] == pytest.approx(1.0)
    assert np.isfinite(auc[:3]).all() and np.isfinite(ap[:3]).all()


def test_ranking_without_ties_and_with_zero_weights() -> None:
    rng = np.random.default_rng(3)
    n = 500
    codes = rng.integers(0, 3, size=n)
    s = rng.random(n)  # all distinct: the no-tie fast path
    y = rng.random(n) < s
    w = rng.uniform(0.5, 2.0, size=n)
    w[rng.random(n) < 0.2] = 0.0  # sklearn drops zero-weight rows from the curve
    data = Data(codes, 3, y, s, w)
    ranking = ScoreRanking(codes, 3, y, s)
    np.testing.assert_allclose(ranking.roc_auc(w), per_group(data, roc_auc_score, True), atol=TOL)
    expected = per_group(data, average_precision_score, False)
    np.testing.assert_allclose(ranking.average_precision(w), expected, atol=TOL)


def test_resampling_weights_equal_sklearn_on_repeated_rows() -> None:
    data = DATASETS["random_weighted"]
    ranking = ScoreRanking(data.codes, data.n_groups, data.y, data.s)
    rng = np.random.default_rng(7)
    n = data.codes.size
    assert data.w is not None
    for _ in range(3):
        multiplicity = np.bincount(rng.integers(0, n, size=n), minlength=n)
        resampled = Data(
            np.repeat(data.codes, multiplicity),
            data.n_groups,
            np.repeat(data.y, multiplicity),
            np.repeat(data.s, multiplicity),
            np.repeat(data.w, multiplicity),
        )
        weights = data.w * multiplicity
        expected_auc = per_group(resampled, roc_auc_score, True)
        expected_ap = per_group(resampled, average_precision_score, False)
        np.testing.assert_allclose(ranking.roc_auc(weights), expected_auc, atol=TOL)
        np.testing.assert_allclose(ranking.average_precision(weights), expected_ap, atol=TOL)


def test_ranking_with_no_rows_and_bad_codes() -> None:
    empty = ScoreRanking(np.zeros(0, dtype=np.int64), 2, np.zeros(0, dtype=bool), np.zeros(0))
    assert np.isnan(empty.roc_auc()).all() and np.isnan(empty.average_precision()).all()
    assert empty.roc_auc().shape == (2,)
    with pytest.raises(ValueError, match="codes"):
        ScoreRanking(np.array([0, 2]), 2, np.array([True, False]), np.array([0.1, 0.2]))


def test_ranking_rejects_non_finite_scores() -> None:
    with pytest.raises(ValueError, match="finite"):
        ScoreRanking(
            np.zeros(2, dtype=np.int64), 1, np.array([True, False]), np.array([0.1, np.nan])
        )


def test_brier_matches_sklearn(data: Data) -> None:
    expected = np.full(data.n_groups, np.nan)
    for g in range(data.n_groups):
        rows = data.codes == g
        if rows.any():
            w = None if data.w is None else data.w[rows]
            expected[g] = brier_score_loss(data.y[rows], data.s[rows], sample_weight=w)
    got = grouped_brier(data.codes, data.n_groups, data.y, data.s, data.w)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_calibration_matches_sklearn_curve(data: Data) -> None:
    n_bins = 10
    if data.w is None:
        cal = grouped_calibration(data.codes, data.n_groups, data.y, data.s, n_bins=n_bins)
        codes, y, s = data.codes, data.y, data.s
    else:
        # calibration_curve takes no weights: use integer weights and repeat the rows.
        w = np.ceil(data.w / data.w.max() * 4)
        cal = grouped_calibration(data.codes, data.n_groups, data.y, data.s, w, n_bins=n_bins)
        reps = w.astype(np.int64)
        codes, y, s = np.repeat(data.codes, reps), np.repeat(data.y, reps), np.repeat(data.s, reps)
    np.testing.assert_array_equal(cal.edges, np.linspace(0, 1, n_bins + 1))
    for g in range(data.n_groups):
        rows = codes == g
        filled = cal.weight[g] > 0
        if not rows.any():
            assert not filled.any() and np.isnan(cal.ece[g])
            continue
        frac, mean = calibration_curve(y[rows], s[rows], n_bins=n_bins, strategy="uniform")
        np.testing.assert_allclose(cal.fraction_positive[g][filled], frac, rtol=0, atol=TOL)
        np.testing.assert_allclose(cal.mean_score[g][filled], mean, rtol=0, atol=TOL)
        assert np.isnan(cal.mean_score[g][~filled]).all()
        gaps = np.abs(frac - mean) * cal.weight[g][filled] / cal.weight[g].sum()
        assert cal.ece[g] == pytest.approx(gaps.sum(), abs=TOL)
    assert cal.rows.sum() == data.codes.size
    np.testing.assert_array_equal(
        cal.rows.sum(axis=1), np.bincount(data.codes, minlength=6)[: data.n_groups]
    )


def test_ece_by_hand_on_two_bins() -> None:
    codes = np.array([0, 0, 0, 0, 0, 0], dtype=np.int64)
    s = np.array([0.2, 0.4, 0.5, 0.6, 0.9, 1.0])  # 0.5 is in the first bin, 1.0 in the last
    y = np.array([False, True, False, True, True, True])
    cal = grouped_calibration(codes, 2, y, s, n_bins=2)
    # Bin [0, 0.5]: scores .2 .4 .5, mean .366..., 1 of 3 positive -> gap 1/30.
    # Bin (0.5, 1]: scores .6 .9 1.0, mean .8333..., 3 of 3 positive -> gap 1/6.
    np.testing.assert_array_equal(cal.rows, [[3, 3], [0, 0]])
    np.testing.assert_allclose(cal.mean_score[0], [1.1 / 3, 2.5 / 3], atol=TOL)
    np.testing.assert_allclose(cal.fraction_positive[0], [1 / 3, 1.0], atol=TOL)
    assert cal.ece[0] == pytest.approx(0.5 * (1 / 30) + 0.5 * (1 / 6), abs=TOL)  # = 0.1
    assert np.isnan(cal.ece[1]) and np.isnan(cal.mean_score[1]).all()
    # Weights 3, 1, 1, 1, 1, 1: first bin weight 5, mean (0.6 + .4 + .5) / 5 = .3,
    # positives 1/5 -> gap .1; second bin as before, gap 1/6; ECE = 5/8 * .1 + 3/8 * 1/6.
    w = np.array([3.0, 1, 1, 1, 1, 1])
    weighted = grouped_calibration(codes, 2, y, s, w, n_bins=2)
    np.testing.assert_allclose(weighted.weight[0], [5.0, 3.0])
    assert weighted.ece[0] == pytest.approx(5 / 8 * 0.1 + 3 / 8 / 6, abs=TOL)


def test_calibration_rejects_non_probabilities() -> None:
    codes = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match="probabilities"):
        grouped_calibration(codes, 1, np.array([True, False]), np.array([0.5, 1.2]))


def test_scores_are_probabilities() -> None:
    assert scores_are_probabilities(np.array([0.0, 0.5, 1.0]))
    assert scores_are_probabilities(np.array([]))
    assert not scores_are_probabilities(np.array([0.5, 1.0000001]))
    assert not scores_are_probabilities(np.array([-0.1, 0.5]))
    assert not scores_are_probabilities(np.array([0.5, np.nan]))
    assert not scores_are_probabilities(np.array([np.inf]))


def test_share_above_strict_and_not() -> None:
    codes = np.array([0, 0, 0, 1, 1, 1], dtype=np.int64)
    s = np.array([0.2, 0.5, 0.7, 0.5, 0.5, 0.1])
    num, den = grouped_share_above(codes, 3, s, 0.5, strict=True)
    np.testing.assert_array_equal(num, [1, 0, 0])
    np.testing.assert_array_equal(den, [3, 3, 0])
    num, den = grouped_share_above(codes, 3, s, 0.5, strict=False)
    np.testing.assert_array_equal(num, [2, 2, 0])
    w = np.array([1.0, 2.0, 4.0, 0.5, 0.25, 1.0])
    num, den = grouped_share_above(codes, 3, s, 0.5, w, strict=False)
    np.testing.assert_array_equal(num, [6.0, 0.75, 0.0])
    np.testing.assert_array_equal(den, [7.0, 1.75, 0.0])


def test_weighted_median() -> None:
    rng = np.random.default_rng(11)
    s = np.round(rng.random(101), 1)
    assert weighted_median(s) == np.median(s)
    assert weighted_median(s[:100]) == np.median(s[:100])
    assert np.isnan(weighted_median(np.array([])))
    for _ in range(20):  # integer weights (multiplicities) equal the median of repeated rows
        reps = rng.integers(0, 4, size=s.size)
        assert weighted_median(s, reps.astype(float)) == np.median(np.repeat(s, reps))
    assert weighted_median(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 5.0])) == 3.0
    assert weighted_median(np.array([1.0, 2.0]), np.array([0.0, 1.0])) == 2.0  # zero weight out
    assert weighted_median(np.array([1.0, 2.0, 4.0]), np.array([2.0, 1.0, 1.0])) == 1.5
    assert np.isnan(weighted_median(np.array([1.0]), np.array([0.0])))


def test_top_k_mask_includes_ties_at_the_kth_score() -> None:
    s = np.array([3.0, 5.0, 3.0, 1.0, 3.0])
    np.testing.assert_array_equal(top_k_mask(s, 1), [False, True, False, False, False])
    # k = 2: the 2nd highest score is 3, held by three rows; all three are selected.
    np.testing.assert_array_equal(top_k_mask(s, 2), [True, True, True, False, True])
    np.testing.assert_array_equal(top_k_mask(s, 4), [True, True, True, False, True])
    np.testing.assert_array_equal(top_k_mask(s, 5), [True] * 5)
    np.testing.assert_array_equal(top_k_mask(s, 0), [False] * 5)
    np.testing.assert_array_equal(top_k_mask(s, 9), [True] * 5)
    with pytest.raises(ValueError):
        top_k_mask(np.array([1.0, np.nan]), 1)


def test_roc_auc_timing_on_a_million_rows(capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(5)
    n, groups = 1_000_000, 200
    codes = rng.integers(0, groups, size=n)
    s = np.round(rng.random(n), 3)
    y = rng.random(n) < s
    weights = rng.uniform(0.5, 2.0, size=n) * rng.poisson(1.0, size=n)
    start = time.perf_counter()
    ranking = ScoreRanking(codes, groups, y, s)
    built = time.perf_counter() - start
    ranking.roc_auc(weights)  # warm-up
    start = time.perf_counter()
    repeats = 10
    for _ in range(repeats):
        auc = ranking.roc_auc(weights)
    per_call = (time.perf_counter() - start) / repeats
    with capsys.disabled():
        print(
            f"\nScoreRanking on {n:,} rows, {groups} groups: build {built * 1e3:.0f} ms, "
            f"weighted roc_auc {per_call * 1e3:.1f} ms per call"
        )
    assert np.isfinite(auc).all()


# --- score levels: the radix-sorted path gives the same numbers as the comparison sort ------


def test_ranking_with_levels_matches_sklearn(data: Data) -> None:
    levels = score_levels(data.s)
    assert levels is not None  # two-decimal and logistic-of-integers scores: few levels
    ranking = ScoreRanking(data.codes, data.n_groups, data.y, data.s, levels)
    expected_auc = per_group(data, roc_auc_score, True)
    np.testing.assert_allclose(ranking.roc_auc(data.w), expected_auc, rtol=0, atol=TOL)
    expected_ap = per_group(data, average_precision_score, False)
    np.testing.assert_allclose(ranking.average_precision(data.w), expected_ap, rtol=0, atol=TOL)


def test_two_digit_radix_path_for_many_levels() -> None:
    """More than 65,536 distinct scores: the level is sorted as two 16-bit digits."""
    rng = np.random.default_rng(11)
    n = 150_000
    s = np.round(rng.random(n), 6)  # ~100k distinct values, with ties
    codes = rng.integers(0, 4, size=n)
    y = rng.random(n) < s
    levels = ScoreLevels.from_scores(s)
    assert len(levels.values) > 65_536
    with_levels = ScoreRanking(codes, 4, y, s, levels)
    plain = ScoreRanking(codes, 4, y, s)
    np.testing.assert_array_equal(with_levels.roc_auc(), plain.roc_auc())
    np.testing.assert_array_equal(with_levels.average_precision(), plain.average_precision())
    data = Data(codes, 4, y, s, None)
    np.testing.assert_allclose(
        with_levels.roc_auc(), per_group(data, roc_auc_score, True), atol=TOL
    )


def test_score_levels_by_hashing_equal_levels_by_sorting() -> None:
    s = np.array([0.3, -0.0, 0.1, 0.3, 0.0, 1.0, 0.1, 0.7])
    hashed = score_levels(s)
    assert hashed is not None
    by_sorting = ScoreLevels.from_scores(s + 0.0)
    np.testing.assert_array_equal(hashed.values, by_sorting.values)
    np.testing.assert_array_equal(hashed.index, by_sorting.index)
    np.testing.assert_array_equal(hashed.values[hashed.index], s)  # -0.0 == 0.0: one level
    assert len(hashed.values) == 5


def test_continuous_scores_skip_the_levels() -> None:
    s = np.random.default_rng(2).random(100_000)
    assert score_levels(s) is None


def test_median_from_levels_equals_numpy_and_weighted_median(data: Data) -> None:
    levels = ScoreLevels.from_scores(data.s)
    assert levels.median() == np.median(data.s)
    assert levels.median(data.w) == weighted_median(data.s, data.w)
    odd = data.s[:-1] if data.s.size % 2 == 0 else data.s
    assert ScoreLevels.from_scores(odd).median() == np.median(odd)


def test_calibration_bins_from_levels_equal_a_search_of_every_row() -> None:
    """Edge values (0, 0.1, 0.3 whose linspace edge is 0.30000000000000004, 1.0) included."""
    edges = np.linspace(0.0, 1.0, 11)
    s = np.concatenate(
        [edges, np.nextafter(edges, 2.0), np.nextafter(edges, -1.0), [0.3, 0.7, 0.55]]
    )
    s = np.clip(s, 0.0, 1.0)
    expected = np.searchsorted(edges[1:-1], s)
    np.testing.assert_array_equal(calibration_bins(s, 10), expected)
    np.testing.assert_array_equal(calibration_bins(s, 10, ScoreLevels.from_scores(s)), expected)


def test_calibration_with_levels_is_the_same_table(data: Data) -> None:
    if not scores_are_probabilities(data.s):
        pytest.skip("calibration needs probabilities")
    levels = ScoreLevels.from_scores(data.s)
    plain = grouped_calibration(data.codes, data.n_groups, data.y, data.s, data.w)
    fast = grouped_calibration(data.codes, data.n_groups, data.y, data.s, data.w, levels=levels)
    np.testing.assert_array_equal(plain.weight, fast.weight)
    np.testing.assert_array_equal(plain.rows, fast.rows)
    np.testing.assert_array_equal(plain.ece, fast.ece)
