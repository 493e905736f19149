"""Inputs handed over as Python objects: DataFrames, Arrow tables, Series of groups, estimators.

Nothing here writes a model to disk or pickles it: an estimator is used where it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from auditor.errors import InputError, UsageError
from auditor.inputs.model_files import LoadedModel

SensitiveInput = str | Sequence[str] | pd.Series | pd.DataFrame


def as_frame(data: Any) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame or a pyarrow Table (anything with ``to_pandas``)."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif hasattr(data, "to_pandas") and hasattr(data, "column_names"):
        frame = data.to_pandas()
    else:
        raise UsageError(
            "data must be a path, a pandas DataFrame or a pyarrow Table, "
            f"not {type(data).__name__}."
        )
    if frame.empty:
        raise InputError("the data has no rows.")
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    return frame


def require_aligned(frame: pd.DataFrame, other: pd.Series | pd.DataFrame, what: str) -> None:
    """Refuse a Series/DataFrame whose rows would be paired with the wrong rows of the data."""
    if len(other) != len(frame):
        raise InputError(f"the {what} have {len(other):,} rows but the data has {len(frame):,}.")
    if not other.index.equals(frame.index):
        raise InputError(
            f"the {what}' index does not match the data's index: rows would be paired with the "
            f"wrong people. Align them (e.g. {what.replace(' ', '_')}.reindex(data.index)) or "
            "reset both indexes if their order is known to match."
        )


def attach_sensitive(
    frame: pd.DataFrame,
    sensitive: SensitiveInput | None,
    sensitive_features: SensitiveInput | None,
) -> tuple[pd.DataFrame, list[str]]:
    """Resolve ``sensitive=`` or fairlearn's ``sensitive_features=`` to columns of the frame.

    Column names are used as they are; a Series or DataFrame of groups is joined to the data
    row by row, after checking that it has the data's length and index (never by position
    alone when the indexes disagree).
    """
    if sensitive is not None and sensitive_features is not None:
        raise UsageError("pass sensitive= or its alias sensitive_features=, not both.")
    given = sensitive if sensitive is not None else sensitive_features
    if given is None:
        raise UsageError("pass the sensitive columns: sensitive=['sex', ...].")
    if isinstance(given, str):
        return frame, [given]
    if isinstance(given, pd.Series):
        given = given.to_frame(name=given.name if given.name is not None else "sensitive")
    if not isinstance(given, pd.DataFrame):
        return frame, [str(c) for c in given]
    require_aligned(frame, given, "sensitive features")
    names = [str(c) for c in given.columns]
    clashes = [c for c in names if c in frame.columns and not frame[c].equals(given[c])]
    if clashes:
        raise UsageError(
            f"the sensitive features {clashes} have the names of data columns with other values; "
            "rename them."
        )
    return frame.assign(**{c: given[c] for c in given.columns}), names


def in_memory_model(estimator: Any) -> LoadedModel:
    """Wrap a fitted model object; it must predict and, for scikit-learn, know its classes."""
    if not hasattr(estimator, "predict"):
        raise UsageError(
            "model= must be a path or a fitted model with predict(), "
            f"not {type(estimator).__name__}."
        )
    return LoadedModel(estimator=estimator, format="in-memory", path=None)


def model_params(estimator: Any) -> tuple[dict[str, str], str | None]:
    """The estimator's parameters as text (``get_params``), and a SHA-256 of them."""
    get_params = getattr(estimator, "get_params", None)
    if get_params is None:
        return {}, None
    try:
        params = get_params(deep=True)
    except Exception:  # a wrapper whose get_params needs arguments: record what we can
        return {}, None
    text = {str(k): repr(v) for k, v in sorted(params.items())}
    digest = hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()
    return text, digest
