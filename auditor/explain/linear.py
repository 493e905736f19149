"""Exact interventional SHAP of a linear classifier's decision function.

For f(x) = w·x + b with independent features, the SHAP value of feature j is
w_j (x_j - E[x_j]), and the base value is w·E[x] + b. E is the mean of the FULL background
(shap's LinearExplainer would subsample to 100 rows by default), so the result is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier

from auditor.explain.attribution import (
    Attribution,
    Matrix,
    as_float_matrix,
    binary_sign,
    check_index,
    class_label,
)


def is_linear_classifier(model: Any) -> bool:
    """A fitted classifier whose decision function is ``X @ coef_.T + intercept_``."""
    return all(hasattr(model, a) for a in ("coef_", "intercept_", "classes_", "decision_function"))


def _scale(model: Any, label: str, n_classes: int) -> str:
    log_loss = isinstance(model, LogisticRegression) or (
        isinstance(model, SGDClassifier) and model.loss == "log_loss"
    )
    if log_loss and n_classes == 2:
        return f"log-odds of {label}"
    if isinstance(model, LogisticRegression):
        return f"multinomial logit (softmax input) of {label}"
    return f"decision function (signed margin) of {label}"


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
        method=(
            "exact linear SHAP (interventional, mean of the full background of "
            f"{len(background)} rows)"
        ),
        output_scale=_scale(model, label, n_classes),
        values=(x - reference) * weights,
        base_value=float(reference @ weights + bias),
        model_output=output,
    )
