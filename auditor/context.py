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
    # Representativeness: attribute ("sex" or "sex & race") -> group key -> expected share,
    # and where each reference comes from.
    population: dict[str, dict[str, float]] = field(default_factory=dict)
    population_sources: dict[str, str] = field(default_factory=dict)
    quasi_identifiers: tuple[str, ...] = ()
    k_anonymity: int = 5
    l_diversity: int | None = None
    l_column: str | None = None
    qi_bins: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingData:
    """The model's training data (``--train-data``), read and checked like the audit data.

    ``y_true`` marks the positive label (classification audits; None in regression).
    """

    frame: pd.DataFrame
    y_true: npt.NDArray[np.bool_] | None


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
class ClassCounts:
    """Rows per distinct combination of some columns, counted by an engine over all rows."""

    frame: pd.DataFrame
    counts: npt.NDArray[np.int64]


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
    target_column: str = ""
    train: TrainingData | None = None
    # Aggregated data (an engine's cell table): each "row" above is a cell of ``counts[i]``
    # identical rows; ``weights`` then holds the cell's sum of weights and ``weights_sq``
    # its sum of squared weights. None: every row is one row.
    counts: npt.NDArray[np.int64] | None = None
    weights_sq: npt.NDArray[np.float64] | None = None
    engine: str = "memory"
    # A sample an engine drew: the rows of the data it stands for, and (k-anonymity) the
    # quasi-identifier classes counted over every row.
    sample_of: int | None = None
    class_counts: ClassCounts | None = None

    @property
    def n_rows(self) -> int:
        """Rows of the data (cells count as the rows they stand for)."""
        if self.counts is not None:
            return int(self.counts.sum())
        return int(self.y_true.shape[0])

    @property
    def mass(self) -> npt.NDArray[np.float64] | None:
        """What each row adds to a weighted count: its weight, else its rows; None if 1."""
        if self.weights is not None:
            return self.weights
        return None if self.counts is None else self.counts.astype(np.float64)

    @property
    def mass_sq(self) -> npt.NDArray[np.float64] | None:
        """Each row's sum of squared weights (Kish's effective counts); None when unweighted."""
        if self.weights is None:
            return None
        return self.weights_sq if self.weights_sq is not None else self.weights * self.weights

    def group_rows(self, codes: npt.NDArray[np.int64], n_groups: int) -> npt.NDArray[np.int64]:
        """Rows per group (cells count as the rows they stand for)."""
        return np.bincount(codes, weights=self.counts, minlength=n_groups).astype(np.int64)
