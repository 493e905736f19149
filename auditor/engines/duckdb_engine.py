"""The DuckDB engine: SQL over Parquet or CSV, streaming, within a memory limit.

DuckDB's hash aggregate keeps one entry per cell (a few thousand), not per row, so its
working memory stays flat however long the log is; past ``memory_limit`` it spills to
``temp_directory`` instead of failing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa

from auditor.engines.cells import ROWS, SCORE, CellTable, ColumnRoles, Profile, require_numeric
from auditor.engines.csv_keys import PANDAS_NA, aliases, normalize, parse_like_pandas
from auditor.engines.memory import group_cells, merge_cells
from auditor.engines.sample import STRATUM, SamplePlan
from auditor.engines.scoring import BATCH_ROWS, Scorer
from auditor.engines.source import DataSource
from auditor.engines.sql import (
    WeightSums,
    cells_query,
    duckdb_quote,
    profile_from_row,
    profile_query,
)
from auditor.errors import InputError
from auditor.inputs.data import require_columns

DEFAULT_MEMORY_LIMIT = "2GB"
NUMERIC_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "BOOLEAN",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    """Cells of a file (or Parquet folder) with DuckDB, never loading the rows."""

    name = "duckdb"

    def __init__(
        self,
        source: DataSource,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | None = None,
    ) -> None:
        import duckdb

        self.source = source
        self.memory_limit = memory_limit or DEFAULT_MEMORY_LIMIT
        self.threads = threads or os.cpu_count() or 1
        self._temp = temp_directory or tempfile.mkdtemp(prefix="auditor-duckdb-")
        self._text_keys: list[str] = []
        self._mappings: dict[str, dict[str, object]] = {}
        try:
            self.connection = duckdb.connect(
                config={
                    "memory_limit": self.memory_limit,
                    "threads": self.threads,
                    "temp_directory": self._temp,
                    # Rows may come back in any order; we sort the (small) result ourselves.
                    "preserve_insertion_order": False,
                }
            )
        except duckdb.Error as exc:
            raise InputError(f"DuckDB refused its settings: {exc}") from exc

    def describe(self) -> str:
        return (
            f"duckdb (out of core; memory limit {self.memory_limit}, {self.threads} threads, "
            f"{self.source.size_bytes / 1024**2:,.0f} MB of {self.source.format})"
        )

    def _relation(self, text_keys: bool = True) -> str:
        paths = "[" + ", ".join(_literal(p) for p in self.source.paths()) + "]"
        if self.source.format == "parquet":
            return f"read_parquet({paths})"
        # pandas' missing-value strings, and the key columns as raw text (csv_keys.py).
        options = ["header = true", f"nullstr = [{', '.join(map(_literal, PANDAS_NA))}]"]
        if text_keys and self._text_keys:
            types = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in self._text_keys)
            options.append(f"types = {{{types}}}")
        return f"read_csv({paths}, {', '.join(options)})"

    def _read_keys_as_text(self, roles: ColumnRoles) -> None:
        """For a CSV: read the key columns as text from now on (their pandas values come
        from :meth:`_parse_keys`)."""
        if self.source.format == "csv":
            self._text_keys = [column for column, _ in roles.key_columns()]

    def _parse_keys(self, raw: pd.DataFrame, cell_columns: dict[str, str]) -> None:
        """Learn each text key column's pandas values from its distinct raw values
        (``cell_columns``: data column -> its column in ``raw``)."""
        for column, cell in cell_columns.items():
            values = raw[cell]
            texts = sorted({v for v in values if isinstance(v, str)})
            self._mappings[column] = parse_like_pandas(texts, bool(values.isna().any()))

    def _normalized(self, frame: pd.DataFrame, cell_columns: dict[str, str]) -> pd.DataFrame:
        """``frame``'s text key columns as pandas reads them (CSV), else ``frame``."""
        if not self._mappings:
            return frame
        renamed = {cell_columns[c]: m for c, m in self._mappings.items() if c in cell_columns}
        return normalize(frame, renamed)

    def _run(self, query: str) -> Any:
        import duckdb

        try:
            return self.connection.execute(query)
        except duckdb.OutOfMemoryException as exc:
            raise InputError(
                f"DuckDB needs more than its memory limit ({self.memory_limit}) to read "
                f"'{self.source.path}': raise --memory-limit (CSV needs about 32MB per thread; "
                f"Parquet one row group per thread). DuckDB said: {exc}"
            ) from exc
        except duckdb.Error as exc:
            raise InputError(f"DuckDB could not read '{self.source.path}': {exc}") from exc

    def column_types(self) -> dict[str, str]:
        """The data's columns and their DuckDB types (from the file's schema, no scan)."""
        relation = self._relation(text_keys=False)  # the file's own types
        described = self._run(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {str(row[0]): str(row[1]) for row in described}

    def profile(self, roles: ColumnRoles) -> Profile:
        types = self.column_types()
        require_columns(pd.DataFrame(columns=list(types)), {"--" + c: c for c in roles.columns()})
        require_numeric(roles, {c: t.upper() in NUMERIC_TYPES for c, t in types.items()})
        query, names = profile_query(roles, self._relation(), duckdb_quote)
        values = dict(zip(names, self._run(query).fetchone(), strict=True))
        return profile_from_row(values)

    def distinct_values(self, column: str, limit: int) -> pd.Series:
        """Up to ``limit`` distinct values of a column (the target's labels)."""
        query = f"SELECT DISTINCT {duckdb_quote(column)} FROM {self._relation()} LIMIT {limit}"
        values = self._run(query).df()
        if column in self._text_keys:
            self._parse_keys(values, {column: column})
            values = self._normalized(values, {column: column})
        return values[column].rename(column)

    def model_cells(self, scorer: Scorer, max_groups: int) -> CellTable:
        """Stream the rows in Arrow record batches, predict each, keep only its cells."""
        roles = scorer.roles
        self._read_keys_as_text(roles)
        self.profile(roles).check(roles, max_groups)
        columns = list(self.column_types())
        keys = {column: column for column in self._text_keys}
        if keys:  # a CSV: every key column's pandas values, before any batch is scored
            names = ", ".join(duckdb_quote(c) for c in keys)
            raw = self._run(f"SELECT DISTINCT {names} FROM {self._relation()}").df()
            self._parse_keys(raw, keys)
        needed = list(dict.fromkeys([*roles.columns(), *scorer.feature_columns(columns)]))
        select = ", ".join(duckdb_quote(c) for c in needed)
        parts = []
        with self._stream(f"SELECT {select} FROM {self._relation()}") as batches:
            for batch in batches:
                scored = scorer.score(self._normalized(batch.to_pandas(), keys))
                parts.append(group_cells(scored, roles.scored(SCORE in scored)))
        if not parts:
            raise InputError("the data has no rows.")
        return CellTable.from_engine(merge_cells(parts), roles, self.name)

    def sample(self, plan: SamplePlan) -> pd.DataFrame:
        """Every column of the rows ``plan`` draws, streamed in the file's order."""
        texts = {column: aliases(mapping) for column, mapping in self._mappings.items()}
        stratum = f"{plan.stratum_sql(duckdb_quote, texts)} AS {duckdb_quote(STRATUM)}"
        with self._stream(f"SELECT *, {stratum} FROM {self._relation()}") as batches:
            drawn = plan.draw(batches)
        return self._normalized(drawn, {c: c for c in self._mappings})

    @contextmanager
    def _stream(self, query: str) -> Iterator[Iterator[pa.RecordBatch]]:
        """Arrow record batches of ``query``, in the file's order (the sample's draw is
        seeded by position, and batch cells are summed in that order); a relation streams
        them, execute() would copy every row first. Read errors, which arrive while
        iterating, become InputErrors."""
        import duckdb

        self.connection.execute("SET preserve_insertion_order = true")
        try:
            reader = self.connection.sql(query).to_arrow_reader(BATCH_ROWS)
            try:
                yield iter(reader)
            finally:
                reader.close()  # the connection is busy until the reader is closed
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            raise InputError(
                f"DuckDB could not read '{self.source.path}': {exc}. If a CSV column changes "
                "type far into the file, convert it to Parquet or audit with --engine memory."
            ) from exc
        finally:
            self.connection.execute("SET preserve_insertion_order = false")

    def class_counts(self, columns: list[str]) -> pd.DataFrame:
        """Rows per distinct combination of ``columns`` (k-anonymity's classes), exactly."""
        names = ", ".join(duckdb_quote(c) for c in columns)
        query = f"SELECT {names}, count(*) AS {duckdb_quote(ROWS)} FROM {self._relation()} "
        return self._run(query + f"GROUP BY {names}").df()

    def cells(self, roles: ColumnRoles, max_groups: int) -> CellTable:
        self._read_keys_as_text(roles)
        profile = self.profile(roles)
        profile.check(roles, max_groups)
        sums = WeightSums.of(profile)
        query = cells_query(roles, self._relation(), duckdb_quote, sums)
        frame: pd.DataFrame = sums.combine(self._run(query).df())
        if self._text_keys:  # raw texts that pandas reads as one value make one cell
            keys = dict(roles.key_columns())
            self._parse_keys(frame, keys)
            frame = merge_cells([self._normalized(frame, keys)])
        return CellTable.from_engine(frame, roles, self.name)
