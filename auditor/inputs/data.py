"""Read the audit data (CSV or Parquet) and check the columns the audit needs."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import pandas as pd

from auditor.errors import InputError

PARQUET_MAGIC = b"PAR1"
# The in-memory engine reads the whole file; past this, say so instead of swapping.
MAX_IN_MEMORY_BYTES = 4 * 1024**3


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file, detected from its first bytes rather than its name."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"data file '{path}' does not exist. Check the --data path.")
    if path.is_dir():
        raise InputError(f"data path '{path}' is a directory; pass a CSV or Parquet file.")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"data file '{path}' is empty.")
    if size > MAX_IN_MEMORY_BYTES:
        raise InputError(
            f"data file '{path}' is {size / 1024**3:.1f} GiB, more than the in-memory engine "
            f"reads ({MAX_IN_MEMORY_BYTES / 1024**3:.0f} GiB). Split it, or sample it knowingly."
        )
    with path.open("rb") as handle:
        head = handle.read(4)
    try:
        if head == PARQUET_MAGIC:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, low_memory=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        kind = "Parquet" if head == PARQUET_MAGIC else "CSV"
        raise InputError(f"could not read '{path}' as {kind}: {exc}") from exc
    if frame.empty:
        raise InputError(f"data file '{path}' has no rows.")
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if head != PARQUET_MAGIC:
        duplicated = _duplicated_csv_header(path)  # pandas renames them 'a', 'a.1', ...
    if duplicated:
        raise InputError(f"data file '{path}' has duplicate column names: {duplicated[:5]}.")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _duplicated_csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    return sorted({name for name in header if header.count(name) > 1})


def require_columns(frame: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Raise one InputError naming every requested column the data lacks.

    ``columns`` maps the option that named a column (``--target``) to the column name.
    """
    problems = []
    for option, column in columns.items():
        if column is None or column in frame.columns:
            continue
        close = difflib.get_close_matches(column, list(frame.columns), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        problems.append(f"{option} '{column}' is not a column of the data.{hint}")
    if problems:
        shown = ", ".join(repr(c) for c in list(frame.columns)[:20])
        more = f" and {len(frame.columns) - 20} more" if len(frame.columns) > 20 else ""
        raise InputError(" ".join(problems) + f" Columns: {shown}{more}.")
