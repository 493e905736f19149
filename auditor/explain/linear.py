"""Exact interventional SHAP of a linear model: a classifier's decision function, a regressor's
prediction (or, for a log-link GLM, its linear predictor: the log of the prediction).

For f(x) = w·x + b with independent features, the SHAP value of feature j is
w_j (x_j - E[x_j]), and the base value is w·E[x] + b. E is the mean of the FULL background
(shap's LinearExplainer would subsample to 100 rows by default), so the result is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import (
    GammaRegressor,
    LogisticRegression,
    PoissonRegressor,
    SGDClassifier,
    TweedieRegressor,
)

from auditor.errors import InputError
from auditor.explain.attribution import (
    Attribution,
    FloatArray,
    Matrix,
    NoExactMethod,
    as_float_matrix,
    binary_sign,
    check_index,
    class_label,
    tolerance,
)
from auditor.explain.regressors import (
    LOG_PREDICTED,
    PREDICTED,
    is_regressor,
    log_link_note,
    on_scale,
    single_output,
)


def is_linear_classifier(model: Any) -> bool:
    """A fitted classifier whose decision function is ``X @ coef_.T + intercept_``."""
    return all(hasattr(model, a) for a in ("coef_", "intercept_", "classes_", "decision_function"))


def is_linear_regressor(model: Any) -> bool:
    """A fitted regressor with ``coef_`` and ``intercept_`` (and no classes): LinearRegression,
    Ridge, Lasso, SGDRegressor, HuberRegressor, the GLMs... Whether ``predict`` really is
    linear in them is checked on the rows explained (:func:`linear_regressor_attribution`)."""
    return (
        all(hasattr(model, a) for a in ("coef_", "intercept_", "predict"))
        and not hasattr(model, "classes_")
        and is_regressor(model)
    )


def _scale(model: Any, label: str, n_classes: int) -> str:
    log_loss = isinstance(model, LogisticRegression) or (
        isinstance(model, SGDClassifier) and model.loss == "log_loss"
    )
    if log_loss and n_classes == 2:
        return f"log-odds of {label}"
    if isinstance(model, LogisticRegression):
        return f"multinomial logit (softmax input) of {label}"
    return f"decision function (signed margin) of {label}"


def _method(background: Matrix) -> str:
    return (
        f"exact linear SHAP (interventional, mean of the full background of {len(background)} rows)"
    )


def linear_attribution(
    model: Any, features: Matrix, positive_index: int, background: Matrix
) -> Attribution:
    """Exact linear SHAP of one class's decision function, with the mean of all background rows."""
    x = as_float_matrix(features, "linear SHAP")
    reference = as_float_matrix(background, "linear SHAP background").mean(axis=0)
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    n_classes = len(model.classes_)
    decision = np.asarray(model.decision_function(features), dtype=np.float64)
    if coef.shape[0] == 1:  # binary: one decision function, positive for classes_[1]
        sign = binary_sign(positive_index, model)
        weights, bias, output = sign * coef[0], sign * intercept[0], sign * decision
    else:
        check_index(positive_index, n_classes, model)
        weights, bias = coef[positive_index], intercept[positive_index]
        output = decision[:, positive_index]
    label = class_label(model, positive_index)
    return Attribution(
        method=_method(background),
        output_scale=_scale(model, label, n_classes),
        values=(x - reference) * weights,
        base_value=float(reference @ weights + bias),
        model_output=output,
    )


def _log_link(model: Any) -> bool:
    """Whether ``predict`` is exp of the linear predictor (scikit-learn's log-link GLMs)."""
    if isinstance(model, PoissonRegressor | GammaRegressor):
        return True
    if isinstance(model, TweedieRegressor):  # link "auto": identity for power <= 0, else log
        return model.link == "log" or (model.link == "auto" and model.power > 0)
    return False


def _weights(model: Any, n_features: int) -> tuple[FloatArray, float]:
    """``coef_`` as (n_features,) and ``intercept_`` as a number; InputError if multi-output."""
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.ravel(np.asarray(model.intercept_, dtype=np.float64))
    if coef.ndim == 2 and coef.shape[0] == 1:
        coef = coef[0]
    if coef.ndim != 1 or intercept.size != 1:
        raise InputError(
            f"{type(model).__name__} predicts several values per row (coef_ of shape "
            f"{np.shape(model.coef_)}); only single-output regressors can be explained"
        )
    if coef.shape[0] != n_features:
        raise InputError(
            f"{type(model).__name__} has {coef.shape[0]} coefficients for {n_features} features"
        )
    return coef, float(intercept[0])


def linear_regressor_attribution(
    model: Any, features: Matrix, positive_index: int, background: Matrix
) -> Attribution:
    """Exact linear SHAP of a regressor's prediction (log-link GLMs: of its log), with the
    mean of all background rows. ``positive_index`` is ignored.

    Raises NoExactMethod if ``predict`` is not the linear function of ``coef_`` and
    ``intercept_`` that the values assume (the sampled fallback then explains ``predict``).
    """
    x = as_float_matrix(features, "linear SHAP")
    reference = as_float_matrix(background, "linear SHAP background").mean(axis=0)
    weights, bias = _weights(model, x.shape[1])
    scale = LOG_PREDICTED if _log_link(model) else PREDICTED
    output = on_scale(single_output(model.predict(features), model), scale, model)
    gap = float(np.max(np.abs(x @ weights + bias - output)))
    if gap > tolerance(output):
        raise NoExactMethod(
            f"{type(model).__name__}'s {scale} differs from X @ coef_ + intercept_ by up to "
            f"{gap:.3g}, so linear SHAP would not explain it"
        )
    return Attribution(
        method=_method(background),
        output_scale=scale,
        values=(x - reference) * weights,
        base_value=float(reference @ weights + bias),
        model_output=output,
        notes=(log_link_note(model),) if scale == LOG_PREDICTED else (),
    )
