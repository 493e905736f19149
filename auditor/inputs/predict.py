"""Run a loaded model on the audit data: features aligned by name, labels checked.

Every model family ends up as the same two arrays: whether each row is predicted positive,
and (where the model has one) a score for the positive class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError
from auditor.inputs.labels import BinaryLabels, label_text, positive_mask

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class ModelOutput:
    """What the model said about every row."""

    predicted_positive: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64] | None
    class_name: str
    features: list[str]
    ignored_columns: list[str]
    threshold: float | None
    notes: list[str] = field(default_factory=list)
    values: npt.NDArray[np.float64] | None = None  # a regressor's predictions


def _feature_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    if type(model).__module__.startswith("lightgbm"):
        lgb_names = [str(n) for n in model.feature_name()]
        generic = all(n == f"Column_{i}" for i, n in enumerate(lgb_names))
        return None if generic else lgb_names
    xgb_names = getattr(model, "feature_names", None)
    return [str(n) for n in xgb_names] if xgb_names else None


def _n_features(model: Any) -> int | None:
    if hasattr(model, "n_features_in_"):  # scikit-learn
        return int(model.n_features_in_)
    if hasattr(model, "num_feature"):
        return int(model.num_feature())
    if hasattr(model, "num_features"):
        return int(model.num_features())
    return None


def select_features(
    model: Any, frame: pd.DataFrame, reserved: set[str]
) -> tuple[pd.DataFrame, list[str], list[str], list[str]]:
    """The model's feature columns in the model's order, the ignored columns, and notes."""
    names = _feature_names(model)
    notes: list[str] = []
    if names is not None:
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise InputError(
                f"the model expects {len(missing)} feature(s) the data lacks: {missing[:5]}"
                f"{' ...' if len(missing) > 5 else ''}. Audit with the data the model was "
                "built for."
            )
        ignored = [c for c in frame.columns if c not in names and c not in reserved]
        return frame[names], names, ignored, notes
    candidates = [c for c in frame.columns if c not in reserved]
    expected = _n_features(model)
    if expected is not None and expected != len(candidates):
        raise InputError(
            f"the model has no feature names and expects {expected} feature(s), but the data has "
            f"{len(candidates)} column(s) besides the target and sensitive columns. Save the "
            "model with feature names, or pass data with exactly its features."
        )
    notes.append(
        "The model records no feature names: its features were taken to be the data's columns "
        "other than the target and sensitive columns, in file order."
    )
    return frame[candidates], candidates, [], notes


def predict(
    model: Any,
    frame: pd.DataFrame,
    labels: BinaryLabels,
    *,
    reserved: set[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> ModelOutput:
    """Predict every row; errors from the model become an InputError that names it."""
    features, names, ignored, notes = select_features(model, frame, reserved)
    class_name = f"{type(model).__module__}.{type(model).__qualname__}"
    try:
        if hasattr(model, "classes_") and hasattr(model, "predict"):
            predicted, scores, used_threshold = _predict_sklearn(model, features, labels)
        elif class_name.startswith("lightgbm"):
            scores = np.asarray(model.predict(features), dtype=np.float64)
            predicted, used_threshold = _threshold(scores, threshold), threshold
        elif class_name.startswith("xgboost"):
            import xgboost

            scores = np.asarray(model.predict(xgboost.DMatrix(features)), dtype=np.float64)
            predicted, used_threshold = _threshold(scores, threshold), threshold
        else:
            raise InputError(
                f"auditor cannot use a model of type {class_name}: it needs a binary classifier "
                "with classes_ and predict (scikit-learn API), or a LightGBM/XGBoost booster."
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"the model's predict raised {type(exc).__name__}: {exc}. Check that the data has "
            "the columns and types the model was trained on."
        ) from exc
    if used_threshold is not None:
        notes.append(
            f"The model outputs a probability for its class 1, read as the positive label "
            f"'{labels.positive}'; rows scoring >= {used_threshold} are predicted positive."
        )
    return ModelOutput(predicted, scores, class_name, names, ignored, used_threshold, notes)


def _threshold(scores: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.bool_]:
    if scores.ndim != 1:
        raise InputError(
            f"the booster returns {scores.shape[1]} outputs per row; auditor audits binary "
            "classifiers (one probability per row)."
        )
    return np.asarray(scores >= threshold, dtype=np.bool_)


def _predict_sklearn(
    model: Any, features: pd.DataFrame, labels: BinaryLabels
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64] | None, None]:
    classes = [label_text(c) for c in model.classes_]
    if len(classes) != 2:
        raise InputError(
            f"the model predicts {len(classes)} classes {classes[:5]}; auditor audits binary "
            "classifiers."
        )
    if labels.positive not in classes:
        raise InputError(
            f"the model's classes {classes} do not include the positive label "
            f"'{labels.positive}'. Pass the --pos-label the model was trained with."
        )
    raw = pd.Series(np.asarray(model.predict(features)), name="model prediction")
    predicted = positive_mask(raw, labels, "model prediction")
    positive_index = classes.index(labels.positive)
    scores: npt.NDArray[np.float64] | None = None
    if hasattr(model, "predict_proba"):
        scores = np.asarray(model.predict_proba(features)[:, positive_index], dtype=np.float64)
    elif hasattr(model, "decision_function"):
        margin = np.asarray(model.decision_function(features), dtype=np.float64)
        scores = margin if positive_index == 1 else -margin
    return predicted, scores, None
