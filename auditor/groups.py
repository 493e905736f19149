"""Sensitive attributes -> integer group codes, intersections and reference groups."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError, UsageError
from auditor.inputs.labels import label_text

MISSING_LABEL = "(missing)"
DEFAULT_MAX_GROUPS = 100
MAX_INTERSECTION_GROUPS = 10_000

_TOO_MANY_GROUPS = (
    "column '{col}' has {k:,} distinct values; it looks like an identifier or a continuous "
    "value, not a group. Pass a grouping column (bin it first), or raise --max-groups "
    "(now {cap})."
)
_MISSING_SENSITIVE = (
    "column '{col}' has {k:,} missing value(s) (rows {rows}). Fill them, drop those rows, or "
    "pass --missing-as-group to audit them as their own group '" + MISSING_LABEL + "'."
)
_UNKNOWN_REFERENCE = (
    "--reference {col}={value}: '{value}' is not a value of '{col}'. Values: {values}."
)


@dataclass(frozen=True)
class Grouping:
    """One sensitive attribute or an intersection of several, encoded as integer codes.

    ``codes[i]`` is the group of row i; ``keys[g]`` the group's stable key
    ('sex=female' or 'sex=female & age=young'); ``labels[g]`` its value per column.
    Groups with no rows (unused categories, unobserved intersections) are kept, with n = 0.
    """

    attribute: str
    columns: tuple[str, ...]
    codes: npt.NDArray[np.int64]
    keys: tuple[str, ...]
    labels: tuple[dict[str, str], ...]
    reference: int
    reference_rule: str

    @property
    def n_groups(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class _Encoded:
    codes: npt.NDArray[np.int64]
    values: tuple[str, ...]


def _encode_column(
    series: pd.Series,
    *,
    missing_as_group: bool,
    max_groups: int,
    counts: npt.NDArray[np.int64] | None = None,
) -> _Encoded:
    col = str(series.name)
    missing = series.isna().to_numpy()
    if missing.any() and not missing_as_group:
        if counts is not None:  # cells of an engine: their positions mean nothing to the user
            message = _MISSING_SENSITIVE.replace(" (rows {rows})", "")
            raise InputError(message.format(col=col, k=int(counts[missing].sum())))
        rows = ", ".join(str(i) for i in np.flatnonzero(missing)[:5])
        more = "..." if missing.sum() > 5 else ""
        raise InputError(_MISSING_SENSITIVE.format(col=col, k=int(missing.sum()), rows=rows + more))
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Declared categories are groups even when no row has them: report them as empty.
        categories = [label_text(c) for c in series.cat.categories]
        codes = series.cat.codes.to_numpy().astype(np.int64)
    else:
        codes_raw, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
        categories = [label_text(u) for u in uniques]
        codes = codes_raw.astype(np.int64)
    if len(categories) > max_groups:
        raise InputError(_TOO_MANY_GROUPS.format(col=col, k=len(categories), cap=max_groups))
    if len(set(categories)) != len(categories):
        raise InputError(
            f"column '{col}' has distinct values that print the same ({categories[:5]}); "
            "make them distinct strings before auditing."
        )
    if missing.any():
        if MISSING_LABEL in categories:
            raise InputError(
                f"column '{col}' has missing values and also the value '{MISSING_LABEL}', the "
                "name --missing-as-group gives missing values. Rename that value first."
            )
        codes = np.where(codes < 0, len(categories), codes)
        categories.append(MISSING_LABEL)
    return _Encoded(codes=codes, values=tuple(categories))


def group_key(labels: dict[str, str]) -> str:
    """A group's stable key: 'sex=female', or 'sex=female & age=young' for an intersection."""
    return " & ".join(f"{column}={value}" for column, value in labels.items())


def _pick_reference(
    codes: npt.NDArray[np.int64],
    n_groups: int,
    wanted: int | None,
    counts: npt.NDArray[np.int64] | None = None,
) -> tuple[int, str]:
    if wanted is not None:
        return wanted, "user"
    sizes = np.bincount(codes, weights=counts, minlength=n_groups)
    return int(np.argmax(sizes)), "largest_group"  # ties: first in sorted order


def encode_groups(
    frame: pd.DataFrame,
    sensitive: list[str],
    *,
    references: dict[str, str] | None = None,
    missing_as_group: bool = False,
    max_groups: int = DEFAULT_MAX_GROUPS,
    counts: npt.NDArray[np.int64] | None = None,
) -> list[Grouping]:
    """Encode each sensitive column, and their intersection when there are several.

    Parameters
    ----------
    counts : int array, optional
        Rows each row of ``frame`` stands for (an engine's cell table); the largest group is
        then the one with the most of them.
    references : dict, optional
        ``{column: value}`` reference group per attribute; absent ones default to the
        largest group. An intersection's reference is the combination of the given ones
        when every column has one, else the largest intersectional group.
    """
    references = dict(references or {})
    unknown = sorted(set(references) - set(sensitive))
    if unknown:
        raise UsageError(
            f"--reference names column(s) {unknown} that are not --sensitive columns {sensitive}."
        )
    encoded: dict[str, _Encoded] = {}
    groupings: list[Grouping] = []
    for col in sensitive:
        enc = _encode_column(
            frame[col], missing_as_group=missing_as_group, max_groups=max_groups, counts=counts
        )
        encoded[col] = enc
        wanted = None
        if col in references:
            value = references[col]
            if value not in enc.values:
                raise InputError(
                    _UNKNOWN_REFERENCE.format(col=col, value=value, values=list(enc.values)[:10])
                )
            wanted = enc.values.index(value)
        ref, rule = _pick_reference(enc.codes, len(enc.values), wanted, counts)
        groupings.append(
            Grouping(
                attribute=col,
                columns=(col,),
                codes=enc.codes,
                keys=tuple(f"{col}={v}" for v in enc.values),
                labels=tuple({col: v} for v in enc.values),
                reference=ref,
                reference_rule=rule,
            )
        )
    if len(sensitive) > 1:
        groupings.append(_intersection(sensitive, encoded, references, max_groups, counts))
    return groupings


def _intersection(
    sensitive: list[str],
    encoded: dict[str, _Encoded],
    references: dict[str, str],
    max_groups: int,
    counts: npt.NDArray[np.int64] | None = None,
) -> Grouping:
    shape = tuple(len(encoded[c].values) for c in sensitive)
    n_combos = int(np.prod(shape))
    if n_combos > MAX_INTERSECTION_GROUPS:
        raise InputError(
            f"the intersection of {sensitive} has {n_combos:,} possible groups; audit fewer "
            "attributes together or bin them first."
        )
    codes = np.ravel_multi_index(tuple(encoded[c].codes for c in sensitive), shape).astype(np.int64)
    combos = list(product(*(encoded[c].values for c in sensitive)))
    labels = tuple(dict(zip(sensitive, combo, strict=True)) for combo in combos)
    keys = tuple(group_key(lab) for lab in labels)
    wanted = None
    if all(c in references for c in sensitive):
        wanted = int(
            np.ravel_multi_index(
                tuple(encoded[c].values.index(references[c]) for c in sensitive), shape
            )
        )
    ref, rule = _pick_reference(codes, n_combos, wanted, counts)
    return Grouping(
        attribute=" & ".join(sensitive),
        columns=tuple(sensitive),
        codes=codes,
        keys=keys,
        labels=labels,
        reference=ref,
        reference_rule=rule,
    )
