"""Every per-group metric the fairness family can measure: name, meaning, when it is undefined.

One catalogue serves the computation (which inputs a metric needs, whether it is a
proportion with exact intervals), the check registry (what a policy may name) and the
reports (the definition printed beside every number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from auditor.results import Reason
from auditor.stats.confusion import RATES

Needs = Literal["positives", "negatives", "both"] | None
Source = Literal["confusion", "score", "regression"]


@dataclass(frozen=True)
class GroupMetric:
    """A metric measured for every group.

    ``proportion`` metrics (a share of the group's rows) get Wilson intervals, Newcombe
    intervals for differences, Katz intervals for ratios and significance tests; the others
    get percentile-bootstrap intervals. ``needs`` says which rows the policy's
    ``min_positives`` / ``min_negatives`` apply to.
    """

    name: str
    label: str
    definition: str
    undefined_reason: Reason
    needs: Needs
    proportion: bool
    source: Source
    undefined_text: str = ""  # when the reason's general text does not say it exactly


FAVORABLE_RATE = "favorable_rate"
_NEEDS: dict[str, Needs] = {
    "true_positive_rate": "positives",
    "false_negative_rate": "positives",
    "false_positive_rate": "negatives",
    "true_negative_rate": "negatives",
}

CONFUSION_METRICS: tuple[GroupMetric, ...] = (
    *(
        GroupMetric(
            spec.name,
            spec.label,
            spec.definition,
            Reason(spec.undefined_reason),
            _NEEDS.get(spec.name),
            True,
            "confusion",
        )
        for spec in RATES.values()
    ),
    GroupMetric(
        FAVORABLE_RATE,
        "Favourable-outcome rate",
        "Share of the group that receives the favourable outcome: the selection rate when the "
        "positive label is favourable (credit granted), 1 - selection rate when it is adverse "
        "(flagged as high risk). Disparate-impact rules are written on this rate so that they "
        "point the right way whichever the positive label means.",
        Reason.EMPTY_GROUP,
        None,
        True,
        "confusion",
    ),
    GroupMetric(
        "f1_score",
        "F1 score",
        "Harmonic mean of precision and recall: 2 TP / (2 TP + FP + FN).",
        Reason.NO_POSITIVES,
        "positives",
        False,
        "confusion",
        "the group has no actual and no predicted positives (TP + FP + FN = 0)",
    ),
    GroupMetric(
        "balanced_accuracy",
        "Balanced accuracy",
        "Mean of the true positive and true negative rates: (TPR + TNR) / 2.",
        Reason.NO_POSITIVES,
        "both",
        False,
        "confusion",
        "the group lacks actual positives or actual negatives",
    ),
    GroupMetric(
        "treatment_equality",
        "Treatment equality (FN / FP)",
        "False negatives per false positive: FN / FP (Berk et al. 2018). Equal across groups "
        "when the groups' errors are balanced the same way.",
        Reason.NO_FALSE_POSITIVES,
        "both",
        False,
        "confusion",
    ),
)

SCORE_METRICS: tuple[GroupMetric, ...] = (
    GroupMetric(
        "roc_auc",
        "ROC AUC",
        "Probability that a random actual positive of the group scores above a random actual "
        "negative of the group (ties count one half); threshold-free.",
        Reason.NO_POSITIVES,
        "both",
        False,
        "score",
        "the group lacks actual positives or actual negatives",
    ),
    GroupMetric(
        "average_precision",
        "Average precision",
        "Area under the group's precision-recall curve: sum over score thresholds of "
        "(recall gained) x precision, as scikit-learn's average_precision_score.",
        Reason.NO_POSITIVES,
        "positives",
        False,
        "score",
    ),
    GroupMetric(
        "brier_score",
        "Brier score",
        "Mean squared difference between the score (a probability) and the actual outcome "
        "(1 positive, 0 negative); lower is better.",
        Reason.EMPTY_GROUP,
        None,
        False,
        "score",
    ),
    GroupMetric(
        "expected_calibration_error",
        "Expected calibration error",
        "Over 10 equal-width score bins: the share of the group in each bin times the gap "
        "between the bin's mean score and its share of actual positives, summed; 0 is "
        "perfectly calibrated.",
        Reason.EMPTY_GROUP,
        None,
        False,
        "score",
    ),
    GroupMetric(
        "scoring_rate",
        "Scoring rate (above the median)",
        "Share of the group whose score is above the median score of all rows (NYC Local Law "
        "144's scoring rate for tools that score rather than select).",
        Reason.EMPTY_GROUP,
        None,
        True,
        "score",
    ),
    GroupMetric(
        "selection_rate_at_threshold",
        "Selection rate at the policy's score threshold",
        "Share of the group whose score is at or above the policy's score_threshold.",
        Reason.EMPTY_GROUP,
        None,
        True,
        "score",
    ),
    GroupMetric(
        "top_k_share",
        "Selection rate in the top k",
        "Share of the group among the policy's top_k highest scores of all rows (rows tied "
        "with the k-th score are all included).",
        Reason.EMPTY_GROUP,
        None,
        True,
        "score",
    ),
)

REGRESSION_METRICS: tuple[GroupMetric, ...] = (
    GroupMetric(
        "mean_prediction",
        "Mean prediction",
        "Mean predicted value of the group; its ratio to the highest group is a scoring "
        "tool's impact ratio.",
        Reason.EMPTY_GROUP,
        None,
        False,
        "regression",
    ),
    GroupMetric(
        "mean_target",
        "Mean target",
        "Mean actual value of the group.",
        Reason.EMPTY_GROUP,
        None,
        False,
        "regression",
    ),
    GroupMetric(
        "mean_absolute_error",
        "Mean absolute error",
        "Mean of |actual - predicted| over the group; lower is better.",
        Reason.EMPTY_GROUP,
        None,
        False,
        "regression",
    ),
    GroupMetric(
        "root_mean_squared_error",
        "Root mean squared error",
        "Square root of the mean of (actual - predicted)^2 over the group; lower is better.",
        Reason.EMPTY_GROUP,
        None,
        False,
        "regression",
    ),
    GroupMetric(
        "r2_score",
        "R²",
        "1 - (sum of squared errors) / (sum of squared deviations of the actual values from "
        "the group's mean); 1 is perfect, 0 no better than the group's mean.",
        Reason.CONSTANT_TARGET,
        None,
        False,
        "regression",
    ),
)

GROUP_METRICS: dict[str, GroupMetric] = {
    m.name: m for m in (*CONFUSION_METRICS, *SCORE_METRICS, *REGRESSION_METRICS)
}
