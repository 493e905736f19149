"""One metric over the groups of a table -> MetricCells and a Summary, with intervals.

Conventions (named in every report): ``difference_to_reference = group - reference``,
``ratio_to_reference = group / reference``, ``ratio_to_highest = group / highest group``
(the "impact ratio" of NYC Local Law 144 and the EEOC four-fifths rule), and over the groups
the policy judges: ``min_max_ratio = min / max`` and ``max_abs_difference = max - min``.

Intervals: proportions get Wilson (value), Newcombe (difference) and Katz log (ratio)
intervals and a two-sided test against the reference group, corrected for the number of
groups compared; every other value gets a percentile-bootstrap interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auditor.checks.metric_catalog import GroupMetric
from auditor.results import Reason, Summary, Value
from auditor.stats.bootstrap import basic_interval, percentile_interval
from auditor.stats.intervals import katz_log_ratio, newcombe_difference, wilson_interval
from auditor.stats.significance import adjust_p_values, compare_proportions

FloatArray = npt.NDArray[np.float64]
NAN_PAIR = (np.nan, np.nan)


@dataclass(frozen=True)
class Measured:
    """One metric for every group of a table, before it becomes cells.

    ``parts`` holds (successes, trials) of a proportion, Kish-adjusted when weighted;
    ``samples`` the (B, G) bootstrap replicates; ``excluded[g]`` why group g is not judged.
    """

    metric: GroupMetric
    values: FloatArray
    reasons: list[Reason]
    excluded: list[Reason | None]
    parts: tuple[FloatArray, FloatArray] | None
    samples: FloatArray | None


def value_of(v: float, reason: Reason | None, low: float = np.nan, high: float = np.nan) -> Any:
    """A number with its interval, or undefined with ``reason`` when it is NaN, as the dict
    of a :class:`Value` (a table of 200 groups holds tens of thousands: pydantic validates
    them in one pass over the whole table, far faster than one object at a time).

    An interval that misses its estimate is widened to include it: the percentile bootstrap
    of a range or a maximum is biased away from parity, and an interval that excludes the
    measured value would mislead more than a wider one.
    """
    v, low, high = float(v), float(low), float(high)
    if math.isnan(v):
        return {"value": None, "reason": reason}
    if math.isnan(low) or math.isnan(high):
        return {"value": v}
    return {"value": v, "ci_low": min(low, v), "ci_high": max(high, v)}


def as_value(
    v: float,
    reason: Reason | None,
    low: float = np.nan,
    high: float = np.nan,
    why: str | None = None,
) -> Value:
    """:func:`value_of` as a :class:`Value`; ``why`` says in words why a NaN is undefined."""
    value = Value.model_validate(value_of(v, reason, low, high))
    return value.model_copy(update={"note": why}) if value.value is None and why else value


def finite_or_none(x: float) -> float | None:
    """A float for audit.json: None where it is NaN."""
    return None if math.isnan(x) else float(x)


def percentile_bounds(
    samples: FloatArray | None, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Percentile-bootstrap bounds of each column of ``samples`` (empty without samples)."""
    if samples is None:
        return np.full(0, np.nan), np.full(0, np.nan)
    low, high, _ = percentile_interval(samples, confidence)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


Bounds = tuple[list[float], list[float]]


def _as_lists(bounds: tuple[FloatArray, FloatArray], n_groups: int) -> Bounds:
    """Interval bounds as Python lists (NaN where there are none): read once per group, a
    list is far quicker than a numpy scalar."""
    low, high = bounds
    if low.size < n_groups:
        return [math.nan] * n_groups, [math.nan] * n_groups
    return low.tolist(), high.tolist()


def _pick(bounds: Bounds, g: int) -> tuple[float, float]:
    return bounds[0][g], bounds[1][g]


def _judged(m: Measured) -> npt.NDArray[np.bool_]:
    return np.array([e is None for e in m.excluded]) & ~np.isnan(m.values)


def metric_cells(
    m: Measured, ref: int, confidence: float, correction: str
) -> tuple[list[dict[str, Any]], int | None]:
    """Cells of every group (as :class:`MetricCell` dicts, validated with their table), and
    the index of the highest judged group (if any)."""
    values, n_groups = m.values, len(m.values)
    judged = _judged(m)
    # With one judged group there is nothing to compare: no "highest" group (not 1.0).
    highest = int(np.flatnonzero(judged)[np.argmax(values[judged])]) if judged.sum() > 1 else None
    # The highest group is picked from the data, so its own luck inflates it: the intervals
    # to it are simultaneous over the groups compared (Bonferroni), not one at a time.
    top_confidence = 1.0 - (1.0 - confidence) / max(1, int(judged.sum()) - 1)
    if m.parts is not None:
        k, n = m.parts
        value_ci = wilson_interval(k, n, confidence)
        diff_ci = newcombe_difference(k, n, k[ref], n[ref], confidence)
        ratio_ci = katz_log_ratio(k, n, k[ref], n[ref], confidence)
        top = (np.full(n_groups, np.nan), np.full(n_groups, np.nan))
        if highest is not None:
            top = katz_log_ratio(k, n, k[highest], n[highest], top_confidence)
    else:
        s = m.samples
        value_ci = percentile_bounds(s, confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff_ci = percentile_bounds(None if s is None else s - s[:, [ref]], confidence)
            ratio_ci = percentile_bounds(None if s is None else s / s[:, [ref]], confidence)
            top = percentile_bounds(
                None if s is None or highest is None else s / s[:, [highest]], top_confidence
            )
    tests = _tests(m, ref, judged, correction)
    value_b, diff_b, ratio_b, top_b = (
        _as_lists(b, n_groups) for b in (value_ci, diff_ci, ratio_ci, top)
    )
    listed = values.tolist()
    ref_value = listed[ref]
    cells = []
    for g in range(n_groups):
        v, own = listed[g], m.reasons[g]
        if math.isnan(v):
            diff = ratio = to_top = {"value": None, "reason": own}
        else:
            same_as_ref = g == ref
            diff = value_of(v - ref_value, Reason.REFERENCE_UNDEFINED, *_ci(diff_b, g, same_as_ref))
            ratio = _ratio(v, ref_value, _ci(ratio_b, g, same_as_ref), Reason.REFERENCE_ZERO)
            if highest is None:
                to_top = {"value": None, "reason": Reason.FEWER_THAN_TWO_GROUPS}
            else:
                to_top = _ratio(v, listed[highest], _ci(top_b, g, g == highest), Reason.ALL_ZERO)
        cells.append(
            {
                "value": value_of(v, own, *_pick(value_b, g)),
                "difference_to_reference": diff,
                "ratio_to_reference": ratio,
                "ratio_to_highest": to_top,
                "excluded": m.excluded[g],
                "test": tests[g],
            }
        )
    return cells, highest


def _ci(bounds: Bounds, g: int, itself: bool) -> tuple[float, float]:
    # A group compared with itself has no uncertainty to show: 0 and 1 exactly.
    return NAN_PAIR if itself else _pick(bounds, g)


def _ratio(v: float, base: float, ci: tuple[float, float], zero_reason: Reason) -> Any:
    if math.isnan(base):
        return {"value": None, "reason": Reason.REFERENCE_UNDEFINED}
    if base == 0:
        return {"value": None, "reason": zero_reason}
    if base < 0 or v < 0:
        return {"value": None, "reason": Reason.NOT_POSITIVE}
    return value_of(v / base, None, *ci)


def _tests(
    m: Measured, ref: int, judged: npt.NDArray[np.bool_], correction: str
) -> list[dict[str, Any] | None]:
    """Each judged group's rate against the reference's, corrected over the table's groups
    (as :class:`~auditor.results.SignificanceTest` dicts)."""
    n_groups = len(m.values)
    if m.parts is None or not judged[ref]:
        return [None] * n_groups
    k, n = m.parts
    result = compare_proportions(k, n, np.full(n_groups, k[ref]), np.full(n_groups, n[ref]))
    family = judged.copy()
    family[ref] = False
    p = np.where(family, result.p_value, np.nan)
    adjusted = adjust_p_values(p, correction)
    tests: list[dict[str, Any] | None] = []
    for g in range(n_groups):
        if not family[g] or np.isnan(result.p_value[g]):
            tests.append(None)
            continue
        statistic = float(result.statistic[g])
        tests.append(
            {
                "method": result.method[g],
                "statistic": None if np.isnan(statistic) else statistic,
                "p_value": float(result.p_value[g]),
                "p_adjusted": None if np.isnan(adjusted[g]) else float(adjusted[g]),
            }
        )
    return tests


def summary(
    m: Measured, keys: tuple[str, ...], rows: npt.NDArray[np.int64], confidence: float
) -> Summary:
    """min/max ratio and max - min over the judged groups, with bootstrap intervals."""
    excluded: dict[str, Reason] = {}
    for g, key in enumerate(keys):
        reason = m.excluded[g] or (m.reasons[g] if np.isnan(m.values[g]) else None)
        if reason is not None:
            excluded[key] = reason
    kept = [g for g, key in enumerate(keys) if key not in excluded]
    compared = [keys[g] for g in kept]
    n_compared = int(rows[kept].sum())
    if len(kept) < 2:
        undefined = Value(value=None, reason=Reason.FEWER_THAN_TWO_GROUPS)
        return Summary(
            min_max_ratio=undefined,
            max_abs_difference=undefined,
            groups_compared=compared,
            groups_excluded=excluded,
            n_compared=n_compared,
        )
    picked = m.values[kept]
    low, high = float(picked.min()), float(picked.max())
    ratio_ci, diff_ci = NAN_PAIR, NAN_PAIR
    if m.samples is not None:
        s = m.samples[:, kept]
        s_min, s_max = s.min(axis=1), s.max(axis=1)  # NaN in any kept group: NaN replicate
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_samples = np.where(s_max > 0, s_min / s_max, np.nan)
        # A range and a min/max ratio are biased away from parity: basic bootstrap intervals.
        if high > 0:
            ratio_ci = basic_interval(ratio_samples, low / high, confidence, (0.0, 1.0))
        diff_ci = basic_interval(s_max - s_min, high - low, confidence, (0.0, None))
    if low < 0:  # a ratio of a negative mean (regression) to another means nothing
        ratio = Value(value=None, reason=Reason.NOT_POSITIVE)
    elif high == 0:
        ratio = Value(value=None, reason=Reason.ALL_ZERO)
    else:
        ratio = value_of(low / high, None, *ratio_ci)
    return Summary(
        min_max_ratio=ratio,
        max_abs_difference=value_of(high - low, None, *diff_ci),
        groups_compared=compared,
        groups_excluded=excluded,
        n_compared=n_compared,
        lowest_group=compared[int(np.argmin(picked))],
        highest_group=compared[int(np.argmax(picked))],
    )
