"""Data quality by group: missingness per column and group, and duplicate rows.

Groups arrive as integer ``codes`` (n,) in ``[0, n_groups)`` aligned with the rows of the
frame. Missing means ``pandas.isna`` (None, NaN, NaT, pd.NA); placeholder strings such as '?'
or '' are values unless passed as ``placeholders``. Counts are of rows (unweighted):
missingness and duplication are properties of the data as delivered, not of the population it
stands for. Undefined values are NaN with a reason string, never 0. Duplicate rows
(:mod:`auditor.governance.duplicate_rows`) and drift against the training data
(:mod:`auditor.governance.training_drift`) are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError
from auditor.governance.duplicate_rows import Duplicates, duplicates
from auditor.governance.group_arrays import (
    FloatArray,
    IntArray,
    check_codes,
    check_keys,
    small_expected_note,
)
from auditor.governance.training_drift import (
    CategoryDrift,
    RangeDrift,
    TrainingDrift,
    drift_against_training,
)

__all__ = [
    "CategoryDrift",
    "ColumnMissingness",
    "Duplicates",
    "Missingness",
    "RangeDrift",
    "TrainingDrift",
    "drift_against_training",
    "duplicates",
    "missingness_by_group",
]

NO_ROWS = "the data has no rows"
NO_MISSING = "the column has no missing values: nothing to test (not applicable)"
ALL_MISSING = "every value of the column is missing: nothing to test (not applicable)"
ONE_GROUP = "fewer than two groups have rows: nothing to compare (not applicable)"


@dataclass(frozen=True)
class ColumnMissingness:
    """Missing values of one column, overall and per group (arrays: one entry per group).

    The test is Pearson's chi-square of independence (``scipy.stats.chi2_contingency``, no
    continuity correction) on the 2 x G table missing / present by group, over the groups
    with rows. Cramér's V = sqrt(chi2 / n) is its effect size: with many rows a tiny p-value
    can come with a negligible V.
    """

    column: str
    n_missing: int
    share: float  # n_missing / rows; NaN when there are no rows
    group_missing: IntArray  # missing values per group
    group_share: FloatArray  # per group; NaN for groups without rows
    gap: float  # largest minus smallest group share, groups with rows; NaN with fewer than 2
    chi_square: float  # NaN when the test is not applicable (see test_reason)
    dof: int | None
    p_value: float
    cramers_v: float
    test_reason: str | None  # why the test is not applicable, else None
    note: str | None  # small expected counts (< 5), else None


@dataclass(frozen=True)
class Missingness:
    """Missingness of every column of a frame, by group."""

    keys: tuple[str, ...]
    group_n: IntArray  # rows per group
    n_rows: int
    columns: tuple[ColumnMissingness, ...]  # in the frame's column order

    def column(self, name: str) -> ColumnMissingness:
        """The result of the column called ``name``."""
        for item in self.columns:
            if item.column == name:
                return item
        raise KeyError(name)


def _checked_frame_codes(frame: pd.DataFrame, codes: npt.ArrayLike, n_groups: int) -> IntArray:
    c = check_codes(codes, n_groups)
    if c.size != len(frame):
        raise InputError(f"codes has {c.size} entries but the frame has {len(frame)} rows")
    return c


def _share(part: FloatArray | IntArray, whole: IntArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1), np.nan)


def missingness_by_group(
    frame: pd.DataFrame,
    codes: npt.ArrayLike,
    n_groups: int,
    *,
    keys: Sequence[str] | None = None,
    placeholders: Sequence[object] = (),
) -> Missingness:
    """Missing share of every column overall and per group, with a chi-square test of whether
    missingness depends on the group and Cramér's V.

    ``placeholders`` are values that also count as missing (e.g. ``("?",)`` for UCI Adult,
    whose unknown workclass, occupation and native-country are the string '?').
    """
    c = _checked_frame_codes(frame, codes, n_groups)
    group_n = np.bincount(c, minlength=n_groups).astype(np.int64)
    present = group_n > 0
    columns = []
    for j, name in enumerate(frame.columns):
        series = frame.iloc[:, j]
        missing = series.isna().to_numpy()
        if placeholders:
            missing = missing | series.isin(list(placeholders)).to_numpy()
        per_group = np.bincount(c[missing], minlength=n_groups).astype(np.int64)
        shares = _share(per_group, group_n)
        columns.append(_column(str(name), per_group, shares, group_n, present))
    return Missingness(
        keys=check_keys(keys, n_groups), group_n=group_n, n_rows=len(frame), columns=tuple(columns)
    )


def _column(
    name: str,
    per_group: IntArray,
    shares: FloatArray,
    group_n: IntArray,
    present: npt.NDArray[np.bool_],
) -> ColumnMissingness:
    n_rows, n_missing = int(group_n.sum()), int(per_group.sum())
    gap = float(np.ptp(shares[present])) if present.sum() >= 2 else math.nan
    chi = v = p = math.nan
    dof: int | None = None
    reason: str | None = None
    note: str | None = None
    if n_rows == 0:
        reason = NO_ROWS
    elif n_missing == 0:
        reason = NO_MISSING
    elif n_missing == n_rows:
        reason = ALL_MISSING
    elif present.sum() < 2:
        reason = ONE_GROUP
    else:
        from scipy.stats import chi2_contingency

        table = np.vstack([per_group[present], group_n[present] - per_group[present]])
        result = chi2_contingency(table, correction=False)
        chi, p, dof = float(result.statistic), float(result.pvalue), int(result.dof)
        v = math.sqrt(chi / n_rows)
        note = small_expected_note(result.expected_freq, "missingness test")
    return ColumnMissingness(
        column=name,
        n_missing=n_missing,
        share=n_missing / n_rows if n_rows else math.nan,
        group_missing=per_group,
        group_share=shares,
        gap=gap,
        chi_square=chi,
        dof=dof,
        p_value=p,
        cramers_v=v,
        test_reason=reason,
        note=note,
    )
