"""Shift between the training data and the audit data: group shares and base rates.

Both datasets are encoded with the same groups (codes in ``[0, n_groups)``, same ``keys``).
Differences are audit minus training: positive means the group (or its base rate) grew in the
audit data. Their intervals are Newcombe's hybrid score intervals on Kish effective counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.errors import InputError
from auditor.governance.group_arrays import (
    NO_ROWS,
    FloatArray,
    small_expected_note,
    total_variation,
    tvd_interval,
)
from auditor.governance.group_shares import BaseRates, GroupShares, base_rates, group_shares
from auditor.governance.reference_shares import WEIGHTED_CHI_SQUARE
from auditor.stats.intervals import newcombe_difference

NOT_IN_TRAIN = "the group has no rows in the training data"
NOT_IN_AUDIT = "the group has no rows in the audit data"


@dataclass(frozen=True)
class GroupShift:
    """Per group, share and base rate in training vs audit data; arrays have one entry per group.

    ``share_difference`` and ``rate_difference`` are audit minus training. The homogeneity test
    is Pearson's chi-square (``scipy.stats.chi2_contingency``, no continuity correction) of the
    2 x G table of group counts, over the groups with rows in either dataset; weighted, the
    counts are Kish effective counts (share x effective size of that dataset).
    """

    keys: tuple[str, ...]
    train: GroupShares
    audit: GroupShares
    share_difference: FloatArray  # audit.share - train.share
    share_difference_low: FloatArray  # Newcombe hybrid score interval
    share_difference_high: FloatArray
    train_rates: BaseRates | None  # None without targets
    audit_rates: BaseRates | None
    rate_difference: FloatArray | None  # audit rate - train rate; NaN where either is undefined
    rate_difference_low: FloatArray | None  # Newcombe hybrid score interval
    rate_difference_high: FloatArray | None
    rate_reasons: tuple[str | None, ...] | None  # why each rate difference is undefined
    chi_square: float  # homogeneity of the group shares between the two datasets
    dof: int | None
    p_value: float
    chi_square_reason: str | None  # why the test is undefined, else None
    chi_square_note: str | None  # weighted counts, small expected counts
    tvd: float  # 0.5 * sum |audit share - train share|
    tvd_low: float  # basic bootstrap interval, both datasets redrawn (multinomial)
    tvd_high: float
    tvd_reason: str | None
    confidence: float


def shift(
    train_codes: npt.ArrayLike,
    audit_codes: npt.ArrayLike,
    n_groups: int,
    train_y: npt.ArrayLike | None = None,
    audit_y: npt.ArrayLike | None = None,
    *,
    keys: Sequence[str] | None = None,
    train_weights: npt.ArrayLike | None = None,
    audit_weights: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> GroupShift:
    """Shift in group shares (and base rates, when both targets are given) from train to audit."""
    if (train_y is None) != (audit_y is None):
        raise InputError("base-rate shift needs the target of both datasets, or of neither")
    train = group_shares(train_codes, n_groups, train_weights, confidence, keys=keys)
    audit = group_shares(audit_codes, n_groups, audit_weights, confidence, keys=keys)
    k_t, k_a = _counts(train), _counts(audit)
    diff = audit.share - train.share
    d_low, d_high = newcombe_difference(k_a, audit.n_effective, k_t, train.n_effective, confidence)
    rates = None
    if train_y is not None and audit_y is not None:
        t_rates = base_rates(train_codes, n_groups, train_y, train_weights, confidence, keys=keys)
        a_rates = base_rates(audit_codes, n_groups, audit_y, audit_weights, confidence, keys=keys)
        rates = (t_rates, a_rates, *_rate_difference(t_rates, a_rates, confidence))
    chi, dof, p, chi_reason, note = _homogeneity(train, audit, k_t, k_a)
    tvd_reason: str | None
    if chi_reason == NO_ROWS:
        tvd, tvd_low, tvd_high, tvd_reason = math.nan, math.nan, math.nan, NO_ROWS
    else:
        tvd = total_variation(audit.share, train.share)
        tvd_low, tvd_high, tvd_reason = tvd_interval(
            tvd, [audit.share, train.share], [audit.n_effective, train.n_effective], None,
            confidence=confidence, n_resamples=n_resamples, seed=seed,
        )  # fmt: skip
    return GroupShift(
        keys=train.keys,
        train=train,
        audit=audit,
        share_difference=diff,
        share_difference_low=d_low,
        share_difference_high=d_high,
        train_rates=rates[0] if rates else None,
        audit_rates=rates[1] if rates else None,
        rate_difference=rates[2] if rates else None,
        rate_difference_low=rates[3] if rates else None,
        rate_difference_high=rates[4] if rates else None,
        rate_reasons=rates[5] if rates else None,
        chi_square=chi,
        dof=dof,
        p_value=p,
        chi_square_reason=chi_reason,
        chi_square_note=note,
        tvd=tvd,
        tvd_low=tvd_low,
        tvd_high=tvd_high,
        tvd_reason=tvd_reason,
        confidence=confidence,
    )


def _counts(shares: GroupShares) -> FloatArray:
    """Kish effective count per group: share x effective size (the rows, unweighted)."""
    return np.nan_to_num(shares.share) * shares.n_effective


def _rate_difference(
    train: BaseRates, audit: BaseRates, confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[str | None, ...]]:
    """Audit minus training base rate per group, its Newcombe interval and reasons."""
    k_t = np.nan_to_num(train.rate) * train.n_effective
    k_a = np.nan_to_num(audit.rate) * audit.n_effective
    low, high = newcombe_difference(k_a, audit.n_effective, k_t, train.n_effective, confidence)
    reasons = tuple(
        NOT_IN_TRAIN if t is not None else NOT_IN_AUDIT if a is not None else None
        for t, a in zip(train.reasons, audit.reasons, strict=True)
    )
    return audit.rate - train.rate, low, high, reasons


def _homogeneity(
    train: GroupShares, audit: GroupShares, k_t: FloatArray, k_a: FloatArray
) -> tuple[float, int | None, float, str | None, str | None]:
    """Pearson chi-square of the 2 x G table of (effective) counts, groups with rows only."""
    if not (train.n_effective > 0 and audit.n_effective > 0):
        return math.nan, None, math.nan, NO_ROWS, None
    table = np.vstack([k_t, k_a])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return math.nan, None, math.nan, "fewer than two groups have rows", None
    from scipy.stats import chi2_contingency

    result = chi2_contingency(table, correction=False)
    notes = [WEIGHTED_CHI_SQUARE] if train.weighted or audit.weighted else []
    small = small_expected_note(result.expected_freq, "homogeneity test")
    notes += [small] if small else []
    return (
        float(result.statistic),
        int(result.dof),
        float(result.pvalue),
        None,
        "; ".join(notes) or None,
    )
