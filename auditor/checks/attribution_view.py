"""SHAP statistics of one attribute's groups, as the results that audit.json holds."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from auditor.checks.disparities import as_value
from auditor.context import CheckSettings
from auditor.groups import Grouping
from auditor.results import Reason, Value
from auditor.results_transparency import (
    AttributeExplanation,
    FeatureDisparity,
    FeatureImportance,
    GapAttribution,
    GapTerm,
    GroupImportance,
)
from auditor.stats.attributions import (
    Importance,
    explanation_disparity,
    gap_attribution,
    group_importance,
)

if TYPE_CHECKING:
    from auditor.explain.shap_values import Explanation as ShapValues

FloatArray = npt.NDArray[np.float64]


def _value(v: float, low: float, high: float) -> Value:
    return as_value(v, Reason.EMPTY_GROUP, low, high)


def feature_importances(features: list[str], importance: Importance) -> list[FeatureImportance]:
    """Every feature's mean |SHAP| and mean SHAP, most important first."""
    order = np.argsort(-importance.mean_abs, kind="stable")
    return [
        FeatureImportance(
            feature=features[j],
            mean_abs=_value(
                importance.mean_abs[j], importance.mean_abs_low[j], importance.mean_abs_high[j]
            ),
            mean=_value(importance.mean[j], importance.mean_low[j], importance.mean_high[j]),
        )
        for j in order
    ]


def attribute_explanation(
    shap: ShapValues,
    grouping: Grouping,
    rows: npt.NDArray[np.intp],
    weights: FloatArray,
    strata: npt.NDArray[np.int64],
    settings: CheckSettings,
) -> AttributeExplanation:
    """Per-group importance, the explanation disparity and the reference gap, one attribute.

    Groups with fewer than ``min_group_size`` explained rows are listed but not compared.
    """
    codes, n_groups = grouping.codes[rows], grouping.n_groups
    common = {
        "weights": weights,
        "resamples": settings.bootstrap_resamples,
        "seed": settings.seed,
        "confidence": settings.confidence,
        "strata": strata,
    }
    by_group = group_importance(shap.values, codes, n_groups, **common)  # type: ignore[arg-type]
    disparity = explanation_disparity(
        shap.values,
        codes,
        n_groups,
        min_group_size=settings.min_group_size,
        **common,  # type: ignore[arg-type]
    )
    names = shap.features
    groups = [
        GroupImportance(
            group=grouping.keys[g],
            rows_explained=int(by_group.rows[g]),
            mean_abs={
                names[j]: _value(
                    by_group.mean_abs[g, j],
                    by_group.mean_abs_low[g, j],
                    by_group.mean_abs_high[g, j],
                )
                for j in range(len(names))
            },
            mean={
                names[j]: _value(
                    by_group.mean[g, j], by_group.mean_low[g, j], by_group.mean_high[g, j]
                )
                for j in range(len(names))
            },
        )
        for g in range(n_groups)
        if by_group.rows[g] > 0
    ]
    ranked = [
        FeatureDisparity(
            feature=names[j],
            gap=_value(disparity.gap[j], disparity.gap_low[j], disparity.gap_high[j]),
            high_group=grouping.keys[disparity.high_group[j]]
            if disparity.high_group[j] >= 0
            else None,
            low_group=grouping.keys[disparity.low_group[j]]
            if disparity.low_group[j] >= 0
            else None,
        )
        for j in disparity.order
        if not math.isnan(disparity.gap[j])
    ]
    return AttributeExplanation(
        attribute=grouping.attribute,
        reference=grouping.keys[grouping.reference],
        groups=groups,
        disparity=ranked,
        gap=_reference_gap(shap, grouping, codes, disparity.eligible, common),
        min_rows=settings.min_group_size,
    )


def _reference_gap(
    shap: ShapValues,
    grouping: Grouping,
    codes: npt.NDArray[np.int64],
    eligible: npt.NDArray[np.bool_],
    common: dict[str, object],
) -> GapAttribution | None:
    """The reference group against the eligible group whose mean output is furthest from it."""
    ref = grouping.reference
    if not eligible[ref]:
        return None
    weights = np.asarray(common["weights"], dtype=np.float64)
    totals = np.bincount(codes, weights=weights, minlength=grouping.n_groups)
    sums = np.bincount(codes, weights=weights * shap.model_output, minlength=grouping.n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / totals
    distance = np.where(eligible, np.abs(means - means[ref]), -1.0)
    distance[ref] = -1.0
    other = int(np.argmax(distance))
    if distance[other] < 0:
        return None
    gap = gap_attribution(shap.values, shap.model_output, codes, other, ref, **common)  # type: ignore[arg-type]
    return GapAttribution(
        reference=grouping.keys[ref],
        group=grouping.keys[other],
        mean_output_reference=float(gap.mean_output_b),
        mean_output_group=float(gap.mean_output_a),
        output_gap=_value(gap.output_gap, gap.output_gap_low, gap.output_gap_high),
        terms=[
            GapTerm(
                feature=shap.features[j],
                difference=_value(gap.difference[j], gap.difference_low[j], gap.difference_high[j]),
            )
            for j in np.argsort(-np.abs(gap.difference), kind="stable")
        ],
        residual=float(gap.residual),
    )
