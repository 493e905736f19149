"""``--engine auto|memory|duckdb|spark``: which engine audits this data."""

from __future__ import annotations

import os
from pathlib import Path

from auditor.engines.base import ENGINE_NAMES
from auditor.engines.source import DataSource
from auditor.errors import UsageError

# A Parquet file takes several times its size once loaded (decompressed, pandas objects);
# a CSV about twice. auto loads a file only when that estimate leaves most memory free.
LOADED_PER_FILE_BYTE = {"parquet": 8.0, "csv": 2.5}
MEMORY_SHARE = 0.25


def available_memory() -> int:
    """Bytes the machine can still give (MemAvailable), or its physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def choose_engine(requested: str, data: object) -> str:
    """The engine to run: ``requested`` unless 'auto' (memory when the file fits, else duckdb).

    A DataFrame or Arrow table in memory is audited in memory; a pyspark DataFrame on Spark.
    """
    if requested not in ("auto", *ENGINE_NAMES):
        raise UsageError(f"--engine must be auto, memory, duckdb or spark, not {requested!r}.")
    is_path = isinstance(data, str | Path)
    if is_spark_frame(data):
        if requested not in ("auto", "spark"):
            raise UsageError(f"a pyspark DataFrame is audited on Spark, not --engine {requested}.")
        return "spark"
    if not is_path:
        if requested in ("duckdb", "spark"):
            raise UsageError(f"--engine {requested} reads a data path; this data is in memory.")
        return "memory"
    if requested != "auto":
        return requested
    source = DataSource.open(Path(str(data)))
    if source.path.is_dir():
        return "duckdb"
    loaded = source.size_bytes * LOADED_PER_FILE_BYTE[source.format]
    return "memory" if loaded <= MEMORY_SHARE * available_memory() else "duckdb"


def is_spark_frame(data: object) -> bool:
    """Whether ``data`` is a pyspark DataFrame (without importing pyspark)."""
    module = type(data).__module__
    return module.startswith("pyspark.sql") and type(data).__name__ == "DataFrame"
