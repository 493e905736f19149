"""Native TreeSHAP of LightGBM and XGBoost: the libraries' own ``pred_contrib(s)``.

Both libraries compute exact path-dependent TreeSHAP on the raw (margin) scale, so no shap
round trip is needed. A regression objective (read from the model, so a Booster is told apart
from a classifier) names that scale: the predicted value for identity-link objectives, its log
for log-link ones (Poisson, gamma, Tweedie); ``positive_index`` is then ignored. Two traps of
classifiers are handled here rather than left to the caller:

- a binary problem trained as a 2-class softmax gives two score blocks (shap#837); class k's
  log-odds is then score k minus the other score, and SHAP values subtract the same way;
- LightGBM pandas categoricals (shap#2144): the frame is passed to LightGBM as a frame, so it
  re-aligns category codes to the training categories; string columns are cast to those
  categories first, never coded by the audit data's own order.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from auditor.errors import InputError
from auditor.explain.attribution import (
    Attribution,
    FloatArray,
    Matrix,
    binary_sign,
    check_index,
    class_label,
    text_columns,
)
from auditor.explain.regressors import (
    LIGHTGBM_REGRESSION,
    XGBOOST_REGRESSION,
    booster_notes,
    booster_scale,
)

_LOG_ODDS_LIGHTGBM = {"binary", "cross_entropy", "xentropy"}
_LOG_ODDS_XGBOOST = {"binary:logistic", "binary:logitraw", "reg:logistic"}
_LIGHTGBM = "LightGBM native TreeSHAP (pred_contrib)"
_XGBOOST = "XGBoost native TreeSHAP (pred_contribs)"


def _pick(
    blocks: FloatArray, raw: FloatArray, model: Any, positive_index: int, softmax: bool
) -> tuple[FloatArray, float, FloatArray, str, str]:
    """Values, base, output, class name and a scale prefix for one class of (rows, k, m+1) blocks.

    The last column of each block is the bias (expected value), equal on every row.
    """
    k = blocks.shape[1]
    if k == 1:
        sign = binary_sign(positive_index, model)
        chosen, output, name = sign * blocks[:, 0, :], sign * raw[:, 0], "log-odds"
    elif k == 2 and softmax:
        check_index(positive_index, 2, model)
        p, q = positive_index, 1 - positive_index
        chosen, output = blocks[:, p, :] - blocks[:, q, :], raw[:, p] - raw[:, q]
        name = "log-odds (difference of the two softmax scores)"
    else:
        check_index(positive_index, k, model)
        chosen, output = blocks[:, positive_index, :], raw[:, positive_index]
        name = "raw score (softmax input)" if softmax else "log-odds (one-vs-all)"
    label = class_label(model, positive_index)
    return chosen[:, :-1], float(chosen[0, -1]), output, label, name


def _regression(blocks: FloatArray, model: Any) -> tuple[FloatArray, float]:
    """Values and base of a regression booster's only output; InputError for several outputs."""
    if blocks.shape[1] != 1:
        raise InputError(
            f"{type(model).__name__} predicts {blocks.shape[1]} values per row (several targets "
            "or quantiles); only single-output regressors can be explained"
        )
    return blocks[:, 0, :-1], float(blocks[0, 0, -1])


# --- LightGBM -----------------------------------------------------------------------------


def _lightgbm_header(booster: Any) -> dict[str, str]:
    """The ``key=value`` header of the model text (first iteration only, so it stays cheap)."""
    header: dict[str, str] = {}
    for line in booster.model_to_string(num_iteration=1).splitlines():
        if line.startswith("Tree="):
            break
        key, sep, value = line.partition("=")
        if sep:
            header[key] = value
    return header


def _lightgbm_frame(
    frame: pd.DataFrame, booster: Any, header: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """The frame with text columns cast to the training categories, and notes on unseen ones.

    LightGBM pairs the frame's categorical columns, in order, with the categories it stored
    at training (``pandas_categorical``) and re-codes them; text columns are first cast to
    those categories here, at the positions the model file marks as categorical.
    """
    trained = booster.pandas_categorical or []
    strings = text_columns(frame)
    if strings:
        infos = header.get("feature_infos", "").split(" ")
        positions = [
            i for i, info in enumerate(infos) if not info.startswith("[") and info != "none"
        ]
        text = [i for i, c in enumerate(frame.columns) if str(c) in strings]
        if len(trained) != len(positions) or not set(text) <= set(positions):
            raise InputError(
                f"LightGBM model: text columns {', '.join(strings)} do not match the pandas "
                "categoricals it was trained on; pass them as the training categories"
            )
        paired: list[Any] = [frame.columns[i] for i in positions]
    else:
        paired = [c for c, t in frame.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    notes = []
    for column, categories in zip(paired, trained, strict=False):
        values = frame[column]
        unseen = int((values.notna() & ~values.isin(categories)).sum())
        if unseen:
            notes.append(
                f"{unseen} values of {column!r} are categories the model never saw in "
                "training; LightGBM treats them as missing"
            )
    if strings:
        frame = frame.copy()
        for column, categories in zip(paired, trained, strict=True):
            if not isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = pd.Categorical(frame[column], categories=categories)
    return frame, notes


def lightgbm_attribution(model: Any, features: Matrix, positive_index: int) -> Attribution:
    """Native TreeSHAP of a LightGBM Booster or scikit-learn wrapper, on the raw-score scale."""
    import lightgbm

    booster = model.booster_ if isinstance(model, lightgbm.LGBMModel) else model
    header = _lightgbm_header(booster)
    n_features = booster.num_feature()
    if features.shape[1] != n_features:
        raise InputError(f"LightGBM model expects {n_features} features, got {features.shape[1]}")
    notes: list[str] = []
    if isinstance(features, pd.DataFrame):
        features, notes = _lightgbm_frame(features, booster, header)
    contrib = np.asarray(booster.predict(features, pred_contrib=True), dtype=np.float64)
    raw = np.asarray(booster.predict(features, raw_score=True), dtype=np.float64)
    k = booster.num_model_per_iteration()
    blocks = contrib.reshape(len(contrib), k, n_features + 1)
    objective, _, params = header.get("objective", "unknown").partition(" ")
    regression = booster_scale(model, objective, params, LIGHTGBM_REGRESSION)
    if regression is not None:
        values, base = _regression(blocks, model)
        notes.extend(booster_notes(model, regression, "LightGBM"))
        return Attribution(_LIGHTGBM, regression, values, base, raw, notes=tuple(notes))
    values, base, output, label, scale = _pick(
        blocks, raw.reshape(len(raw), k), model, positive_index, objective == "multiclass"
    )
    if k == 1 and objective in _LOG_ODDS_LIGHTGBM:
        # binary's probability is sigmoid(sigmoid_param * raw): scale raw to true log-odds
        slope = float(dict(p.split(":", 1) for p in params.split() if ":" in p).get("sigmoid", 1))
        if slope != 1.0:
            values, base, output = slope * values, slope * base, slope * output
            notes.append(f"raw scores multiplied by the model's sigmoid parameter {slope:g}")
    elif k == 1:
        scale = f"raw score (objective {objective!r})"
    if k == 2 and objective == "multiclass":
        notes.append("binary model trained as a 2-class softmax: explained the class's log-odds")
    return Attribution(
        method=_LIGHTGBM,
        output_scale=f"{scale} of {label}",
        values=values,
        base_value=base,
        model_output=output,
        notes=tuple(notes),
    )


# --- XGBoost ------------------------------------------------------------------------------


def xgboost_attribution(model: Any, features: Matrix, positive_index: int) -> Attribution:
    """Native TreeSHAP of an XGBoost Booster or scikit-learn wrapper, on the margin scale.

    XGBoost computes in float32; the values are widened to float64 and the additivity gap
    is measured in float64 by the caller, so the float32 rounding shows instead of hiding.
    """
    import xgboost

    booster = model.get_booster() if isinstance(model, xgboost.XGBModel) else model
    iteration_range = (0, 0)  # the booster's default: every tree
    notes = []
    if isinstance(model, xgboost.XGBModel):
        try:
            iteration_range = (0, int(model.best_iteration) + 1)
            notes.append(f"early-stopped model: trees up to best_iteration {model.best_iteration}")
        except AttributeError:
            pass
    learner = json.loads(booster.save_config())["learner"]
    objective = learner["objective"]["name"]
    if isinstance(features, pd.DataFrame) and text_columns(features):
        raise InputError(
            f"XGBoost model: text columns {', '.join(text_columns(features))}; "
            "pass them as pandas categoricals with the training categories"
        )
    names = booster.feature_names if not isinstance(features, pd.DataFrame) else None
    try:
        matrix = xgboost.DMatrix(features, feature_names=names, enable_categorical=True)
        contrib = booster.predict(matrix, pred_contribs=True, iteration_range=iteration_range)
        margin = booster.predict(matrix, output_margin=True, iteration_range=iteration_range)
    except (ValueError, xgboost.core.XGBoostError) as error:
        raise InputError(f"XGBoost model rejected the features: {error}") from error
    rows, width = len(contrib), contrib.shape[-1]
    blocks = np.asarray(contrib, dtype=np.float64).reshape(rows, -1, width)
    raw = np.asarray(margin, dtype=np.float64).reshape(rows, -1)
    notes.append("XGBoost computes contributions in float32; additivity is checked in float64")
    regression = booster_scale(model, objective, "", XGBOOST_REGRESSION)
    if regression is not None:
        values, base = _regression(blocks, model)
        notes.extend(booster_notes(model, regression, "XGBoost"))
        return Attribution(
            _XGBOOST, regression, values, base, raw[:, 0], notes=tuple(notes), float32=True
        )
    softmax = objective.startswith("multi:")
    values, base, output, label, scale = _pick(blocks, raw, model, positive_index, softmax)
    if blocks.shape[1] == 1 and objective not in _LOG_ODDS_XGBOOST:
        scale = f"margin (objective {objective!r})"
    return Attribution(
        method=_XGBOOST,
        output_scale=f"{scale} of {label}",
        values=values,
        base_value=base,
        model_output=output,
        notes=tuple(notes),
        float32=True,
    )
