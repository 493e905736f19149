"""Weighted per-group sums of attribution columns, for the data and for bootstrap replicates.

Every attribution statistic (mean |phi|, mean phi, mean output, per group or overall) is a
ratio of two weighted sums per group. One replicate's sums are ``m @ (w * values)`` over each
group's rows, where ``m`` are the row multiplicities of ``bootstrap.row_multiplicities``; a
batch of replicates is one dense matrix product per group. Rows are sorted by group once, so
each group's rows are a contiguous slice and the product runs in BLAS without copying.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auditor.stats.bootstrap import FloatArray, IntArray, percentile_interval, row_multiplicities
from auditor.stats.confusion import ratio

BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "BoolArray",
    "basic",
    "check_rows",
    "cover",
    "group_sums",
    "percentile",
    "ratio",
    "strata_of",
]

MEMORY_BYTES = 256 << 20  # what one batch of multiplicities and its sums may hold


def check_rows(
    phi: FloatArray, weights: FloatArray | None, codes: IntArray | None, n_groups: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Validated float64 ``phi`` (n, p), weights (n,) (ones by default) and codes (n,)."""
    values = np.asarray(phi, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"phi must have shape (rows, features), got {values.shape}")
    n = values.shape[0]
    if not np.all(np.isfinite(values)):
        raise ValueError("phi must be finite")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite, non-negative and one per row")
    c = np.zeros(n, dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    if c.shape != (n,):
        raise ValueError("codes must have one entry per row")
    if n and (c.min() < 0 or c.max() >= n_groups):
        raise ValueError(f"group codes must lie in [0, {n_groups})")
    return values, w, c


def strata_of(strata: IntArray | None, codes: IntArray) -> tuple[IntArray, int]:
    """Stratum codes (the group codes when none are given) and their count."""
    s = codes if strata is None else np.asarray(strata, dtype=np.int64)
    if s.shape != codes.shape:
        raise ValueError("strata must have one entry per row")
    return s, int(s.max()) + 1 if s.size else 1


def group_sums(
    values: FloatArray,
    weights: FloatArray,
    codes: IntArray,
    n_groups: int,
    strata: IntArray,
    n_strata: int,
    resamples: int,
    seed: int | None,
    memory_bytes: int = MEMORY_BYTES,
) -> tuple[FloatArray, FloatArray]:
    """Weighted sums of ``values`` per group, in the data and in each stratified resample.

    Parameters
    ----------
    values : float array, shape (n, k)
        Per-row columns to sum (e.g. |phi| and phi side by side).
    weights : float array, shape (n,)
        Non-negative row weights.
    codes : int array, shape (n,)
        Group of each row, in ``[0, n_groups)``.
    strata, n_strata :
        Resampling strata (each keeps its row count in every resample).
    resamples, seed :
        Number of bootstrap replicates B (0 for none) and the seed of their generator.
    memory_bytes : int
        Bound on one batch of multiplicities plus its sums; B is processed in chunks.

    Returns
    -------
    estimate : float array, shape (G, k + 1)
        ``sum w * values`` per group, then ``sum w`` in the last column.
    replicates : float array, shape (B, G, k + 1)
        The same sums with each row's weight multiplied by its multiplicity.
    """
    n, k = values.shape
    order = np.argsort(codes, kind="stable")
    # Sorted by group, with the weight folded in and a weight column appended.
    data = np.empty((n, k + 1))
    data[:, :k] = values[order] * weights[order, None]
    data[:, k] = weights[order]
    sizes = np.bincount(codes, minlength=n_groups)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    present = np.flatnonzero(sizes)

    def sums(mult: FloatArray) -> FloatArray:
        out = np.zeros((mult.shape[0], n_groups, k + 1))
        for g in present:  # one BLAS product per non-empty group
            lo, hi = bounds[g], bounds[g + 1]
            out[:, g, :] = mult[:, lo:hi] @ data[lo:hi]
        return out

    estimate = sums(np.ones((1, n)))[0]
    replicates = np.empty((resamples, n_groups, k + 1))
    if resamples > 0:
        draws = row_multiplicities(strata[order], n_strata, resamples, np.random.default_rng(seed))
        per_resample = 8 * (n + n_groups * (k + 1))
        chunk = int(min(resamples, max(1, memory_bytes // per_resample)))
        batch = np.empty((chunk, n))
        for start in range(0, resamples, chunk):
            size = min(chunk, resamples - start)
            for row in range(size):
                batch[row] = next(draws)
            replicates[start : start + size] = sums(batch[:size])
    return estimate, replicates


def percentile(
    samples: FloatArray, estimate: FloatArray, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Percentile interval along axis 0, widened to include ``estimate``; NaN without samples."""
    low, high, _ = percentile_interval(samples, confidence)
    return cover(low, high, estimate)


def basic(
    samples: FloatArray, estimate: FloatArray, confidence: float, floor: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Basic (reflected) interval along axis 0, clipped below at ``floor``, covering ``estimate``.

    ``bootstrap.basic_interval`` vectorised over features: [2 t - q_hi, 2 t - q_lo].
    """
    q_low, q_high, _ = percentile_interval(samples, confidence)
    low = np.maximum(2 * estimate - q_high, floor)
    high = np.maximum(2 * estimate - q_low, floor)
    return cover(low, high, estimate)


def cover(low: FloatArray, high: FloatArray, estimate: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Widen [low, high] to include the estimate (NaN stays NaN: np.minimum propagates it)."""
    return np.minimum(low, estimate), np.maximum(high, estimate)
