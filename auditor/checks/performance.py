"""Overall model performance on the whole audit data (one group: everyone)."""

from __future__ import annotations

import numpy as np

from auditor.checks.metric_catalog import GROUP_METRICS
from auditor.checks.metric_values import regression_values
from auditor.checks.registry import OVERALL_MEASURES, CheckSpec, register_check, register_family
from auditor.context import AuditContext
from auditor.results import REASON_TEXT, CheckResult, Reason, Value
from auditor.stats.confusion import RATES, grouped_confusion, rate
from auditor.stats.intervals import effective_counts, wilson_interval

OVERALL_METRICS = (
    "accuracy",
    "selection_rate",
    "base_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "negative_predictive_value",
)


REGRESSION_OVERALL = ("mean_absolute_error", "root_mean_squared_error", "r2_score")


def _regression_overall(ctx: AuditContext) -> dict[str, Value]:
    assert ctx.target_values is not None and ctx.predicted_values is not None
    codes = np.zeros(len(ctx.target_values), dtype=np.int64)
    values = regression_values(codes, 1, ctx.target_values, ctx.predicted_values, ctx.mass)
    overall: dict[str, Value] = {"n": Value(value=float(ctx.n_rows))}
    for name in REGRESSION_OVERALL:
        v = float(values[name][0])
        reason = GROUP_METRICS[name].undefined_reason
        overall[name] = Value(value=None, reason=reason) if np.isnan(v) else Value(value=v)
    return overall


@register_family("performance")
def overall_performance(ctx: AuditContext) -> CheckResult:
    """Accuracy and the main rates over all rows, with Wilson intervals (regression: errors)."""
    if ctx.task == "regression":
        return CheckResult(family="performance", status="ok", overall=_regression_overall(ctx))
    codes = np.zeros(len(ctx.y_true), dtype=np.int64)
    counts = grouped_confusion(codes, 1, ctx.y_true, ctx.y_pred, ctx.mass)
    squared = None
    weights_sq = ctx.mass_sq
    if weights_sq is not None:  # Kish-effective counts over each rate's own rows
        squared = grouped_confusion(codes, 1, ctx.y_true, ctx.y_pred, weights_sq)
    overall: dict[str, Value] = {"n": Value(value=float(ctx.n_rows))}
    for name in OVERALL_METRICS:
        spec = RATES[name]
        num, den, values = rate(counts, spec)
        if squared is not None:
            num, den = effective_counts(num, den, rate(squared, spec)[1])
        low, high = wilson_interval(num, den, ctx.settings.confidence)
        if np.isnan(values[0]):
            overall[name] = Value(value=None, reason=Reason(spec.undefined_reason))
        else:
            overall[name] = Value(
                value=float(values[0]), ci_low=float(low[0]), ci_high=float(high[0])
            )
    return CheckResult(family="performance", status="ok", overall=overall)


for _name in REGRESSION_OVERALL:
    _metric = GROUP_METRICS[_name]
    register_check(
        CheckSpec(
            name=f"performance.{_name}",
            family="performance",
            metric=_name,
            label=f"Overall {_metric.label}",
            definition=_metric.definition.replace("the group", "all rows"),
            undefined_when=REASON_TEXT[_metric.undefined_reason],
            measures=OVERALL_MEASURES,
            requires="needs a regression audit (--task regression)",
        )
    )
for _name in OVERALL_METRICS:
    register_check(
        CheckSpec(
            name=f"performance.{_name}",
            family="performance",
            metric=_name,
            label=f"Overall {RATES[_name].label.lower()}",
            definition=RATES[_name].definition.replace("of the group", "of all rows"),
            undefined_when=REASON_TEXT[Reason(RATES[_name].undefined_reason)],
            measures=OVERALL_MEASURES,
            requires="needs a classification audit (binary target and predictions)",
        )
    )
