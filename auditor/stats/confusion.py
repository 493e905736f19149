"""Grouped confusion counts in one ``numpy.bincount`` pass, and every rate derived from them.

A row's cell is ``2 * y_true + y_pred`` (0 = TN, 1 = FP, 2 = FN, 3 = TP); its slot in the
flat count vector is ``group_code * 4 + cell``. One bincount over those slots gives the
(weighted) confusion table of every group at once; rates are ratios of sums of its columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CELLS = ("tn", "fp", "fn", "tp")


@dataclass(frozen=True)
class GroupedCounts:
    """Confusion counts per group; ``cells`` has shape (n_groups, 4) in ``CELLS`` order."""

    cells: FloatArray
    rows: IntArray

    def cell(self, name: str) -> FloatArray:
        """The column of one cell ('tp', 'fp', 'fn' or 'tn'), or 'n' for the group total."""
        if name == "n":
            return np.asarray(self.cells.sum(axis=1), dtype=np.float64)
        return np.asarray(self.cells[:, CELLS.index(name)], dtype=np.float64)

    @property
    def n_groups(self) -> int:
        return int(self.cells.shape[0])


def grouped_confusion(
    codes: IntArray,
    n_groups: int,
    y_true: BoolArray,
    y_pred: BoolArray,
    weights: FloatArray | None = None,
) -> GroupedCounts:
    """Count TN, FP, FN, TP per group.

    Parameters
    ----------
    codes : int array, shape (n,)
        Group code of each row, in ``[0, n_groups)``.
    n_groups : int
        Number of groups, including groups with no rows (they get zero counts).
    y_true, y_pred : bool arrays, shape (n,)
        True where the row's actual / predicted label is the positive label.
    weights : float array, optional
        Sample weights; the cells are then sums of weights.
    """
    slots = codes * 4 + (y_true.astype(np.int64) * 2 + y_pred.astype(np.int64))
    flat = np.bincount(slots, weights=weights, minlength=n_groups * 4)
    rows = np.bincount(codes, minlength=n_groups).astype(np.int64)
    return GroupedCounts(cells=flat.astype(np.float64).reshape(n_groups, 4), rows=rows)


@dataclass(frozen=True)
class RateSpec:
    """A rate as a ratio of sums of confusion cells, with the reason it can be undefined."""

    name: str
    label: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    undefined_reason: str
    definition: str


def _spec(name: str, label: str, num: str, den: str, reason: str, definition: str) -> RateSpec:
    return RateSpec(name, label, tuple(num.split("+")), tuple(den.split("+")), reason, definition)


# The one table every group rate comes from (fairlearn's vocabulary). Reasons are the
# string values of auditor.results.Reason.
RATES: dict[str, RateSpec] = {
    s.name: s
    for s in (
        _spec(
            "selection_rate",
            "Selection rate",
            "tp+fp",
            "n",
            "empty_group",
            "Share of the group predicted positive: (TP + FP) / n.",
        ),
        _spec(
            "base_rate",
            "Base rate",
            "tp+fn",
            "n",
            "empty_group",
            "Share of the group actually positive: (TP + FN) / n.",
        ),
        _spec(
            "true_positive_rate",
            "True positive rate (recall)",
            "tp",
            "tp+fn",
            "no_positives",
            "Share of actual positives predicted positive: TP / (TP + FN).",
        ),
        _spec(
            "false_negative_rate",
            "False negative rate",
            "fn",
            "tp+fn",
            "no_positives",
            "Share of actual positives predicted negative: FN / (TP + FN).",
        ),
        _spec(
            "false_positive_rate",
            "False positive rate",
            "fp",
            "fp+tn",
            "no_negatives",
            "Share of actual negatives predicted positive: FP / (FP + TN).",
        ),
        _spec(
            "true_negative_rate",
            "True negative rate (specificity)",
            "tn",
            "fp+tn",
            "no_negatives",
            "Share of actual negatives predicted negative: TN / (FP + TN).",
        ),
        _spec(
            "precision",
            "Precision (PPV)",
            "tp",
            "tp+fp",
            "no_predicted_positives",
            "Share of predicted positives that are actual positives: TP / (TP + FP).",
        ),
        _spec(
            "false_discovery_rate",
            "False discovery rate",
            "fp",
            "tp+fp",
            "no_predicted_positives",
            "Share of predicted positives that are actual negatives: FP / (TP + FP).",
        ),
        _spec(
            "negative_predictive_value",
            "Negative predictive value",
            "tn",
            "tn+fn",
            "no_predicted_negatives",
            "Share of predicted negatives that are actual negatives: TN / (TN + FN).",
        ),
        _spec(
            "false_omission_rate",
            "False omission rate",
            "fn",
            "tn+fn",
            "no_predicted_negatives",
            "Share of predicted negatives that are actual positives: FN / (TN + FN).",
        ),
        _spec(
            "accuracy",
            "Accuracy",
            "tp+tn",
            "n",
            "empty_group",
            "Share of the group predicted correctly: (TP + TN) / n.",
        ),
    )
}


def cell_sum(cells: FloatArray, names: tuple[str, ...]) -> FloatArray:
    """Sum of the named cells along the last axis of ``cells`` (..., 4); 'n' is every cell.

    Works on one table (G, 4) and on a stack of bootstrap tables (B, G, 4) alike.
    """
    total = np.zeros(cells.shape[:-1], dtype=np.float64)
    for name in names:
        total = total + (cells.sum(axis=-1) if name == "n" else cells[..., CELLS.index(name)])
    return total


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator, NaN where the denominator is 0 (never a silent 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def rate_parts(cells: FloatArray, spec: RateSpec) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Numerator, denominator and value of one rate over cells (..., 4); NaN where 0/0."""
    num = cell_sum(cells, spec.numerator)
    den = cell_sum(cells, spec.denominator)
    return num, den, ratio(num, den)


def rate(counts: GroupedCounts, spec: RateSpec) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Numerator, denominator and value of one rate per group; value is NaN where 0/0.

    Callers must turn the NaN into an explicit "undefined" with ``spec.undefined_reason``;
    it never reaches a report as a number.
    """
    return rate_parts(counts.cells, spec)
