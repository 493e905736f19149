"""Typed results of the transparency half of an audit: explanations and proxies.

Part of ``audit.json`` (imported by :mod:`auditor.results`, which holds the rest). Every
SHAP quantity is on the explanation's ``output_scale`` (log-odds for boosters and linear
models, probability for scikit-learn forests): a reader never has to guess which.
"""

from __future__ import annotations

from pydantic import Field

from auditor.results_values import Value, _Model


class FeatureImportance(_Model):
    """One feature's mean |SHAP| (importance) and mean SHAP (direction), with intervals."""

    feature: str
    mean_abs: Value
    mean: Value


class GroupImportance(_Model):
    """The importance of every feature among one group's explained rows."""

    group: str
    rows_explained: int
    mean_abs: dict[str, Value] = Field(description="feature -> mean |SHAP| in the group")
    mean: dict[str, Value] = Field(description="feature -> mean SHAP in the group")


class FeatureDisparity(_Model):
    """How differently a feature drives the model for different groups."""

    feature: str
    gap: Value = Field(description="Largest minus smallest group mean SHAP (basic bootstrap CI)")
    high_group: str | None
    low_group: str | None


class GapTerm(_Model):
    feature: str
    difference: Value = Field(description="Mean SHAP of the group minus the reference's")


class GapAttribution(_Model):
    """The gap in mean model output between two groups, split over the features.

    For an additive explanation the terms sum to the gap exactly (``residual`` is the
    rounding left over); the base value cancels.
    """

    reference: str
    group: str
    mean_output_reference: float
    mean_output_group: float
    output_gap: Value = Field(description="Mean output of the group minus the reference's")
    terms: list[GapTerm]
    residual: float


class AttributeExplanation(_Model):
    """Per-group importance, explanation disparity and gap attribution for one attribute."""

    attribute: str
    reference: str
    groups: list[GroupImportance]
    disparity: list[FeatureDisparity] = Field(description="Ranked, largest gap first")
    gap: GapAttribution | None = None
    min_rows: int = Field(description="Groups with fewer explained rows are left out")


class ReasonTerm(_Model):
    feature: str
    contribution: float = Field(description="SHAP value, pushing toward the adverse outcome")


class AdverseCase(_Model):
    """One of the rows with the most adverse model output, with its principal reasons."""

    rank: int
    output: float
    reasons: list[ReasonTerm]


class Explanation(_Model):
    """What drives the model: method, checks of the method, importances, disparities."""

    method: str
    output_scale: str
    exact: bool
    base_value: float
    rows_total: int
    rows_explained: int
    sample_by_group: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="attribute -> group -> rows explained"
    )
    max_additivity_error: float = Field(
        description="max |base + sum of SHAP - model output| over the explained rows (float64)"
    )
    additivity_tolerance: float
    features: list[FeatureImportance] = Field(description="Ranked by mean |SHAP|")
    attributes: list[AttributeExplanation] = Field(default_factory=list)
    adverse_direction: str = Field(description="'low' or 'high': which outputs are adverse")
    adverse_cases: list[AdverseCase] = Field(default_factory=list)
    sensitive_features_used: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Association(_Model):
    """How strongly one feature is tied to one sensitive attribute."""

    feature: str
    attribute: str
    measure: str = Field(description="What 'strength' is for this pair")
    strength: float
    cramers_v: float | None = None
    nmi: float | None = None
    n: int
    near_copy: bool


class Predictability(_Model):
    """How well all features together predict a sensitive attribute (cross-validated)."""

    attribute: str
    auc: Value
    n: int
    classes: list[str]
    model: str
    notes: list[str] = Field(default_factory=list)


class Proxies(_Model):
    """Proxy detection: pairwise associations and joint predictability."""

    features: list[str]
    associations: list[Association] = Field(description="Ranked, strongest first")
    predictability: list[Predictability]
    rows_used: int
    notes: list[str] = Field(default_factory=list)


class ItemValue(_Model):
    """One judged measurement about an attribute and, where it applies, a feature."""

    attribute: str | None
    feature: str | None = Field(default=None, description="A column or model feature")
    group: str | None = Field(default=None, description="A group of the attribute")
    value: Value
    n: int | None = None
