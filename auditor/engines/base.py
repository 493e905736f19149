"""The one interface every engine implements: data + column roles -> the cell table."""

from __future__ import annotations

from typing import Protocol

from auditor.engines.cells import CellTable, ColumnRoles

ENGINE_NAMES = ("memory", "duckdb", "spark")


class Engine(Protocol):
    """An engine holds (or reaches) the data and aggregates it into cells in one pass."""

    name: str

    def cells(self, roles: ColumnRoles, max_groups: int) -> CellTable:
        """Profile the columns (refusing bad input), then count every cell."""
        ...

    def describe(self) -> str:
        """One line for the report: which engine, with what limits."""
        ...
