"""SHAP values of a fitted classifier or regressor, by the fastest exact method its family allows.

- LightGBM, XGBoost: the library's native TreeSHAP (``pred_contrib(s)``), raw/margin scale;
- scikit-learn trees, forests, gradient boosting: shap's TreeExplainer (tree_path_dependent);
- linear classifiers and regressors: exact interventional linear SHAP over the full background;
- Pipelines of column-wise transformers ending in one of these: the final step explained on
  the transformed matrix, encoded columns folded back to the input column they came from;
- anything else with ``predict_proba`` (or a decision function), or any other regressor
  (``predict``): shap's PermutationExplainer, seeded, within a time budget (``exact=False``).

A classifier is explained for one class (``positive_index``); a regressor's output is its
prediction ("predicted value"), or for a log-link model (Poisson, gamma, Tweedie) the log of
it, the scale on which its SHAP values add up (:mod:`auditor.explain.regressors`).

Every :class:`Explanation` carries the model's own output on the explained scale, computed
from the model and not from the SHAP values, and the worst additivity gap between the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from auditor.errors import InputError
from auditor.explain.attribution import (
    FLOAT32_TOLERANCE,
    TOLERANCE,
    Attribution,
    FloatArray,
    NoExactMethod,
    additivity_gap,
    tolerance,
)
from auditor.explain.families import SUPPORTED, exact_attribution
from auditor.explain.permutation import permutation_attribution
from auditor.explain.pipelines import explain_pipeline
from auditor.explain.regressors import is_regressor

__all__ = ["FLOAT32_TOLERANCE", "TOLERANCE", "Explanation", "explain"]


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare as a single truth value
class Explanation:
    """SHAP values of one model output on the audit rows, and how they were obtained."""

    method: str  # e.g. "LightGBM native TreeSHAP (pred_contrib)"
    output_scale: str  # e.g. "log-odds of class 1", "probability of class 'good'", ...
    features: list[str]  # the original feature columns (encoded columns folded back)
    values: FloatArray  # (rows_explained, n_features) SHAP values
    base_value: float  # expected value on the output scale
    model_output: FloatArray  # (rows_explained,) the model's own output on that scale
    max_additivity_error: float  # max |base_value + values.sum(1) - model_output|, float64
    exact: bool  # False only for the sampling fallback
    notes: list[str]  # what a reviewer must know
    rows_explained: int  # rows covered by values: fewer than given only if the budget ran out
    tolerance: float = TOLERANCE  # the largest additivity gap accepted, on the output scale


def _check_inputs(
    model: Any,
    features: pd.DataFrame,
    background: pd.DataFrame | None,
    seed: int,
    budget: float,
) -> pd.DataFrame | None:
    """InputError for unusable arguments; the background in the features' column order."""
    if not isinstance(features, pd.DataFrame) or features.shape[0] == 0 or features.shape[1] == 0:
        raise InputError("SHAP values need a non-empty DataFrame of features")
    if features.columns.duplicated().any():
        raise InputError("SHAP values need distinct feature column names")
    if not (isinstance(seed, int | np.integer) and seed >= 0):
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(budget, int | float) and math.isfinite(budget) and budget > 0):
        raise InputError(f"time_budget_seconds must be a positive number, got {budget!r}")
    if isinstance(model, BaseEstimator):
        try:
            check_is_fitted(model)
        except NotFittedError as error:
            raise InputError(f"{type(model).__name__} is not fitted") from error
    if background is None:
        return None
    if not isinstance(background, pd.DataFrame) or background.shape[0] == 0:
        raise InputError("the SHAP background must be a non-empty DataFrame")
    missing = [str(c) for c in features.columns if c not in background.columns]
    if missing:
        raise InputError(f"the SHAP background lacks feature columns: {', '.join(missing)}")
    return background[list(features.columns)]


def _exact(
    model: Any, features: pd.DataFrame, positive_index: int, background: pd.DataFrame | None
) -> tuple[Attribution | None, list[str]]:
    """The exact attribution, or None and why the sampled fallback is needed."""
    try:
        if isinstance(model, Pipeline):
            return explain_pipeline(model, features, positive_index, background)
        attribution = exact_attribution(model, features, positive_index, background)
    except NoExactMethod as reason:
        return None, [str(reason)]
    return attribution, []


def explain(
    model: Any,
    features: pd.DataFrame,
    *,
    positive_index: int = 1,
    background: pd.DataFrame | None = None,
    seed: int = 0,
    time_budget_seconds: float = 60.0,
) -> Explanation:
    """SHAP values of ``model``'s positive-class output (a regressor's prediction) on every row
    of ``features``.

    ``features`` are exactly the model's input columns, in its order. ``positive_index`` is
    the index in ``classes_`` of the class explained (for a single-output booster: 1 = its
    output, 0 = the negated output); regressors, and boosters with a regression objective,
    ignore it (it must still be 0 or more): their output is the predicted value, or its log for
    a log-link model (``output_scale`` says which). ``background`` (default: ``features``) is
    the reference of linear SHAP and of the sampled fallback; path-dependent tree methods
    ignore it.
    ``seed`` and ``time_budget_seconds`` bound the sampled fallback only, which may then
    explain only the first ``rows_explained`` rows (at least one; the first call in a process
    also pays several seconds for shap's numba compilation, counted against the budget).

    Raises InputError for a model no method supports, or unusable arguments.
    """
    background = _check_inputs(model, features, background, seed, time_budget_seconds)
    if positive_index < 0:
        raise InputError(f"positive_index must be 0 or more, got {positive_index}")
    attribution, notes = _exact(model, features, positive_index, background)
    if attribution is None:
        sampled = ("predict_proba", "decision_function")
        if not (any(hasattr(model, a) for a in sampled) or is_regressor(model)):
            raise InputError(f"cannot explain a {type(model).__name__}; supported: {SUPPORTED}")
        notes = [f"{n}; sampled SHAP used instead" for n in notes]
        attribution = permutation_attribution(
            model, features, positive_index, background, seed, time_budget_seconds
        )
    gap = additivity_gap(attribution.base_value, attribution.values, attribution.model_output)
    accepted = tolerance(attribution.model_output, attribution.float32)
    if gap > accepted:
        notes.append(
            f"additivity gap {gap:.3g} exceeds {accepted:.1g}: the SHAP values do not add up "
            "to the model's output, treat them with suspicion"
        )
    return Explanation(
        method=attribution.method,
        output_scale=attribution.output_scale,
        features=[str(c) for c in features.columns],
        values=attribution.values.astype(np.float64),
        base_value=float(attribution.base_value),
        model_output=attribution.model_output.astype(np.float64),
        max_additivity_error=gap,
        exact=attribution.exact,
        notes=[*notes, *attribution.notes],
        rows_explained=len(attribution.values),
        tolerance=accepted,
    )
