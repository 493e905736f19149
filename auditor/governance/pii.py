"""PII scan of every column, by name and by validated content, with masked examples only.

A column is reported for a kind when its name suggests the kind (vocabulary in
:mod:`auditor.governance.pii_names`) or when at least ``min_share`` of its checked values
validate as that kind (validators in :mod:`auditor.governance.pii_values`). Which values are
checked by content:

- text (object, string, category): every kind;
- integers, and floats whose values are all whole numbers below 2**53 (integer ids read with
  missing values): payment cards always; SSNs (leading zeros restored), phones and birth dates
  (``YYYYMMDD`` / ``YYYY``) only when the name suggests that kind. Integer columns below
  10**12 not named like any of these are not read at all (ages, amounts, counts);
- datetimes: dates of birth;
- other floats (measurements), booleans and anything else: never (a name match is still
  reported, with ``share`` None).

Dates of birth by content alone: a column not named like a birth date is reported as a
*possible* date of birth only when at least ``min_share`` of its values are dates in the birth
range and the ages they imply look like a population of (mostly adult) people: at least 90%
are 16 or older, the median is at most 100 and the middle half spans at least 5 years. Recent
transaction dates and hire or start dates of the last decades are not; older event dates can
be, and are reported as "possible".

Empty or whitespace-only strings count as missing. At most ``max_rows`` non-missing values per
column are checked: a seeded random sample, kept in row order, so results are reproducible for
a given seed. IBAN and phone validation are slow; when a column has more than ``SLOW_ROWS``
distinct values of their shape, that kind is validated on a seeded random ``SLOW_ROWS`` of the
checked rows, and its ``checked``, ``matches`` and ``share`` refer to those rows (said in the
note). Other kinds are always measured on every checked row, so their shares are exact.

No report field holds a raw value: examples go through :func:`mask`, notes hold counts only.
Column names are reported as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import UsageError
from auditor.governance.pii_mask import mask
from auditor.governance.pii_names import NAME_KINDS, is_postal_code_name, kinds_from_name
from auditor.governance.pii_values import CONTENT_KINDS, Context, classify

__all__ = ["PiiColumn", "mask", "scan_pii"]

_INT_KINDS = ("us_ssn", "payment_card", "date_of_birth", "phone")
_NAMED_INT_KINDS = frozenset({"us_ssn", "date_of_birth", "phone"})
_EXACT_FLOAT = 2.0**53
SLOW_ROWS = 1_000
_MIN_DOB_P10, _MAX_DOB_AGE, _MIN_DOB_IQR = 16.0, 100.0, 5.0


@dataclass(frozen=True)
class PiiColumn:
    """One kind of PII found in one column.

    ``share`` is ``matches / checked`` (None when nothing could be checked for the kind: a
    name-only kind such as person_name, address or username, a column whose values are not
    read, or one with no non-missing values; ``matches`` and ``checked`` are then 0).
    ``example`` is a masked matching value (or, for name-only kinds, a masked value), never
    the raw one.
    """

    column: str
    kind: str
    by_name: bool
    share: float | None
    matches: int
    checked: int
    example: str | None
    note: str | None


def _sample(series: pd.Series, max_rows: int, rng: np.random.Generator) -> tuple[pd.Series, int]:
    present = series[series.notna().to_numpy(dtype=bool)]
    if len(present) > max_rows:
        keep = np.sort(rng.choice(len(present), size=max_rows, replace=False))
        return present.iloc[keep], len(present)
    return present, len(present)


def _text(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip()
    return text[(text != "").to_numpy(dtype=bool)]


def _integers(values: pd.Series) -> npt.NDArray[np.int64] | None:
    """The values as int64 when they are integers (or whole floats below 2**53), else None."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(values.dtype):
        floats = values.to_numpy(dtype=np.float64)
        finite = bool(np.all(np.isfinite(floats)))
        if finite and np.all(floats == np.round(floats)) and np.all(np.abs(floats) < _EXACT_FLOAT):
            return floats.astype(np.int64)
    return None


def _as_text(values: pd.Series, name_kinds: frozenset[str]) -> tuple[pd.Series, tuple[str, ...]]:
    """The sample as stripped text and the kinds to check in it (empty: not read)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return values.iloc[:0].astype(str), ()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return pd.Series(values.dt.strftime("%Y-%m-%d"), dtype=object), ("date_of_birth",)
    if pd.api.types.is_numeric_dtype(dtype):
        ints = _integers(values)
        named = name_kinds & _NAMED_INT_KINDS
        if ints is None or (not named and (len(ints) == 0 or np.abs(ints).max() < 10**12)):
            return values.iloc[:0].astype(str), ()
        text = pd.Series(ints.astype(str), index=values.index, dtype=object)
        if "us_ssn" in name_kinds:
            text = text.str.zfill(9)
        kinds = tuple(k for k in _INT_KINDS if k == "payment_card" or k in named)
        return text, kinds
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype):
        return _text(values), CONTENT_KINDS
    if pd.api.types.is_string_dtype(dtype):
        return _text(values), CONTENT_KINDS
    return values.iloc[:0].astype(str), ()


def _dob_population(ages: npt.NDArray[np.float64]) -> bool:
    """Do these implied ages look like a population's birth dates (not event dates)?"""
    p10, q25, median, q75 = np.quantile(ages, [0.1, 0.25, 0.5, 0.75])
    return bool(p10 >= _MIN_DOB_P10 and median <= _MAX_DOB_AGE and q75 - q25 >= _MIN_DOB_IQR)


def _note(kind: str, by_name: bool, matches: int, distinct: int, sampled: str) -> str | None:
    parts = []
    if by_name and matches == 0:
        parts.append(
            f"named like {kind} but no value validates as one ({distinct:,} distinct "
            "value(s)); likely a code or flag, not PII"
        )
    elif not by_name and kind == "date_of_birth":
        parts.append(
            "possible date of birth: not named like one, but its dates imply the ages of a "
            "population of (mostly adult) people"
        )
    if sampled:
        parts.append(sampled)
    return "; ".join(parts) or None


def _unchecked_note(kind: str, column: str, kinds: tuple[str, ...], checked: int) -> str:
    """Why a kind suggested by the name has no share."""
    if kind == "address" and is_postal_code_name(column):
        return "postal code (a quasi-identifier, not a full address); name match only"
    what = {"person_name": "person names", "address": "addresses", "username": "user names"}
    if kind in what:
        return f"name match only; no content validator for {what[kind]}"
    if kinds and not checked:
        return "name match only; no non-missing values to check"
    return "name match only; values of this type are not checked for this kind"


def _scan_column(
    column: str, series: pd.Series, ctx: Context, *, max_rows: int, min_share: float, seed: int
) -> list[PiiColumn]:
    rng = np.random.default_rng(seed)
    sample, present = _sample(series, max_rows, rng)
    text, kinds = _as_text(sample, ctx.name_kinds)
    checked = len(text)
    codes, uniques = pd.factorize(text, sort=False)
    distinct = pd.Series(uniques, dtype="str")
    subset_rows = np.zeros(checked, dtype=bool)
    subset_rows[rng.choice(checked, size=min(checked, SLOW_ROWS), replace=False)] = True
    found = None
    if kinds and checked:
        in_subset = np.zeros(len(distinct), dtype=bool)
        in_subset[codes[subset_rows]] = True
        found = classify(distinct, ctx, kinds, subset=in_subset, cap=SLOW_ROWS)
    sampled = f"checked a random sample of {max_rows:,} of {present:,} rows" * (present > max_rows)
    out = []
    for kind in NAME_KINDS:
        by_name = kind in ctx.name_kinds
        if found is None or kind not in kinds:
            if by_name:
                example = None
                if len(sample) and kind not in CONTENT_KINDS:
                    example = mask(kind, sample.iloc[0])
                why = _unchecked_note(kind, column, kinds, checked)
                out.append(PiiColumn(column, kind, True, None, 0, 0, example, why))
            continue
        row_hit = found.labels[codes] == kind
        n_checked = checked
        note_extra = sampled
        if kind in found.limited:
            row_hit &= subset_rows
            n_checked = int(subset_rows.sum())
            limited = f"{kind} validated on a random {n_checked:,} of the {checked:,} rows"
            note_extra = "; ".join(filter(None, (sampled, limited)))
        matches = int(row_hit.sum())
        share = matches / n_checked
        if not by_name:
            if share < min_share:
                continue
            if kind == "date_of_birth" and not _dob_population(found.ages[codes][row_hit]):
                continue
        example = mask(kind, text.iloc[int(np.argmax(row_hit))]) if matches else None
        note = _note(kind, by_name, matches, len(distinct), note_extra)
        out.append(PiiColumn(column, kind, by_name, share, matches, n_checked, example, note))
    return out


def scan_pii(
    frame: pd.DataFrame,
    *,
    max_rows: int = 10_000,
    min_share: float = 0.05,
    seed: int = 0,
    phone_region: str = "US",
    today: date | None = None,
) -> list[PiiColumn]:
    """Every column's PII kinds, by name and by validated content, in column order.

    ``phone_region`` is the region national-format phone numbers are validated against;
    ``today`` (default: the current date) bounds plausible birth dates.
    """
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"scan_pii needs a pandas DataFrame, not {type(frame).__name__}")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise UsageError(f"max_rows must be a positive integer, not {max_rows!r}")
    if not 0.0 < min_share <= 1.0:
        raise UsageError(f"min_share must be in (0, 1], not {min_share!r}")
    found: list[PiiColumn] = []
    for position, name in enumerate(frame.columns):
        ctx = Context(frozenset(kinds_from_name(name)), phone_region, today or date.today())
        found += _scan_column(
            str(name),
            frame.iloc[:, position],
            ctx,
            max_rows=max_rows,
            min_share=min_share,
            seed=seed + position,
        )
    return found
