"""Values that may be undefined, and the reasons why: the atoms of every result.

Re-exported by :mod:`auditor.results`; kept apart so that the result modules of each half of
the audit (fairness in ``results``, transparency in ``results_transparency``) share them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Reason(StrEnum):
    """Why a value is undefined or left out of a verdict (stable strings in audit.json)."""

    EMPTY_GROUP = "empty_group"
    NO_POSITIVES = "no_positives"
    NO_NEGATIVES = "no_negatives"
    NO_PREDICTED_POSITIVES = "no_predicted_positives"
    NO_PREDICTED_NEGATIVES = "no_predicted_negatives"
    REFERENCE_UNDEFINED = "reference_undefined"
    REFERENCE_ZERO = "reference_zero"
    BELOW_MIN_GROUP_SIZE = "below_min_group_size"
    FEWER_THAN_TWO_GROUPS = "fewer_than_two_groups"
    ALL_ZERO = "all_zero"
    IS_REFERENCE = "is_reference"
    NOT_AVAILABLE = "not_available"
    BELOW_MIN_POSITIVES = "below_min_positives"
    BELOW_MIN_NEGATIVES = "below_min_negatives"
    NO_FALSE_POSITIVES = "no_false_positives"
    NO_SCORES = "no_scores"
    SCORES_NOT_PROBABILITIES = "scores_not_probabilities"
    CONSTANT_TARGET = "constant_target"
    NOT_CONFIDENT = "not_confident"
    NO_INTERVAL = "no_interval"
    REFERENCE_EXCLUDED = "reference_excluded"
    NOT_POSITIVE = "not_positive"


REASON_TEXT: dict[Reason, str] = {
    Reason.EMPTY_GROUP: "the group has no rows",
    Reason.NO_POSITIVES: "the group has no actual positives: rates among positives are undefined",
    Reason.NO_NEGATIVES: "the group has no actual negatives: rates among negatives are undefined",
    Reason.NO_PREDICTED_POSITIVES: "the group has no predicted positives",
    Reason.NO_PREDICTED_NEGATIVES: "the group has no predicted negatives",
    Reason.REFERENCE_UNDEFINED: "the value of the reference group is undefined",
    Reason.REFERENCE_ZERO: "the value of the reference group is 0, so the ratio is undefined",
    Reason.BELOW_MIN_GROUP_SIZE: "the group is smaller than the policy's min_group_size",
    Reason.FEWER_THAN_TWO_GROUPS: "fewer than two groups have enough data to compare",
    Reason.ALL_ZERO: "every compared group has the value 0, so the ratio is undefined",
    Reason.IS_REFERENCE: "this is the reference group",
    Reason.NOT_AVAILABLE: "the audit has no input for this measure",
    Reason.BELOW_MIN_POSITIVES: "the group has fewer actual positives than the policy's "
    "min_positives",
    Reason.BELOW_MIN_NEGATIVES: "the group has fewer actual negatives than the policy's "
    "min_negatives",
    Reason.NO_FALSE_POSITIVES: "the group has no false positives, so FN / FP is undefined",
    Reason.NO_SCORES: "the audit has no scores (pass --score COL, or a model with "
    "predict_proba or decision_function)",
    Reason.SCORES_NOT_PROBABILITIES: "the scores are not probabilities in [0, 1]",
    Reason.CONSTANT_TARGET: "the target is constant in the group, so R² is undefined",
    Reason.NOT_CONFIDENT: "the value is beyond the threshold but its confidence interval "
    "reaches the threshold: not a violation with the confidence the rule requires",
    Reason.NO_INTERVAL: "the rule requires confidence but the value has no interval",
    Reason.NOT_POSITIVE: "a ratio needs positive values, and a compared value is zero or negative",
    Reason.REFERENCE_EXCLUDED: "the reference group is not judged on this metric (too few "
    "rows, positives or negatives), so comparisons with it are not judged either",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Value(_Model):
    """A number that may be undefined; when it is, ``reason`` says why."""

    value: float | None
    reason: Reason | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str | None = Field(default=None, description="What the value is made of, in words")

    @property
    def defined(self) -> bool:
        return self.value is not None
