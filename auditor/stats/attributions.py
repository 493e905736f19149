"""Audits of SHAP attributions: importance overall and per group, disparity, gap attribution.

Inputs are a SHAP matrix ``phi`` (rows x features), optionally the model ``output`` on the
same scale, group ``codes`` of one sensitive attribute (or an intersection) and optional
non-negative ``weights``. Every statistic is a weighted mean (or a difference of means) per
group, computed with its bootstrap replicates in ``attribution_bootstrap.group_sums``:
stratified resampling (each stratum keeps its row count), seeded, one matrix product per
group and batch of replicates. Values and differences get percentile intervals; the
max - min over groups gets a basic (reflected) interval clipped at 0. Every interval is
widened to include its estimate. Undefined values (a group without weight) are NaN and
flagged, never 0. Gap attribution lives in ``attribution_gap``, row sampling in
``attribution_sampling``, reason codes in ``attribution_reasons``; all are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.stats.attribution_bootstrap import (
    BoolArray,
    basic,
    check_rows,
    group_sums,
    percentile,
    ratio,
    strata_of,
)
from auditor.stats.attribution_gap import GapAttribution, gap_attribution
from auditor.stats.attribution_reasons import PrincipalReasons, principal_reasons
from auditor.stats.attribution_sampling import StratifiedSample, stratified_sample
from auditor.stats.bootstrap import FloatArray, IntArray

__all__ = [
    "Disparity",
    "GapAttribution",
    "GroupImportance",
    "Importance",
    "PrincipalReasons",
    "StratifiedSample",
    "explanation_disparity",
    "gap_attribution",
    "global_importance",
    "group_importance",
    "principal_reasons",
    "stratified_sample",
]


@dataclass(frozen=True)
class Importance:
    """Overall importance of each feature; arrays have shape (n_features,).

    ``mean_abs`` is the weighted mean |phi|, ``mean`` the weighted mean (signed) phi; each
    with a percentile-bootstrap interval (``*_low``, ``*_high``; NaN when resamples = 0).
    Everything is NaN and ``defined`` is False when the total weight is 0.
    """

    mean_abs: FloatArray
    mean_abs_low: FloatArray
    mean_abs_high: FloatArray
    mean: FloatArray
    mean_low: FloatArray
    mean_high: FloatArray
    weight: float
    defined: bool


@dataclass(frozen=True)
class GroupImportance:
    """Importance per group and feature; value arrays have shape (n_groups, n_features).

    Same fields as :class:`Importance`, per group. ``weight`` and ``rows`` (n_groups,) are
    each group's total weight and row count; a group with no weight has NaN values and
    ``defined`` False.
    """

    mean_abs: FloatArray
    mean_abs_low: FloatArray
    mean_abs_high: FloatArray
    mean: FloatArray
    mean_low: FloatArray
    mean_high: FloatArray
    weight: FloatArray
    rows: IntArray
    defined: BoolArray


@dataclass(frozen=True)
class Disparity:
    """Largest between-group difference of mean phi per feature; arrays (n_features,).

    ``gap`` = mean phi of ``high_group`` - mean phi of ``low_group``, the max - min over the
    ``eligible`` groups (n_groups,): at least ``min_group_size`` rows and positive weight.
    ``gap_low``/``gap_high`` is a basic bootstrap interval clipped at 0. ``order`` ranks the
    features by gap, largest first (NaN last). With fewer than two eligible groups the gap
    is NaN and the groups are -1.
    """

    gap: FloatArray
    gap_low: FloatArray
    gap_high: FloatArray
    high_group: IntArray
    low_group: IntArray
    order: IntArray
    eligible: BoolArray


def _means(
    phi: FloatArray,
    weights: FloatArray | None,
    codes: IntArray | None,
    n_groups: int,
    strata: IntArray | None,
    resamples: int,
    seed: int | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Mean |phi| and mean phi per group (G, p), their replicates (B, G, p), weight, rows."""
    values, w, c = check_rows(phi, weights, codes, n_groups)
    s, n_strata = strata_of(strata, c)
    p = values.shape[1]
    est, reps = group_sums(
        np.hstack([np.abs(values), values]), w, c, n_groups, s, n_strata, resamples, seed
    )
    means = ratio(est[:, :-1], est[:, -1:])
    rep_means = ratio(reps[..., :-1], reps[..., -1:])
    rows = np.bincount(c, minlength=n_groups).astype(np.int64)
    return means[:, :p], means[:, p:], rep_means[..., :p], rep_means[..., p:], est[:, -1], rows


def global_importance(
    phi: FloatArray,
    weights: FloatArray | None = None,
    strata: IntArray | None = None,
    resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> Importance:
    """Weighted mean |phi| and mean phi of each feature, with percentile intervals.

    The bootstrap resamples rows within each stratum of ``strata`` (all rows one stratum when
    None), so pass the finest sensitive intersection to keep every group's size fixed.
    """
    n = np.asarray(phi).shape[0]
    one = None if strata is None else np.asarray(strata, dtype=np.int64)
    abs_m, mean, abs_r, mean_r, weight, _ = _means(
        phi, weights, np.zeros(n, dtype=np.int64), 1, one, resamples, seed
    )
    abs_lo, abs_hi = percentile(abs_r[:, 0], abs_m[0], confidence)
    lo, hi = percentile(mean_r[:, 0], mean[0], confidence)
    total = float(weight[0])
    return Importance(abs_m[0], abs_lo, abs_hi, mean[0], lo, hi, total, total > 0)


def group_importance(
    phi: FloatArray,
    codes: IntArray,
    n_groups: int,
    weights: FloatArray | None = None,
    resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    strata: IntArray | None = None,
) -> GroupImportance:
    """Weighted mean |phi| and mean phi per group and feature, with percentile intervals.

    Resampling is stratified by ``strata`` (default: the group codes); the same seed and
    strata give the same replicates as :func:`explanation_disparity`.
    """
    abs_m, mean, abs_r, mean_r, weight, rows = _means(
        phi, weights, codes, n_groups, strata, resamples, seed
    )
    abs_lo, abs_hi = percentile(abs_r, abs_m, confidence)
    lo, hi = percentile(mean_r, mean, confidence)
    return GroupImportance(abs_m, abs_lo, abs_hi, mean, lo, hi, weight, rows, weight > 0)


def _range(means: FloatArray, eligible: BoolArray) -> tuple[FloatArray, IntArray, IntArray]:
    """max - min over eligible, defined groups (axis -2) of (..., G, p), and which groups."""
    usable = eligible[:, None] & ~np.isnan(means)
    top = np.where(usable, means, -np.inf)
    bottom = np.where(usable, means, np.inf)
    # The last maximum and the first minimum: two different groups even when all are equal.
    n_groups = means.shape[-2]
    high = n_groups - 1 - np.argmax(np.flip(top, axis=-2), axis=-2)
    low = np.argmin(bottom, axis=-2)
    gap = np.max(top, axis=-2) - np.min(bottom, axis=-2)
    enough = usable.sum(axis=-2) >= 2
    return np.where(enough, gap, np.nan), np.where(enough, high, -1), np.where(enough, low, -1)


def explanation_disparity(
    phi: FloatArray,
    codes: IntArray,
    n_groups: int,
    weights: FloatArray | None = None,
    min_group_size: int = 30,
    resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    strata: IntArray | None = None,
) -> Disparity:
    """Per feature, the largest difference of mean phi between two groups, ranked.

    Groups with fewer than ``min_group_size`` rows (or no weight) are left out. The range is
    recomputed in every replicate (over the groups defined there) and gets a basic interval,
    because noise widens a range in every replicate.
    """
    _, mean, _, mean_r, weight, rows = _means(
        phi, weights, codes, n_groups, strata, resamples, seed
    )
    eligible = (rows >= min_group_size) & (weight > 0)
    gap, high, low = _range(mean, eligible)
    gap_r, _, _ = _range(mean_r, eligible)
    gap_lo, gap_hi = basic(gap_r, gap, confidence, floor=0.0)
    order = np.lexsort((np.arange(gap.size), -np.nan_to_num(gap, nan=-np.inf)))
    return Disparity(gap, gap_lo, gap_hi, high, low, order.astype(np.int64), eligible)
