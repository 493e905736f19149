"""shap's TreeExplainer (tree_path_dependent) for scikit-learn trees, forests and boosting.

For classifiers, shap explains forests and single trees on the probability scale (the mean of
the trees' leaf class frequencies) and gradient boosting on the log-odds scale (its decision
function); the scale is read from the explainer so the report states what shap actually used.
For regressors, shap explains the raw prediction: ``predict`` itself, except for
HistGradientBoosting with a Poisson or gamma loss, whose raw prediction is its log.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

from auditor.errors import InputError
from auditor.explain.attribution import (
    Attribution,
    Matrix,
    NoExactMethod,
    as_float_matrix,
    binary_sign,
    check_index,
    class_label,
)
from auditor.explain.regressors import (
    LOG_PREDICTED,
    PREDICTED,
    log_link_note,
    on_scale,
    single_output,
)

SKLEARN_TREES = (
    DecisionTreeClassifier,
    ExtraTreeClassifier,
    RandomForestClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
)
SKLEARN_TREE_REGRESSORS = (
    DecisionTreeRegressor,
    ExtraTreeRegressor,
    RandomForestRegressor,
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
)


def _explainer(model: Any, features: Matrix) -> Any:
    """shap's path-dependent TreeExplainer of the model; NoExactMethod if shap cannot read it."""
    import shap

    categorical = getattr(model, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        # shap reads HistGradientBoosting's categorical splits as numeric thresholds
        raise NoExactMethod(
            "shap's TreeExplainer does not support HistGradientBoosting categorical splits"
        )
    as_float_matrix(features, f"{type(model).__name__}")  # shap's own error would be cryptic
    try:
        return shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    except ValueError as error:  # shap's InvalidModelError, e.g. multi-class GradientBoosting
        raise NoExactMethod(f"shap's TreeExplainer cannot read this model: {error}") from error


def sklearn_tree_attribution(model: Any, features: Matrix, positive_index: int) -> Attribution:
    """Path-dependent TreeSHAP of a fitted scikit-learn tree model for one class."""
    check_index(positive_index, len(model.classes_), model)
    explainer = _explainer(model, features)
    values = np.asarray(explainer.shap_values(features, check_additivity=False), np.float64)
    expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))
    probability = explainer.model.tree_output == "probability"
    label = class_label(model, positive_index)
    if values.ndim == 3:  # one block per class
        values, base = values[:, :, positive_index], float(expected[positive_index])
        if probability:
            output = model.predict_proba(features)[:, positive_index]
        else:
            output = model.decision_function(features)[:, positive_index]
    else:  # a binary booster's single log-odds output, for class 1
        sign = binary_sign(positive_index, model)
        values, base = sign * values, sign * float(expected[0])
        output = sign * model.decision_function(features)
    if probability:
        scale = f"probability of {label}"
    elif len(model.classes_) == 2:
        scale = f"log-odds of {label}"
    else:
        scale = f"raw score (softmax input) of {label}"
    return Attribution(
        method=f"shap TreeExplainer (tree_path_dependent) on {type(model).__name__}",
        output_scale=scale,
        values=values,
        base_value=base,
        model_output=np.asarray(output, dtype=np.float64),
    )


def _loss_notes(model: Any) -> list[str]:
    """What a gradient-boosting regressor's prediction estimates, when not the mean."""
    loss = getattr(model, "loss", "squared_error")
    if isinstance(model, HistGradientBoostingRegressor) and loss in ("poisson", "gamma"):
        return [log_link_note(model)]
    # GradientBoosting keeps the quantile (and Huber's) in alpha, HistGradientBoosting in quantile
    level = getattr(model, "quantile", None) if loss == "quantile" else None
    level = getattr(model, "alpha", None) if level is None else level
    estimates = {
        "absolute_error": "conditional median",
        "quantile": f"conditional {level}-quantile",
        "huber": f"conditional mean, robustly (Huber loss, alpha {level})",
    }.get(loss)
    if estimates is None:
        return []
    return [
        f"{type(model).__name__} was fitted with loss {loss!r}: its prediction estimates the "
        f"{estimates} of the target; shap explains that prediction (the initial estimate plus "
        "the sum of the trees, exactly what predict returns)"
    ]


def sklearn_tree_regressor_attribution(
    model: Any, features: Matrix, positive_index: int
) -> Attribution:
    """Path-dependent TreeSHAP of a fitted scikit-learn tree regressor's raw prediction.

    ``positive_index`` is ignored. The raw prediction is ``predict`` itself, except for
    HistGradientBoosting with a log-link loss (Poisson, gamma): the log of ``predict``.
    """
    outputs = getattr(model, "n_outputs_", 1)
    if outputs != 1:
        raise InputError(
            f"{type(model).__name__} predicts {outputs} values per row; only single-output "
            "regressors can be explained"
        )
    explainer = _explainer(model, features)
    values = np.asarray(explainer.shap_values(features, check_additivity=False), np.float64)
    log_link = isinstance(model, HistGradientBoostingRegressor) and model.loss in (
        "poisson",
        "gamma",
    )
    scale = LOG_PREDICTED if log_link else PREDICTED
    return Attribution(
        method=f"shap TreeExplainer (tree_path_dependent) on {type(model).__name__}",
        output_scale=scale,
        values=values,
        base_value=float(np.ravel(explainer.expected_value)[0]),
        model_output=on_scale(single_output(model.predict(features), model), scale, model),
        notes=tuple(_loss_notes(model)),
    )
