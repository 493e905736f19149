"""Which exact SHAP method a model gets, by family; ``None`` when it has none.

LightGBM and XGBoost are recognised by module before importing them, so explaining a
scikit-learn model never pays for loading the boosting libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.explain.attribution import Attribution, Matrix
from auditor.explain.boosters import lightgbm_attribution, xgboost_attribution
from auditor.explain.linear import (
    is_linear_classifier,
    is_linear_regressor,
    linear_attribution,
    linear_regressor_attribution,
)
from auditor.explain.sklearn_trees import (
    SKLEARN_TREE_REGRESSORS,
    SKLEARN_TREES,
    sklearn_tree_attribution,
    sklearn_tree_regressor_attribution,
)

SUPPORTED = (
    "LightGBM Booster/LGBMClassifier/LGBMRegressor, XGBoost Booster/XGBClassifier/"
    "XGBRegressor, scikit-learn DecisionTree/ExtraTree/RandomForest/ExtraTrees/"
    "GradientBoosting/HistGradientBoosting classifiers and regressors, linear classifiers and "
    "regressors (coef_, intercept_), Pipelines of transformers ending in one of these, any "
    "model with predict_proba or decision_function, or any regressor with predict (sampled SHAP)"
)

TreeMethod = Callable[[Any, Matrix, int], Attribution]


def _from_library(model: Any, library: str) -> bool:
    return any(cls.__module__.split(".")[0] == library for cls in type(model).__mro__)


def _tree_method(model: Any) -> TreeMethod | None:
    if _from_library(model, "lightgbm"):
        import lightgbm

        if isinstance(model, lightgbm.Booster | lightgbm.LGBMModel):
            return lightgbm_attribution
    if _from_library(model, "xgboost"):
        import xgboost

        if isinstance(model, xgboost.Booster | xgboost.XGBModel):
            return xgboost_attribution
    if isinstance(model, SKLEARN_TREES):
        return sklearn_tree_attribution
    if isinstance(model, SKLEARN_TREE_REGRESSORS):
        return sklearn_tree_regressor_attribution
    return None


def is_linear(model: Any) -> bool:
    """Whether the model gets exact linear SHAP (a linear classifier or regressor)."""
    return is_linear_classifier(model) or is_linear_regressor(model)


def has_exact_method(model: Any) -> bool:
    """Whether :func:`exact_attribution` knows the model's family."""
    return _tree_method(model) is not None or is_linear(model)


def exact_attribution(
    model: Any, features: Matrix, positive_index: int, background: Matrix | None
) -> Attribution | None:
    """The exact SHAP values of the model's family, or None for a family without one.

    ``background`` (None: the features themselves) is the reference of linear SHAP; tree
    methods use the training data's node covers instead, and say so when one was given.
    Raises :class:`~auditor.explain.attribution.NoExactMethod` for a known family the exact
    method cannot handle. Regressors ignore ``positive_index``.
    """
    tree_method = _tree_method(model)
    if tree_method is not None:
        attribution = tree_method(model, features, positive_index)
        if background is not None:
            attribution = attribution.with_notes(
                "background not used: path-dependent TreeSHAP takes its reference distribution "
                "from the training data recorded in the trees"
            )
        return attribution
    reference = features if background is None else background
    if is_linear_classifier(model):
        return linear_attribution(model, features, positive_index, reference)
    if is_linear_regressor(model):
        return linear_regressor_attribution(model, features, positive_index, reference)
    return None
