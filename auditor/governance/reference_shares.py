"""Observed group shares against expected (reference) population shares.

A policy, or a small reference file it names, gives the expected share of each group of a
sensitive attribute or an intersection (census or applicant-pool shares). The comparison
reports observed vs expected share with intervals, the representation ratio, a chi-square
goodness-of-fit test and the total variation distance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.errors import InputError
from auditor.governance.group_arrays import (
    NO_ROWS,
    CellRows,
    FloatArray,
    IntArray,
    check_keys,
    small_expected_note,
    total_variation,
    totals,
    tvd_interval,
)
from auditor.governance.group_shares import checked_inputs
from auditor.stats.intervals import effective_counts, wilson_interval

OTHER = "other"  # reference key for every observed group the reference does not name
SUM_TOLERANCE = 1e-6
ZERO_EXPECTED_PRESENT = (
    "the reference share is 0 but the group has rows: observed / expected is infinite"
)
ZERO_EXPECTED_ABSENT = (
    "the reference share is 0 and the group has no rows: observed / expected is 0 / 0"
)
WEIGHTED_CHI_SQUARE = (
    "weighted data: the test uses Kish effective counts (share x effective sample size), "
    "a design-effect correction of the weighted shares"
)


@dataclass(frozen=True)
class ReferenceComparison:
    """Observed group shares against the expected (reference) shares.

    One row per reference category, in the order of ``keys`` for the groups the reference names,
    then the reference keys the data does not contain (observed 0), then ``OTHER`` when the
    reference has it (pooling every observed group it does not name; see ``members``).
    The expected shares are fixed numbers, not estimates: the ratio interval is the observed
    share's Wilson interval divided by the expected share.
    """

    keys: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]  # observed group keys in each row (several for OTHER)
    n: IntArray  # rows per reference category
    observed: FloatArray  # weighted observed share
    observed_low: FloatArray  # Wilson interval (Kish effective counts when weighted)
    observed_high: FloatArray
    expected: FloatArray  # reference share (normalised to sum exactly to 1)
    ratio: FloatArray  # observed / expected; NaN where undefined (see ratio_reasons)
    ratio_low: FloatArray  # observed_low / expected
    ratio_high: FloatArray  # observed_high / expected
    ratio_reasons: tuple[str | None, ...]
    under_represented: tuple[bool | None, ...]  # ratio < min_ratio; None if no threshold/ratio
    min_ratio: float | None
    chi_square: float  # Pearson goodness of fit (scipy.stats.chisquare); NaN if undefined
    dof: int | None  # categories in the test - 1
    p_value: float
    chi_square_reason: str | None  # why the test is undefined, else None
    chi_square_note: str | None  # weighted counts, small expected counts
    tvd: float  # total variation distance 0.5 * sum |observed - expected|
    tvd_low: float  # basic multinomial bootstrap interval, clipped to [0, 1]
    tvd_high: float
    tvd_reason: str | None  # why the interval is undefined, else None
    n_total: int
    n_effective: float  # Kish effective size of all rows; the counts of the test
    confidence: float
    weighted: bool


def _checked_reference(expected: Mapping[str, float]) -> dict[str, float]:
    """Shares in [0, 1] that sum to 1 within SUM_TOLERANCE, renormalised to sum exactly 1."""
    if not expected:
        raise InputError("the reference gives no expected shares")
    shares = {str(k): float(v) for k, v in expected.items()}
    bad = [k for k, v in shares.items() if not (math.isfinite(v) and 0.0 <= v <= 1.0)]
    if bad:
        raise InputError(f"expected shares must lie in [0, 1]; not so for: {', '.join(bad)}")
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InputError(
            f"expected shares must sum to 1 (within {SUM_TOLERANCE:g}); they sum to {total:.8g}. "
            f"Add an '{OTHER}' share for the groups the reference does not name."
        )
    return {k: v / total for k, v in shares.items()}


def _reference_rows(
    keys: tuple[str, ...], n_rows: IntArray, shares: dict[str, float]
) -> list[tuple[str, list[int]]]:
    """(reference key, observed group indices) per row of the comparison."""
    index = {k: g for g, k in enumerate(keys)}
    pooling = OTHER in shares and OTHER not in index
    unnamed = [g for g, k in enumerate(keys) if k not in shares]
    missing = [keys[g] for g in unnamed if n_rows[g] > 0]
    if missing and not pooling:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        unknown = [k for k in shares if k not in index]
        hint = f" (reference keys not in the data: {', '.join(unknown[:10])})" if unknown else ""
        raise InputError(
            f"the reference has no share for {len(missing)} group(s) present in the data: "
            f"{shown}{hint}. Give each a share, or an '{OTHER}' share that pools them."
        )
    rows: list[tuple[str, list[int]]] = [(k, [g]) for k, g in index.items() if k in shares]
    rows += [(k, []) for k in shares if k not in index and not (pooling and k == OTHER)]
    if pooling:
        rows.append((OTHER, unnamed))
    return rows


def compare_to_reference(
    codes: npt.ArrayLike,
    n_groups: int,
    keys: Sequence[str],
    expected: Mapping[str, float],
    weights: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    *,
    min_ratio: float | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    cells: CellRows | None = None,
) -> ReferenceComparison:
    """Observed vs expected share per reference category, chi-square goodness of fit and TVD.

    ``expected`` maps group keys to population shares; they must sum to 1 within 1e-6 (then
    they are renormalised to sum exactly 1). Every group with rows must have a share, or the
    reference must have an ``OTHER`` share that pools the groups it does not name; a reference
    key the data lacks is a category observed 0 times. With weights, the chi-square test runs
    on Kish effective counts (weighted share x effective sample size) and the TVD bootstrap
    draws that many rows; unweighted these are the row counts. ``cells``: the entries are
    cells of identical rows (see :class:`CellRows`).
    """
    c, w = checked_inputs(codes, n_groups, weights)
    group_keys = check_keys(keys, n_groups)
    shares = _checked_reference(expected)
    tot = totals(c, n_groups, w, cells)
    rows = _reference_rows(group_keys, tot.n, shares)
    n = np.array([tot.n[m].sum() for _, m in rows], dtype=np.int64)
    weight = np.array([tot.weight[m].sum() for _, m in rows], dtype=np.float64)
    exp = np.array([shares[k] for k, _ in rows], dtype=np.float64)
    total = float(weight.sum())
    k_eff, n_eff = effective_counts(weight, np.asarray(total), tot.weight_sq.sum())
    low, high = wilson_interval(k_eff, np.broadcast_to(n_eff, k_eff.shape), confidence)
    obs = weight / total if total > 0 else np.full(len(rows), np.nan)
    ratio, reasons = _ratios(obs, exp, total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_low = np.where(np.isnan(ratio), np.nan, low / exp)
        r_high = np.where(np.isnan(ratio), np.nan, high / exp)
    under = tuple(
        None if min_ratio is None or math.isnan(r) else bool(r < min_ratio) for r in ratio
    )
    chi, dof, p, chi_reason, note = _goodness_of_fit(obs, exp, float(n_eff), w is not None)
    tvd = total_variation(obs, exp) if total > 0 else math.nan
    if total > 0:
        tvd_low, tvd_high, tvd_reason = tvd_interval(
            tvd, [obs], [float(n_eff)], exp,
            confidence=confidence, n_resamples=n_resamples, seed=seed,
        )  # fmt: skip
    else:
        tvd_low, tvd_high, tvd_reason = math.nan, math.nan, NO_ROWS
    return ReferenceComparison(
        keys=tuple(k for k, _ in rows),
        members=tuple(_members(k, m, group_keys, tot.n) for k, m in rows),
        n=n,
        observed=obs,
        observed_low=low,
        observed_high=high,
        expected=exp,
        ratio=ratio,
        ratio_low=r_low,
        ratio_high=r_high,
        ratio_reasons=reasons,
        under_represented=under,
        min_ratio=min_ratio,
        chi_square=chi,
        dof=dof,
        p_value=p,
        chi_square_reason=chi_reason,
        chi_square_note=note,
        tvd=tvd,
        tvd_low=tvd_low,
        tvd_high=tvd_high,
        tvd_reason=tvd_reason,
        n_total=int(tot.n.sum()),
        n_effective=float(n_eff),
        confidence=confidence,
        weighted=w is not None,
    )


def _members(
    key: str, groups: list[int], keys: tuple[str, ...], n_rows: IntArray
) -> tuple[str, ...]:
    """The observed groups of a row: the group itself, or the pooled groups that have rows."""
    if key in keys:
        return (key,)
    return tuple(keys[g] for g in groups if n_rows[g] > 0)


def _ratios(
    obs: FloatArray, exp: FloatArray, any_rows: bool
) -> tuple[FloatArray, tuple[str | None, ...]]:
    """observed / expected, NaN with a reason where the reference share is 0 or no rows."""
    reasons: list[str | None] = []
    for o, e in zip(obs, exp, strict=True):
        if not any_rows:
            reasons.append(NO_ROWS)
        elif e > 0:
            reasons.append(None)
        else:
            reasons.append(ZERO_EXPECTED_PRESENT if o > 0 else ZERO_EXPECTED_ABSENT)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(exp > 0, obs / np.where(exp > 0, exp, 1.0), np.nan)
    return np.where(any_rows, ratio, np.nan), tuple(reasons)


def _goodness_of_fit(
    obs: FloatArray, exp: FloatArray, n_eff: float, weighted: bool
) -> tuple[float, int | None, float, str | None, str | None]:
    """Pearson chi-square of counts ``obs * n_eff`` against ``exp * n_eff``."""
    if not n_eff > 0:
        return math.nan, None, math.nan, NO_ROWS, None
    impossible = (exp == 0) & (obs > 0)
    if impossible.any():
        return math.nan, None, math.nan, ZERO_EXPECTED_PRESENT + " (so is chi-square)", None
    cells = exp > 0  # a category with expected 0 and observed 0 adds nothing: left out
    if cells.sum() < 2:
        return math.nan, None, math.nan, "fewer than two categories with a reference share", None
    from scipy.stats import chisquare

    f_obs, f_exp = obs[cells] * n_eff, exp[cells] * n_eff
    result = chisquare(f_obs, f_exp / f_exp.sum() * f_obs.sum())
    notes = [WEIGHTED_CHI_SQUARE] if weighted else []
    small = small_expected_note(f_exp, "goodness-of-fit test")
    notes += [small] if small else []
    return (
        float(result.statistic),
        int(cells.sum()) - 1,
        float(result.pvalue),
        None,
        "; ".join(notes) or None,
    )
