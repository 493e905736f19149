"""Audit-time values the training data never had: out-of-range numbers and unseen categories.

For each column present in both frames, the training column decides the check:

- categories: bool, object, string and category columns, and numeric columns with at most
  ``max_categories`` (20) distinct values in training. The share of audit rows whose value
  never occurs in training, naming the most frequent unseen values (at most 5, each cut to
  30 characters: category labels are shown, never other data).
- range: other numeric, datetime and timedelta columns. The share of audit rows below the
  training minimum and above the training maximum.

Shares are of all audit rows; missing values are neither unseen nor out of range (the
missingness check counts them). Undefined values are NaN with a reason string, never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

MAX_CATEGORIES = 20
MAX_EXAMPLES = 5
MAX_LABEL = 30
NO_AUDIT_ROWS = "the audit data has no rows"
NO_TRAIN_VALUES = "the training column has no values: there is nothing to compare with"
NOT_COMPARABLE = "the audit values cannot be compared with the training range (other types)"


@dataclass(frozen=True)
class RangeDrift:
    """Audit rows outside the training [min, max] of a numeric or datetime column."""

    column: str
    n_audit: int  # audit rows
    n_checked: int  # audit rows with a value comparable with the range
    train_min: float | str | None  # str for datetimes (ISO); None without training values
    train_max: float | str | None
    n_below: int
    n_above: int
    share_below: float  # of all audit rows; NaN when undefined (see reason)
    share_above: float
    share_outside: float  # share_below + share_above
    n_not_comparable: int  # audit values that are not numbers (dates) although training's are
    reason: str | None
    kind: Literal["range"] = "range"


@dataclass(frozen=True)
class CategoryDrift:
    """Audit rows whose category never occurs in the training column."""

    column: str
    n_audit: int  # audit rows
    n_checked: int  # audit rows with a value
    n_train_categories: int  # distinct values in training
    n_unseen: int  # audit rows with an unseen value
    share_unseen: float  # of all audit rows; NaN when undefined (see reason)
    n_unseen_categories: int  # distinct unseen values
    unseen_examples: tuple[str, ...]  # most frequent first, at most 5, cut to 30 characters
    reason: str | None
    note: str | None  # e.g. training and audit columns of different kinds
    kind: Literal["categories"] = "categories"


@dataclass(frozen=True)
class TrainingDrift:
    """Per shared column, a range or category check; and the columns only one frame has."""

    n_train: int
    n_audit: int
    columns: tuple[RangeDrift | CategoryDrift, ...]  # in the training frame's order
    only_in_train: tuple[str, ...]
    only_in_audit: tuple[str, ...]

    def column(self, name: str) -> RangeDrift | CategoryDrift:
        """The result of the column called ``name``."""
        for item in self.columns:
            if item.column == name:
                return item
        raise KeyError(name)


def _is_range(train: pd.Series, max_categories: int) -> bool:
    dtype = train.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return True
    if pd.api.types.is_numeric_dtype(dtype):
        # Most numeric columns show more than max_categories values within their first rows.
        head = train.iloc[:10_000].dropna()
        if head.nunique() > max_categories:
            return True
        return bool(train.nunique(dropna=True) > max_categories)
    return False


def drift_against_training(
    train: pd.DataFrame, audit: pd.DataFrame, *, max_categories: int = MAX_CATEGORIES
) -> TrainingDrift:
    """Out-of-range values and unseen categories of ``audit`` compared with ``train``."""
    audit_names = {str(c): c for c in audit.columns}
    train_names = {str(c): c for c in train.columns}
    results: list[RangeDrift | CategoryDrift] = []
    for name, col in train_names.items():
        if name not in audit_names:
            continue
        t, a = train[col], audit[audit_names[name]]
        if _is_range(t, max_categories):
            results.append(_range(name, t, a))
        else:
            results.append(_categories(name, t, a))
    return TrainingDrift(
        n_train=len(train),
        n_audit=len(audit),
        columns=tuple(results),
        only_in_train=tuple(n for n in train_names if n not in audit_names),
        only_in_audit=tuple(n for n in audit_names if n not in train_names),
    )


def _bound(value: object) -> float | str:
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return value.isoformat()
    return float(value)  # type: ignore[arg-type]


def _range(name: str, train: pd.Series, audit: pd.Series) -> RangeDrift:
    n_audit = len(audit)
    has_value = audit.notna()
    lo, hi = train.min(skipna=True), train.max(skipna=True)
    values = audit
    if pd.api.types.is_numeric_dtype(train.dtype) and not pd.api.types.is_numeric_dtype(audit):
        values = pd.to_numeric(audit, errors="coerce")
    comparable = values.notna()
    n_below = n_above = 0
    reason = None if n_audit else NO_AUDIT_ROWS
    if pd.isna(lo):
        reason = NO_TRAIN_VALUES
    elif n_audit:
        try:
            n_below = int((values < lo).to_numpy(dtype=bool, na_value=False).sum())
            n_above = int((values > hi).to_numpy(dtype=bool, na_value=False).sum())
        except TypeError:
            reason, comparable = NOT_COMPARABLE, pd.Series(False, index=audit.index)
    defined = reason is None
    return RangeDrift(
        column=name,
        n_audit=n_audit,
        n_checked=int(comparable.sum()),
        train_min=None if pd.isna(lo) else _bound(lo),
        train_max=None if pd.isna(hi) else _bound(hi),
        n_below=n_below,
        n_above=n_above,
        share_below=n_below / n_audit if defined else math.nan,
        share_above=n_above / n_audit if defined else math.nan,
        share_outside=(n_below + n_above) / n_audit if defined else math.nan,
        n_not_comparable=int((has_value & ~comparable).sum()),
        reason=reason,
    )


def _label(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _categories(name: str, train: pd.Series, audit: pd.Series) -> CategoryDrift:
    n_audit = len(audit)
    known = pd.unique(train.dropna().to_numpy())
    has_value = audit.notna().to_numpy()
    unseen = has_value & ~audit.isin(known).to_numpy()
    counts = audit[unseen].astype(object).value_counts(sort=False)
    order = sorted(
        zip(counts.index, counts.to_numpy(), strict=True), key=lambda x: (-x[1], str(x[0]))
    )
    t_numeric = pd.api.types.is_numeric_dtype(train) and not pd.api.types.is_bool_dtype(train)
    a_numeric = pd.api.types.is_numeric_dtype(audit) and not pd.api.types.is_bool_dtype(audit)
    note = None
    if t_numeric != a_numeric:
        note = (
            f"training column is {train.dtype}, audit column is {audit.dtype}: "
            "values compared as they are"
        )
    reason = NO_AUDIT_ROWS if not n_audit else NO_TRAIN_VALUES if not len(known) else None
    n_unseen = int(unseen.sum())
    return CategoryDrift(
        column=name,
        n_audit=n_audit,
        n_checked=int(has_value.sum()),
        n_train_categories=len(known),
        n_unseen=n_unseen,
        share_unseen=n_unseen / n_audit if reason is None else math.nan,
        n_unseen_categories=len(order),
        unseen_examples=tuple(_label(v) for v, _ in order[:MAX_EXAMPLES]),
        reason=reason,
        note=note,
    )
