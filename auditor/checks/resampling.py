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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.checks.metric_values import ScoreInputs, confusion_values, regression_values
from auditor.context import AuditContext
from auditor.groups import Grouping
from auditor.stats.bootstrap import aggregate_strata, resample_cells, row_multiplicities
from auditor.stats.confusion import grouped_confusion

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SCHEME = (
    "percentile bootstrap, resampling rows with replacement within each intersectional "
    "group (group sizes fixed)"
)


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


def bootstrap_samples(
    ctx: AuditContext,
    scores: list[ScoreInputs | None],
) -> list[dict[str, FloatArray]]:
    """(B, G) replicates of every metric, per grouping (in ``ctx.groupings`` order)."""
    n_resamples = ctx.settings.bootstrap_resamples
    groupings = ctx.groupings
    strata = Strata.of(groupings)
    rng = np.random.default_rng(ctx.settings.seed)
    samples: list[dict[str, FloatArray]] = [{} for _ in groupings]
    classification = ctx.task == "classification"
    fast_confusion = classification and ctx.weights is None
    if fast_confusion:
        cells = grouped_confusion(strata.codes, strata.n_strata, ctx.y_true, ctx.y_pred).cells
        replicates = resample_cells(cells, n_resamples, rng)
        for i, grouping in enumerate(groupings):
            grouped = aggregate_strata(replicates, strata.to_group[i], grouping.n_groups)
            samples[i].update(confusion_values(grouped, ctx.settings.positive_outcome))
    needs_rows = not fast_confusion or any(s is not None for s in scores)
    if not needs_rows:
        return samples
    per_replicate: list[dict[str, list[FloatArray]]] = [{} for _ in groupings]
    slots = strata.codes * 4 + (ctx.y_true.astype(np.int64) * 2 + ctx.y_pred.astype(np.int64))
    for multiplicity in row_multiplicities(strata.codes, strata.n_strata, n_resamples, rng):
        weights = multiplicity if ctx.weights is None else ctx.weights * multiplicity
        stratum_cells = None
        if classification and not fast_confusion:
            flat = np.bincount(slots, weights=weights, minlength=strata.n_strata * 4)
            stratum_cells = flat.astype(np.float64).reshape(strata.n_strata, 4)
        for i, grouping in enumerate(groupings):
            values: dict[str, FloatArray] = {}
            if stratum_cells is not None:
                grouped = aggregate_strata(stratum_cells, strata.to_group[i], grouping.n_groups)
                values.update(confusion_values(grouped, ctx.settings.positive_outcome))
            if scores[i] is not None:
                values.update(scores[i].values(weights))  # type: ignore[union-attr]
            if not classification:
                assert ctx.target_values is not None and ctx.predicted_values is not None
                values.update(
                    regression_values(
                        grouping.codes,
                        grouping.n_groups,
                        ctx.target_values,
                        ctx.predicted_values,
                        weights,
                    )
                )
            for name, value in values.items():
                per_replicate[i].setdefault(name, []).append(value)
    for i, replicate_lists in enumerate(per_replicate):
        samples[i].update({name: np.stack(v) for name, v in replicate_lists.items()})
    return samples
