"""The one interface every engine implements: data + column roles -> the cell table."""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from auditor.engines.cells import CellTable, ColumnRoles
from auditor.engines.sample import SamplePlan
from auditor.engines.scoring import Scorer

ENGINE_NAMES = ("memory", "duckdb", "spark")


class Engine(Protocol):
    """An engine holds (or reaches) the data and aggregates it into cells in one pass."""

    name: str

    def cells(self, roles: ColumnRoles, max_groups: int) -> CellTable:
        """Profile the columns (refusing bad input), then count every cell."""
        ...

    def model_cells(self, scorer: Scorer, max_groups: int) -> CellTable:
        """Predict every row with the scorer's model, batch by batch, and count the cells."""
        ...

    def distinct_values(self, column: str, limit: int) -> pd.Series:
        """Up to ``limit`` distinct values of a column."""
        ...

    def sample(self, plan: SamplePlan) -> pd.DataFrame:
        """Every column of the rows the plan draws, with their design weights."""
        ...

    def class_counts(self, columns: list[str]) -> pd.DataFrame:
        """Rows per distinct combination of ``columns``."""
        ...

    def describe(self) -> str:
        """One line for the report: which engine, with what limits."""
        ...
