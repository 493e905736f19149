"""ROC AUC of class probabilities, weighted, and its stratified bootstrap interval.

AUC here is the Mann-Whitney form: the chance that a random row of the class scores higher
than a random row of the rest, ties counting half. Weighted by how often the bootstrap drew
each row, it is the AUC of that resample, without copying any data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auditor.stats.bootstrap import percentile_interval, row_multiplicities

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class _RankedClass:
    """One class against the rest, scores sorted once into blocks of tied scores."""

    def __init__(self, scores: FloatArray, positive: npt.NDArray[np.bool_]) -> None:
        self.order = np.argsort(scores, kind="stable")
        ordered = scores[self.order]
        self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        self.positive = positive[self.order].astype(np.float64)

    def auc(self, weights: FloatArray) -> float:
        w = weights[self.order]
        pos = np.add.reduceat(w * self.positive, self.starts)
        neg = np.add.reduceat(w * (1.0 - self.positive), self.starts)
        total_pos, total_neg = float(pos.sum()), float(neg.sum())
        if total_pos <= 0 or total_neg <= 0:
            return float("nan")
        # Negatives in lower-scored blocks count fully, those in the same block half.
        below = np.cumsum(neg) - neg
        return float(np.sum(pos * (below + 0.5 * neg))) / (total_pos * total_neg)


def _ranked(proba: FloatArray, codes: IntArray) -> list[_RankedClass]:
    # Binary: one AUC (class 0's one-vs-rest AUC is the same number).
    classes = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    return [_RankedClass(proba[:, k], codes == k) for k in classes]


def ovr_auc(proba: FloatArray, codes: IntArray, weights: FloatArray | None = None) -> float:
    """ROC AUC: binary, of ``proba[:, 1]``; otherwise the macro mean of one-vs-rest AUCs.

    ``codes`` are class indices into the columns of ``proba``; ``weights`` row weights
    (default 1). Equals ``sklearn.metrics.roc_auc_score(codes, proba[:, 1])`` for two
    classes and ``roc_auc_score(codes, proba, multi_class="ovr", average="macro")`` else.
    """
    w = np.ones(codes.size) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.mean([r.auc(w) for r in _ranked(proba, codes)]))


def auc_interval(
    proba: FloatArray, codes: IntArray, confidence: float, n_resamples: int, seed: int
) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`ovr_auc`, resampling rows within each class.

    Seeded with ``seed``; stratifying by class keeps every class's size, so every
    resample's AUC is defined. The predictions are fixed (no model is refitted).
    """
    ranked = _ranked(proba, codes)
    rng = np.random.default_rng(seed)
    n_classes = proba.shape[1]
    draws = row_multiplicities(codes.astype(np.int64), n_classes, n_resamples, rng)
    samples = np.array([np.mean([r.auc(w) for r in ranked]) for w in draws])
    low, high, _ = percentile_interval(samples[:, None], confidence)
    return float(low[0]), float(high[0])
