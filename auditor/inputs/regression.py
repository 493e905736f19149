"""Numeric targets and predictions for regression audits (``--task regression``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError
from auditor.inputs.predict import ModelOutput, select_features

FloatArray = npt.NDArray[np.float64]


def numeric_values(series: pd.Series, role: str) -> FloatArray:
    """The column as float64; not numeric, missing or infinite values are an InputError."""
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        raise InputError(
            f"{role} '{series.name}' is not numeric ({series.dtype}): a regression audit "
            "compares numbers. For class labels, audit without --task regression."
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(bad)[:5])
        raise InputError(
            f"{role} '{series.name}' has {int(bad.sum()):,} missing or infinite value(s) "
            f"(rows {rows}{'...' if bad.sum() > 5 else ''}). Drop or fill those rows first."
        )
    return values


def predict_values(model: Any, frame: pd.DataFrame, *, reserved: set[str]) -> ModelOutput:
    """Run a regressor on every row; a classifier is an error (its classes are not values)."""
    features, names, ignored, notes = select_features(model, frame, reserved)
    class_name = f"{type(model).__module__}.{type(model).__qualname__}"
    if hasattr(model, "classes_"):
        raise InputError(
            f"the model ({class_name}) is a classifier: it predicts classes, not values. "
            "Audit it without --task regression."
        )
    if not hasattr(model, "predict"):
        raise InputError(f"auditor cannot use a model of type {class_name}: it has no predict.")
    try:
        if class_name.startswith("xgboost") and not hasattr(model, "get_params"):
            import xgboost

            raw = model.predict(xgboost.DMatrix(features))
        else:
            raw = model.predict(features)
        values = np.asarray(raw, dtype=np.float64)
    except Exception as exc:
        raise InputError(
            f"the model's predict raised {type(exc).__name__}: {exc}. Check that the data has "
            "the columns and types the model was trained on."
        ) from exc
    if values.ndim != 1:
        raise InputError(
            f"the model returns {values.shape[1:]} outputs per row; a regression audit needs "
            "one number per row."
        )
    predicted = numeric_values(pd.Series(values, name="model prediction"), "model prediction")
    return ModelOutput(
        predicted_positive=np.zeros(len(values), dtype=np.bool_),
        scores=None,
        class_name=class_name,
        features=names,
        ignored_columns=ignored,
        threshold=None,
        notes=notes,
        values=predicted,
    )
