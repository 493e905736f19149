"""Group fairness: every metric of every group, their disparities, intervals and criteria.

One confusion-count kernel gives every classification metric of every group; scores add the
threshold-free metrics and regression audits their own. :mod:`auditor.checks.disparities`
turns each metric into cells and summaries with intervals, :mod:`auditor.checks.criteria`
the named criteria, and :mod:`auditor.checks.resampling` the bootstrap replicates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auditor.checks.bulk import without_cyclic_gc
from auditor.checks.criteria import CRITERIA, criteria_for_table
from auditor.checks.disparities import Measured, metric_cells, summary
from auditor.checks.metric_catalog import GROUP_METRICS, GroupMetric
from auditor.checks.metric_values import (
    Parts,
    ScoreInputs,
    confusion_proportions,
    confusion_values,
    regression_values,
    score_levels,
)
from auditor.checks.registry import GROUP_MEASURES, CheckSpec, register_check, register_family
from auditor.checks.resampling import affordable_resamples, bootstrap_samples, scheme
from auditor.context import AuditContext, CheckSettings
from auditor.groups import Grouping
from auditor.results import (
    REASON_TEXT,
    BootstrapInfo,
    CheckResult,
    GroupTable,
    Reason,
    ReliabilityBin,
)
from auditor.stats.confusion import CELLS, grouped_confusion
from auditor.stats.intervals import effective_counts
from auditor.stats.scores import Calibration, grouped_calibration
from auditor.stats.significance import CORRECTION_NAMES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NEEDS_SCORES = "needs scores: pass --score COL, or a model with predict_proba"
_REQUIRES = {
    "confusion": "needs a classification audit (binary target and predictions)",
    "score": NEEDS_SCORES,
    "regression": "needs a regression audit (--task regression)",
}


def _reasons(
    metric: GroupMetric, values: FloatArray, rows: IntArray, pos: IntArray
) -> list[Reason]:
    """Why each group's value is undefined (used only where it is NaN)."""
    reasons = []
    for g in range(len(values)):
        if rows[g] == 0:
            reasons.append(Reason.EMPTY_GROUP)
        elif metric.needs == "both" and metric.undefined_reason is Reason.NO_POSITIVES:
            reasons.append(Reason.NO_POSITIVES if pos[g] == 0 else Reason.NO_NEGATIVES)
        else:
            reasons.append(metric.undefined_reason)
    return reasons


def _excluded(
    metric: GroupMetric, rows: IntArray, pos: IntArray, neg: IntArray, settings: CheckSettings
) -> list[Reason | None]:
    """Why the policy does not judge each group on this metric (None: it does)."""
    out: list[Reason | None] = []
    for g in range(len(rows)):
        if rows[g] == 0:
            out.append(Reason.EMPTY_GROUP)
        elif rows[g] < settings.min_group_size:
            out.append(Reason.BELOW_MIN_GROUP_SIZE)
        elif metric.needs in ("positives", "both") and pos[g] < max(settings.min_positives, 1):
            # none at all: the value is undefined, and that is the reason to give
            out.append(Reason.NO_POSITIVES if pos[g] == 0 else Reason.BELOW_MIN_POSITIVES)
        elif metric.needs in ("negatives", "both") and neg[g] < max(settings.min_negatives, 1):
            out.append(Reason.NO_NEGATIVES if neg[g] == 0 else Reason.BELOW_MIN_NEGATIVES)
        else:
            out.append(None)
    return out


def _effective(parts: Parts, squared: Parts) -> Parts:
    """Kish-effective (successes, trials) over the rows of the proportion's denominator."""
    return effective_counts(parts[0], parts[1], squared[1])


def _reliability(table: Calibration, grouping: Grouping) -> dict[str, list[ReliabilityBin]]:
    """The reliability table of every group that has rows, bin by bin."""
    out: dict[str, list[ReliabilityBin]] = {}
    for g, key in enumerate(grouping.keys):
        if table.rows[g].sum() == 0:
            continue
        out[key] = [
            ReliabilityBin(
                low=float(table.edges[b]),
                high=float(table.edges[b + 1]),
                n=int(table.rows[g, b]),
                mean_score=None if table.rows[g, b] == 0 else float(table.mean_score[g, b]),
                fraction_positive=None
                if table.rows[g, b] == 0
                else float(table.fraction_positive[g, b]),
            )
            for b in range(len(table.edges) - 1)
        ]
    return out


@without_cyclic_gc
def group_table(
    ctx: AuditContext,
    grouping: Grouping,
    scores: ScoreInputs | None = None,
    samples: dict[str, FloatArray] | None = None,
) -> GroupTable:
    """Every metric of every group of one attribute, with intervals, disparities, criteria."""
    samples = samples or {}
    settings = ctx.settings
    codes, n_groups = grouping.codes, grouping.n_groups
    rows = ctx.group_rows(codes, n_groups)
    positives = ctx.y_true if ctx.counts is None else ctx.y_true * ctx.counts
    pos = np.bincount(codes, weights=positives, minlength=n_groups).astype(np.int64)
    mass = ctx.mass  # weights, or the rows of each cell
    neg = rows - pos
    values: dict[str, FloatArray] = {}
    calibration: Calibration | None = None
    parts: dict[str, Parts] = {}
    counts: dict[str, FloatArray] = {}
    if ctx.task == "classification":
        cells = grouped_confusion(codes, n_groups, ctx.y_true, ctx.y_pred, mass).cells
        counts = {c: cells[:, i] for i, c in enumerate(CELLS)}
        values = confusion_values(cells, settings.positive_outcome)
        parts = confusion_proportions(cells, settings.positive_outcome)
        if scores is not None:
            if scores.probabilities:  # once: the calibration error and the table share it
                calibration = grouped_calibration(
                    codes,
                    n_groups,
                    ctx.y_true,
                    scores.scores,
                    mass,
                    levels=scores.levels,
                    counts=ctx.counts,
                )
            values.update(scores.values(mass, calibration))
            parts.update(scores.proportions(mass))
        squared = ctx.mass_sq
        if squared is not None:  # sums of squared weights over the same rows
            cells_sq = grouped_confusion(codes, n_groups, ctx.y_true, ctx.y_pred, squared).cells
            parts_sq = confusion_proportions(cells_sq, settings.positive_outcome)
            if scores is not None:
                parts_sq.update(scores.proportions(squared))
            parts = {k: _effective(p, parts_sq[k]) for k, p in parts.items()}
    else:
        assert ctx.target_values is not None and ctx.predicted_values is not None
        values = regression_values(codes, n_groups, ctx.target_values, ctx.predicted_values, mass)
    measured = []
    for name, metric in GROUP_METRICS.items():
        if name not in values:
            continue
        excluded = _excluded(metric, rows, pos, neg, settings)
        measured.append(
            Measured(
                metric=metric,
                values=values[name],
                reasons=_reasons(metric, values[name], rows, pos),
                excluded=excluded,
                parts=parts.get(name) if metric.proportion else None,
                samples=samples.get(name),
            )
        )
    correction = settings.multiple_comparisons
    cells_by_metric = {}
    summaries = {}
    for m in measured:
        cells_by_metric[m.metric.name], _ = metric_cells(
            m, grouping.reference, settings.confidence, correction
        )
        summaries[m.metric.name] = summary(m, grouping.keys, rows, settings.confidence)
    why_not = {
        m.metric.name: [
            excluded or (reason if np.isnan(v) else None)
            for excluded, reason, v in zip(m.excluded, m.reasons, m.values, strict=True)
        ]
        for m in measured
    }
    weight_sum = None if ctx.weights is None else np.bincount(codes, ctx.weights, n_groups)
    table_rows = [
        {
            "group": grouping.keys[g],
            "labels": grouping.labels[g],
            "n": int(rows[g]),
            "weight_sum": None if weight_sum is None else float(weight_sum[g]),
            "counts": {c: float(column[g]) for c, column in counts.items()},
            "metrics": {name: cells[g] for name, cells in cells_by_metric.items()},
        }
        for g in range(n_groups)
    ]
    # One validation of the whole table: pydantic checks the nested dicts in one pass.
    return GroupTable.model_validate(
        {
            "attribute": grouping.attribute,
            "columns": list(grouping.columns),
            "reference": grouping.keys[grouping.reference],
            "reference_rule": "user" if grouping.reference_rule == "user" else "largest_group",
            "rows": table_rows,
            "summaries": summaries,
            "criteria": criteria_for_table(
                values,
                samples,
                why_not,
                grouping.keys,
                rows,
                grouping.reference,
                settings.confidence,
            ),
            "correction": CORRECTION_NAMES[correction] if parts else None,
            "calibration": {} if calibration is None else _reliability(calibration, grouping),
        }
    )


def _score_inputs(ctx: AuditContext) -> list[ScoreInputs | None]:
    if ctx.scores is None or ctx.task != "classification":
        return [None] * len(ctx.groupings)
    levels = score_levels(ctx.scores)  # once for every grouping
    return [
        ScoreInputs.build(
            g.codes,
            g.n_groups,
            ctx.y_true,
            ctx.scores,
            ctx.mass,
            ctx.settings.score_threshold,
            ctx.settings.top_k,
            levels,
            ctx.counts,
        )
        for g in ctx.groupings
    ]


@register_family("fairness")
def group_fairness(ctx: AuditContext) -> CheckResult:
    """Group metrics, disparities and criteria for each sensitive attribute and intersection."""
    scores = _score_inputs(ctx)
    requested = ctx.settings.bootstrap_resamples
    resamples = affordable_resamples(ctx, requested) if requested > 0 else 0
    samples = bootstrap_samples(ctx, scores, resamples) if resamples > 0 else [{} for _ in scores]
    note = None
    if resamples < requested:
        note = (
            f"{requested:,} resamples were asked for, {resamples:,} drawn: replicates of every "
            f"metric of {sum(g.n_groups for g in ctx.groupings):,} groups must fit in memory"
        )
    return CheckResult(
        family="fairness",
        status="ok",
        tables=[
            group_table(ctx, grouping, score, sample)
            for grouping, score, sample in zip(ctx.groupings, scores, samples, strict=True)
        ],
        bootstrap=BootstrapInfo(
            resamples=resamples,
            seed=ctx.settings.seed,
            confidence=ctx.settings.confidence,
            scheme=scheme(ctx),
            note=note,
        )
        if requested > 0
        else None,
    )


for _metric in GROUP_METRICS.values():
    register_check(
        CheckSpec(
            name=f"fairness.{_metric.name}",
            family="fairness",
            metric=_metric.name,
            label=_metric.label,
            definition=_metric.definition,
            undefined_when=_metric.undefined_text or REASON_TEXT[_metric.undefined_reason],
            measures=GROUP_MEASURES,
            requires=_REQUIRES[_metric.source],
        )
    )
for _criterion in CRITERIA:
    register_check(
        CheckSpec(
            name=f"fairness.{_criterion.name}",
            family="fairness",
            metric=_criterion.name,
            label=_criterion.label,
            definition=_criterion.definition,
            undefined_when=REASON_TEXT[Reason.FEWER_THAN_TWO_GROUPS],
            measures=("value", "by_group") if _criterion.by_group else ("value",),
            requires=_REQUIRES["confusion"],
        )
    )
