"""Engines: where the rows are aggregated into the cell table of sufficient statistics.

``memory`` (pandas, the frame is loaded), ``duckdb`` (SQL over Parquet/CSV, out of core) and
``spark`` (a Spark session, optional extra) compute the same :class:`CellTable`; every
fairness metric, interval and bootstrap is then computed from it in numpy.
"""

from auditor.engines.base import ENGINE_NAMES, Engine
from auditor.engines.cells import CellTable, ColumnRoles
from auditor.engines.choose import choose_engine, is_spark_frame

__all__ = ["ENGINE_NAMES", "CellTable", "ColumnRoles", "Engine", "choose_engine", "is_spark_frame"]
