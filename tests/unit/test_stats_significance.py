"""Two-proportion tests against scipy, and multiple-comparison corrections against hand values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, false_discovery_control, fisher_exact

from auditor.stats.significance import (
    CORRECTION_NAMES,
    FISHER,
    Z_TEST,
    adjust_p_values,
    compare_proportions,
    fisher_exact_two_sided,
)


def _table(k1: float, n1: float, k2: float, n2: float) -> np.ndarray:
    return np.array([[k1, n1 - k1], [k2, n2 - k2]])


def test_z_test_equals_chi_square_without_correction() -> None:
    rng = np.random.default_rng(3)
    n1 = rng.integers(20, 2000, 500)
    n2 = rng.integers(20, 2000, 500)
    k1 = rng.binomial(n1, rng.uniform(0.05, 0.95, 500))
    k2 = rng.binomial(n2, rng.uniform(0.05, 0.95, 500))
    result = compare_proportions(k1, n1, k2, n2)
    n_z = 0
    for i in range(k1.size):
        table = _table(k1[i], n1[i], k2[i], n2[i])
        if (table.sum(axis=0) == 0).any():
            continue  # chi2_contingency refuses a zero margin
        chi2, p, _, expected = chi2_contingency(table, correction=False)
        if expected.min() < 5:
            assert result.method[i] == FISHER
            continue
        n_z += 1
        assert result.method[i] == Z_TEST
        assert result.p_value[i] == pytest.approx(p, rel=0, abs=1e-12)
        assert abs(result.p_value[i] - p) <= 1e-10 * p  # tiny p-values too, relatively
        assert result.statistic[i] ** 2 == pytest.approx(chi2, rel=1e-10)
        assert np.sign(result.statistic[i]) == np.sign(k1[i] / n1[i] - k2[i] / n2[i])
    assert n_z > 450


def test_small_expected_counts_use_fisher() -> None:
    k1 = np.array([1, 0, 3, 7, 2])
    n1 = np.array([6, 4, 8, 9, 30])
    k2 = np.array([4, 3, 0, 2, 1])
    n2 = np.array([5, 9, 7, 12, 40])
    result = compare_proportions(k1, n1, k2, n2)
    assert result.method == [FISHER] * 5
    assert np.all(np.isnan(result.statistic))
    for i in range(k1.size):
        expected = fisher_exact(_table(k1[i], n1[i], k2[i], n2[i]), alternative="two-sided")
        assert result.p_value[i] == pytest.approx(expected.pvalue, rel=1e-12)


def test_mixed_rows_and_empty_groups() -> None:
    result = compare_proportions(
        [50, 1, 3, 0, 4], [100, 5, 10, 5, 0], [30, 3, 2, 0, 2], [100, 6, 0, 0, 8]
    )
    assert result.method == [Z_TEST, FISHER, "", "", ""]
    assert np.isfinite(result.p_value[:2]).all()
    assert np.isnan(result.p_value[2:]).all() and np.isnan(result.statistic[2:]).all()


def test_fisher_threshold() -> None:
    # Table [[1, 4], [4, 1]]: every expected count is 5 * 5 / 10 = 2.5.
    assert compare_proportions(1, 5, 4, 5, fisher_below=0.0).method == [Z_TEST]
    assert compare_proportions(1, 5, 4, 5, fisher_below=1.0).method == [Z_TEST]
    assert compare_proportions(1, 5, 4, 5, fisher_below=5.0).method == [FISHER]


def test_fractional_counts_always_use_z_test() -> None:
    result = compare_proportions(0.7, 4.3, 2.9, 5.1)
    assert result.method == [Z_TEST]
    p1, p2, pooled = 0.7 / 4.3, 2.9 / 5.1, 3.6 / 9.4
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 4.3 + 1 / 5.1))
    assert result.statistic[0] == pytest.approx(z, rel=1e-12)


def test_pooled_proportion_zero_or_one_gives_p_one() -> None:
    # Fractional counts: z test with no variance.
    result = compare_proportions([0.0, 4.5], [3.5, 4.5], [0.0, 6.2], [2.5, 6.2])
    assert result.method == [Z_TEST, Z_TEST]
    np.testing.assert_array_equal(result.p_value, [1.0, 1.0])
    np.testing.assert_array_equal(result.statistic, [0.0, 0.0])
    # Whole counts: an expected count is 0, so Fisher, which also gives 1.
    result = compare_proportions([0, 50], [40, 50], [0, 60], [60, 60])
    assert result.method == [FISHER, FISHER]
    np.testing.assert_array_equal(result.p_value, [1.0, 1.0])


def test_scalar_is_one_comparison_and_2d_is_refused() -> None:
    result = compare_proportions(56, 70, 48, 80)
    assert result.p_value.shape == (1,) and len(result.method) == 1
    with pytest.raises(ValueError, match="1-D"):
        compare_proportions(np.ones((2, 2)), 5, 1, 5)


def test_holm_hand_example() -> None:
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max(0.06, 0.04).
    adjusted = adjust_p_values(np.array([0.01, 0.04, 0.03, 0.005]), "holm")
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02], rtol=1e-12)


def test_bonferroni_hand_example_and_cap() -> None:
    adjusted = adjust_p_values(np.array([0.01, 0.04, 0.3, 0.005]), "bonferroni")
    np.testing.assert_allclose(adjusted, [0.04, 0.16, 1.0, 0.02], rtol=1e-12)


def test_bh_matches_scipy() -> None:
    p = np.random.default_rng(4).random(50) ** 3
    np.testing.assert_allclose(
        adjust_p_values(p, "fdr_bh"), false_discovery_control(p, method="bh"), rtol=1e-12
    )


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh", "none"])
def test_adjustment_properties(method: str) -> None:
    p = np.random.default_rng(5).random(40) ** 2
    adjusted = adjust_p_values(p, method)
    assert np.all(adjusted >= p - 1e-15) and np.all(adjusted <= 1.0)
    order = np.argsort(p)
    assert np.all(np.diff(adjusted[order]) >= 0)  # same order as the raw p-values
    big = adjust_p_values(np.full(10, 0.5), method)
    assert np.all(big <= 1.0)


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh", "none"])
def test_nan_entries_are_left_out_of_the_family(method: str) -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan, 0.005])
    adjusted = adjust_p_values(p, method)
    assert np.isnan(adjusted[[1, 4]]).all()
    defined = ~np.isnan(p)
    np.testing.assert_allclose(adjusted[defined], adjust_p_values(p[defined], method))
    assert np.isnan(p[1])  # the input is not modified
    assert np.isnan(adjust_p_values(np.array([np.nan, np.nan]), method)).all()


def test_shape_is_kept_and_bad_input_refused() -> None:
    p = np.array([[0.01, 0.04], [0.03, 0.005]])
    np.testing.assert_allclose(adjust_p_values(p, "holm"), [[0.03, 0.06], [0.06, 0.02]])
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values(p, "sidak")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values(np.array([0.2, 1.5]), "holm")


def test_correction_names_cover_every_method() -> None:
    assert set(CORRECTION_NAMES) == {"holm", "bonferroni", "fdr_bh", "none"}
    assert CORRECTION_NAMES["holm"].startswith("Holm–Bonferroni")


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 60),
    st.integers(0, 60),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_batched_fisher_matches_scipy(a: int, b: int, c: int, d: int) -> None:
    """The vectorised Fisher test gives scipy's two-sided p-value table by table."""
    ours = fisher_exact_two_sided(*(np.array([v]) for v in (a, b, c, d)))[0]
    theirs = fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-15)


def test_batched_fisher_many_tables_and_large_margins() -> None:
    """Many tables in one call, including a large table with a small expected count."""
    tables = np.array([[1, 999_999, 9, 200], [0, 5, 5, 0], [3, 3, 3, 3], [2, 40_000, 7, 30]])
    ours = fisher_exact_two_sided(*tables.T)
    for table, p in zip(tables, ours, strict=True):
        expected = fisher_exact(table.reshape(2, 2), alternative="two-sided").pvalue
        assert p == pytest.approx(expected, rel=1e-9, abs=1e-300)
