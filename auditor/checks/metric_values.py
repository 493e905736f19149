"""The values of every catalogued metric, from one set of inputs and one weight vector.

The same functions give the point estimates and, called with resampled cells or
resampled weights, every bootstrap replicate: there is one definition of each metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.checks.metric_catalog import FAVORABLE_RATE
from auditor.stats.classification import balanced_accuracy, f1_score, treatment_equality
from auditor.stats.confusion import RATES, RateSpec, rate_parts, ratio
from auditor.stats.regression import grouped_regression
from auditor.stats.scores import (
    RADIX_LEVELS,
    Calibration,
    ScoreLevels,
    ScoreRanking,
    calibration_bins,
    grouped_brier,
    grouped_calibration,
    grouped_share_above,
    scores_are_probabilities,
    top_k_mask,
    weighted_median,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Parts = tuple[FloatArray, FloatArray]  # numerator, denominator of a proportion


def favorable_spec(positive_outcome: str) -> RateSpec:
    """The favourable-outcome rate: predicted positive or predicted negative, per the policy."""
    numerator = ("tp", "fp") if positive_outcome == "favorable" else ("tn", "fn")
    return RateSpec(FAVORABLE_RATE, "Favourable-outcome rate", numerator, ("n",), "", "")


def confusion_proportions(cells: FloatArray, positive_outcome: str) -> dict[str, Parts]:
    """Numerator and denominator of every confusion-table proportion, over cells (..., 4)."""
    specs = [*RATES.values(), favorable_spec(positive_outcome)]
    parts = {spec.name: rate_parts(cells, spec) for spec in specs}
    return {name: (num, den) for name, (num, den, _) in parts.items()}


def confusion_values(cells: FloatArray, positive_outcome: str) -> dict[str, FloatArray]:
    """Every confusion-table metric over cells (..., 4); NaN where undefined."""
    values = {
        name: rate_parts(cells, spec)[2]
        for name, spec in {**RATES, FAVORABLE_RATE: favorable_spec(positive_outcome)}.items()
    }
    values["f1_score"] = f1_score(cells)
    values["balanced_accuracy"] = balanced_accuracy(cells)
    values["treatment_equality"] = treatment_equality(cells)
    return values


def score_levels(scores: FloatArray) -> ScoreLevels | None:
    """The scores' distinct values by hashing, when there are few enough to pay off.

    Rounded or tree-model scores take a few thousand values and the levels make the ranking
    a radix sort; continuous scores take about one value per row, and hashing them would
    only add to the comparison sort (a sample of the rows tells which case this is). -0.0
    and 0.0 are one level, as they are one score.
    """
    s = np.asarray(scores, dtype=np.float64) + 0.0
    sample = s[:: max(1, len(s) // 20_000)]
    if len(np.unique(sample)) > max(1_000, len(sample) // 2):
        return None
    index, uniques = pd.factorize(s, sort=False)
    levels = ScoreLevels.from_factorized(index, uniques)
    return levels if len(levels.values) <= RADIX_LEVELS else None


def _share(parts: Parts) -> FloatArray:
    return ratio(*parts)


@dataclass(frozen=True)
class ScoreInputs:
    """A score per row, sorted once per grouping, with the cut-offs fixed on the full data.

    The median (scoring rate), the policy's threshold and the top-k set are properties of
    the whole sample; a bootstrap replicate reweights rows but keeps them, as the law's
    definitions refer to the audited sample.
    """

    codes: IntArray
    n_groups: int
    y_true: BoolArray
    scores: FloatArray
    ranking: ScoreRanking
    probabilities: bool
    median: float
    threshold: float | None
    top_k: BoolArray | None
    levels: ScoreLevels | None = None

    @classmethod
    def build(
        cls,
        codes: IntArray,
        n_groups: int,
        y_true: BoolArray,
        scores: FloatArray,
        weights: FloatArray | None,
        threshold: float | None,
        top_k: int | None,
        levels: ScoreLevels | None = None,
        counts: IntArray | None = None,
    ) -> ScoreInputs:
        """Sort the scores by group (``levels``: from :func:`score_levels`, shared by every
        grouping of the audit, when the caller has them; ``counts``: rows per cell when each
        row is a cell of identical rows, ``weights`` then being their total weight)."""
        return cls(
            codes=codes,
            n_groups=n_groups,
            y_true=y_true,
            scores=scores,
            ranking=ScoreRanking(codes, n_groups, y_true, scores, levels),
            probabilities=scores_are_probabilities(scores),
            median=weighted_median(scores, weights) if levels is None else levels.median(weights),
            threshold=threshold,
            top_k=None if top_k is None else top_k_mask(scores, top_k, counts),
            levels=levels,
        )

    def proportions(self, weights: FloatArray | None) -> dict[str, Parts]:
        """The score-based shares: scoring rate, and selection at a threshold or in the top k."""
        parts = {
            "scoring_rate": grouped_share_above(
                self.codes, self.n_groups, self.scores, self.median, weights, strict=True
            )
        }
        if self.threshold is not None:
            parts["selection_rate_at_threshold"] = grouped_share_above(
                self.codes, self.n_groups, self.scores, self.threshold, weights, strict=False
            )
        if self.top_k is not None:
            w = np.ones(len(self.scores)) if weights is None else weights
            num = np.bincount(self.codes, weights=w * self.top_k, minlength=self.n_groups)
            den = np.bincount(self.codes, weights=w, minlength=self.n_groups)
            parts["top_k_share"] = (num.astype(np.float64), den.astype(np.float64))
        return parts

    def ranked_values(self, weights: FloatArray | None) -> dict[str, FloatArray]:
        """The metrics that need the ranking (they do not add up over strata)."""
        return {
            "roc_auc": self.ranking.roc_auc(weights),
            "average_precision": self.ranking.average_precision(weights),
        }

    def values(
        self, weights: FloatArray | None, calibration: Calibration | None = None
    ) -> dict[str, FloatArray]:
        """Every score metric per group; calibration ones only when scores are probabilities.

        ``calibration``: the reliability table for these weights, when the caller has it.
        """
        values = self.ranked_values(weights)
        if self.probabilities:
            values["brier_score"] = grouped_brier(
                self.codes, self.n_groups, self.y_true, self.scores, weights
            )
            if calibration is None:
                calibration = grouped_calibration(
                    self.codes,
                    self.n_groups,
                    self.y_true,
                    self.scores,
                    weights,
                    N_BINS,
                    self.levels,
                )
            values["expected_calibration_error"] = calibration.ece
        values.update({name: _share(p) for name, p in self.proportions(weights).items()})
        return values


def regression_values(
    codes: IntArray,
    n_groups: int,
    y_true: FloatArray,
    y_pred: FloatArray,
    weights: FloatArray | None,
) -> dict[str, FloatArray]:
    """Every regression metric per group; NaN where undefined."""
    by_group = grouped_regression(codes, n_groups, y_true, y_pred, weights)
    return {
        "mean_prediction": by_group.mean_prediction,
        "mean_target": by_group.mean_target,
        "mean_absolute_error": by_group.mean_absolute_error,
        "root_mean_squared_error": by_group.root_mean_squared_error,
        "r2_score": by_group.r2,
    }


N_BINS = 10  # calibration bins, as grouped_calibration's default


@dataclass(frozen=True)
class ScoreSums:
    """The additive score metrics as weighted sums per stratum, for bootstrap replicates.

    Brier score, the score shares and calibration are weighted means of per-row terms, so a
    replicate needs only their sums per stratum, added up into any grouping afterwards
    (:func:`score_values_from_sums`); the same numbers as :class:`ScoreInputs` gives.
    """

    strata: IntArray
    n_strata: int
    terms: FloatArray  # (N, K): one column per name in ``names``
    names: tuple[str, ...]
    bin_slots: IntArray | None  # stratum * N_BINS + bin, when scores are probabilities
    y: FloatArray
    scores: FloatArray

    @classmethod
    def build(cls, inputs: ScoreInputs, strata: IntArray, n_strata: int) -> ScoreSums:
        s, y = inputs.scores, inputs.y_true.astype(np.float64)
        columns = {"weight": np.ones_like(s), "scoring_rate": (s > inputs.median) * 1.0}
        if inputs.threshold is not None:
            columns["selection_rate_at_threshold"] = (s >= inputs.threshold) * 1.0
        if inputs.top_k is not None:
            columns["top_k_share"] = inputs.top_k * 1.0
        bin_slots = None
        if inputs.probabilities:
            columns["brier_score"] = (s - y) ** 2
            bin_slots = strata * N_BINS + calibration_bins(s, N_BINS, inputs.levels)
        terms = np.stack(list(columns.values()), axis=1)
        return cls(strata, n_strata, terms, tuple(columns), bin_slots, y, s)

    def sums(self, weights: FloatArray) -> tuple[FloatArray, FloatArray | None]:
        """(S, K) sums of the terms and, for calibration, (S, N_BINS, 3) sums of w, w*s, w*y."""
        by_stratum = np.stack(
            [
                np.bincount(
                    self.strata, weights=self.terms[:, k] * weights, minlength=self.n_strata
                )
                for k in range(self.terms.shape[1])
            ],
            axis=1,
        ).astype(np.float64)
        if self.bin_slots is None:
            return by_stratum, None
        size = self.n_strata * N_BINS
        calibration = np.stack(
            [
                np.bincount(self.bin_slots, weights=values, minlength=size)
                for values in (weights, weights * self.scores, weights * self.y)
            ],
            axis=1,
        ).reshape(self.n_strata, N_BINS, 3)
        return by_stratum, calibration.astype(np.float64)

    def values_from(
        self, sums: FloatArray, calibration: FloatArray | None
    ) -> dict[str, FloatArray]:
        """Metric values from sums already added up into groups: (..., G, K), (..., G, B, 3)."""
        weight = sums[..., 0]
        values = {
            name: _share((sums[..., k], weight))
            for k, name in enumerate(self.names)
            if name != "weight"
        }
        if calibration is not None:
            gap = np.abs(calibration[..., 2] - calibration[..., 1]).sum(axis=-1)
            values["expected_calibration_error"] = _share((gap, calibration[..., 0].sum(axis=-1)))
        return values
