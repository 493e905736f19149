"""shap's TreeExplainer (tree_path_dependent) for scikit-learn trees, forests and boosting.

shap explains forests and single trees on the probability scale (the mean of the trees' leaf
class frequencies) and gradient boosting on the log-odds scale (its decision function); the
scale is read from the explainer so the report states what shap actually used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

from auditor.explain.attribution import (
    Attribution,
    Matrix,
    NoExactMethod,
    as_float_matrix,
    binary_sign,
    check_index,
    class_label,
)

SKLEARN_TREES = (
    DecisionTreeClassifier,
    ExtraTreeClassifier,
    RandomForestClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
)


def sklearn_tree_attribution(model: Any, features: Matrix, positive_index: int) -> Attribution:
    """Path-dependent TreeSHAP of a fitted scikit-learn tree model for one class."""
    import shap

    categorical = getattr(model, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        # shap reads HistGradientBoosting's categorical splits as numeric thresholds
        raise NoExactMethod(
            "shap's TreeExplainer does not support HistGradientBoosting categorical splits"
        )
    check_index(positive_index, len(model.classes_), model)
    as_float_matrix(features, f"{type(model).__name__}")  # shap's own error would be cryptic
    try:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    except ValueError as error:  # shap's InvalidModelError, e.g. multi-class GradientBoosting
        raise NoExactMethod(f"shap's TreeExplainer cannot read this model: {error}") from error
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
