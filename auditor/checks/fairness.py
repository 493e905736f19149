"""Group fairness: every rate per group from one confusion-count kernel, and disparities.

Conventions (named in every report): ``difference_to_reference = group - reference``,
``ratio_to_reference = group / reference``, ``ratio_to_highest = group / highest group``
(the "impact ratio" of NYC Local Law 144 and the EEOC four-fifths rule), and over the groups
with at least ``min_group_size`` rows and a defined value: ``min_max_ratio = min / max`` and
``max_abs_difference = max - min``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auditor.checks.registry import GROUP_MEASURES, CheckSpec, register_check, register_family
from auditor.context import AuditContext
from auditor.groups import Grouping
from auditor.results import (
    REASON_TEXT,
    CheckResult,
    GroupRow,
    GroupTable,
    MetricCell,
    Reason,
    Summary,
    Value,
)
from auditor.stats.confusion import RATES, GroupedCounts, RateSpec, grouped_confusion, rate
from auditor.stats.intervals import kish_effective_n, wilson_interval

FloatArray = npt.NDArray[np.float64]

FAVORABLE_RATE = "favorable_rate"
_FAVORABLE_DEFINITION = (
    "Share of the group that receives the favourable outcome: the selection rate when the "
    "positive label is favourable (credit granted), 1 - selection rate when it is adverse "
    "(flagged as high risk). Disparate-impact rules are written on this rate so that they "
    "point the right way whichever the positive label means."
)


def favorable_spec(positive_outcome: str) -> RateSpec:
    """The favourable-outcome rate: predicted positive or predicted negative, per the policy."""
    numerator = ("tp", "fp") if positive_outcome == "favorable" else ("tn", "fn")
    return RateSpec(
        FAVORABLE_RATE,
        "Favourable-outcome rate",
        numerator,
        ("n",),
        "empty_group",
        _FAVORABLE_DEFINITION,
    )


def _value(v: float, reason: Reason | None, low: float = np.nan, high: float = np.nan) -> Value:
    if np.isnan(v):
        return Value(value=None, reason=reason)
    return Value(
        value=float(v),
        ci_low=None if np.isnan(low) else float(low),
        ci_high=None if np.isnan(high) else float(high),
    )


def _disparities(
    values: FloatArray, ref: int, eligible: npt.NDArray[np.bool_], reasons: list[Reason]
) -> tuple[list[Value], list[Value], list[Value]]:
    """difference_to_reference, ratio_to_reference and ratio_to_highest per group.

    A group whose own value is undefined gets its own reason on every disparity, not the
    reference's.
    """
    ref_value = values[ref]
    defined_eligible = eligible & ~np.isnan(values)
    highest = float(np.max(values[defined_eligible])) if defined_eligible.any() else np.nan
    diffs, ratios, to_highest = [], [], []
    for v, own in zip(values, reasons, strict=True):
        if np.isnan(v):
            undefined = Value(value=None, reason=own)
            diffs.append(undefined)
            ratios.append(undefined)
            to_highest.append(undefined)
            continue
        diffs.append(_value(v - ref_value, Reason.REFERENCE_UNDEFINED))
        if np.isnan(ref_value):
            ratios.append(Value(value=None, reason=Reason.REFERENCE_UNDEFINED))
        elif ref_value == 0:
            ratios.append(Value(value=None, reason=Reason.REFERENCE_ZERO))
        else:
            ratios.append(Value(value=float(v / ref_value)))
        if np.isnan(highest):
            to_highest.append(Value(value=None, reason=Reason.FEWER_THAN_TWO_GROUPS))
        elif highest == 0:
            to_highest.append(Value(value=None, reason=Reason.ALL_ZERO))
        else:
            to_highest.append(Value(value=float(v / highest)))
    return diffs, ratios, to_highest


def _summary(
    values: FloatArray,
    keys: tuple[str, ...],
    eligible: npt.NDArray[np.bool_],
    reasons: list[Reason],
    rows: npt.NDArray[np.int64],
) -> Summary:
    excluded: dict[str, Reason] = {}
    for i, key in enumerate(keys):
        if not eligible[i]:
            excluded[key] = Reason.BELOW_MIN_GROUP_SIZE
        elif np.isnan(values[i]):
            excluded[key] = reasons[i]
    compared = [k for k in keys if k not in excluded]
    kept = [i for i, k in enumerate(keys) if k not in excluded]
    picked = values[kept]
    n_compared = int(rows[kept].sum())
    if len(picked) < 2:
        undefined = Value(value=None, reason=Reason.FEWER_THAN_TWO_GROUPS)
        return Summary(
            min_max_ratio=undefined,
            max_abs_difference=undefined,
            groups_compared=compared,
            groups_excluded=excluded,
            n_compared=n_compared,
        )
    low, high = float(picked.min()), float(picked.max())
    ratio = Value(value=None, reason=Reason.ALL_ZERO) if high == 0 else Value(value=low / high)
    return Summary(
        min_max_ratio=ratio,
        max_abs_difference=Value(value=high - low),
        groups_compared=compared,
        groups_excluded=excluded,
        n_compared=n_compared,
        lowest_group=compared[int(np.argmin(picked))],
        highest_group=compared[int(np.argmax(picked))],
    )


def _effective_trials(
    counts: GroupedCounts, ctx: AuditContext, grouping: Grouping, den: FloatArray
) -> FloatArray:
    """Denominators for the Wilson interval: counts, or Kish-adjusted with weights."""
    if ctx.weights is None:
        return den
    eff_n = kish_effective_n(grouping.codes, grouping.n_groups, ctx.weights)
    total = counts.cell("n")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, den * eff_n / np.where(total > 0, total, 1.0), 0.0)


def group_table(ctx: AuditContext, grouping: Grouping) -> GroupTable:
    """Every rate of every group of one attribute, with intervals and disparities."""
    counts = grouped_confusion(
        grouping.codes, grouping.n_groups, ctx.y_true, ctx.y_pred, ctx.weights
    )
    eligible = counts.rows >= ctx.settings.min_group_size
    specs = [*RATES.values(), favorable_spec(ctx.settings.positive_outcome)]
    cells: dict[str, list[MetricCell]] = {}
    summaries: dict[str, Summary] = {}
    for spec in specs:
        _, den, values = rate(counts, spec)
        # A group with no rows is "empty", whatever denominator the rate would have needed.
        reasons = [
            Reason.EMPTY_GROUP if counts.rows[g] == 0 else Reason(spec.undefined_reason)
            for g in range(grouping.n_groups)
        ]
        trials = _effective_trials(counts, ctx, grouping, den)
        low, high = wilson_interval(values * trials, trials, ctx.settings.confidence)
        diffs, ratios, to_highest = _disparities(values, grouping.reference, eligible, reasons)
        cells[spec.name] = [
            MetricCell(
                value=_value(values[g], reasons[g], low[g], high[g]),
                difference_to_reference=diffs[g],
                ratio_to_reference=ratios[g],
                ratio_to_highest=to_highest[g],
            )
            for g in range(grouping.n_groups)
        ]
        summaries[spec.name] = _summary(values, grouping.keys, eligible, reasons, counts.rows)
    columns = {c: counts.cell(c) for c in ("tp", "fp", "fn", "tn", "n")}  # once, not per group
    rows = [
        GroupRow(
            group=grouping.keys[g],
            labels=grouping.labels[g],
            n=int(counts.rows[g]),
            weight_sum=None if ctx.weights is None else float(columns["n"][g]),
            counts={c: float(columns[c][g]) for c in ("tp", "fp", "fn", "tn")},
            metrics={name: cells[name][g] for name in cells},
        )
        for g in range(grouping.n_groups)
    ]
    return GroupTable(
        attribute=grouping.attribute,
        columns=list(grouping.columns),
        reference=grouping.keys[grouping.reference],
        reference_rule="user" if grouping.reference_rule == "user" else "largest_group",
        rows=rows,
        summaries=summaries,
    )


@register_family("fairness")
def group_fairness(ctx: AuditContext) -> CheckResult:
    """Group rates and disparities for each sensitive attribute and their intersection."""
    return CheckResult(
        family="fairness",
        status="ok",
        tables=[group_table(ctx, grouping) for grouping in ctx.groupings],
    )


for _spec in [*RATES.values(), favorable_spec("favorable")]:
    register_check(
        CheckSpec(
            name=f"fairness.{_spec.name}",
            family="fairness",
            metric=_spec.name,
            label=_spec.label,
            definition=_spec.definition,
            undefined_when=REASON_TEXT[Reason(_spec.undefined_reason)],
            measures=GROUP_MEASURES,
        )
    )
