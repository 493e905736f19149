"""Fairness depth: auditor's whole group-metric set and bootstrap against fairlearn, one run.

Usage: ``python -m benchmarks.bench_fairness_depth [--rows N] [--resamples B]
[--fairlearn-boot K]`` (``make bench``). Adult (tests/data/adult.csv) is tiled to N rows
(default 1,000,000). The score is a fixed logistic function of education-num, age,
hours-per-week and capital gain, the prediction is ``score >= 0.5``, and '>50K' is the
positive label. Both tools run in this process, on the same arrays, one after the other.

What it measures, and how to read the three tables it prints:

1. The metric set by group, bootstrap off, for ~10 groups (sex x race) and ~200 groups
   (sex x race x age band x weekly-hours band; 190 of the 200 combinations occur in Adult).
   fairlearn: one ``MetricFrame`` of the 14 metrics both tools compute (fairlearn's rates
   and count; scikit-learn's precision, F1 and NPV with ``zero_division=np.nan``, accuracy,
   balanced accuracy, ROC AUC, average precision, Brier score; scores reach the score
   metrics through ``sample_params``). auditor: ``ScoreInputs.build`` (sorts the scores
   once per grouping) plus ``group_table`` for the grouping, which computes more than that
   (20 metrics with Wilson/Newcombe/Katz intervals, disparities to the reference and the
   highest group, significance tests, summaries, criteria and the reliability table); each
   step best of three, added, and the split printed below the table. ``ratio`` is
   fairlearn's time (one run) over auditor's; the goal is >= 300x. ``max |diff|`` is the
   largest absolute difference over every group and metric both define (where it occurs
   is printed below); the script exits 1 when it is above 1e-12. Values one tool leaves
   undefined and the other reports as a number (fairlearn's 0 for a 0/0 rate,
   scikit-learn's 0 average precision without positives, and its balanced accuracy of a
   group with one actual class) are skipped, counted and listed with auditor's reason;
   values both leave undefined, and combinations that no row has, are counted apart.
2. The bootstrap on the 200-group grouping: auditor's ``bootstrap_samples`` (B stratified
   resamples of every metric of every group) for unweighted confusion metrics (the
   multinomial path), confusion metrics weighted by ``fnlwgt`` (row path) and confusion
   plus score metrics (row path), against fairlearn's ``MetricFrame(n_boot=K,
   ci_quantiles=...)`` on the same metric set. fairlearn's per-resample time is
   (time with n_boot=K - time without) / K, both measured right there, and its time for B
   resamples is that times B: EXTRAPOLATED, not run. fairlearn resamples all rows (not
   within groups) and also recomputes the overall value in each resample; the work per
   resample is otherwise the same.
3. The peak memory (tracemalloc, which sees numpy's buffers) that auditor's bootstrap
   allocates on top of its inputs, in a separate run of each variant: the replicates it
   returns (B x groups x metrics floats) and the working memory besides them, against the
   size of the arrays it reads. A copy of the data per resample would cost B times those.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import sklearn.metrics as skm

from auditor.checks.fairness import group_table
from auditor.checks.metric_values import ScoreInputs, score_levels
from auditor.checks.resampling import affordable_resamples, bootstrap_samples
from auditor.context import AuditContext, CheckSettings
from auditor.groups import encode_groups
from auditor.inputs.labels import BinaryLabels
from auditor.results import GroupTable
from benchmarks.bench_group_metrics import best_of, tile_adult

FloatArray = npt.NDArray[np.float64]

TOLERANCE = 1e-12
GOAL = 300.0
SMALL = ["sex", "race"]
LARGE = ["sex", "race", "age_band", "hours_band"]
AGE_BANDS = ([0, 25, 35, 45, 55, 200], ["17-24", "25-34", "35-44", "45-54", "55+"])
HOURS_BANDS = ([0, 35, 41, 51, 200], ["<35", "35-40", "41-50", "51+"])
SCORE_METRICS = ("roc_auc", "average_precision", "brier_score")
NOT_WEIGHTED = ("count",)


def load(rows: int) -> pd.DataFrame:
    """Tiled Adult with the bands, a deterministic probability score and its decision."""
    frame = tile_adult(rows)
    for column, name, (edges, labels) in (
        ("age", "age_band", AGE_BANDS),
        ("hours-per-week", "hours_band", HOURS_BANDS),
    ):
        frame[name] = pd.cut(frame[column], edges, right=False, labels=labels).astype(str)
    z = (
        -6.0
        + 0.35 * frame["education-num"].to_numpy(dtype=np.float64)
        + 0.03 * frame["age"].to_numpy(dtype=np.float64)
        + 0.03 * frame["hours-per-week"].to_numpy(dtype=np.float64)
        + 0.25 * np.log1p(frame["capital-gain"].to_numpy(dtype=np.float64))
    )
    frame["score"] = 1.0 / (1.0 + np.exp(-z))
    frame["y_pred"] = (frame["score"] >= 0.5).astype(int)
    return frame


def context(
    frame: pd.DataFrame, columns: list[str], *, weighted: bool = False, resamples: int = 0
) -> AuditContext:
    """An AuditContext with one grouping: the intersection of ``columns``."""
    return AuditContext(
        frame=frame,
        labels=BinaryLabels("1", "0"),
        y_true=frame["y_true"].to_numpy() == 1,
        y_pred=frame["y_pred"].to_numpy() == 1,
        scores=frame["score"].to_numpy(dtype=np.float64),
        weights=frame["fnlwgt"].to_numpy(dtype=np.float64) if weighted else None,
        groupings=[encode_groups(frame, columns)[-1]],
        settings=CheckSettings(bootstrap_resamples=resamples),
    )


def score_inputs(ctx: AuditContext) -> ScoreInputs:
    grouping = ctx.groupings[0]
    assert ctx.scores is not None
    levels = score_levels(ctx.scores)  # as the fairness family does, once per audit
    return ScoreInputs.build(
        grouping.codes, grouping.n_groups, ctx.y_true, ctx.scores, ctx.weights, None, None, levels
    )


def auditor_table(ctx: AuditContext, scores: ScoreInputs) -> GroupTable:
    """Every metric of every group, with intervals, disparities and tests (no bootstrap)."""
    return group_table(ctx, ctx.groupings[0], scores)


# --- fairlearn's side ----------------------------------------------------------------------


def roc_auc(y_true: Any, y_pred: Any, scores: Any, sample_weight: Any = None) -> float:
    return float(skm.roc_auc_score(y_true, scores, sample_weight=sample_weight))


def average_precision(y_true: Any, y_pred: Any, scores: Any, sample_weight: Any = None) -> float:
    return float(skm.average_precision_score(y_true, scores, sample_weight=sample_weight))


def brier_score(y_true: Any, y_pred: Any, scores: Any, sample_weight: Any = None) -> float:
    return float(skm.brier_score_loss(y_true, scores, sample_weight=sample_weight))


def fairlearn_metrics(with_scores: bool) -> dict[str, Callable[..., float]]:
    """fairlearn / scikit-learn functions, named as auditor names the same metric."""
    from fairlearn.metrics import (
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )

    metrics: dict[str, Callable[..., float]] = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "true_negative_rate": true_negative_rate,
        "false_negative_rate": false_negative_rate,
        "precision": partial(skm.precision_score, zero_division=np.nan),
        "negative_predictive_value": partial(
            skm.precision_score, pos_label=0, zero_division=np.nan
        ),
        "accuracy": skm.accuracy_score,
        "f1_score": partial(skm.f1_score, zero_division=np.nan),
        "balanced_accuracy": skm.balanced_accuracy_score,
        "count": count,
    }
    if with_scores:
        metrics.update(
            {"roc_auc": roc_auc, "average_precision": average_precision, "brier_score": brier_score}
        )
    return metrics


def fairlearn_frame(
    frame: pd.DataFrame,
    columns: list[str],
    *,
    with_scores: bool = True,
    weighted: bool = False,
    n_boot: int | None = None,
) -> Any:
    """fairlearn's MetricFrame of the shared metric set (optionally weighted, bootstrapped)."""
    from fairlearn.metrics import MetricFrame

    metrics = fairlearn_metrics(with_scores)
    scores = frame["score"].to_numpy(dtype=np.float64)
    weights = frame["fnlwgt"].to_numpy(dtype=np.float64)
    params: dict[str, dict[str, Any]] = {}
    for name in metrics:
        param: dict[str, Any] = {}
        if name in SCORE_METRICS:
            param["scores"] = scores
        if weighted and name not in NOT_WEIGHTED:
            param["sample_weight"] = weights
        if param:
            params[name] = param
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns for every 0/0 in every group
        return MetricFrame(
            metrics=metrics,
            y_true=frame["y_true"].to_numpy(),
            y_pred=frame["y_pred"].to_numpy(),
            sensitive_features=frame[columns],
            sample_params=params or None,
            n_boot=n_boot,
            ci_quantiles=[0.025, 0.975] if n_boot else None,
            random_state=0 if n_boot else None,
        )


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


# --- agreement -----------------------------------------------------------------------------


@dataclass
class Agreement:
    """How the two tools' values compare over every group and metric."""

    worst: float = 0.0
    worst_at: str = ""
    compared: int = 0
    both_undefined: int = 0
    groups: int = 0
    observed: int = 0
    # (metric, auditor's reason or value, fairlearn's value or "undefined") -> fairlearn values
    skipped: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def skipped_text(self) -> str:
        parts = []
        for (metric, why), values in sorted(self.skipped.items()):
            low, high = min(values), max(values)
            theirs = f"{low:g}" if low == high else f"{low:g} to {high:g}"
            if np.isnan(low):
                theirs = "undefined"
            parts.append(f"{metric} x{len(values)} (auditor {why}, fairlearn {theirs})")
        return "; ".join(parts) or "none"


def compare(table: GroupTable, by_group: pd.DataFrame, columns: list[str]) -> Agreement:
    out = Agreement(groups=len(table.rows))
    index = {
        tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))): i
        for i, k in enumerate(by_group.index)
    }
    for row in table.rows:
        key = tuple(row.labels[c] for c in columns)
        theirs = by_group.iloc[index[key]] if key in index else None
        if row.n == 0:
            # A combination no row has: auditor keeps it empty, fairlearn reindexes it to NaN.
            assert theirs is None or theirs.isna().all(), key
            continue
        assert theirs is not None, key
        out.observed += 1
        for metric in by_group.columns:
            if metric == "count":
                ours: float | None = float(row.n)
                reason = None
            else:
                cell = row.metrics[metric].value
                ours, reason = cell.value, cell.reason
            value = float(theirs[metric])
            if ours is None and np.isnan(value):
                out.both_undefined += 1
            elif ours is None:
                out.skipped.setdefault((metric, f"undefined: {reason}"), []).append(value)
            elif np.isnan(value):
                out.skipped.setdefault((metric, "defined"), []).append(value)
            else:
                out.compared += 1
                if abs(ours - value) > out.worst:
                    out.worst, out.worst_at = abs(ours - value), f"{metric} of {row.group}"
    return out


# --- the three parts -----------------------------------------------------------------------


def part_metric_set(frame: pd.DataFrame) -> float:
    """Table 1; returns the largest difference between the two tools."""
    print(
        "\n1. Full metric set by group, bootstrap off "
        f"(fairlearn: {len(fairlearn_metrics(True))} metrics in one MetricFrame; auditor: "
        "ScoreInputs.build + group_table, all metrics with intervals, disparities, tests)"
    )
    header = (
        f"{'grouping':<36} {'groups':>8} {'auditor s':>10} {'fairlearn s':>12} "
        f"{'ratio':>9} {'max |diff|':>10} {'values':>7} {'both undef':>10} {'skipped':>8}"
    )
    print(header)
    worst, ratios = 0.0, []
    skipped: list[tuple[str, Agreement]] = []
    split: list[str] = []
    for columns in (SMALL, LARGE):
        ctx = context(frame, columns)
        build_s, scores = best_of(3, partial(score_inputs, ctx))
        assert isinstance(scores, ScoreInputs)
        table_s, table = best_of(3, partial(auditor_table, ctx, scores))
        assert isinstance(table, GroupTable)
        ours_s = build_s + table_s
        theirs_s, mf = timed(partial(fairlearn_frame, frame, columns))
        agreement = compare(table, mf.by_group, columns)
        name = " & ".join(columns)
        ratio = theirs_s / ours_s
        ratios.append(ratio)
        worst = max(worst, agreement.worst)
        print(
            f"{name:<36} {f'{agreement.observed}/{agreement.groups}':>8} {ours_s:>10.3f} "
            f"{theirs_s:>12.3f} {ratio:>8.0f}x {agreement.worst:>10.1e} "
            f"{agreement.compared:>7} {agreement.both_undefined:>10} "
            f"{agreement.n_skipped:>8}"
        )
        skipped.append((name, agreement))
        split.append(
            f"  {name}: ScoreInputs.build (sorts the scores) {build_s:.3f} s + group_table "
            f"{table_s:.3f} s; fairlearn / group_table alone: {theirs_s / table_s:.0f}x"
        )
    print("auditor s = best of 3 of each step, added:")
    print("\n".join(split))
    print("largest difference at:")
    for name, agreement in skipped:
        print(f"  {name}: {agreement.worst:.1e}, {agreement.worst_at}")
    print("skipped (one tool undefined, the other a number), by metric:")
    for name, agreement in skipped:
        print(f"  {name}: {agreement.skipped_text()}")
    print(
        f"goal fairlearn/auditor >= {GOAL:.0f}x: {'met' if min(ratios) >= GOAL else 'NOT met'} "
        f"(lowest {min(ratios):.0f}x)"
    )
    return worst


@dataclass(frozen=True)
class Variant:
    label: str
    weighted: bool
    with_scores: bool


VARIANTS = (
    Variant("confusion, unweighted (multinomial path)", False, False),
    Variant("confusion, fnlwgt weights (row path)", True, False),
    Variant("confusion + scores (row path)", False, True),
)


def variant_scores(ctx: AuditContext, variant: Variant) -> list[ScoreInputs | None]:
    """The score inputs bootstrap_samples takes (built once, as for the point estimate)."""
    return [score_inputs(ctx) if variant.with_scores else None]


def part_bootstrap(frame: pd.DataFrame, resamples: int, k: int) -> dict[str, AuditContext]:
    name = " & ".join(LARGE)
    print(
        f"\n2. Bootstrap, {resamples} resamples, {name}. auditor: bootstrap_samples "
        f"(stratified, every metric of every group). fairlearn: MetricFrame(n_boot={k}) "
        f"less MetricFrame(), / {k} = measured s per resample; x {resamples} = EXTRAPOLATED"
    )
    print(
        f"{'variant':<42} {'auditor s':>10} {'fairlearn s/resample':>21} "
        f"{f'fairlearn s for {resamples} (extrapolated)':>38} {'ratio':>9}"
    )
    contexts = {}
    for variant in VARIANTS:
        ctx = context(frame, LARGE, weighted=variant.weighted, resamples=resamples)
        # An audit draws fewer when the replicates would not fit its memory budget.
        assert affordable_resamples(ctx, resamples) == resamples, "over the memory budget"
        contexts[variant.label] = ctx
        scores = variant_scores(ctx, variant)
        ours_s, _ = timed(partial(bootstrap_samples, ctx, scores, resamples))
        fl = partial(
            fairlearn_frame,
            frame,
            LARGE,
            with_scores=variant.with_scores,
            weighted=variant.weighted,
        )
        base_s, _ = timed(fl)
        boot_s, _ = timed(partial(fl, n_boot=k))
        per_resample = max(boot_s - base_s, 0.0) / k
        extrapolated = per_resample * resamples
        print(
            f"{variant.label:<42} {ours_s:>10.3f} {per_resample:>21.3f} "
            f"{extrapolated:>38.1f} {extrapolated / ours_s:>8.0f}x"
        )
    return contexts


def part_memory(contexts: dict[str, AuditContext], resamples: int, frame_mb: float) -> None:
    print(
        f"\n3. Peak memory auditor's bootstrap allocates ({resamples} resamples, tracemalloc, "
        f"separate run); the data frame itself is {frame_mb:.0f} MB"
    )
    print(
        f"{'variant':<42} {'peak MB':>8} {'replicates MB':>14} {'working MB':>11} "
        f"{'inputs MB':>10} {'working/inputs':>15} {'copy per resample MB':>21}"
    )
    for variant in VARIANTS:
        ctx = contexts[variant.label]
        inputs = ctx.y_true.nbytes + ctx.y_pred.nbytes + ctx.groupings[0].codes.nbytes
        if variant.weighted:
            assert ctx.weights is not None
            inputs += ctx.weights.nbytes
        if variant.with_scores:
            assert ctx.scores is not None
            inputs += ctx.scores.nbytes
        scores = variant_scores(ctx, variant)
        tracemalloc.start()
        samples = bootstrap_samples(ctx, scores, resamples)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        replicates = sum(a.nbytes for s in samples for a in s.values())
        working = peak - replicates
        mb = 1e6
        print(
            f"{variant.label:<42} {peak / mb:>8.1f} {replicates / mb:>14.1f} "
            f"{working / mb:>11.1f} {inputs / mb:>10.1f} {working / inputs:>14.2f}x "
            f"{inputs * resamples / mb:>21.0f}"
        )


def main() -> None:
    import fairlearn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument(
        "--fairlearn-boot", type=int, default=2, help="fairlearn's n_boot for part 2"
    )
    args = parser.parse_args()
    frame = load(args.rows)
    print(
        f"Fairness depth: auditor vs fairlearn {fairlearn.__version__} MetricFrame on "
        f"{len(frame):,} rows (Adult tiled), same process; positive '>50K', "
        f"score = fixed logistic of numeric columns, prediction = score >= 0.5"
    )
    worst = part_metric_set(frame)
    contexts = part_bootstrap(frame, args.resamples, args.fairlearn_boot)
    frame_mb = frame.memory_usage(deep=True).sum() / 1e6
    part_memory(contexts, args.resamples, frame_mb)
    verdict = "within" if worst <= TOLERANCE else "OVER"
    print(f"\nagreement: largest difference {worst:.1e}, {verdict} the {TOLERANCE:.0e} tolerance")
    if worst > TOLERANCE:
        sys.exit(1)


if __name__ == "__main__":
    main()
