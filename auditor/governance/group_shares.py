"""Size and share of each group, and the base rate of the target per group.

Groups arrive as integer ``codes`` (n,) in ``[0, n_groups)`` with optional ``keys``
('sex=Female') and optional non-negative sample ``weights`` (n,). Shares and rates are weighted
when weights are given; their Wilson intervals then use Kish effective counts (n_eff =
(sum w)^2 / sum w^2 over the rows of the denominator), so scaling every weight by a constant
changes nothing. Undefined values are NaN with a reason string, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.governance.group_arrays import (
    NO_ROWS,
    BoolArray,
    CellRows,
    FloatArray,
    IntArray,
    check_binary,
    check_codes,
    check_keys,
    check_weights,
    totals,
)
from auditor.stats.intervals import effective_counts, wilson_interval

EMPTY_GROUP = "the group has no rows (or every weight in it is 0)"


@dataclass(frozen=True)
class GroupShares:
    """Size and share of each group; arrays have one entry per group."""

    keys: tuple[str, ...]
    n: IntArray  # rows per group (unweighted)
    weight: FloatArray  # sum of weights per group (== n unweighted)
    share: FloatArray  # weight / total weight; NaN everywhere when the total is 0 (see reason)
    low: FloatArray  # Wilson interval of the share on Kish effective counts
    high: FloatArray
    n_total: int  # rows in all
    n_effective: float  # Kish effective size of all rows (== n_total unweighted)
    below_min_size: BoolArray  # n < min_group_size (rows, not weight); all False without it
    min_group_size: int | None
    confidence: float
    weighted: bool
    reason: str | None  # why the shares are undefined, else None


@dataclass(frozen=True)
class BaseRates:
    """Positive rate of the target per group, and overall; arrays have one entry per group."""

    keys: tuple[str, ...]
    n: IntArray  # rows per group
    n_positive: IntArray  # rows with a positive target per group (unweighted)
    rate: FloatArray  # weighted share of positives in the group; NaN for empty groups
    low: FloatArray  # Wilson interval on the group's Kish effective counts
    high: FloatArray
    n_effective: FloatArray  # Kish effective size of each group (== n unweighted)
    reasons: tuple[str | None, ...]  # why each rate is undefined, else None
    overall_rate: float  # NaN when there are no rows
    overall_low: float
    overall_high: float
    confidence: float
    weighted: bool


def checked_inputs(
    codes: npt.ArrayLike, n_groups: int, weights: npt.ArrayLike | None
) -> tuple[IntArray, FloatArray | None]:
    c = check_codes(codes, n_groups)
    return c, check_weights(weights, c.size)


def group_shares(
    codes: npt.ArrayLike,
    n_groups: int,
    weights: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    *,
    keys: Sequence[str] | None = None,
    min_group_size: int | None = None,
    cells: CellRows | None = None,
) -> GroupShares:
    """Rows, weighted share with a Wilson interval, and the groups below ``min_group_size``.

    ``cells``: the entries are cells of identical rows (see :class:`CellRows`)."""
    c, w = checked_inputs(codes, n_groups, weights)
    tot = totals(c, n_groups, w, cells)
    k_eff, n_eff = effective_counts(tot.weight, tot.weight.sum(), tot.weight_sq.sum())
    low, high = wilson_interval(k_eff, np.broadcast_to(n_eff, k_eff.shape), confidence)
    below = tot.n < min_group_size if min_group_size is not None else np.zeros(n_groups, bool)
    share = tot.share
    return GroupShares(
        keys=check_keys(keys, n_groups),
        n=tot.n,
        weight=tot.weight,
        share=share,
        low=low,
        high=high,
        n_total=int(tot.n.sum()),
        n_effective=tot.n_effective,
        below_min_size=below,
        min_group_size=min_group_size,
        confidence=confidence,
        weighted=w is not None,
        reason=NO_ROWS if np.isnan(share).all() else None,
    )


def base_rates(
    codes: npt.ArrayLike,
    n_groups: int,
    y_true: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    *,
    keys: Sequence[str] | None = None,
    cells: CellRows | None = None,
) -> BaseRates:
    """Weighted positive rate of ``y_true`` (bool or 0/1) per group, with Wilson intervals.

    ``cells``: the entries are cells of identical rows (see :class:`CellRows`)."""
    c, w = checked_inputs(codes, n_groups, weights)
    y = check_binary(y_true, c.size, "y_true")
    tot = totals(c, n_groups, w, cells)
    positives = y.astype(np.float64) if cells is None else cells.positives(y)
    yw = positives if w is None else w * y
    pos = np.asarray(np.bincount(c, weights=yw, minlength=n_groups), np.float64)
    k_eff, n_eff = effective_counts(pos, tot.weight, tot.weight_sq)
    low, high = wilson_interval(k_eff, n_eff, confidence)
    defined = tot.weight > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(defined, pos / np.where(defined, tot.weight, 1.0), np.nan)
    all_k, all_n = effective_counts(pos.sum(), tot.weight.sum(), tot.weight_sq.sum())
    all_low, all_high = wilson_interval(all_k, all_n, confidence)
    total = float(tot.weight.sum())
    return BaseRates(
        keys=check_keys(keys, n_groups),
        n=tot.n,
        n_positive=np.bincount(c, weights=positives, minlength=n_groups).astype(np.int64),
        rate=rate,
        low=low,
        high=high,
        n_effective=n_eff,
        reasons=tuple(None if d else EMPTY_GROUP for d in defined),
        overall_rate=float(pos.sum()) / total if total > 0 else math.nan,
        overall_low=float(all_low),
        overall_high=float(all_high),
        confidence=confidence,
        weighted=w is not None,
    )
