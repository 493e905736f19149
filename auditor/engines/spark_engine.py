"""The Spark engine: the same two queries on a Spark session (any path or table it reads).

pyspark is an optional extra (``pip install 'auditor[spark]'``, plus a Java runtime); it is
imported only when this engine runs. The session is the caller's (a DataFrame passed to the
Python API) or one built for ``--spark-master`` (default ``local[*]``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from auditor.engines.cells import CellTable, ColumnRoles, Profile, require_numeric
from auditor.engines.duckdb_engine import profile_from_row
from auditor.engines.source import DataSource
from auditor.engines.sql import cells_query, profile_query, spark_quote
from auditor.errors import UsageError
from auditor.inputs.data import require_columns

DEFAULT_MASTER = "local[*]"


def spark_session(master: str | None) -> Any:
    """A Spark session for ``master`` (quiet: no UI, few shuffle partitions locally)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError(
            "--engine spark needs pyspark and a Java runtime: pip install 'auditor[spark]' "
            "(and e.g. apt-get install default-jre-headless)."
        ) from exc
    master = master or DEFAULT_MASTER
    builder = SparkSession.builder.master(master).appName("auditor")
    builder = builder.config("spark.ui.enabled", "false")
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "8")
    return builder.getOrCreate()


class SparkEngine:
    """Cells of a Spark DataFrame: one groupBy on the finest cells (never GROUPING SETS,
    which copies every row once per grouping set)."""

    name = "spark"

    def __init__(self, frame: Any, label: str) -> None:
        self.frame = frame
        self.label = label

    @classmethod
    def read(cls, source: DataSource, master: str | None) -> SparkEngine:
        """Open a file or Parquet folder on a (new or running) session."""
        spark = spark_session(master)
        path = str(source.path)
        if source.format == "parquet":
            frame = spark.read.option("recursiveFileLookup", "true").parquet(path)
        else:
            frame = spark.read.option("header", "true").option("inferSchema", "true").csv(path)
        return cls(frame, f"{path} on {spark.sparkContext.master}")

    def describe(self) -> str:
        return f"spark ({self.label})"

    def _run(self, query: str) -> Any:
        return self.frame.sparkSession.sql(query)

    def cells(self, roles: ColumnRoles, max_groups: int) -> CellTable:
        require_columns(
            pd.DataFrame(columns=list(self.frame.columns)), {"--" + c: c for c in roles.columns()}
        )
        numeric = ("int", "bigint", "smallint", "tinyint", "float", "double", "boolean")
        types = dict(self.frame.dtypes)
        require_numeric(
            roles, {c: t in numeric or t.startswith("decimal") for c, t in types.items()}
        )
        view = f"auditor_{uuid.uuid4().hex}"
        self.frame.createOrReplaceTempView(view)
        try:
            query, names = profile_query(roles, view, spark_quote)
            row = self._run(query).collect()[0]
            profile: Profile = profile_from_row(dict(zip(names, list(row), strict=True)))
            profile.check(roles, max_groups)
            frame: pd.DataFrame = self._run(cells_query(roles, view, spark_quote)).toPandas()
        finally:
            self.frame.sparkSession.catalog.dropTempView(view)
        return CellTable.from_engine(frame, roles, self.name)
