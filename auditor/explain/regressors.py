"""Regressors: which models are ones, the scales their SHAP values are on, their one output.

A regressor is explained on the scale its SHAP values add up on:

- the predicted value itself (``predict``) for linear models with an identity link,
  scikit-learn trees, forests and gradient boosting with an identity link, boosters with an
  identity-link objective (squared, absolute, Huber, quantile ... error), and the fallback;
- the log of the predicted value for log-link models (Poisson, gamma, Tweedie GLMs and
  boosters, HistGradientBoosting with a Poisson or gamma loss): they predict exp(raw score),
  and the SHAP values add up to the raw score, not to the prediction;
- boosters whose raw score is another transform of the prediction say which: its signed
  square root (LightGBM ``reg_sqrt``), its log-odds (a regressor wrapper with a logistic
  objective), or just "raw score" for a custom objective.

``positive_index`` means nothing for a regressor and every method here ignores it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.utils import get_tags

from auditor.errors import InputError
from auditor.explain.attribution import FloatArray

PREDICTED = "predicted value"
LOG_PREDICTED = "log of the predicted value"
SQRT_PREDICTED = "signed square root of the predicted value"
LOGIT_PREDICTED = "log-odds of the predicted value"

#: LightGBM objectives (canonical names, as the model file writes them) of regression.
LIGHTGBM_REGRESSION = {
    **dict.fromkeys(
        ("regression", "regression_l1", "huber", "fair", "quantile", "mape"), PREDICTED
    ),
    **dict.fromkeys(("poisson", "gamma", "tweedie"), LOG_PREDICTED),
}
#: XGBoost objectives of regression (reg:logistic is left to the classifier path: its margin
#: is the log-odds of a probability, and a Booster does not say whether it was a classifier).
XGBOOST_REGRESSION = {
    **dict.fromkeys(
        (
            "reg:squarederror",
            "reg:linear",
            "reg:squaredlogerror",
            "reg:pseudohubererror",
            "reg:absoluteerror",
            "reg:quantileerror",
        ),
        PREDICTED,
    ),
    **dict.fromkeys(("count:poisson", "reg:gamma", "reg:tweedie"), LOG_PREDICTED),
}
#: Objectives predicting sigmoid(raw score), a value in [0, 1]: regressions only when a
#: scikit-learn regressor wrapper says so (a Booster with them is taken for a classifier).
_LOGIT = {"cross_entropy", "reg:logistic"}


def estimator_type(model: Any) -> str | None:
    """scikit-learn's estimator type ("classifier", "regressor", ...), None if it has none."""
    try:
        return get_tags(model).estimator_type
    except (AttributeError, TypeError):  # not a scikit-learn estimator: no tags at all
        return None


def is_regressor(model: Any) -> bool:
    """Whether ``model``'s output is ``predict``, a number per row, rather than a class.

    A scikit-learn estimator (Pipelines included: the final step decides) says so in its
    tags, so a clusterer's ``predict`` is never taken for a regression. Anything else must
    have ``predict`` and neither classes nor class probabilities nor a decision function.
    Boosters are recognised by their objective instead (:func:`booster_scale`).
    """
    declared = estimator_type(model)
    if declared is not None:
        return declared == "regressor"
    return hasattr(model, "predict") and not any(
        hasattr(model, a) for a in ("classes_", "predict_proba", "decision_function")
    )


def single_output(prediction: Any, model: Any) -> FloatArray:
    """``predict``'s answer as (rows,) float64; InputError for a multi-output regressor."""
    out: npt.NDArray[np.float64] = np.asarray(prediction, dtype=np.float64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1:
        raise InputError(
            f"{type(model).__name__} predicts {out.shape[1]} values per row; only "
            "single-output regressors can be explained"
        )
    return out


def on_scale(prediction: FloatArray, scale: str, model: Any) -> FloatArray:
    """The prediction on ``scale`` (``predict`` of a log-link model is exp of its raw score)."""
    if scale != LOG_PREDICTED:
        return prediction
    if np.any(prediction <= 0):
        raise InputError(f"{type(model).__name__} has a log link but predicted values <= 0")
    return np.log(prediction)


def log_link_note(model: Any) -> str:
    """What a reviewer must know about SHAP values of a log-link model."""
    return (
        f"{type(model).__name__} predicts exp(raw score): the SHAP values add up on the raw "
        "(log) scale, to the log of the predicted value; exp(base + sum) is the prediction, so "
        "in the predicted value itself features act multiplicatively, not additively"
    )


def booster_scale(model: Any, objective: str, params: str, table: dict[str, str]) -> str | None:
    """The scale of a single-output regression booster's raw score; None for other objectives.

    ``params`` are the words after the objective in a LightGBM model file ("sqrt" when the
    model was fitted to the square root of the label). A scikit-learn regressor wrapper with
    an objective not in ``table`` is still a regressor: the log-odds of its prediction for a
    logistic objective, else (a custom objective) its raw score.
    """
    scale = table.get(objective)
    if scale == PREDICTED and "sqrt" in params.split():
        return SQRT_PREDICTED
    if scale is None and estimator_type(model) == "regressor":
        return LOGIT_PREDICTED if objective in _LOGIT else f"raw score (objective {objective!r})"
    return scale


def booster_notes(model: Any, scale: str, library: str) -> list[str]:
    """Notes on what a regression booster's raw score is."""
    if scale == LOG_PREDICTED:
        return [log_link_note(model)]
    if scale == SQRT_PREDICTED:
        return [
            f"{library} model fitted to the square root of the label (reg_sqrt): its raw "
            "score is the signed square root of the predicted value (prediction = raw * |raw|)"
        ]
    if scale == LOGIT_PREDICTED:
        return [
            f"{type(model).__name__} predicts sigmoid(raw score): the SHAP values add up on "
            "the raw scale, to the log-odds of the predicted value"
        ]
    if scale.startswith("raw score"):
        return [f"{library} objective not recognised: explained its raw score, unlinked"]
    return []
