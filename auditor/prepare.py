"""Turn what the user handed in into an AuditContext: every input validated, once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.context import AuditContext, CheckSettings, ModelHandle, TrainingData
from auditor.errors import InputError, UsageError
from auditor.groups import encode_groups
from auditor.inputs.data import require_columns
from auditor.inputs.in_memory import require_aligned
from auditor.inputs.labels import BinaryLabels, label_text, positive_mask, resolve_labels
from auditor.inputs.model_files import LoadedModel
from auditor.inputs.predict import ModelOutput, predict
from auditor.inputs.regression import numeric_values, predict_values
from auditor.results import ModelCard

PredictionInput = str | Sequence[Any] | npt.NDArray[Any] | pd.Series


@dataclass(frozen=True)
class AuditRequest:
    """The audit as asked for, after the CLI or the Python caller parsed it."""

    target: str
    sensitive: list[str]
    prediction: PredictionInput | None = None
    score: str | None = None
    weight: str | None = None
    pos_label: str | None = None
    references: Mapping[str, str] = field(default_factory=dict)
    missing_as_group: bool = False
    max_groups: int = 100
    threshold: float = 0.5
    task: Literal["classification", "regression"] = "classification"


@dataclass(frozen=True)
class Prepared:
    """The context the checks read, plus what the report needs to say about the inputs."""

    context: AuditContext
    model_output: ModelOutput | None
    prediction_name: str | None
    notes: list[str]


def _aligned_predictions(frame: pd.DataFrame, values: PredictionInput) -> pd.Series:
    """Predictions given as an array or Series, checked to line up with the data's rows."""
    if isinstance(values, pd.Series):
        require_aligned(frame, values, "predictions")
        return values.rename("prediction")
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != len(frame):
        raise InputError(
            f"predictions have shape {array.shape} but the data has {len(frame):,} rows; pass "
            "one prediction per row, in the data's row order."
        )
    return pd.Series(array, index=frame.index, name="prediction")


def _weights(frame: pd.DataFrame, column: str | None) -> npt.NDArray[np.float64] | None:
    if column is None:
        return None
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise InputError(f"--weight column '{column}' is not numeric.")
    weights = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(weights).all():
        raise InputError(f"--weight column '{column}' has missing or infinite values.")
    if (weights < 0).any():
        raise InputError(f"--weight column '{column}' has negative values.")
    if weights.sum() == 0:
        raise InputError(f"--weight column '{column}' is zero on every row.")
    return weights


def _scores(frame: pd.DataFrame, column: str | None) -> npt.NDArray[np.float64] | None:
    if column is None:
        return None
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise InputError(f"--score column '{column}' is not numeric.")
    scores = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(scores).all():
        raise InputError(f"--score column '{column}' has missing or infinite values.")
    return scores


def prepare(
    frame: pd.DataFrame,
    request: AuditRequest,
    *,
    model: LoadedModel | None,
    settings: CheckSettings,
    model_card: ModelCard | None = None,
    train_frame: pd.DataFrame | None = None,
    labels: BinaryLabels | None = None,
) -> Prepared:
    """Validate the inputs and build the AuditContext; every problem is an InputError.

    ``labels``: the positive and other label, when they are known from the whole data (a
    sample an engine drew may lack a rare label)."""
    if (model is None) == (request.prediction is None):
        raise UsageError("pass exactly one of --model PATH or --prediction COL.")
    if not request.sensitive:
        raise UsageError("pass at least one --sensitive column.")
    prediction_col = request.prediction if isinstance(request.prediction, str) else None
    require_columns(
        frame,
        {
            "--target": request.target,
            "--prediction": prediction_col,
            "--score": request.score,
            "--weight": request.weight,
            **{f"--sensitive ({i + 1})": c for i, c in enumerate(request.sensitive)},
        },
    )
    if request.target in request.sensitive or request.target == prediction_col:
        raise UsageError("--target must be a different column from --prediction and --sensitive.")
    roles = (request.score, request.weight)
    # Columns the audit itself uses are never taken for features the model did not name.
    reserved = {request.target, *request.sensitive, *(c for c in roles if c)}
    if prediction_col is not None:
        reserved.add(prediction_col)
    if request.task == "regression":
        outcomes = _regression_outcomes(frame, request, model, reserved)
    else:
        outcomes = _classification_outcomes(frame, request, model, reserved, labels)
    groupings = encode_groups(
        frame,
        request.sensitive,
        references=dict(request.references),
        missing_as_group=request.missing_as_group,
        max_groups=request.max_groups,
    )
    context = AuditContext(
        frame=frame,
        labels=outcomes.labels,
        y_true=outcomes.y_true,
        y_pred=outcomes.y_pred,
        scores=outcomes.scores,
        weights=_weights(frame, request.weight),
        groupings=groupings,
        settings=settings,
        model_card=model_card,
        task=request.task,
        target_values=outcomes.target_values,
        predicted_values=outcomes.predicted_values,
        model=_handle(model, outcomes),
        target_column=request.target,
        train=None if train_frame is None else _training(train_frame, request, outcomes.labels),
        feature_columns=(
            list(outcomes.output.features)
            if outcomes.output is not None
            else [c for c in frame.columns if c not in reserved]
        ),
    )
    return Prepared(context, outcomes.output, prediction_col, outcomes.notes)


def _training(
    frame: pd.DataFrame, request: AuditRequest, labels: BinaryLabels | None
) -> TrainingData:
    """The training data, with the audit's target and sensitive columns and labels."""
    require_columns(
        frame,
        {
            "--target (in --train-data)": request.target,
            **{f"--sensitive {c} (in --train-data)": c for c in request.sensitive},
        },
    )
    y_true = None
    if labels is not None:
        y_true = positive_mask(frame[request.target], labels, "target of the training data")
    return TrainingData(frame=frame, y_true=y_true)


def _handle(model: LoadedModel | None, outcomes: _Outcomes) -> ModelHandle | None:
    """The model and what the explanation needs to know about its output."""
    if model is None or outcomes.output is None:
        return None
    estimator = model.estimator
    positive_index = 1
    classes = getattr(estimator, "classes_", None)
    if classes is not None and outcomes.labels is not None and len(classes) == 2:
        positive_index = [label_text(c) for c in classes].index(outcomes.labels.positive)
    return ModelHandle(estimator, list(outcomes.output.features), positive_index)


@dataclass(frozen=True)
class _Outcomes:
    """The actual and predicted outcome of every row, as the checks read them."""

    labels: BinaryLabels | None
    y_true: npt.NDArray[np.bool_]
    y_pred: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64] | None
    output: ModelOutput | None
    notes: list[str]
    target_values: npt.NDArray[np.float64] | None = None
    predicted_values: npt.NDArray[np.float64] | None = None


def _recorded(frame: pd.DataFrame, request: AuditRequest) -> pd.Series:
    assert request.prediction is not None
    if isinstance(request.prediction, str):
        return frame[request.prediction]
    return _aligned_predictions(frame, request.prediction)


def _classification_outcomes(
    frame: pd.DataFrame,
    request: AuditRequest,
    model: LoadedModel | None,
    reserved: set[str],
    known: BinaryLabels | None = None,
) -> _Outcomes:
    labels = known or resolve_labels(frame[request.target], request.pos_label)
    y_true = positive_mask(frame[request.target], labels, "target")
    scores = _scores(frame, request.score)
    if model is None:
        y_pred = positive_mask(_recorded(frame, request), labels, "prediction")
        return _Outcomes(labels, y_true, y_pred, scores, None, [])
    output = predict(model.estimator, frame, labels, reserved=reserved, threshold=request.threshold)
    scores = output.scores if scores is None else scores
    return _Outcomes(labels, y_true, output.predicted_positive, scores, output, [*output.notes])


def _regression_outcomes(
    frame: pd.DataFrame, request: AuditRequest, model: LoadedModel | None, reserved: set[str]
) -> _Outcomes:
    if request.pos_label is not None or request.score is not None:
        raise UsageError(
            "--pos-label and --score are for classification audits; a regression audit "
            "(--task regression) compares the predicted numbers themselves."
        )
    target = numeric_values(frame[request.target], "target")
    output = None
    if model is None:
        predicted = numeric_values(_recorded(frame, request), "prediction")
    else:
        output = predict_values(model.estimator, frame, reserved=reserved)
        assert output.values is not None
        predicted = output.values
    unused = np.zeros(len(frame), dtype=np.bool_)
    notes = [] if output is None else [*output.notes]
    return _Outcomes(None, unused, unused, None, output, notes, target, predicted)
