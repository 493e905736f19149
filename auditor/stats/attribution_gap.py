"""Gap attribution: the difference in mean output between two groups, split by feature.

With an additive explanation (output = base + phi.sum(1)) the mean output of a group is the
base value plus the sum of its mean phi, so the gap between groups a and b is exactly the sum
over features of the differences of mean phi: the base value cancels. The residual of that
identity is returned, so a non-additive explanation (sampled SHAP, a link function between
the explained and the reported output) is visible rather than silently mis-attributed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.stats.attribution_bootstrap import check_rows, group_sums, percentile, ratio, strata_of
from auditor.stats.bootstrap import FloatArray, IntArray


@dataclass(frozen=True)
class GapAttribution:
    """Mean output of group a minus group b, split into per-feature differences of mean phi.

    ``residual`` = ``output_gap - difference.sum()``: zero to float precision when the
    explanation is additive (output = base + phi.sum(1); the base value cancels), which
    ``additive`` reports. Intervals are percentile bootstrap. Everything is NaN and
    ``defined`` False when either group has no weight.
    """

    group_a: int
    group_b: int
    mean_output_a: float
    mean_output_b: float
    output_gap: float
    output_gap_low: float
    output_gap_high: float
    difference: FloatArray
    difference_low: FloatArray
    difference_high: FloatArray
    residual: float
    additive: bool
    defined: bool


def gap_attribution(
    phi: FloatArray,
    output: FloatArray,
    codes: IntArray,
    group_a: int,
    group_b: int,
    weights: FloatArray | None = None,
    resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    strata: IntArray | None = None,
    rtol: float = 1e-6,
) -> GapAttribution:
    """Split the gap in mean output between groups a and b into per-feature contributions.

    The per-feature differences of mean phi sum to the output gap when the explanation is
    additive; ``residual`` says by how much they do not, and ``additive`` is True when it is
    within ``rtol`` of the size of the terms. Only rows of groups a and b are used.
    """
    values, w, c = check_rows(phi, weights, codes, int(np.max(codes, initial=0)) + 1)
    y = np.asarray(output, dtype=np.float64)
    if y.shape != (values.shape[0],) or not np.all(np.isfinite(y)):
        raise ValueError("output must be finite and one per row")
    if group_a == group_b:
        raise ValueError("group_a and group_b must differ")
    keep = (c == group_a) | (c == group_b)
    pair = (c[keep] == group_b).astype(np.int64)  # group a -> 0, group b -> 1
    s = pair if strata is None else np.asarray(strata, dtype=np.int64)[keep]
    s, n_strata = strata_of(s, pair)
    est, reps = group_sums(
        np.hstack([values[keep], y[keep, None]]), w[keep], pair, 2, s, n_strata, resamples, seed
    )
    means, rep_means = ratio(est[:, :-1], est[:, -1:]), ratio(reps[..., :-1], reps[..., -1:])
    diff, rep_diff = means[0] - means[1], rep_means[:, 0] - rep_means[:, 1]
    lo, hi = percentile(rep_diff, diff, confidence)
    residual = float(diff[-1] - diff[:-1].sum())
    scale = abs(means[0, -1]) + abs(means[1, -1]) + float(np.abs(diff[:-1]).sum())
    return GapAttribution(
        group_a=group_a,
        group_b=group_b,
        mean_output_a=float(means[0, -1]),
        mean_output_b=float(means[1, -1]),
        output_gap=float(diff[-1]),
        output_gap_low=float(lo[-1]),
        output_gap_high=float(hi[-1]),
        difference=diff[:-1],
        difference_low=lo[:-1],
        difference_high=hi[:-1],
        residual=residual,
        additive=bool(abs(residual) <= rtol * scale + 1e-12),
        defined=bool(np.all(est[:, -1] > 0)),
    )
