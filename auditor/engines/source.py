"""What an out-of-core engine reads: a Parquet or CSV file, or a folder of Parquet files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from auditor.errors import InputError

PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class DataSource:
    """A data path and its format, found from the bytes (a folder: its Parquet files)."""

    path: Path
    format: Literal["parquet", "csv"]
    files: tuple[Path, ...]

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    @classmethod
    def open(cls, path: str | Path) -> DataSource:
        """Check the path exists and find its format; a folder must hold Parquet files."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"data file '{path}' does not exist. Check the --data path.")
        if path.is_dir():
            # As Spark and Hadoop do: names starting with '_' or '.' (_temporary/,
            # _SUCCESS, .crc) are bookkeeping, never data.
            files = tuple(
                sorted(
                    p
                    for p in path.rglob("*.parquet")
                    if p.is_file() and not _hidden(p.relative_to(path))
                )
            )
            if not files:
                raise InputError(
                    f"data folder '{path}' holds no *.parquet files; pass a CSV or Parquet "
                    "file, or a folder of Parquet files (as Spark and DuckDB write them)."
                )
            return cls(path, "parquet", files)
        if path.stat().st_size == 0:
            raise InputError(f"data file '{path}' is empty.")
        with path.open("rb") as handle:
            head = handle.read(4)
        return cls(path, "parquet" if head == PARQUET_MAGIC else "csv", (path,))

    def paths(self) -> list[str]:
        """The data files, as DuckDB and Spark read them."""
        return [str(f) for f in self.files]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.parts)
