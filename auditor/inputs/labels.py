"""Binary labels: which value is positive, and a strict check of targets and predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError

_DEFAULT_POSITIVE_SETS = ({"0", "1"}, {"-1", "1"}, {"False", "True"})


def label_text(value: object) -> str:
    """The text of a label as a user types it: 1.0 -> '1', True -> 'True'."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _show(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return "{" + shown + (", ..." if len(values) > limit else "") + "}"


@dataclass(frozen=True)
class BinaryLabels:
    """The positive label (the outcome every rate counts) and the other label, as text."""

    positive: str
    other: str


def _check_no_missing(series: pd.Series, role: str) -> None:
    missing = series.isna().to_numpy()
    if missing.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(missing)[:5])
        raise InputError(
            f"{role} '{series.name}' has {int(missing.sum()):,} missing value(s) (rows {rows}"
            f"{'...' if missing.sum() > 5 else ''}). Drop or fill those rows first: a missing "
            "label cannot be counted as either class."
        )


def _check_not_scores(series: pd.Series, role: str, hint: str) -> None:
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64)
        fractional = values[~np.isclose(values, np.round(values))]
        if fractional.size:
            raise InputError(
                f"{role} '{series.name}' holds non-integer values such as {fractional[0]:.4g}: "
                f"these look like scores or probabilities, not class labels. {hint}"
            )


def distinct_labels(series: pd.Series, role: str, hint: str) -> list[str]:
    """Validated distinct label texts of a label column (no NaN, not scores), sorted."""
    _check_no_missing(series, role)
    _check_not_scores(series, role, hint)
    return sorted({label_text(v) for v in pd.unique(series)})


def resolve_labels(target: pd.Series, pos_label: str | None) -> BinaryLabels:
    """Decide the positive and the other label from the target column and --pos-label."""
    values = distinct_labels(
        target, "target", "Pass class labels as --target; thresholded scores go in --score."
    )
    if len(values) > 2:
        raise InputError(
            f"target '{target.name}' has {len(values)} classes {_show(values)}; auditor audits "
            "binary decisions. Recode the target as one class against the rest first."
        )
    if pos_label is None:
        if not any(set(values) <= allowed for allowed in _DEFAULT_POSITIVE_SETS):
            raise InputError(
                f"target '{target.name}' takes values in {_show(values)} and --pos-label is not "
                "given: either make the target take values in {0, 1} or {-1, 1}, or pass "
                "--pos-label explicitly."
            )
        pos_label = "True" if "True" in values or "False" in values else "1"
    if pos_label not in values:
        raise InputError(
            f"--pos-label '{pos_label}' is not a value of target '{target.name}' "
            f"(values: {_show(values)})."
        )
    others = [v for v in values if v != pos_label]
    other = others[0] if others else _implicit_other(pos_label)
    return BinaryLabels(positive=pos_label, other=other)


def _implicit_other(pos_label: str) -> str:
    return {"1": "0", "True": "False"}.get(pos_label, f"not {pos_label}")


def positive_mask(series: pd.Series, labels: BinaryLabels, role: str) -> npt.NDArray[np.bool_]:
    """True where the column holds the positive label; any value outside the two is an error."""
    hint = "Pass scores as --score; predictions must be class labels."
    values = distinct_labels(series, role, hint)
    unknown = [v for v in values if v not in (labels.positive, labels.other)]
    if unknown:
        kind = "more than two classes" if len(values) > 2 else "labels the target does not have"
        raise InputError(
            f"{role} '{series.name}' has {kind}: {_show(unknown)} outside the target's labels "
            f"{{{labels.positive!r}, {labels.other!r}}}. Predictions must use the target's labels."
        )
    codes, uniques = pd.factorize(series)
    is_positive = np.array([label_text(u) == labels.positive for u in uniques], dtype=np.bool_)
    return np.asarray(is_positive[codes], dtype=np.bool_)
