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


def kish_effective_n(
    codes: npt.NDArray[np.int64], n_groups: int, weights: FloatArray
) -> FloatArray:
    """Kish's effective sample size per group: (sum w)^2 / sum w^2."""
    sw = np.bincount(codes, weights=weights, minlength=n_groups)
    sw2 = np.bincount(codes, weights=weights * weights, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)
