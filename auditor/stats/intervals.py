"""Confidence intervals for proportions."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile for a confidence level such as 0.95."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    # stdlib's inverse normal (Wichura AS241, ~1e-16): scipy.stats would cost a second to import
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(
    successes: FloatArray, trials: FloatArray, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for each proportion ``successes / trials``.

    Rows with ``trials == 0`` get NaN bounds (the proportion is undefined). Works with
    fractional counts, as used with Kish's effective sample size for weighted data.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = z_value(confidence)
    safe_n = np.where(n > 0, n, 1.0)
    p = k / safe_n
    denom = 1.0 + z * z / safe_n
    centre = (p + z * z / (2.0 * safe_n)) / denom
    spread = p * (1.0 - p) / safe_n + z * z / (4.0 * safe_n * safe_n)
    half = z * np.sqrt(np.clip(spread, 0.0, None)) / denom
    # At k = 0 and k = n the bounds are exactly 0 and 1; rounding would exclude the estimate.
    low = np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k >= n, 1.0, np.clip(centre + half, 0.0, 1.0))
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def effective_counts(
    successes: FloatArray, trials: FloatArray, trials_squared: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Kish-effective (successes, trials) of a weighted proportion.

    ``trials`` is the sum of the weights of the rows in the proportion's denominator and
    ``trials_squared`` the sum of their squares: n_eff = (sum w)^2 / sum w^2 over exactly
    those rows (a rate among positives uses the positives' weights, not the group's), and
    k_eff = p * n_eff keeps the proportion. Unweighted, this gives the counts back.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    n2 = np.asarray(trials_squared, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(n2 > 0, n * n / np.where(n2 > 0, n2, 1.0), 0.0)
        k_eff = np.where(n > 0, k / np.where(n > 0, n, 1.0), 0.0) * n_eff
    return k_eff, n_eff


def kish_effective_n(
    codes: npt.NDArray[np.int64], n_groups: int, weights: FloatArray
) -> FloatArray:
    """Kish's effective sample size per group: (sum w)^2 / sum w^2."""
    sw = np.bincount(codes, weights=weights, minlength=n_groups)
    sw2 = np.bincount(codes, weights=weights * weights, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)


def _counts(*arrays: npt.ArrayLike) -> list[FloatArray]:
    """The arguments as broadcast float64 arrays."""
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]


def newcombe_difference(
    k1: npt.ArrayLike,
    n1: npt.ArrayLike,
    k2: npt.ArrayLike,
    n2: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval for the difference ``k1 / n1 - k2 / n2``.

    Method 10 of Newcombe (1998): the interval is built from the Wilson interval
    ``[l_i, u_i]`` of each proportion ``p_i``::

        low  = (p1 - p2) - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = (p1 - p2) + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    Parameters
    ----------
    k1, n1 : array_like
        Successes and trials of the first proportion.
    k2, n2 : array_like
        Successes and trials of the second proportion. All four arrays broadcast together.
        Fractional counts are allowed (Kish-effective counts of weighted data).
    confidence : float
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    low, high : float arrays
        Bounds within [-1, 1]; NaN where ``n1 == 0`` or ``n2 == 0``.

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
    """
    k1a, n1a, k2a, n2a = _counts(k1, n1, k2, n2)
    l1, u1 = wilson_interval(k1a, n1a, confidence)
    l2, u2 = wilson_interval(k2a, n2a, confidence)
    # Empty groups already carry NaN Wilson bounds, which propagate to the difference.
    p1 = k1a / np.where(n1a > 0, n1a, 1.0)
    p2 = k2a / np.where(n2a > 0, n2a, 1.0)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    # Mathematically within [-1, 1]; the clip only absorbs rounding (NaN passes through).
    return np.clip(low, -1.0, 1.0), np.clip(high, -1.0, 1.0)


def katz_log_ratio(
    k1: npt.ArrayLike,
    n1: npt.ArrayLike,
    k2: npt.ArrayLike,
    n2: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Katz log interval for the ratio ``(k1 / n1) / (k2 / n2)``.

    ``exp(log r ± z * sqrt(1/k1 - 1/n1 + 1/k2 - 1/n2))`` (Katz et al., 1978), the method of
    ``scipy.stats.contingency.relative_risk(...).confidence_interval``.

    Parameters
    ----------
    k1, n1 : array_like
        Successes and trials of the numerator proportion.
    k2, n2 : array_like
        Successes and trials of the denominator proportion. All four arrays broadcast
        together; fractional counts are allowed.
    confidence : float
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    low, high : float arrays
        NaN where ``n1 == 0``, ``n2 == 0`` or ``k2 == 0`` (the ratio is undefined). Where
        ``k1 == 0`` the ratio is 0 and its logarithm does not exist: the lower bound is then 0
        and the upper bound comes from the same formula with 0.5 added to both ``k1`` and
        ``n1`` (the usual Haldane-Anscombe correction, applied to that bound only).

    References
    ----------
    Katz, D., Baptista, J., Azen, S. P. and Pike, M. C. (1978). Obtaining confidence
    intervals for the risk ratio in cohort studies. Biometrics 34, 469-474.
    """
    k1a, n1a, k2a, n2a = _counts(k1, n1, k2, n2)
    z = z_value(confidence)
    defined = (n1a > 0) & (n2a > 0) & (k2a > 0)
    zero = k1a <= 0
    # Continuity-corrected counts only where k1 == 0; dummies where undefined keep logs finite.
    a = np.where(zero, 0.5, k1a)
    m = np.where(zero, n1a + 0.5, n1a)
    a = np.where(defined, a, 1.0)
    m = np.where(defined, m, 1.0)
    c = np.where(defined, k2a, 1.0)
    n = np.where(defined, n2a, 1.0)
    log_r = np.log(a) - np.log(m) - np.log(c) + np.log(n)
    # Clip: 1/k - 1/n is >= 0 when k <= n, rounding can make it a hair negative at k == n.
    se = np.sqrt(np.clip(1.0 / a - 1.0 / m + 1.0 / c - 1.0 / n, 0.0, None))
    low = np.where(zero, 0.0, np.exp(log_r - z * se))
    high = np.exp(log_r + z * se)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)
