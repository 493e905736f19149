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
        counts = np.round(table[:, fisher]).astype(np.int64)  # 4.9999999 is 5
        p_value[fisher] = fisher_exact_two_sided(*counts)
        method[fisher] = FISHER
    return ProportionTests(statistic=statistic, p_value=p_value, method=[str(m) for m in method])


def fisher_exact_two_sided(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    c: npt.NDArray[np.int64],
    d: npt.NDArray[np.int64],
) -> FloatArray:
    """Two-sided Fisher's exact test of each 2x2 table ``[[a, b], [c, d]]``, all at once.

    The p-value is the probability, under the hypergeometric law of the top-left cell given
    the margins, of every table no more likely than the observed one, "no more likely"
    with R's relative tolerance of 1e-7 so that mathematically tied tables (a symmetric
    support) always count. It agrees with ``scipy.stats.fisher_exact`` (which tests one
    table per call, milliseconds each at a million rows) to 1e-9 in tests.

    Each table's probabilities come from the ratio of consecutive terms,
    ``p(x + 1) / p(x) = (r1 - x)(c1 - x) / ((x + 1)(n - r1 - c1 + x + 1))``, summed in logs
    along the support and normalised over it: small, exact steps instead of log-factorials
    of the total (which lose digits at a million rows). The support has
    ``min(margins) + 1`` points, few wherever an expected count is small (the only tables
    this module sends here).
    """
    a, b, c, d = (np.asarray(v, dtype=np.int64) for v in (a, b, c, d))
    p = np.ones(a.size)
    row1, col1, total = a + b, a + c, a + b + c + d
    # A table with an empty row or column carries no evidence: p = 1, as scipy says.
    tested = np.flatnonzero(
        (np.minimum(row1, total - row1) > 0) & (np.minimum(col1, total - col1) > 0)
    )
    lowest = np.maximum(0, col1 - (total - row1))
    width = np.minimum(row1, col1) - lowest + 1
    # Tables in chunks of about a million support points (padded to the widest table).
    chunk = max(1, 1_000_000 // max(1, int(width.max(initial=1))))
    for first in range(0, tested.size, chunk):
        rows = tested[first : first + chunk]
        p[rows] = _fisher_chunk(a[rows], row1[rows], col1[rows], total[rows], lowest[rows])
    return p


def _fisher_chunk(
    a: npt.NDArray[np.int64],
    row1: npt.NDArray[np.int64],
    col1: npt.NDArray[np.int64],
    total: npt.NDArray[np.int64],
    lowest: npt.NDArray[np.int64],
) -> FloatArray:
    """Fisher p-values of tables with non-empty margins, one row of support per table."""
    width = np.minimum(row1, col1) - lowest + 1
    x = lowest[:, None] + np.arange(int(width.max()))[None, :]
    inside = x < (lowest + width)[:, None]
    # Log of p(x + 1) / p(x) at every x but each table's last point (and the padding).
    steps = x[:, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_step = (
            np.log(row1[:, None] - steps)
            + np.log(col1[:, None] - steps)
            - np.log(steps + 1.0)
            - np.log((total - row1 - col1)[:, None] + steps + 1.0)
        )
    log_step = np.where(inside[:, 1:], log_step, 0.0)
    log_p = np.concatenate([np.zeros((len(a), 1)), np.cumsum(log_step, axis=1)], axis=1)
    log_p = np.where(inside, log_p, -np.inf)
    log_p -= log_p.max(axis=1, keepdims=True)
    prob = np.exp(log_p)
    observed = prob[np.arange(len(a)), a - lowest]
    relative_tolerance = 1.0 + 1e-7  # R's fisher.test
    as_likely = np.where(prob <= (observed * relative_tolerance)[:, None], prob, 0.0)
    return np.asarray(np.minimum(as_likely.sum(axis=1) / prob.sum(axis=1), 1.0))


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
