"""Checked group codes and weights, weighted group totals, and total variation distance.

Shared by the representativeness computations (:mod:`auditor.governance.representation`,
:mod:`auditor.governance.representation_shift`). Pure numpy; scipy is imported inside the
functions that need it (importing ``scipy.stats`` costs about a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.errors import InputError
from auditor.stats.bootstrap import basic_interval

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NO_ROWS = "there are no rows (or every weight is 0), so shares are undefined"
NO_RESAMPLES = "the bootstrap is turned off (0 resamples)"


def check_codes(codes: npt.ArrayLike, n_groups: int, name: str = "codes") -> IntArray:
    """``codes`` as a 1-D int64 array with every value in ``[0, n_groups)``."""
    if n_groups < 1:
        raise InputError(f"n_groups must be at least 1, got {n_groups}")
    array = np.asarray(codes)
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"{name} must be integer group codes, got dtype {array.dtype}")
    out = array.astype(np.int64, copy=False)
    if out.size and (out.min() < 0 or out.max() >= n_groups):
        raise InputError(f"{name} must lie in [0, {n_groups}); found {out.min()}..{out.max()}")
    return out


def check_weights(
    weights: npt.ArrayLike | None, n: int, name: str = "weights"
) -> FloatArray | None:
    """``weights`` as float64 of length ``n``, finite and non-negative (None stays None)."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise InputError(f"{name} must have shape ({n},) like the codes, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError(f"{name} must be finite and non-negative")
    return w


def check_binary(y: npt.ArrayLike, n: int, name: str) -> BoolArray:
    """``y`` as a bool array of length ``n``; accepts bool or 0/1 values."""
    array = np.asarray(y)
    if array.shape != (n,):
        raise InputError(f"{name} must have shape ({n},) like the codes, got {array.shape}")
    if array.dtype == np.bool_:
        return array
    if array.size and not np.isin(array, (0, 1)).all():
        raise InputError(f"{name} must be boolean (or 0/1), found other values")
    return array.astype(np.bool_)


def check_keys(keys: Sequence[str] | None, n_groups: int) -> tuple[str, ...]:
    """The group keys, or '0', '1', ... when none are given."""
    if keys is None:
        return tuple(str(g) for g in range(n_groups))
    out = tuple(str(k) for k in keys)
    if len(out) != n_groups:
        raise InputError(f"{len(out)} keys given for {n_groups} groups")
    if len(set(out)) != len(out):
        raise InputError("group keys must be distinct")
    return out


@dataclass(frozen=True)
class Totals:
    """Per-group row counts and weight sums of one dataset."""

    n: IntArray  # rows per group
    weight: FloatArray  # sum of weights per group (== n unweighted)
    weight_sq: FloatArray  # sum of squared weights per group (== n unweighted)

    @property
    def share(self) -> FloatArray:
        """Weighted share per group; NaN everywhere when the total weight is 0."""
        total = float(self.weight.sum())
        return self.weight / total if total > 0 else np.full(self.weight.shape, np.nan)

    @property
    def n_effective(self) -> float:
        """Kish effective size of the whole dataset: (sum w)^2 / sum w^2 (n unweighted)."""
        sq = float(self.weight_sq.sum())
        return float(self.weight.sum()) ** 2 / sq if sq > 0 else 0.0


@dataclass(frozen=True)
class CellRows:
    """Entries that are cells of identical rows (an engine's aggregate): ``counts`` rows
    each and, with weights (then each cell's sum of weights), ``weights_sq`` their sum of
    squared weights."""

    counts: IntArray
    weights_sq: FloatArray | None = None

    def positives(self, y: BoolArray) -> FloatArray:
        """Rows with a positive target in each entry."""
        return np.asarray(self.counts * y, dtype=np.float64)


def totals(
    codes: IntArray, n_groups: int, weights: FloatArray | None, cells: CellRows | None = None
) -> Totals:
    """Rows, weight and squared weight per group, by bincount."""
    counts = None if cells is None else cells.counts
    n = np.bincount(codes, weights=counts, minlength=n_groups).astype(np.int64)
    if weights is None:
        rows = n.astype(np.float64)
        return Totals(n=n, weight=rows, weight_sq=rows.copy())
    weight = np.asarray(np.bincount(codes, weights=weights, minlength=n_groups), np.float64)
    squares = weights * weights if cells is None or cells.weights_sq is None else cells.weights_sq
    weight_sq = np.asarray(np.bincount(codes, weights=squares, minlength=n_groups), np.float64)
    return Totals(n=n, weight=weight, weight_sq=weight_sq)


def total_variation(p: FloatArray, q: FloatArray) -> float:
    """Total variation distance 0.5 * sum |p - q| of two share vectors."""
    return float(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum())


def tvd_interval(
    estimate: float,
    shares: Sequence[FloatArray],
    sizes: Sequence[float],
    fixed: FloatArray | None,
    *,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> tuple[float, float, str | None]:
    """Multinomial bootstrap interval of a total variation distance.

    Each of ``shares`` (one or two share vectors) is redrawn as ``multinomial(size, share) /
    size`` with ``size`` its (Kish effective, rounded) sample size; the distance is taken to
    ``fixed`` (a reference, when one sample is given) or between the two redrawn samples.
    The interval is the basic (reflected) bootstrap interval clipped to [0, 1]: like a range,
    a distance is biased upwards in every redraw, and a percentile interval would sit above
    the estimate. Returns ``(low, high, reason)``; NaN bounds with a reason when undefined.
    """
    if n_resamples <= 0:
        return float("nan"), float("nan"), NO_RESAMPLES
    rng = np.random.default_rng(seed)
    draws = []
    for p, size in zip(shares, sizes, strict=True):
        n_draw = max(round(size), 1)
        counts = rng.multinomial(n_draw, np.clip(p, 0.0, None) / np.sum(p), size=n_resamples)
        draws.append(counts / n_draw)
    other = draws[1] if fixed is None else np.asarray(fixed)[None, :]
    samples = 0.5 * np.abs(draws[0] - other).sum(axis=1)
    low, high = basic_interval(samples, estimate, confidence, domain=(0.0, 1.0))
    return low, high, None


def small_expected_note(expected: FloatArray, what: str) -> str | None:
    """A note when some expected count of a chi-square test is below 5, else None."""
    smallest = float(np.min(expected)) if np.size(expected) else float("nan")
    if smallest < 5:
        return (
            f"the smallest expected count of the {what} is {smallest:.3g} (< 5): the "
            "chi-square approximation may be poor"
        )
    return None
