"""Two-sided tests that two proportions are equal, and multiple-comparison corrections.

scipy is imported inside the functions that need it: importing ``scipy.stats`` costs about
a second and a half, which every command that merely imports this module would pay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

Z_TEST = "two-proportion z test"
FISHER = "Fisher's exact test"

# Method -> the name a report prints.
CORRECTION_NAMES: dict[str, str] = {
    "holm": "Holm–Bonferroni (family-wise error rate)",
    "bonferroni": "Bonferroni (family-wise error rate)",
    "fdr_bh": "Benjamini–Hochberg (false discovery rate)",
    "none": "None (unadjusted p-values)",
}


@dataclass(frozen=True)
class ProportionTests:
    """One two-sided test per comparison; all three fields have one entry per comparison."""

    statistic: FloatArray  # z statistic for the z test, NaN for Fisher rows
    p_value: FloatArray  # two-sided; NaN where either group has n == 0
    method: list[str]  # Z_TEST or FISHER ("" where the p-value is NaN)


def compare_proportions(
    k1: npt.ArrayLike,
    n1: npt.ArrayLike,
    k2: npt.ArrayLike,
    n2: npt.ArrayLike,
    *,
    fisher_below: float = 5.0,
) -> ProportionTests:
    """Two-sided test of ``p1 == p2`` for each pair of proportions ``k1 / n1`` and ``k2 / n2``.

    The pooled two-proportion z test, which is Pearson's chi-square test of the 2x2 table
    ``[[k1, n1 - k1], [k2, n2 - k2]]`` without continuity correction (``z**2`` is the
    chi-square statistic and the p-values agree). Where some expected cell count of that
    table is below ``fisher_below`` and all four counts are whole numbers, Fisher's exact
    test is used instead. Fractional counts (weighted data, Kish-effective counts) always
    use the z test.

    Parameters
    ----------
    k1, n1, k2, n2 : array_like
        Successes and trials of the two groups of each comparison; broadcast together to
        one dimension (a scalar is one comparison).
    fisher_below : float
        Smallest expected cell count for which the z test's normal approximation is trusted.

    Returns
    -------
    ProportionTests
        When the pooled proportion is 0 or 1 the two proportions are identical and have no
        variance: the z test then gives statistic 0 and p = 1. Comparisons where either
        group is empty get NaN statistic and p-value, and method "".
    """
    k1a, n1a, k2a, n2a = (
        np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(k1, n1, k2, n2)
    )
    if k1a.ndim > 1:
        raise ValueError(f"compare_proportions takes 1-D arrays, got shape {k1a.shape}")
    k1a, n1a, k2a, n2a = (np.atleast_1d(a) for a in (k1a, n1a, k2a, n2a))

    defined = (n1a > 0) & (n2a > 0)
    n = np.where(defined, n1a + n2a, 1.0)
    k = k1a + k2a
    # Smallest expected count: smaller row total times smaller column total over the total.
    min_expected = np.minimum(n1a, n2a) * np.minimum(k, n - k) / n
    table = np.stack([k1a, n1a - k1a, k2a, n2a - k2a])
    # Whole counts up to rounding: equal weights make Kish-effective counts like 4.9999999.
    whole = np.all(np.isclose(table, np.round(table), rtol=0.0, atol=1e-9), axis=0)
    fisher = defined & whole & (min_expected < fisher_below)
    z_rows = defined & ~fisher

    statistic, p_value = _pooled_z(k1a, n1a, k2a, n2a, z_rows)
    method = np.where(z_rows, Z_TEST, "").astype(object)
    if fisher.any():
        from scipy.stats import fisher_exact

        # A loop, but only over the few comparisons with small counts.
        for i in np.flatnonzero(fisher):
            t = np.round(table[:, i]).reshape(2, 2).astype(np.int64)  # 4.9999999 is 5
            p_value[i] = float(fisher_exact(t, alternative="two-sided").pvalue)
        method[fisher] = FISHER
    return ProportionTests(statistic=statistic, p_value=p_value, method=[str(m) for m in method])


def _pooled_z(
    k1: FloatArray, n1: FloatArray, k2: FloatArray, n2: FloatArray, rows: npt.NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """Pooled z statistic and two-sided normal p-value where ``rows``; NaN elsewhere."""
    from scipy.special import erfc

    s1 = np.where(rows, n1, 1.0)
    s2 = np.where(rows, n2, 1.0)
    pooled = (k1 + k2) / (s1 + s2)
    variance = pooled * (1.0 - pooled) * (1.0 / s1 + 1.0 / s2)
    degenerate = variance <= 0  # pooled proportion 0 or 1: both proportions are equal
    se = np.sqrt(np.where(degenerate, 1.0, variance))
    z = np.where(degenerate, 0.0, (k1 / s1 - k2 / s2) / se)
    # Two-sided normal tail, 2 * Phi(-|z|), as the chi-square(1) tail of z**2.
    p = np.where(degenerate, 1.0, erfc(np.abs(z) / np.sqrt(2.0)))
    return np.where(rows, z, np.nan), np.where(rows, p, np.nan)


def adjust_p_values(p: npt.ArrayLike, method: str) -> FloatArray:
    """Correct one family of p-values for multiple comparisons.

    Parameters
    ----------
    p : array_like
        The family's p-values, any shape. NaN entries (untested comparisons) are not part
        of the family: they are ignored and stay NaN.
    method : str
        ``"holm"`` (Holm–Bonferroni step-down, the tool's default), ``"bonferroni"``,
        ``"fdr_bh"`` (Benjamini–Hochberg, via ``scipy.stats.false_discovery_control``) or
        ``"none"``. ``CORRECTION_NAMES`` has the name a report prints for each.

    Returns
    -------
    float array
        Adjusted p-values, same shape as ``p``, capped at 1.
    """
    if method not in CORRECTION_NAMES:
        raise ValueError(f"unknown correction {method!r}; expected one of {list(CORRECTION_NAMES)}")
    values = np.array(p, dtype=np.float64)  # a copy: the caller's array is never changed
    flat = values.reshape(-1)
    tested = ~np.isnan(flat)
    family = flat[tested]
    if np.any((family < 0) | (family > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    m = family.size
    if m == 0 or method == "none":
        return values
    if method == "bonferroni":
        adjusted = np.minimum(family * m, 1.0)
    elif method == "holm":
        order = np.argsort(family, kind="stable")
        # The i-th smallest (0-based) is multiplied by m - i; the running maximum keeps the
        # adjusted values in the order of the raw ones (step-down).
        stepped = np.maximum.accumulate(family[order] * (m - np.arange(m)))
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
    else:
        from scipy.stats import false_discovery_control

        adjusted = np.asarray(false_discovery_control(family, method="bh"), dtype=np.float64)
    flat[tested] = adjusted
    return values
