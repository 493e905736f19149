"""Sampled SHAP for any model with ``predict_proba`` (or a decision function), or any regressor
(its ``predict``): shap's PermutationExplainer, seeded, timed.

The explainer sees the features as numbers (text and categorical columns as integer codes,
decoded back before the model runs), because shap's masker compares values numerically.
Rows are explained one at a time, each with its own seed derived from (seed, row), so a row's
values do not depend on how many rows the time budget allowed before it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from auditor.errors import InputError
from auditor.explain.attribution import (
    Attribution,
    FloatArray,
    binary_sign,
    check_index,
    class_label,
)
from auditor.explain.regressors import PREDICTED, is_regressor, single_output

BACKGROUND_ROWS = 100  # rows the masker integrates over; each model call is this many rows
PERMUTATIONS = 10  # antithetic permutation pairs per row


class _Codec:
    """Frames to float matrices and back: numbers stay, other columns become category codes."""

    def __init__(self, frames: list[pd.DataFrame]) -> None:
        first = frames[0]
        self.columns = list(first.columns)
        self.dtypes = first.dtypes
        self.levels: dict[Any, pd.Index] = {}
        for column, dtype in first.dtypes.items():
            if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)):
                values = pd.concat([f[column].astype(object) for f in frames], ignore_index=True)
                self.levels[column] = pd.Index(values.dropna().unique())

    def encode(self, frame: pd.DataFrame) -> FloatArray:
        out = np.empty(frame.shape, dtype=np.float64)
        for j, column in enumerate(self.columns):
            if column in self.levels:
                codes = self.levels[column].get_indexer(pd.Index(frame[column].astype(object)))
                out[:, j] = np.where(codes < 0, np.nan, codes)  # -1: missing
            else:
                out[:, j] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def decode(self, matrix: FloatArray) -> pd.DataFrame:
        data: dict[Any, Any] = {}
        for j, column in enumerate(self.columns):
            values = matrix[:, j]
            if column in self.levels:
                known = self.levels[column].to_numpy(dtype=object)
                missing = np.isnan(values)
                decoded = known[np.where(missing, 0, values).astype(np.int64)]
                decoded[missing] = None
                data[column] = pd.Series(decoded, dtype=object).astype(self.dtypes[column])
            else:
                data[column] = pd.Series(values).astype(self.dtypes[column])
        return pd.DataFrame(data, columns=self.columns)


def _output_function(model: Any, positive_index: int) -> tuple[Any, str]:
    """The model's positive-class output (a regressor's prediction) as a function of a frame,
    and its scale."""
    if is_regressor(model):  # positive_index means nothing here
        return (lambda f: single_output(model.predict(f), model)), PREDICTED
    classes = getattr(model, "classes_", None)
    if classes is not None:
        check_index(positive_index, len(classes), model)
    label = class_label(model, positive_index)
    if hasattr(model, "predict_proba"):
        return (lambda f: model.predict_proba(f)[:, positive_index]), f"probability of {label}"
    if hasattr(model, "decision_function"):
        n_classes = len(getattr(model, "classes_", [0, 1]))
        if n_classes == 2:
            sign = binary_sign(positive_index, model)
            return (lambda f: sign * model.decision_function(f)), f"decision function of {label}"
        return (
            (lambda f: model.decision_function(f)[:, positive_index]),
            f"decision function of {label}",
        )
    raise InputError(
        f"{type(model).__name__} has neither predict_proba nor decision_function, and is not "
        "a regressor"
    )


def permutation_attribution(
    model: Any,
    features: pd.DataFrame,
    positive_index: int,
    background: pd.DataFrame | None,
    seed: int,
    time_budget_seconds: float,
) -> Attribution:
    """Seeded permutation SHAP of the positive-class output (regressors: ``predict``), within
    a time budget.

    Explains rows in order until the budget is spent (the first row always), so the values
    may cover only the first k rows; the notes then say k of n.
    """
    import shap

    start = time.monotonic()
    output, scale = _output_function(model, positive_index)
    source = features if background is None else background
    rng = np.random.default_rng(seed)
    size = min(BACKGROUND_ROWS, len(source))
    reference = source.iloc[np.sort(rng.choice(len(source), size=size, replace=False))]
    codec = _Codec([features, reference])
    x, reference_codes = codec.encode(features), codec.encode(reference)

    def predict(matrix: FloatArray) -> FloatArray:
        return np.asarray(output(codec.decode(np.atleast_2d(matrix))), dtype=np.float64)

    masker = shap.maskers.Independent(reference_codes, max_samples=size)
    max_evals = PERMUTATIONS * (2 * x.shape[1] + 1)
    saved = np.random.get_state()  # shap seeds and draws from numpy's global generator
    rows: list[FloatArray] = []
    try:
        explainer = shap.PermutationExplainer(predict, masker, seed=seed)
        last_row = 0.0
        for i in range(len(x)):
            before = time.monotonic()
            # stop if the next row would overrun: rows cost about what the last one did (not
            # the first, which pays for shap's one-off numba compilation)
            if rows and before - start + last_row > time_budget_seconds:
                break
            np.random.seed([seed, i])
            result = explainer(x[i : i + 1], max_evals=max_evals, silent=True)
            rows.append(np.asarray(result.values, dtype=np.float64)[0])
            last_row = time.monotonic() - before
    finally:
        np.random.set_state(saved)
    done = len(rows)
    notes = [
        f"background: {size} rows sampled with seed {seed} from the "
        f"{'given background' if background is not None else 'explained rows'}",
        "approximate: sampled permutations, so values carry sampling error",
    ]
    if done < len(x):
        notes.append(
            f"{done} of {len(x)} rows explained within the {time_budget_seconds:g} s budget"
        )
    return Attribution(
        method=(
            f"shap PermutationExplainer (seed {seed}, {PERMUTATIONS} antithetic permutations "
            f"per row, independent masker over {size} background rows)"
        ),
        output_scale=scale,
        values=np.vstack(rows),
        base_value=float(predict(reference_codes).mean()),
        model_output=predict(x[:done]),
        exact=False,
        notes=tuple(notes),
    )
