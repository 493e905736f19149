"""The Spark engine: the same two queries on a Spark session (any path or table it reads).

pyspark is an optional extra (``pip install 'auditor[spark]'``, plus a Java runtime); it is
imported only when this engine runs. The session is the caller's (a DataFrame passed to the
Python API) or one built for ``--spark-master`` (default ``local[*]``).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from auditor.engines.cells import (
    PREDICTION,
    ROWS,
    SCORE,
    CellTable,
    ColumnRoles,
    require_numeric,
)
from auditor.engines.fixed_point import FixedPoint
from auditor.engines.sample import STRATUM, UNIFORM, SamplePlan
from auditor.engines.scoring import Scorer
from auditor.engines.source import DataSource
from auditor.engines.sql import (
    WeightSums,
    cells_query,
    profile_from_row,
    profile_query,
    spark_quote,
)
from auditor.errors import InputError, UsageError
from auditor.inputs.data import require_columns

DEFAULT_MASTER = "local[*]"
_U = "__auditor_u"  # each row's uniform number in the sample draw


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
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if master.startswith("local"):
        # Local Python workers run this interpreter (pandas, the model's libraries, auditor);
        # on a cluster the workers' Python is the cluster's configuration.
        builder = builder.config("spark.sql.shuffle.partitions", "8")
        builder = builder.config("spark.pyspark.python", sys.executable)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Cells of a Spark DataFrame: one groupBy on the finest cells (never GROUPING SETS,
    which copies every row once per grouping set)."""

    name = "spark"

    def __init__(self, frame: Any, label: str) -> None:
        self.frame = frame
        self.label = label
        self._sums = WeightSums(FixedPoint(0), FixedPoint(0))  # set by each profile

    @classmethod
    def read(cls, source: DataSource, master: str | None) -> SparkEngine:
        """Open a file or Parquet folder on a (new or running) session."""
        spark = spark_session(master)
        if source.format == "parquet":
            frame = spark.read.parquet(*source.paths())
        else:
            frame = spark.read.option("header", "true").option("inferSchema", "true")
            frame = frame.csv(source.paths())
        return cls(frame, f"{source.path} on {spark.sparkContext.master}")

    @classmethod
    def read_uri(cls, uri: str, master: str | None) -> SparkEngine:
        """Open what only Spark can reach: a URI (s3a://, hdfs://, abfss://...) of Parquet
        or CSV files (by the name's ending), or a table of the session's catalog."""
        spark = spark_session(master)
        try:
            if "://" not in uri and "/" not in uri:
                return cls(spark.table(uri), f"table {uri} on {spark.sparkContext.master}")
            reader = spark.read.option("recursiveFileLookup", "true")
            if uri.lower().endswith((".csv", ".csv.gz")):
                frame = reader.option("header", "true").option("inferSchema", "true").csv(uri)
            else:
                frame = reader.parquet(uri)
        except Exception as exc:  # pyspark's AnalysisException: no such path or table
            raise InputError(f"Spark could not open '{uri}': {exc}") from exc
        return cls(frame, f"{uri} on {spark.sparkContext.master}")

    def describe(self) -> str:
        return f"spark ({self.label})"

    def _run(self, query: str) -> Any:
        return self.frame.sparkSession.sql(query)

    def _check_columns(self, roles: ColumnRoles) -> None:
        columns = pd.DataFrame(columns=list(self.frame.columns))
        require_columns(columns, {"--" + c: c for c in roles.columns()})
        numeric = ("int", "bigint", "smallint", "tinyint", "float", "double", "boolean")
        types = dict(self.frame.dtypes)
        require_numeric(
            roles, {c: t in numeric or t.startswith("decimal") for c, t in types.items()}
        )

    def _query_view(self, frame: Any, query_of: Callable[[str], str]) -> Any:
        """Run a query on ``frame`` registered as a temporary view, then drop the view."""
        view = f"auditor_{uuid.uuid4().hex}"
        frame.createOrReplaceTempView(view)
        try:
            return self._run(query_of(view)).toPandas()
        finally:
            self.frame.sparkSession.catalog.dropTempView(view)

    def _profile(self, roles: ColumnRoles, max_groups: int) -> None:
        """One scan of the data: refuse bad input before counting anything."""
        names: list[str] = []

        def query_of(view: str) -> str:
            query, columns = profile_query(roles, view, spark_quote)
            names.extend(columns)
            return query

        row = self._query_view(self.frame, query_of).iloc[0].tolist()
        profile = profile_from_row(dict(zip(names, row, strict=True)))
        profile.check(roles, max_groups)
        self._sums = WeightSums.of(profile)

    def _count(self, frame: Any, roles: ColumnRoles) -> pd.DataFrame:
        query = lambda view: cells_query(roles, view, spark_quote, self._sums)  # noqa: E731
        return self._sums.combine(self._query_view(frame, query))

    def cells(self, roles: ColumnRoles, max_groups: int) -> CellTable:
        self._check_columns(roles)
        self._profile(roles, max_groups)
        return CellTable.from_engine(self._count(self.frame, roles), roles, self.name)

    def distinct_values(self, column: str, limit: int) -> pd.Series:
        """Up to ``limit`` distinct values of a column (the target's labels)."""
        rows = self.frame.select(column).distinct().limit(limit).collect()
        return pd.Series([r[0] for r in rows], name=column)

    def model_cells(self, scorer: Scorer, max_groups: int) -> CellTable:
        """Predict with ``mapInPandas`` (the model broadcast to the executors), then count
        the scored rows' cells with the same group-by; rows never reach the driver."""
        from pyspark.sql.types import DoubleType, StringType, StructField, StructType

        roles = scorer.roles
        self._check_columns(roles)
        self._profile(roles, max_groups)
        features = scorer.feature_columns(list(self.frame.columns))
        needed = list(dict.fromkeys([*roles.columns(), *features]))
        source = self.frame.select(*needed)
        # A few rows on the driver first: model errors surface now, and the output schema.
        probe = scorer.score(source.limit(256).toPandas())
        kept = [f for f in source.schema.fields if f.name in roles.columns()]
        fields = [*kept, StructField(PREDICTION, StringType())]
        if SCORE in probe:
            fields.append(StructField(SCORE, DoubleType()))
        schema = StructType(fields)
        names = [f.name for f in fields]
        model = self.frame.sparkSession.sparkContext.broadcast(scorer.model)
        labels, threshold = scorer.labels, scorer.threshold

        def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            local = Scorer(model.value, labels, roles, threshold)
            for batch in batches:
                yield local.score(batch)[names]

        scored = source.mapInPandas(score_batches, schema)
        frame = self._count(scored, roles.scored(SCORE in probe))
        return CellTable.from_engine(frame, roles, self.name)

    def sample(self, plan: SamplePlan) -> pd.DataFrame:
        """Every column of the rows ``plan`` draws (Spark's seeded ``rand`` per row).

        The group code is built with Column expressions, not SQL text: Spark's string
        literals treat a backslash as an escape, and a group must never fail to match."""
        from pyspark.sql import functions as F

        code: Any = None
        radix = 1
        for column, levels in zip(plan.sensitive, plan.values, strict=True):
            value = self.frame[column]
            case: Any = None
            for i, level in enumerate(levels):
                if level is None:
                    matched = value.isNull()
                    if column in plan.floats:
                        matched = matched | F.isnan(value)
                else:
                    plain = level.item() if isinstance(level, np.generic) else level
                    matched = value == F.lit(plain)
                case = F.when(matched, i) if case is None else case.when(matched, i)
            term = case.otherwise(-len(plan.rates)) * radix
            code = term if code is None else code + term
            radix *= len(levels)
        coded = self.frame.withColumn(STRATUM, code).withColumn(_U, F.rand(plan.seed))
        rate: Any = F.when(F.col(STRATUM) < 0, 1.0)  # unmatched rows come back, to fail loudly
        for i in np.flatnonzero(plan.sizes > 0):
            rate = rate.when(F.col(STRATUM) == int(i), float(plan.rates[i]))
        sample = coded.filter(F.col(_U) < rate.otherwise(0.0)).toPandas()
        sample[UNIFORM] = sample.pop(_U).to_numpy() < plan.uniform_rate
        return plan.weighted(sample)

    def class_counts(self, columns: list[str]) -> pd.DataFrame:
        """Rows per distinct combination of ``columns`` (k-anonymity's classes), exactly."""
        names = ", ".join(spark_quote(c) for c in columns)
        return self._query_view(
            self.frame,
            lambda view: (
                f"SELECT {names}, count(*) AS {spark_quote(ROWS)} FROM {view} GROUP BY {names}"
            ),
        )
