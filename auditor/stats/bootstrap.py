"""Seeded, vectorised, stratified bootstrap.

A stratum is the finest group (an intersection of all sensitive attributes). Every resample
keeps each stratum's row count, so every group of every coarser grouping keeps its size too.
Two ways to resample, with the same distribution:

- ``resample_cells``: unweighted data whose statistic depends only on per-stratum counts of
  a few cells (e.g. confusion cells). One multinomial draw per stratum and resample.
- ``row_multiplicities``: anything else (weights, scores, regression). How many times each
  row is drawn; multiply the sample weights by it and recompute the statistic.

Group-level counts come from the stratum-level ones with ``aggregate_strata``, and the
interval from the resampled statistic with ``percentile_interval``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def resample_cells(cells: FloatArray, n_resamples: int, rng: np.random.Generator) -> FloatArray:
    """Resample per-stratum cell counts, as if each stratum's rows were drawn with replacement.

    Parameters
    ----------
    cells : float array, shape (S, K)
        Integer-valued counts of rows per stratum and cell (e.g. K = 4 confusion cells
        TN, FP, FN, TP).
    n_resamples : int
        Number of resamples B.
    rng : numpy.random.Generator
        Source of randomness, e.g. ``np.random.default_rng(seed)``.

    Returns
    -------
    float array, shape (B, S, K)
        One multinomial draw per stratum and resample, with ``n = cells[s].sum()`` and
        ``p = cells[s] / n``: exactly the distribution of the cell counts after resampling
        the stratum's rows with replacement, so valid for any statistic of the counts.
        Empty strata stay all zero.
    """
    counts = np.asarray(cells, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError(f"cells must have shape (strata, cells), got {counts.shape}")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("cells must be non-negative whole counts (use row_multiplicities)")
    n = counts.sum(axis=1)
    # Any valid probability vector will do for an empty stratum: n = 0 draws nothing.
    pvals = np.where(n[:, None] > 0, counts / np.where(n > 0, n, 1.0)[:, None], 0.0)
    pvals[n == 0, 0] = 1.0
    draws = rng.multinomial(n.astype(np.int64), pvals, size=(n_resamples, counts.shape[0]))
    return np.asarray(draws, dtype=np.float64)


def row_multiplicities(
    strata: IntArray, n_strata: int, n_resamples: int, rng: np.random.Generator
) -> Iterator[FloatArray]:
    """Per resample, how many times each row is drawn in a stratified resample.

    Parameters
    ----------
    strata : int array, shape (N,)
        Stratum code of each row, in ``[0, n_strata)``.
    n_strata : int
        Number of strata S.
    n_resamples : int
        Number of resamples B (the number of arrays yielded).
    rng : numpy.random.Generator
        Source of randomness; consumed as the iterator advances.

    Returns
    -------
    iterator of float arrays, shape (N,)
        One array ``m`` per resample: ``m[i]`` is how many times row i is drawn when each
        stratum's rows are resampled with replacement, so ``m`` sums to the stratum's size
        within each stratum. Multiply the sample weights by ``m`` and recompute any weighted
        statistic.

    Notes
    -----
    O(N) work and memory per resample, no copy of the data: N uniform numbers, each mapped
    to a row of its own stratum, then one bincount.
    """
    codes = np.asarray(strata, dtype=np.int64)
    # Checked here, not in the generator, so bad input fails at the call.
    if codes.size and (codes.min() < 0 or codes.max() >= n_strata):
        raise ValueError(f"stratum codes must lie in [0, {n_strata})")
    return _multiplicities(codes, n_strata, n_resamples, rng)


def _multiplicities(
    codes: IntArray, n_strata: int, n_resamples: int, rng: np.random.Generator
) -> Iterator[FloatArray]:
    """The generator behind ``row_multiplicities`` (codes already checked)."""
    n_rows = codes.size
    order = np.argsort(codes, kind="stable")  # rows sorted by stratum, once
    size = np.bincount(codes, minlength=n_strata)
    start = np.cumsum(size) - size
    sorted_codes = codes[order]
    # Draw j (one per sorted position) picks a row of that position's stratum.
    draw_start = start[sorted_codes]
    draw_size = size[sorted_codes].astype(np.float64)
    draw_last = draw_start + size[sorted_codes] - 1
    for _ in range(n_resamples):
        u = rng.random(n_rows)
        # floor(u * size) < size for u < 1; the minimum is a cheap guard against rounding.
        pick = np.minimum(draw_start + (u * draw_size).astype(np.int64), draw_last)
        yield np.bincount(order[pick], minlength=n_rows).astype(np.float64)


def poisson_cells(cells: FloatArray, n_resamples: int, rng: np.random.Generator) -> FloatArray:
    """Poisson-bootstrap counts of cells of identical rows: (S, K) counts -> (B, S, K).

    Giving each of k identical rows a Poisson(1) multiplicity gives the cell a Poisson(k)
    total, independently of every other cell: 1000 resamples of a 100M-row log cost what
    1000 resamples of its few hundred cells cost. Group sizes vary between resamples (the
    Poisson bootstrap does not fix them).
    """
    counts = np.asarray(cells, dtype=np.float64)
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("cells must be non-negative whole counts")
    return np.asarray(rng.poisson(counts, size=(n_resamples, *counts.shape)), dtype=np.float64)


def cell_masses(
    counts: IntArray,
    weights: FloatArray | None,
    weights_sq: FloatArray | None,
    n_resamples: int,
    rng: np.random.Generator,
) -> Iterator[FloatArray]:
    """Per resample, each cell's total weight in a Poisson bootstrap of its rows.

    Unweighted, a cell of k rows gets Poisson(k) rows (exact). Weighted, a cell's resampled
    total sum_i P_i w_i has mean sum w and variance sum w^2; it is drawn as
    c * Poisson(lambda) with c = sum w^2 / sum w and lambda = (sum w)^2 / sum w^2 (the
    cell's Kish-effective size), which matches both moments and is exact when the cell's
    weights are equal. Cells are independent, as rows are in a row-level Poisson bootstrap.
    """
    n = np.asarray(counts, dtype=np.float64)
    if weights is None:
        for _ in range(n_resamples):
            yield np.asarray(rng.poisson(n), dtype=np.float64)
        return
    w = np.asarray(weights, dtype=np.float64)
    w2 = np.asarray(weights_sq, dtype=np.float64)
    positive = (w > 0) & (w2 > 0)
    scale = np.where(positive, w2 / np.where(positive, w, 1.0), 0.0)
    lam = np.where(positive, w * w / np.where(positive, w2, 1.0), 0.0)
    for _ in range(n_resamples):
        yield scale * rng.poisson(lam)


def aggregate_strata(x: FloatArray, stratum_to_group: IntArray, n_groups: int) -> FloatArray:
    """Sum the stratum axis of ``x`` into groups.

    Parameters
    ----------
    x : float array, shape (..., S, K)
        Per-stratum values (e.g. resampled cell counts from ``resample_cells``).
    stratum_to_group : int array, shape (S,)
        Group of each stratum, in ``[0, n_groups)``.
    n_groups : int
        Number of groups G; groups without strata get zeros.

    Returns
    -------
    float array, shape (..., G, K)
    """
    groups = np.asarray(stratum_to_group, dtype=np.int64)
    values = np.asarray(x, dtype=np.float64)
    if n_groups == len(groups) and np.array_equal(groups, np.arange(n_groups)):
        return values.copy()  # the finest grouping is the strata themselves
    # Sort strata by group and sum runs: O(B * S * K), never a dense (G, S) matrix.
    order = np.argsort(groups, kind="stable")
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.zeros((*values.shape[:-2], n_groups, values.shape[-1]))
    present = sizes > 0
    if present.any():
        summed = np.add.reduceat(np.take(values, order, axis=-2), starts[present], axis=-2)
        out[..., present, :] = summed
    return out


def percentile_interval(
    samples: FloatArray, confidence: float
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Percentile bootstrap interval along axis 0.

    Parameters
    ----------
    samples : float array, shape (B, ...)
        The statistic in each resample; NaN where it is undefined in that resample.
    confidence : float
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    low, high : float arrays, shape samples.shape[1:]
        The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the defined
        resamples (linear interpolation, numpy's default percentile method). NaN where fewer
        than half of the resamples are defined: the interval would describe a conditional
        distribution that is mostly missing.
    n_defined : int array, shape samples.shape[1:]
        Number of resamples in which the statistic is defined.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    values = np.asarray(samples, dtype=np.float64)
    n_resamples = values.shape[0]
    n_defined = np.sum(~np.isnan(values), axis=0).astype(np.int64)
    if n_resamples == 0:
        empty = np.full(values.shape[1:], np.nan)
        return empty, empty.copy(), n_defined
    # Sorting puts NaN last, so column j's defined values are its first n_defined[j] entries;
    # quantiles then come from index arithmetic (np.nanpercentile would loop per column).
    ordered = np.sort(values, axis=0)
    enough = 2 * n_defined >= n_resamples
    last = np.maximum(n_defined - 1, 0)

    def quantile(q: float) -> FloatArray:
        h = last * q
        below = np.floor(h).astype(np.int64)
        above = np.minimum(below + 1, last)
        lo = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
        hi = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
        # lo == hi (including infinities) needs no interpolation, and inf - inf would be NaN.
        value = np.where(hi == lo, lo, lo + (h - below) * (hi - lo))
        return np.where(enough & (n_defined > 0), value, np.nan)

    alpha = (1.0 - confidence) / 2.0
    return quantile(alpha), quantile(1.0 - alpha), n_defined


def basic_interval(
    samples: FloatArray,
    estimate: float,
    confidence: float,
    domain: tuple[float | None, float | None] = (None, None),
) -> tuple[float, float]:
    """Basic (reflected) bootstrap interval of one statistic: [2 t - q_hi, 2 t - q_lo].

    For statistics the percentile interval gets wrong: a range (max - min), a min/max ratio
    or the most extreme group are biased away from parity in every replicate (noise widens a
    range), so their percentile interval can sit wholly beyond the estimate. Reflecting the
    quantiles about the estimate removes that shift. Bounds are clipped to ``domain`` (a
    range cannot be negative); NaN when fewer than half of the replicates are defined.
    """
    low_q, high_q, _ = percentile_interval(np.asarray(samples, dtype=np.float64), confidence)
    low, high = 2 * estimate - float(high_q), 2 * estimate - float(low_q)
    floor, ceiling = domain
    if floor is not None:
        low, high = max(low, floor), max(high, floor)
    if ceiling is not None:
        low, high = min(low, ceiling), min(high, ceiling)
    return low, high
