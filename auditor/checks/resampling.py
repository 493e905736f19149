"""Bootstrap replicates of every group metric: stratified, seeded, vectorised.

Strata are the finest groups (the intersection of all sensitive attributes), so every
group of every table keeps its size in every replicate. Unweighted confusion metrics take
the fast path: a multinomial draw of each stratum's four confusion counts per replicate
(exactly the distribution of resampling its rows). Weighted data, scores and regression
take the general path: one vector of row multiplicities per replicate, multiplied into the
weights and fed to the same metric functions as the point estimate. Neither path copies
the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.checks.metric_values import ScoreInputs, ScoreSums, confusion_values
from auditor.context import AuditContext
from auditor.groups import Grouping
from auditor.stats.bootstrap import (
    aggregate_strata,
    cell_masses,
    poisson_cells,
    resample_cells,
    row_multiplicities,
)
from auditor.stats.confusion import grouped_confusion
from auditor.stats.regression import metrics_from_sums, regression_terms, weighted_sums

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SCHEME = (
    "percentile bootstrap, resampling rows with replacement within each intersectional "
    "group (group sizes fixed)"
)
CELL_SCHEME = (
    "percentile Poisson bootstrap on the engine's cells: a cell of k identical rows draws a "
    "Poisson(k) count (group sizes vary); weighted cells draw (sum w^2 / sum w) x "
    "Poisson((sum w)^2 / sum w^2), the mean and variance of a row-level Poisson bootstrap"
)


def scheme(ctx: AuditContext) -> str:
    """How this audit's replicates are drawn: rows in memory, cells from an engine."""
    return SCHEME if ctx.counts is None else CELL_SCHEME


@dataclass(frozen=True)
class Strata:
    """The finest grouping's codes, and which group of each grouping each stratum is in."""

    codes: IntArray
    n_strata: int
    to_group: tuple[IntArray, ...]

    @classmethod
    def of(cls, groupings: list[Grouping]) -> Strata:
        finest = max(groupings, key=lambda g: g.n_groups)
        maps = []
        for grouping in groupings:
            mapping = np.zeros(finest.n_groups, dtype=np.int64)
            mapping[finest.codes] = grouping.codes  # consistent: finer groups nest in coarser
            maps.append(mapping)
        return cls(finest.codes, finest.n_groups, tuple(maps))


MEMORY_BUDGET = 1 << 30  # bytes the replicates may hold at once
_METRICS_PER_GROUP = 32  # replicates kept per group: one per metric
_SUMS_PER_STRATUM = 45  # per-stratum sums of a replicate: confusion, regression, scores


def affordable_resamples(ctx: AuditContext, requested: int) -> int:
    """The resamples that fit :data:`MEMORY_BUDGET` (all requested, on any usual audit).

    Replicates are kept for every metric of every group, so tens of thousands of
    intersectional groups would need gigabytes at 1000 resamples; fewer resamples are then
    drawn (at least 100) or, below that, none.
    """
    groups = sum(g.n_groups for g in ctx.groupings)
    strata = max(g.n_groups for g in ctx.groupings)
    per_replicate = 8 * (groups * _METRICS_PER_GROUP + strata * _SUMS_PER_STRATUM)
    affordable = MEMORY_BUDGET // per_replicate
    if affordable >= requested:
        return requested
    return affordable if affordable >= 100 else 0


def bootstrap_samples(
    ctx: AuditContext, scores: list[ScoreInputs | None], n_resamples: int
) -> list[dict[str, FloatArray]]:
    """(B, G) replicates of every metric, per grouping (in ``ctx.groupings`` order)."""
    groupings = ctx.groupings
    strata = Strata.of(groupings)
    rng = np.random.default_rng(ctx.settings.seed)
    samples: list[dict[str, FloatArray]] = [{} for _ in groupings]
    classification = ctx.task == "classification"
    fast_confusion = classification and ctx.weights is None
    aggregated = ctx.counts is not None
    if fast_confusion:
        codes, n_strata = strata.codes, strata.n_strata
        cells = grouped_confusion(codes, n_strata, ctx.y_true, ctx.y_pred, ctx.mass).cells
        draw = poisson_cells if aggregated else resample_cells
        replicates = draw(cells, n_resamples, rng)
        for i, grouping in enumerate(groupings):
            grouped = aggregate_strata(replicates, strata.to_group[i], grouping.n_groups)
            samples[i].update(confusion_values(grouped, ctx.settings.positive_outcome))
    needs_rows = not fast_confusion or any(s is not None for s in scores)
    if not needs_rows:
        return samples
    # Per replicate: sums per stratum (aggregated to every grouping afterwards, in one go)
    # and, for scores, each grouping's threshold-free metrics (they do not add up by stratum).
    stratum_cells = np.zeros((n_resamples, strata.n_strata, 4)) if not fast_confusion else None
    stratum_sums = None
    if not classification:
        assert ctx.target_values is not None and ctx.predicted_values is not None
        terms, offset = regression_terms(ctx.target_values, ctx.predicted_values)
        stratum_sums = np.zeros((n_resamples, strata.n_strata, terms.shape[1]))
    first_scores = next((s for s in scores if s is not None), None)
    score_sums = None
    if first_scores is not None:
        score_sums = ScoreSums.build(first_scores, strata.codes, strata.n_strata)
    sums_of_scores: list[tuple[FloatArray, FloatArray | None]] = []
    per_replicate: list[dict[str, list[FloatArray]]] = [{} for _ in groupings]
    slots = strata.codes * 4 + (ctx.y_true.astype(np.int64) * 2 + ctx.y_pred.astype(np.int64))
    for b, weights in enumerate(_replicate_weights(ctx, strata, n_resamples, rng)):
        if stratum_cells is not None and classification:
            flat = np.bincount(slots, weights=weights, minlength=strata.n_strata * 4)
            stratum_cells[b] = flat.reshape(strata.n_strata, 4)
        if stratum_sums is not None:
            stratum_sums[b] = weighted_sums(strata.codes, strata.n_strata, terms, weights)
        if score_sums is not None:
            sums_of_scores.append(score_sums.sums(weights))
        for i, score in enumerate(scores):
            if score is not None:
                for name, value in score.ranked_values(weights).items():
                    per_replicate[i].setdefault(name, []).append(value)
    for i, grouping in enumerate(groupings):
        samples[i].update({name: np.stack(v) for name, v in per_replicate[i].items()})
        if stratum_cells is not None and classification:
            grouped = aggregate_strata(stratum_cells, strata.to_group[i], grouping.n_groups)
            samples[i].update(confusion_values(grouped, ctx.settings.positive_outcome))
        if stratum_sums is not None:
            grouped = aggregate_strata(stratum_sums, strata.to_group[i], grouping.n_groups)
            samples[i].update(metrics_from_sums(grouped, offset))
        if score_sums is not None:
            samples[i].update(_score_samples(score_sums, sums_of_scores, strata, i, grouping))
    return samples


def _replicate_weights(
    ctx: AuditContext, strata: Strata, n_resamples: int, rng: np.random.Generator
) -> Iterator[FloatArray]:
    """Each replicate's weight of every row: multiplicities (x weights) of a stratified
    resample of the rows, or the Poisson totals of an engine's cells."""
    if ctx.counts is not None:
        yield from cell_masses(ctx.counts, ctx.weights, ctx.weights_sq, n_resamples, rng)
        return
    for multiplicity in row_multiplicities(strata.codes, strata.n_strata, n_resamples, rng):
        yield multiplicity if ctx.weights is None else ctx.weights * multiplicity


def _score_samples(
    score_sums: ScoreSums,
    replicates: list[tuple[FloatArray, FloatArray | None]],
    strata: Strata,
    index: int,
    grouping: Grouping,
) -> dict[str, FloatArray]:
    """The additive score metrics of every replicate, for one grouping."""
    mapping, n_groups = strata.to_group[index], grouping.n_groups
    sums = aggregate_strata(np.stack([r[0] for r in replicates]), mapping, n_groups)
    calibration = None
    if replicates[0][1] is not None:
        stacked = np.stack([r[1] for r in replicates])  # type: ignore[misc]
        b, s, bins, k = stacked.shape
        flat = aggregate_strata(stacked.reshape(b, s, bins * k), mapping, n_groups)
        calibration = flat.reshape(b, n_groups, bins, k)
    return score_sums.values_from(sums, calibration)
