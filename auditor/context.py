"""AuditContext: everything the checks read, computed once before any check runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.groups import Grouping
from auditor.inputs.labels import BinaryLabels
from auditor.results import ModelCard


@dataclass(frozen=True)
class CheckSettings:
    """The policy settings the checks need (the policy itself stays above the checks)."""

    min_group_size: int = 30
    confidence: float = 0.95
    positive_outcome: Literal["favorable", "adverse"] = "favorable"
    min_positives: int = 0
    min_negatives: int = 0
    bootstrap_resamples: int = 1000
    seed: int = 0
    multiple_comparisons: str = "holm"
    score_threshold: float | None = None
    top_k: int | None = None
    explanation_rows: int = 5000
    explanation_seconds: float = 60.0
    background_rows: int = 200_000
    adverse_cases: int = 10
    proxy_rows: int = 20_000


@dataclass(frozen=True)
class ModelHandle:
    """The loaded model, for the checks that look inside it (explanations).

    ``features`` are its input columns in its own order; ``positive_index`` is the index of
    the positive label in a scikit-learn classifier's ``classes_`` (1 for boosters, whose
    single output is class 1).
    """

    estimator: Any
    features: list[str]
    positive_index: int = 1


@dataclass(frozen=True)
class AuditContext:
    """Validated inputs: labels as booleans, groups as integer codes, predictions made once.

    ``y_true[i]`` / ``y_pred[i]`` are True where row i's actual / predicted label is the
    positive label. A regression audit (``task == 'regression'``) carries the numbers in
    ``target_values`` / ``predicted_values`` instead (its ``y_true`` / ``y_pred`` are unused).
    ``groupings`` holds each sensitive attribute and, when there are
    several, their intersection.
    """

    frame: pd.DataFrame
    labels: BinaryLabels | None
    y_true: npt.NDArray[np.bool_]
    y_pred: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float64] | None
    weights: npt.NDArray[np.float64] | None
    groupings: list[Grouping]
    settings: CheckSettings = field(default_factory=CheckSettings)
    model_card: ModelCard | None = None
    task: Literal["classification", "regression"] = "classification"
    target_values: npt.NDArray[np.float64] | None = None
    predicted_values: npt.NDArray[np.float64] | None = None
    model: ModelHandle | None = None
    # The columns that may stand in for a sensitive attribute: the model's features, or in
    # decisions mode every column the audit does not itself use.
    feature_columns: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return int(self.y_true.shape[0])
