"""Which input column each output column of a fitted scikit-learn transformer derives from.

:func:`column_origins` answers with one input index per output column, or ``None`` when some
output column mixes inputs (PCA, PolynomialFeatures, KNNImputer, ...) or the transformer is
unknown. Only transformers known to act column by column get an answer, so a wrong fold of
SHAP values is never silent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import SelectorMixin
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

Origins = npt.NDArray[np.int64]

# One output column per input column, in input order.
_ELEMENTWISE = (
    StandardScaler,
    MinMaxScaler,
    MaxAbsScaler,
    RobustScaler,
    QuantileTransformer,
    PowerTransformer,
    Binarizer,
    OrdinalEncoder,
)


def _one_hot(encoder: OneHotEncoder, n_inputs: int) -> Origins | None:
    widths = getattr(encoder, "_n_features_outs", None)  # private, but exactly this
    if widths is None or len(widths) != n_inputs:
        return None
    return np.repeat(np.arange(n_inputs), widths)


def _imputer(imputer: SimpleImputer, n_inputs: int) -> Origins | None:
    # Names in, names out: the output names are kept inputs, then "missingindicator_<input>".
    fitted = getattr(imputer, "feature_names_in_", None)
    names = [f"x{i}" for i in range(n_inputs)] if fitted is None else [str(n) for n in fitted]
    position = {name: i for i, name in enumerate(names)}
    if len(position) != n_inputs:
        return None
    origins = []
    for name in imputer.get_feature_names_out(None if fitted is None else names):
        name = str(name)
        origin = position.get(name, position.get(name.removeprefix("missingindicator_")))
        if origin is None:
            return None
        origins.append(origin)
    return np.asarray(origins, dtype=np.int64)


def _resolve(columns: Any, names: list[str] | None, n_inputs: int) -> Origins | None:
    """Input positions a ColumnTransformer entry selects (names, ints, slice or mask)."""
    everything = np.arange(n_inputs)
    if isinstance(columns, str | int | np.integer):
        columns = [columns]
    if isinstance(columns, slice):
        if isinstance(columns.start, str) or isinstance(columns.stop, str):
            if names is None:
                return None
            low = 0 if columns.start is None else names.index(columns.start)
            high = n_inputs - 1 if columns.stop is None else names.index(columns.stop)
            return everything[low : high + 1]  # label slices include their end
        return everything[columns]
    if callable(columns):
        return None
    selected = np.asarray(columns)
    if selected.size == 0:
        return selected.astype(np.int64)
    if selected.dtype == bool:
        return np.flatnonzero(selected).astype(np.int64)
    if np.issubdtype(selected.dtype, np.integer):
        return everything[selected]
    if names is None or any(str(c) not in names for c in selected):
        return None
    return np.asarray([names.index(str(c)) for c in selected], dtype=np.int64)


def _column_transformer(transformer: ColumnTransformer, n_inputs: int) -> Origins | None:
    fitted_names = getattr(transformer, "feature_names_in_", None)
    names = None if fitted_names is None else [str(n) for n in fitted_names]
    slices = transformer.output_indices_
    width = max((s.stop for s in slices.values()), default=0)
    origins = np.full(width, -1, dtype=np.int64)
    for name, step, columns in transformer.transformers_:
        selected = _resolve(columns, names, n_inputs)
        if selected is None:
            return None
        if (isinstance(step, str) and step == "drop") or len(selected) == 0:
            continue
        inner = column_origins(step, len(selected))
        out = slices[name]
        if inner is None or out.stop - out.start != len(inner):
            return None
        origins[out] = selected[inner]
    return None if np.any(origins < 0) else origins


def column_origins(transformer: Any, n_inputs: int) -> Origins | None:
    """For each output column of a fitted transformer, the input column it comes from.

    None if any output column may depend on more than one input column, or if the
    transformer is not one this module knows.
    """
    if transformer is None or (isinstance(transformer, str) and transformer == "passthrough"):
        return np.arange(n_inputs)
    if isinstance(transformer, Pipeline):
        origins = np.arange(n_inputs)
        for _, step in transformer.steps:
            inner = column_origins(step, len(origins))
            if inner is None:
                return None
            origins = origins[inner]  # compose: output -> step input -> pipeline input
        return origins
    if isinstance(transformer, ColumnTransformer):
        return _column_transformer(transformer, n_inputs)
    if isinstance(transformer, _ELEMENTWISE):
        return np.arange(n_inputs)
    if isinstance(transformer, FunctionTransformer):
        elementwise = transformer.func is None or isinstance(transformer.func, np.ufunc)
        return np.arange(n_inputs) if elementwise else None
    if isinstance(transformer, OneHotEncoder):
        return _one_hot(transformer, n_inputs)
    if isinstance(transformer, KBinsDiscretizer):
        if transformer.encode == "ordinal":
            return np.arange(n_inputs)
        return np.repeat(np.arange(n_inputs), transformer.n_bins_)
    if isinstance(transformer, SimpleImputer):
        return _imputer(transformer, n_inputs)
    if isinstance(transformer, MissingIndicator):
        return np.asarray(transformer.features_, dtype=np.int64)
    if isinstance(transformer, SelectorMixin):
        return np.asarray(transformer.get_support(indices=True), dtype=np.int64)
    return None
