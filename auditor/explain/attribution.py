"""What every SHAP method hands back before columns are named, and helpers all methods share.

An :class:`Attribution` is one method's answer on the matrix it was given (for a Pipeline,
the transformed matrix, before columns are folded back). :func:`auditor.explain.shap_values.explain`
turns it into the public :class:`~auditor.explain.shap_values.Explanation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from auditor.errors import InputError

FloatArray = npt.NDArray[np.float64]
Matrix = pd.DataFrame | npt.NDArray[Any]

#: Relative additivity tolerance of float64 methods; float32 libraries (XGBoost) get 1e-4.
TOLERANCE = 1e-6
FLOAT32_TOLERANCE = 1e-4


class NoExactMethod(Exception):
    """A model of a supported family that the exact method cannot handle; the reason says why."""


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare as a single truth value
class Attribution:
    """SHAP values of one output of a model on the rows and columns it was given."""

    method: str
    output_scale: str
    values: FloatArray  # (rows, columns), float64
    base_value: float
    model_output: FloatArray  # (rows,), from the model itself, never from the values
    exact: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    float32: bool = False  # the library computed in float32: expect gaps near 1e-6, not 1e-12

    def with_notes(self, *notes: str) -> Attribution:
        """The same attribution with more notes."""
        return Attribution(
            self.method,
            self.output_scale,
            self.values,
            self.base_value,
            self.model_output,
            self.exact,
            (*self.notes, *notes),
            self.float32,
        )


def additivity_gap(base_value: float, values: FloatArray, model_output: FloatArray) -> float:
    """Worst |base + sum of a row's values - model output| over rows, in float64 (0 if no rows)."""
    if len(model_output) == 0:
        return 0.0
    total = np.float64(base_value) + values.astype(np.float64).sum(axis=1)
    return float(np.max(np.abs(total - model_output.astype(np.float64))))


def tolerance(model_output: FloatArray, float32: bool = False) -> float:
    """The largest additivity gap accepted: the relative tolerance times the output's magnitude
    (at least 1), so a model predicting amounts in thousands is held to the same precision."""
    relative = FLOAT32_TOLERANCE if float32 else TOLERANCE
    magnitude = float(np.max(np.abs(model_output))) if len(model_output) else 0.0
    return relative * max(1.0, magnitude)


def class_label(model: Any, index: int) -> str:
    """How a report names class ``index`` of ``model``: ``class 'good'``, ``class 1``."""
    classes = getattr(model, "classes_", None)
    if classes is None:
        return f"class {index}"
    label = classes[index]
    return f"class {label.item() if hasattr(label, 'item') else label!r}"


def check_index(positive_index: int, n_classes: int, model: Any) -> None:
    """InputError unless ``positive_index`` names one of the model's ``n_classes`` outputs."""
    if not 0 <= positive_index < n_classes:
        raise InputError(
            f"positive_index {positive_index} is out of range for {type(model).__name__} "
            f"with {n_classes} classes"
        )


def binary_sign(positive_index: int, model: Any) -> float:
    """+1 to explain class 1 of a single-output binary model, -1 for class 0 (negated output)."""
    check_index(positive_index, 2, model)
    return 1.0 if positive_index == 1 else -1.0


def as_float_matrix(matrix: Matrix, what: str) -> FloatArray:
    """A dense float64 copy of ``matrix``; InputError naming the non-numeric columns."""
    if isinstance(matrix, pd.DataFrame):
        bad = [
            str(c)
            for c, dtype in matrix.dtypes.items()
            if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
        ]
        if bad:
            raise InputError(f"{what} needs numeric columns; not numeric: {', '.join(bad)}")
    try:
        return np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{what} needs a numeric matrix: {error}") from error


def text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that are neither numeric, boolean nor pandas categorical (strings, objects)."""
    return [
        str(c)
        for c, dtype in frame.dtypes.items()
        if not (
            is_numeric_dtype(dtype)
            or is_bool_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        )
    ]
