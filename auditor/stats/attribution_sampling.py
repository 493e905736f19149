"""A row sample for explaining a large data set: stratified by group, every group represented.

SHAP values cost per row, so large data are explained on a sample. A simple random sample
can miss a small group altogether; this one keeps small groups whole up to a floor
(``min(n_g, min_per_group)`` rows) and shares the rest of the budget proportionally.
Sampling fractions then differ between groups, so the sample carries design weights
``n_g / sampled_g``: weighted means over the sample are unbiased for the full data, and each
group's weighted share of the sample equals its share of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.stats.bootstrap import FloatArray, IntArray


@dataclass(frozen=True)
class StratifiedSample:
    """Which rows to explain, and how to weight them.

    indices : int array, shape (m,)
        Sampled rows, ascending, into the full data.
    population, sampled : int arrays, shape (n_groups,)
        Rows per group in the full data and in the sample.
    fraction : float array, shape (n_groups,)
        ``sampled / population``; NaN for a group with no rows.
    design_weights : float array, shape (m,)
        ``population_g / sampled_g`` of each sampled row's group. Multiply any sample weights
        by these before computing statistics over the sample.
    """

    indices: IntArray
    population: IntArray
    sampled: IntArray
    fraction: FloatArray
    design_weights: FloatArray


def _allocate(population: IntArray, budget: int, min_per_group: int) -> IntArray:
    """Rows to draw per group: the floor, plus the rest of the budget shared proportionally
    to the rows each group has left (largest remainders, ties to the lower group)."""
    floor = np.minimum(population, min_per_group)
    spare = population - floor
    rest = budget - int(floor.sum())
    if rest <= 0 or spare.sum() == 0:
        return floor  # the floors alone reach the budget: every group still gets its floor
    quota = rest * spare / spare.sum()
    extra = np.floor(quota).astype(np.int64)
    left = rest - int(extra.sum())
    # Stable sort on the negated remainder: largest first, lower group first on ties.
    extra[np.argsort(-(quota - extra), kind="stable")[:left]] += 1
    return floor + np.minimum(extra, spare)


def stratified_sample(
    codes: IntArray,
    n_groups: int,
    budget: int,
    seed: int | None = 0,
    min_per_group: int = 50,
) -> StratifiedSample:
    """About ``budget`` rows, stratified by group, with every non-empty group represented.

    When there are no more rows than ``budget``, all rows (design weights 1). Otherwise each
    group keeps ``min(n_g, min_per_group)`` rows and the remaining budget is shared in
    proportion to the rows each group has beyond that floor; the sample has exactly
    ``budget`` rows unless the floors alone exceed it (then it has the floors). Rows within a
    group are a simple random sample without replacement, fixed by ``seed``.
    """
    c = np.asarray(codes, dtype=np.int64)
    if c.ndim != 1 or (c.size and (c.min() < 0 or c.max() >= n_groups)):
        raise ValueError(f"codes must be one-dimensional and lie in [0, {n_groups})")
    if budget < 1 or min_per_group < 1:
        raise ValueError("budget and min_per_group must be positive")
    population = np.bincount(c, minlength=n_groups).astype(np.int64)
    if c.size <= budget:
        take = population
        indices = np.arange(c.size, dtype=np.int64)
    else:
        take = _allocate(population, budget, min_per_group)
        # Rank the rows of each group in a random order; keep the first take[g] of group g.
        key = np.random.default_rng(seed).random(c.size)
        order = np.lexsort((key, c))
        start = np.cumsum(population) - population
        rank = np.arange(c.size) - start[c[order]]
        indices = np.sort(order[rank < take[c[order]]]).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(population > 0, take / np.maximum(population, 1), np.nan)
        design = population / np.maximum(take, 1)
    return StratifiedSample(indices, population, take, fraction, design[c[indices]])
