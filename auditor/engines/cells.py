"""The table of sufficient statistics every engine computes: one row per distinct cell.

A cell is a distinct combination of the sensitive columns' values, the target, the
prediction and (when there is one) the score. For each cell the engine counts its rows and,
with a weight column, sums the weights and the squared weights (Kish's effective counts and
the weighted bootstrap need both). Every group fairness metric, its analytic interval and
its bootstrap are functions of this table, so the rows are read once, by whichever engine
holds them, and never again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from auditor.errors import InputError

TARGET = "__auditor_target"
PREDICTION = "__auditor_prediction"
SCORE = "__auditor_score"
ROWS = "__auditor_rows"
WEIGHT = "__auditor_weight"
WEIGHT_SQ = "__auditor_weight_sq"

# Scores are kept exactly, one cell per distinct value: past this many values (continuous
# scores) the table would be as long as the data, so the engines refuse and say what to do.
MAX_SCORE_LEVELS = 65_536
# Target and prediction must be class labels; past this many values they cannot be.
MAX_LABEL_VALUES = 50
# Engines sum weights in fixed point (engines/fixed_point.py): rows x largest squared weight
# must stay where a double still resolves a single weight.
MAX_SQUARED_WEIGHT_BOUND = 1e250


@dataclass(frozen=True)
class ColumnRoles:
    """Which column of the data plays which part in the audit (names as in the data)."""

    target: str
    sensitive: tuple[str, ...]
    prediction: str | None  # None: a model predicts (the engine's scorer adds the column)
    score: str | None = None
    weight: str | None = None

    def key_columns(self) -> list[tuple[str, str]]:
        """(data column, cell-table column) of every column the cells are keyed by."""
        pairs = [(c, c) for c in self.sensitive]
        pairs.append((self.target, TARGET))
        if self.prediction is not None:
            pairs.append((self.prediction, PREDICTION))
        if self.score is not None:
            pairs.append((self.score, SCORE))
        return pairs

    def scored(self, has_score: bool) -> ColumnRoles:
        """The roles of a frame a model has scored (its prediction and score columns)."""
        return replace(self, prediction=PREDICTION, score=SCORE if has_score else None)

    def columns(self) -> list[str]:
        """Every data column the audit reads, each once (a model's features aside)."""
        named = [*self.sensitive, self.target, self.prediction, self.score, self.weight]
        return list(dict.fromkeys(c for c in named if c is not None))


@dataclass(frozen=True)
class Profile:
    """One pass over the data before the cells: its size and what could make them explode."""

    rows: int
    distinct: dict[str, int]  # data column -> approximate number of distinct values
    bad_scores: int = 0  # missing or non-finite scores
    bad_weights: int = 0  # missing or non-finite weights
    negative_weights: int = 0
    weight_sum: float | None = None
    weight_max: float | None = None

    def check(self, roles: ColumnRoles, max_groups: int) -> None:
        """Refuse, with what to do, any input that is wrong or would not fit as cells."""
        if self.rows == 0:
            raise InputError("the data has no rows.")
        for role, column in (("target", roles.target), ("prediction", roles.prediction)):
            if column is not None and self.distinct.get(column, 0) > MAX_LABEL_VALUES:
                raise InputError(
                    f"{role} '{column}' has about {self.distinct[column]:,} distinct values; "
                    "auditor audits binary decisions: pass class labels (scores go in --score)."
                )
        for column in roles.sensitive:
            # HyperLogLog counts are within a few percent: be generous, encode_groups is exact.
            if self.distinct.get(column, 0) > max(2 * max_groups, max_groups + 10):
                raise InputError(
                    f"column '{column}' has about {self.distinct[column]:,} distinct values; it "
                    "looks like an identifier or a continuous value, not a group. Pass a "
                    f"grouping column (bin it first), or raise --max-groups (now {max_groups})."
                )
        self._check_numbers(roles)

    def _check_numbers(self, roles: ColumnRoles) -> None:
        if roles.score is not None:
            if self.bad_scores:
                raise InputError(
                    f"--score column '{roles.score}' has {self.bad_scores:,} missing or "
                    "infinite values."
                )
            levels = self.distinct.get(roles.score, 0)
            if levels > MAX_SCORE_LEVELS * 1.05:
                raise InputError(score_levels_message(roles.score, levels))
        if roles.weight is not None:
            name = roles.weight
            if self.bad_weights:
                raise InputError(f"--weight column '{name}' has missing or infinite values.")
            if self.negative_weights:
                raise InputError(f"--weight column '{name}' has negative values.")
            if not self.weight_sum:
                raise InputError(f"--weight column '{name}' is zero on every row.")
            if self.rows * (self.weight_max or 0.0) ** 2 > MAX_SQUARED_WEIGHT_BOUND:
                raise InputError(
                    f"--weight column '{name}' has weights up to {self.weight_max:.3g}, too "
                    "large to sum exactly out of core: divide every weight by a constant "
                    "(no rate, ratio or interval changes)."
                )


def require_numeric(roles: ColumnRoles, numeric: dict[str, bool]) -> None:
    """Refuse a --score or --weight column whose type is not a number (``numeric``: data
    column -> whether its type is numeric, from the engine's schema)."""
    for option, column in (("--score", roles.score), ("--weight", roles.weight)):
        if column is not None and not numeric.get(column, False):
            raise InputError(f"{option} column '{column}' is not numeric.")


def score_levels_message(column: str, levels: int) -> str:
    """Why continuous scores are refused out of core, and what to do instead."""
    return (
        f"--score column '{column}' has about {levels:,} distinct values; out of core, scores "
        f"are audited exactly as at most {MAX_SCORE_LEVELS:,} distinct values (a score "
        "histogram). Round them (4 decimals give at most 10,001 values, and change AUC by "
        "ties only), or audit in memory with --engine memory."
    )


@dataclass(frozen=True)
class CellTable:
    """The cells of one audit, in a fixed order, and where they came from.

    ``frame`` has the sensitive columns (their own names), :data:`TARGET`,
    :data:`PREDICTION`, optionally :data:`SCORE`, then :data:`ROWS` and, with weights,
    :data:`WEIGHT` and :data:`WEIGHT_SQ`. Rows are sorted by every key column, so anything
    seeded by position (the bootstrap) is the same whichever engine built the table and in
    whatever order its group-by returned.
    """

    frame: pd.DataFrame
    roles: ColumnRoles
    rows: int
    engine: str

    @classmethod
    def from_engine(cls, frame: pd.DataFrame, roles: ColumnRoles, engine: str) -> CellTable:
        """Sort and type the engine's group-by output; check it covers every row."""
        keys = [c for c in frame.columns if c not in (ROWS, WEIGHT, WEIGHT_SQ)]
        ordered = frame.sort_values(keys, kind="stable", na_position="last", ignore_index=True)
        ordered[ROWS] = ordered[ROWS].astype(np.int64)
        for column in (WEIGHT, WEIGHT_SQ):
            if column in ordered:
                ordered[column] = ordered[column].astype(np.float64)
        if SCORE in ordered:
            levels = ordered[SCORE].nunique()
            if levels > MAX_SCORE_LEVELS:
                raise InputError(score_levels_message(roles.score or "score", int(levels)))
        return cls(ordered, roles, int(ordered[ROWS].sum()), engine)

    @property
    def n_cells(self) -> int:
        return len(self.frame)
