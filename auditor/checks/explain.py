"""Transparency: what drives the model, and whether it drives it differently for groups.

One family, ``transparency``: SHAP values of a stratified sample of rows (every group of
the finest intersection represented; ``explanation_rows`` is the budget), their
additivity, global and per-group importance with bootstrap intervals, the explanation
disparity, the attribution of the gap in mean output between groups to features, the
principal reasons of the most adverse outcomes, and whether a sensitive attribute is
itself a model feature. Estimates over the sample are weighted by the inverse of each
stratum's sampling fraction (times the audit's weights), so they estimate the whole data.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from auditor.checks.attribution_view import attribute_explanation, feature_importances
from auditor.checks.registry import ValueCheck, register_family, register_value_checks
from auditor.context import AuditContext
from auditor.results import CheckResult, Explanation, ItemValue, Value
from auditor.results_transparency import AdverseCase, ReasonTerm
from auditor.stats.attributions import global_importance, principal_reasons, stratified_sample

FAMILY = "explain"
ADDITIVITY = "additivity_error"
DIRECT_USE = "sensitive_feature_used"
DISPARITY = "explanation_disparity"
FloatArray = npt.NDArray[np.float64]


@register_family(FAMILY)
def transparency(ctx: AuditContext) -> CheckResult:
    """Explain a sample of rows and measure what the explanation says about the groups."""
    if ctx.model is None:  # decisions mode: nothing to look inside
        return CheckResult(family=FAMILY, status="ok")
    # Here, not at the top: shap and scikit-learn take seconds to import, which every
    # command that merely lists the checks would pay.
    from auditor.explain.shap_values import explain

    handle, settings = ctx.model, ctx.settings
    attributes = [g for g in ctx.groupings if len(g.columns) == 1]
    direct = [
        ItemValue(
            attribute=g.attribute,
            feature=g.attribute if g.attribute in handle.features else None,
            value=Value(
                value=1.0 if g.attribute in handle.features else 0.0,
                note="a model feature" if g.attribute in handle.features else "not a feature",
            ),
        )
        for g in attributes
    ]
    finest = ctx.groupings[-1]
    # Every group gets rows, but the floor per group shrinks with the number of groups so
    # that the budget holds (190 groups x 50 rows would explain 9,500 rows of a 5,000 budget).
    present = int(np.count_nonzero(np.bincount(finest.codes, minlength=finest.n_groups)))
    floor = max(1, min(50, settings.explanation_rows // max(1, present)))
    sample = stratified_sample(
        finest.codes,
        finest.n_groups,
        settings.explanation_rows,
        settings.seed,
        min_per_group=floor,
    )
    # Shuffled, so that a time budget that stops early still leaves a random subset.
    order = np.random.default_rng(settings.seed).permutation(sample.indices)
    features = ctx.frame[handle.features]
    shap = explain(
        handle.estimator,
        features.iloc[order],
        positive_index=handle.positive_index,
        background=features if len(features) <= settings.background_rows else None,
        seed=settings.seed,
        time_budget_seconds=settings.explanation_seconds,
    )
    rows = order[: shap.rows_explained]
    strata = finest.codes[rows]
    weights = _design_weights(finest.codes, finest.n_groups, strata)
    if ctx.weights is not None:
        weights = weights * ctx.weights[rows]
    resamples, seed, confidence = settings.bootstrap_resamples, settings.seed, settings.confidence
    importance = global_importance(shap.values, weights, strata, resamples, seed, confidence)
    explained_groups = [
        attribute_explanation(shap, grouping, rows, weights, strata, settings)
        for grouping in ctx.groupings
    ]
    adverse: Literal["low", "high"] = "low" if settings.positive_outcome == "favorable" else "high"
    cases = principal_reasons(
        shap.values, shap.model_output, adverse, settings.adverse_cases, 4, shap.features
    )
    explanation = Explanation(
        method=shap.method,
        output_scale=shap.output_scale,
        exact=shap.exact,
        base_value=shap.base_value,
        rows_total=ctx.sample_of or ctx.n_rows,
        rows_explained=int(rows.size),
        sample_by_group={
            g.attribute: {
                g.keys[c]: int(n)
                for c, n in enumerate(np.bincount(g.codes[rows], minlength=g.n_groups))
            }
            for g in ctx.groupings
        },
        max_additivity_error=shap.max_additivity_error,
        additivity_tolerance=shap.tolerance,
        features=feature_importances(shap.features, importance),
        attributes=explained_groups,
        adverse_direction=adverse,
        adverse_cases=[
            AdverseCase(
                rank=i + 1,
                output=float(cases.outputs[i]),
                reasons=[ReasonTerm(feature=f, contribution=v) for f, v in named],
            )
            for i, named in enumerate(cases.named_reasons())
        ],
        sensitive_features_used=[str(item.feature) for item in direct if item.feature],
        notes=list(shap.notes),
    )
    disparity = [
        ItemValue(
            attribute=a.attribute,
            feature=a.disparity[0].feature,
            value=a.disparity[0].gap,
            n=int(rows.size),
        )
        for a in explained_groups
        if a.disparity and a.disparity[0].gap.value is not None
    ]
    relative_gap = shap.max_additivity_error / shap.tolerance
    return CheckResult(
        family=FAMILY,
        status="ok",
        overall={
            ADDITIVITY: Value(
                value=relative_gap,
                note=f"worst gap {shap.max_additivity_error:.2e} against a tolerance of "
                f"{shap.tolerance:.0e} on the {shap.output_scale} scale",
            )
        },
        items={DIRECT_USE: direct, DISPARITY: disparity},
        explanation=explanation,
    )


def _design_weights(
    codes: npt.NDArray[np.int64], n_groups: int, strata: npt.NDArray[np.int64]
) -> FloatArray:
    """Rows of the data per explained row of the same stratum: estimates over the sample
    then stand for the whole data (a stratum sampled at 1 in 20 counts 20 times)."""
    population = np.bincount(codes, minlength=n_groups).astype(np.float64)
    explained = np.bincount(strata, minlength=n_groups).astype(np.float64)
    return np.asarray(population[strata] / explained[strata], dtype=np.float64)


BUILTIN_RULES: dict[str, dict[str, object]] = {
    ADDITIVITY: {
        "threshold": {"max": 1.0},
        "severity": "error",
        "rationale": "SHAP values that do not add up to the model's output do not explain it: "
        "every importance, disparity and reason in this report would be wrong.",
        "references": [
            "Lundberg & Lee (2017), A Unified Approach to Interpreting Model "
            "Predictions (local accuracy)"
        ],
    },
    DIRECT_USE: {
        "threshold": {"max": 0.0},
        "severity": "error",
        "rationale": "A model that takes a protected attribute as an input treats people "
        "differently because of it: direct discrimination unless a law expressly allows it.",
        "references": [
            "ECOA / Regulation B, 12 CFR 1002.6(b)",
            "EU Charter of Fundamental Rights, Art. 21",
            "EU AI Act Art. 10(2)(f)",
        ],
    },
}

_NEEDS_MODEL = "needs a model (--model): decisions alone cannot be explained"
register_value_checks(
    FAMILY,
    (
        ValueCheck(
            ADDITIVITY,
            "SHAP additivity error",
            "The worst gap, over the explained rows, between the model's own output and the "
            "base value plus the sum of the row's SHAP values (in float64), divided by the "
            "method's tolerance (1e-6 of the output's magnitude; 1e-4 for float32 libraries). "
            "Above 1 the explanation does not add up to the model and cannot be trusted.",
            "the audit has no model (decisions mode)",
            _NEEDS_MODEL,
            BUILTIN_RULES[ADDITIVITY],
            exact=True,
        ),
        ValueCheck(
            DIRECT_USE,
            "Sensitive attribute used as a feature",
            "1 when the sensitive attribute is itself one of the model's input features, else 0.",
            "the audit has no model (decisions mode)",
            _NEEDS_MODEL,
            BUILTIN_RULES[DIRECT_USE],
            exact=True,
        ),
        ValueCheck(
            DISPARITY,
            "Explanation disparity",
            "For the feature whose mean SHAP value differs most between two groups of the "
            "attribute (groups with at least min_group_size explained rows): the largest minus "
            "the smallest group mean SHAP, on the explanation's output scale, with a basic "
            "bootstrap interval.",
            "fewer than two groups have enough explained rows, or the audit has no model",
            _NEEDS_MODEL,
        ),
    ),
)
