"""Threshold-free metrics of a score by group: ROC AUC, average precision, Brier, calibration.

``ScoreRanking`` sorts the rows once by (group, score descending) and cuts them into tie
blocks (runs of equal group and score). Every ranking metric is then one bincount of the
weights into the blocks and running sums over them, so a bootstrap can call it with new
``weights`` (sample weights times resampling multiplicities) in O(N) per call, without
sorting again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.stats.confusion import BoolArray, FloatArray, IntArray, ratio

RADIX_LEVELS = 1 << 16  # numpy's stable argsort is a radix sort on 16-bit keys


@dataclass(frozen=True)
class ScoreLevels:
    """The distinct scores, ascending, and each row's level: ``values[index] == scores``.

    Found once per audit by hashing (pandas' factorize, in the caller's layer), so that
    sorting rows by score, the median and the calibration bins work on the few distinct
    values plus a gather instead of a comparison sort of every row.
    """

    values: FloatArray  # (L,) distinct scores, ascending
    index: IntArray  # (n,) level of each row

    @classmethod
    def from_factorized(cls, index: IntArray, uniques: FloatArray) -> ScoreLevels:
        """From a factorisation: ``uniques[index] == scores`` with uniques in any order."""
        order = np.argsort(uniques)
        rank = np.empty(len(uniques), dtype=np.intp)
        rank[order] = np.arange(len(uniques))
        return cls(np.asarray(uniques, dtype=np.float64)[order], rank[np.asarray(index)])

    @classmethod
    def from_scores(cls, scores: FloatArray) -> ScoreLevels:
        """By sorting (no hashing): for callers that have no factorisation."""
        values, index = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True)
        return cls(values, index.astype(np.intp))

    def level_weights(self, weights: FloatArray | None = None) -> FloatArray:
        """Total weight (count when unweighted) of the rows at each level."""
        return np.bincount(self.index, weights=weights, minlength=len(self.values)).astype(
            np.float64
        )

    def median(self, weights: FloatArray | None = None) -> float:
        """``weighted_median`` of the rows' scores, from the levels' total weights."""
        return weighted_median(self.values, self.level_weights(weights))


def _radix_order(keys: list[npt.NDArray[np.unsignedinteger]]) -> IntArray:
    """Rows ordered by several keys, the least significant first (an LSD radix sort)."""
    order = np.argsort(keys[0], kind="stable")
    for key in keys[1:]:
        order = order[np.argsort(key[order], kind="stable")]
    return order


def _descending_level_keys(levels: ScoreLevels) -> list[npt.NDArray[np.unsignedinteger]]:
    """The descending level as 16-bit digits, least significant first."""
    descending = (len(levels.values) - 1) - levels.index
    if len(levels.values) <= RADIX_LEVELS:
        return [descending.astype(np.uint16)]
    high = descending >> 16
    return [(descending & 0xFFFF).astype(np.uint16), high.astype(np.min_scalar_type(high.max()))]


class ScoreRanking:
    """Rows sorted once by (group, score); every threshold-free metric is then an O(N) pass.

    Parameters
    ----------
    codes : int array, shape (n,)
        Group code of each row, in ``[0, n_groups)``.
    n_groups : int
        Number of groups, including groups with no rows (their metrics are NaN).
    y_true : bool array, shape (n,)
        True where the row's actual label is the positive label.
    scores : float array, shape (n,)
        Finite scores; higher means more likely positive.
    levels : ScoreLevels, optional
        The scores' distinct values and each row's level. With them the rows are ordered by
        a radix sort of (group, level) instead of a comparison sort of the scores: the same
        tie blocks, several times faster when the scores take few distinct values.
    """

    def __init__(
        self,
        codes: IntArray,
        n_groups: int,
        y_true: BoolArray,
        scores: FloatArray,
        levels: ScoreLevels | None = None,
    ) -> None:
        codes = np.asarray(codes)
        scores = np.asarray(scores, dtype=np.float64)
        if not (len(codes) == len(y_true) == len(scores)):
            raise ValueError("codes, y_true and scores must have the same length")
        if not np.isfinite(scores).all():
            raise ValueError("scores must be finite")
        if codes.size and (codes.min() < 0 or codes.max() >= n_groups):
            raise ValueError(f"group codes must lie in [0, {n_groups})")
        if levels is not None and len(levels.index) != len(scores):
            raise ValueError("levels must have one entry per row")
        self.n_groups = n_groups
        # Descending score within group, as sklearn walks the thresholds. Two sorts beat
        # lexsort: the first need not be stable (tied scores form one block whatever their
        # order), the second is, and on codes narrowed to 8 or 16 bits it is a radix sort.
        narrow = codes.astype(np.min_scalar_type(max(n_groups - 1, 0)))
        if levels is None:
            by_score = np.argsort(-scores)
            order = by_score[np.argsort(narrow[by_score], kind="stable")]
        else:
            order = _radix_order([*_descending_level_keys(levels), narrow])
        sorted_codes = codes[order]
        sorted_scores = scores[order]
        starts = np.ones(len(scores), dtype=bool)
        starts[1:] = (sorted_codes[1:] != sorted_codes[:-1]) | (
            sorted_scores[1:] != sorted_scores[:-1]
        )
        self._n_blocks = int(starts.sum())
        # Slot of each row, in the caller's row order: tie block, plus n_blocks if positive.
        # One bincount of the weights over it gives every block's negative and positive
        # weight, without gathering the weights into sorted order on each call.
        self._slot = np.empty(len(scores), dtype=np.intp)
        self._slot[order] = np.cumsum(starts) - 1
        self._slot += self._n_blocks * np.asarray(y_true, dtype=np.intp)
        # Groups are contiguous runs of blocks: sums per group are reduceat over the runs.
        block_group = sorted_codes[starts]
        group_starts = np.ones(self._n_blocks, dtype=bool)
        group_starts[1:] = block_group[1:] != block_group[:-1]
        self._firsts = np.flatnonzero(group_starts)  # first block of each non-empty group
        self._present = block_group[group_starts].astype(np.intp)
        self._blocks_per_group = np.diff(np.append(self._firsts, self._n_blocks))

    def _block_sums(self, weights: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """(positive weight, negative weight) of each tie block, in sorted order."""
        counts = np.bincount(self._slot, weights=weights, minlength=2 * self._n_blocks)
        flat = np.asarray(counts, dtype=np.float64)
        return flat[self._n_blocks :], flat[: self._n_blocks]

    def _within(self, per_block: FloatArray) -> FloatArray:
        """Running sum of ``per_block`` within each block's group, inclusive.

        One global cumsum less its value just before the group: the rounding error grows with
        the running total of earlier groups (about 1e-16 of it per block), far below anything
        a metric reports.
        """
        running = np.cumsum(per_block)
        before = self._firsts - 1
        base = np.where(before >= 0, running[np.maximum(before, 0)], 0.0)
        return running - np.repeat(base, self._blocks_per_group)

    def _group_sum(self, per_block: FloatArray) -> FloatArray:
        out = np.zeros(self.n_groups)
        out[self._present] = np.add.reduceat(per_block, self._firsts)
        return out

    def roc_auc(self, weights: FloatArray | None = None) -> FloatArray:
        """ROC AUC per group, as ``sklearn.metrics.roc_auc_score`` on the group's rows.

        The probability that a random positive outscores a random negative, ties counting
        one half, each pair weighted by the product of the two rows' weights.

        Parameters
        ----------
        weights : float array, shape (n,), optional
            Non-negative row weights in the original row order (e.g. sample weights times
            bootstrap multiplicities).

        Returns
        -------
        float array, shape (n_groups,)
            NaN where the group has no positive-weight positives or no negatives.
        """
        pos, neg = self._block_sums(weights)
        # Positives scoring strictly higher, plus half the tied ones: (incl - pos) + pos / 2.
        wins = self._group_sum(neg * (self._within(pos) - 0.5 * pos))
        return ratio(wins, self._group_sum(pos) * self._group_sum(neg))

    def average_precision(self, weights: FloatArray | None = None) -> FloatArray:
        """Average precision per group, as ``sklearn.metrics.average_precision_score``.

        ``sum_n (R_n - R_{n-1}) * P_n`` over the group's distinct scores, descending, where
        ``R_n`` and ``P_n`` are recall and precision when every row scoring at least the
        n-th score is selected (tied scores are one threshold).

        Parameters
        ----------
        weights : float array, shape (n,), optional
            Non-negative row weights in the original row order.

        Returns
        -------
        float array, shape (n_groups,)
            NaN where the group has no positive-weight positives.
        """
        pos, neg = self._block_sums(weights)
        tp, fp = self._within(pos), self._within(neg)
        # Only blocks holding positives move recall; their tp + fp is then positive.
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=pos > 0)
        return ratio(self._group_sum(pos * precision), self._group_sum(pos))


def _weighted_bincount(
    codes: IntArray, n_groups: int, values: FloatArray, weights: FloatArray | None
) -> FloatArray:
    w = values if weights is None else values * weights
    return np.bincount(codes, weights=w, minlength=n_groups).astype(np.float64)


def _group_weight(codes: IntArray, n_groups: int, weights: FloatArray | None) -> FloatArray:
    return np.bincount(codes, weights=weights, minlength=n_groups).astype(np.float64)


def grouped_brier(
    codes: IntArray,
    n_groups: int,
    y_true: BoolArray,
    scores: FloatArray,
    weights: FloatArray | None = None,
) -> FloatArray:
    """Brier score per group: weighted mean of ``(score - y)^2``, as ``brier_score_loss``.

    Returns a float array of shape (n_groups,), NaN for groups with no (positive) weight.
    """
    sq = (np.asarray(scores, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)) ** 2
    num = _weighted_bincount(codes, n_groups, sq, weights)
    return ratio(num, _group_weight(codes, n_groups, weights))


@dataclass(frozen=True)
class Calibration:
    """Reliability table per group; arrays are (n_groups, n_bins) unless noted."""

    edges: FloatArray  # (n_bins + 1,) uniform edges on [0, 1]
    weight: FloatArray  # weight (count when unweighted) of rows per bin
    rows: IntArray  # unweighted row count per bin
    mean_score: FloatArray  # NaN for empty bins
    fraction_positive: FloatArray  # NaN for empty bins
    ece: FloatArray  # (n_groups,) sum_b weight_gb / weight_g * |fraction - mean|; NaN if empty


def grouped_calibration(
    codes: IntArray,
    n_groups: int,
    y_true: BoolArray,
    scores: FloatArray,
    weights: FloatArray | None = None,
    n_bins: int = 10,
    levels: ScoreLevels | None = None,
    counts: IntArray | None = None,
) -> Calibration:
    """Reliability table and expected calibration error (ECE) per group.

    Bins are those of ``sklearn.calibration.calibration_curve(strategy='uniform')``:
    ``n_bins`` equal bins on [0, 1], each closed on the right, (e_b, e_b+1], except the
    first, which also holds 0. A score of exactly 1.0 falls in the last bin.

    Parameters
    ----------
    codes, n_groups, y_true, weights
        As in ``grouped_brier``.
    scores : float array, shape (n,)
        Probabilities in [0, 1]; anything else raises ValueError (callers check first with
        ``scores_are_probabilities``).
    n_bins : int
        Number of bins.
    levels : ScoreLevels, optional
        The scores' levels: each distinct score is binned once instead of each row.
    counts : int array, optional
        Rows each entry stands for (cells of an aggregated table): the bins' row counts.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if not scores_are_probabilities(scores):
        raise ValueError("calibration needs scores that are probabilities in [0, 1]")
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    edges = calibration_edges(n_bins)
    slots = np.asarray(codes) * n_bins + calibration_bins(scores, n_bins, levels)
    size = n_groups * n_bins
    y = np.asarray(y_true, dtype=np.float64)
    w = np.ones_like(scores) if weights is None else np.asarray(weights, dtype=np.float64)

    def table(values: FloatArray) -> FloatArray:
        flat = np.bincount(slots, weights=values, minlength=size)
        return np.asarray(flat, dtype=np.float64).reshape(n_groups, n_bins)

    weight, score_sum, pos_sum = table(w), table(w * scores), table(w * y)
    rows = np.bincount(slots, weights=counts, minlength=size).astype(np.int64)
    rows = rows.reshape(n_groups, n_bins)
    # weight_gb / weight_g * |pos_gb / weight_gb - score_gb / weight_gb| needs no per-bin ratio.
    gap = np.abs(pos_sum - score_sum).sum(axis=1)
    return Calibration(
        edges=edges,
        weight=weight,
        rows=rows,
        mean_score=ratio(score_sum, weight),
        fraction_positive=ratio(pos_sum, weight),
        ece=ratio(gap, weight.sum(axis=1)),
    )


def calibration_edges(n_bins: int) -> FloatArray:
    """The uniform bin edges on [0, 1] of ``calibration_curve(strategy='uniform')``."""
    return np.linspace(0.0, 1.0, n_bins + 1)


def calibration_bins(
    scores: FloatArray, n_bins: int, levels: ScoreLevels | None = None
) -> IntArray:
    """Calibration bin of each row: (e_b, e_b+1], the first bin also holding 0.

    With ``levels`` the distinct scores are binned and the bins gathered per row: a binary
    search of every row costs more than the whole rest of the reliability table.
    """
    inner = calibration_edges(n_bins)[1:-1]
    if levels is None:
        return np.searchsorted(inner, scores).astype(np.intp)
    return np.searchsorted(inner, levels.values).astype(np.intp)[levels.index]


def scores_are_probabilities(scores: FloatArray) -> bool:
    """True when every score is finite and within [0, 1] (vacuously true when empty)."""
    s = np.asarray(scores, dtype=np.float64)
    return bool(np.all(np.isfinite(s) & (s >= 0.0) & (s <= 1.0)))


def grouped_share_above(
    codes: IntArray,
    n_groups: int,
    scores: FloatArray,
    cut: float,
    weights: FloatArray | None = None,
    *,
    strict: bool,
) -> tuple[FloatArray, FloatArray]:
    """Weight of each group's rows scoring above ``cut``, and the group's total weight.

    ``strict=True`` counts ``score > cut`` (NYC Local Law 144's scoring rate: the share of
    a group scoring above the median of all scores); ``strict=False`` counts
    ``score >= cut`` (selection at a policy score threshold). The caller divides, so it can
    say why a group with zero weight has no rate.
    """
    s = np.asarray(scores, dtype=np.float64)
    above = (s > cut) if strict else (s >= cut)
    num = _weighted_bincount(codes, n_groups, above.astype(np.float64), weights)
    return num, _group_weight(codes, n_groups, weights)


def weighted_median(scores: FloatArray, weights: FloatArray | None = None) -> float:
    """Median of the scores; NaN when there are none (or no positive weight).

    Unweighted, this is ``np.median``. Weighted, it is the midpoint of the lower weighted
    median (the smallest score with at least half the weight at or below it) and the upper
    one (the largest score with at least half the weight at or above it). They differ only
    when exactly half the weight lies at or below a score, and the midpoint is then what
    ``np.median`` gives for an even count, so with integer weights (bootstrap
    multiplicities) the result equals ``np.median(np.repeat(scores, weights))``.
    """
    s = np.asarray(scores, dtype=np.float64)
    if weights is None:
        return float(np.median(s)) if s.size else float("nan")
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    s, w = s[order], w[order]
    below = np.cumsum(w)  # weight at or below each sorted score
    if s.size == 0 or below[-1] <= 0:
        return float("nan")
    half = below[-1] / 2.0
    above = np.cumsum(w[::-1])[::-1]  # weight at or above each sorted score
    # Both picks land on positive-weight rows: a zero-weight row repeats its neighbour's sum.
    low = s[np.searchsorted(below, half, side="left")]
    high = s[np.count_nonzero(above >= half) - 1]
    return float((low + high) / 2.0)


def top_k_mask(scores: FloatArray, k: int, counts: IntArray | None = None) -> BoolArray:
    """True for the rows with the k highest scores, ties at the k-th score included.

    Every row tied with the k-th highest score is selected, so the mask can hold more than
    ``k`` rows: two people with the same score must get the same decision. ``k <= 0``
    selects nobody and ``k >= n`` everybody. Scores must not be NaN. ``counts``: how many
    identical rows each entry stands for (cells of an aggregated table).
    """
    s = np.asarray(scores, dtype=np.float64)
    if np.isnan(s).any():
        raise ValueError("scores must not be NaN")
    total = s.size if counts is None else int(np.sum(counts))
    if k <= 0:
        return np.zeros(s.shape, dtype=bool)
    if k >= total:
        return np.ones(s.shape, dtype=bool)
    if counts is None:
        kth = np.partition(s, s.size - k)[s.size - k]  # O(n), no full sort
    else:  # the score at which the rows counted from the top reach k
        order = np.argsort(-s, kind="stable")
        reached = np.searchsorted(np.cumsum(np.asarray(counts)[order]), k)
        kth = s[order[reached]]
    return s >= kth
