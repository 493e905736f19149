"""Model mode at scale: the model predicts batch by batch, and only cells are kept.

Scores become cells too, so they are rounded to :data:`SCORE_DECIMALS` decimals (at most
10,001 levels for probabilities): every score metric (AUC, average precision, calibration,
Brier, the shares above the median, a threshold or in the top k) is that of the rounded
scores, and the report says so. Decisions and the confusion-matrix rates are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from auditor.engines.cells import PREDICTION, SCORE, ColumnRoles
from auditor.inputs.labels import BinaryLabels
from auditor.inputs.predict import ModelOutput, predict, select_features

SCORE_DECIMALS = 4
BATCH_ROWS = 262_144  # rows per Arrow record batch: features of a batch stay in megabytes


@dataclass
class Scorer:
    """A loaded model and how to read its output; remembers what the first batch said."""

    model: Any
    labels: BinaryLabels
    roles: ColumnRoles
    threshold: float
    first_output: ModelOutput | None = field(default=None, repr=False)

    @property
    def reserved(self) -> set[str]:
        """Columns the audit uses itself, never taken for features the model did not name."""
        return set(self.roles.columns())

    def feature_columns(self, columns: list[str]) -> list[str]:
        """The data columns the model reads (checked against the data's schema, no rows)."""
        _, names, _, _ = select_features(self.model, pd.DataFrame(columns=columns), self.reserved)
        return names

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """The batch's audit columns plus the model's prediction (label text) and score."""
        output = predict(
            self.model, batch, self.labels, reserved=self.reserved, threshold=self.threshold
        )
        if self.first_output is None:
            self.first_output = output
        keep = [c for c in self.roles.columns() if c in batch.columns]
        scored = batch[keep].copy()
        labels = np.array([self.labels.other, self.labels.positive], dtype=object)
        scored[PREDICTION] = labels[output.predicted_positive.astype(np.int64)]
        if output.scores is not None:
            scored[SCORE] = np.round(output.scores, SCORE_DECIMALS)
        return scored

    def note(self) -> str:
        """What the report says about predictions made at scale."""
        return (
            f"The model predicted every row in batches of {BATCH_ROWS:,} inside the engine; "
            f"its scores were rounded to {SCORE_DECIMALS} decimals to be counted as cells, so "
            "AUC, average precision, calibration, the Brier score and the score-based shares "
            "(above the median, at a score threshold, in the top k) are those of the rounded "
            "scores; the model's decisions and every confusion-matrix rate are exact."
        )
