"""Checking the uploaded files before a job is queued: format, bombs, the data's columns.

Nothing here loads a model or reads the data's rows: a model's format comes from its magic
bytes (``auditor.inputs.model_files.detect_format``); a skops zip is judged by its central
directory (entries, unpacked size, compression ratio: ``zip_checks``) before anything opens an
entry; a Parquet file by its footer (rows, and the unpacked size its row groups and column
chunks declare, whichever is larger); a CSV by its header line, read as plain
text and never decompressed. Each check either returns the server-chosen name to store the
file under (one of ``storage.DATA_NAMES`` / ``MODEL_NAMES`` / ``METADATA_NAME``) or raises a
Problem that says what to change.
"""

from __future__ import annotations

import codecs
import csv
import io
import struct
import zipfile
from typing import Any

from auditor.errors import InputError
from auditor.inputs.model_files import detect_format
from auditor.service.problems import Problem
from auditor.service.settings import MIB, ServiceSettings
from auditor.service.storage import DATA_NAMES, METADATA_NAME, MODEL_NAMES
from auditor.service.uploads import StagedFile, too_large
from auditor.service.zip_checks import check_zip

HEADER_BYTES = 1 * MIB  # a CSV header line must fit in this
MAX_PARQUET_FOOTER = 64 * MIB
STORED_MODEL = dict(
    zip(("skops", "lightgbm", "xgboost-json", "xgboost-ubj"), MODEL_NAMES, strict=True)
)
_RESAVE = (
    "Re-save the model with skops (skops.io.dump) or as a native LightGBM or XGBoost model "
    "file (Booster.save_model)."
)


def _invalid(detail: str, field: str) -> Problem:
    return Problem(422, detail, errors=[{"loc": ["body", field], "msg": detail}])


# -- data -------------------------------------------------------------------------------------


def check_data(staged: StagedFile, settings: ServiceSettings) -> tuple[str, list[str]]:
    """The stored name of the data file ('data.csv' or 'data.parquet') and its column names."""
    if staged.size == 0:
        raise _invalid("The data file is empty; send a CSV with a header line, or Parquet.", "data")
    with staged.path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return DATA_NAMES[1], _parquet_columns(staged, settings)
    return DATA_NAMES[0], _csv_columns(staged)


def _parquet_columns(staged: StagedFile, settings: ServiceSettings) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with staged.path.open("rb") as handle:
        handle.seek(max(staged.size - 8, 0))
        tail = handle.read(8)
    footer = struct.unpack("<I", tail[:4])[0] if len(tail) == 8 else 0
    if (
        staged.size < 12
        or tail[4:] != b"PAR1"
        or footer > min(staged.size - 12, MAX_PARQUET_FOOTER)
    ):
        raise _invalid("The data file starts like Parquet but its footer is damaged.", "data")
    try:
        meta = pq.ParquetFile(staged.path).metadata
        columns = [str(name) for name in meta.schema.to_arrow_schema().names]
        unpacked = _parquet_unpacked(meta)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _invalid(f"The data file is not readable Parquet: {exc}", "data") from None
    if meta.num_rows > settings.max_data_rows:
        raise Problem(
            413,
            f"The Parquet file declares {meta.num_rows:,} rows; this server audits at most "
            f"{settings.max_data_rows:,} (AUDITOR_MAX_DATA_ROWS). Sample the data first.",
        )
    if unpacked > settings.max_unpacked_bytes:
        raise too_large(
            f"Parquet data unpacked ({unpacked / MIB:,.0f} MiB declared)",
            settings.max_unpacked_bytes,
            "max_unpacked_bytes",
        )
    if meta.num_rows == 0:
        raise _invalid("The Parquet file has no rows.", "data")
    return columns


def _parquet_unpacked(meta: Any) -> int:
    """The unpacked size a Parquet footer declares: the larger of the row groups' sizes and
    the sum of every column chunk's ``total_uncompressed_size`` (a writer may fill either)."""
    groups = chunks = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        groups += max(group.total_byte_size, 0)
        chunks += sum(
            max(group.column(j).total_uncompressed_size, 0) for j in range(group.num_columns)
        )
    return max(groups, chunks)


def _csv_columns(staged: StagedFile) -> list[str]:
    with staged.path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    if b"\x00" in head:
        raise _invalid(
            "The data file is neither CSV text nor Parquet (it holds binary bytes; compressed "
            "files are not unpacked: send the CSV itself).",
            "data",
        )
    complete = len(head) == staged.size
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError:
        raise _invalid("The CSV file is not UTF-8 text; re-save it as UTF-8.", "data") from None
    if not complete and "\n" not in text and "\r" not in text:
        raise _invalid(f"The CSV header line is longer than {HEADER_BYTES // MIB} MiB.", "data")
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    if not any(name.strip() for name in header):
        raise _invalid("The CSV file has no header line (its first line is empty).", "data")
    if complete and next(rows, None) is None:
        raise _invalid("The CSV file has a header but no rows.", "data")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise _invalid(f"The CSV header repeats column names: {duplicated[:5]}.", "data")
    return header


def check_columns(columns: list[str], wanted: dict[str, list[str]]) -> None:
    """Problem 422 naming every requested column missing from the data header.

    ``wanted`` maps a form field ('target', 'sensitive', ...) to the columns it names.
    """
    present = set(columns)
    missing = [(f, c) for f, names in wanted.items() for c in names if c not in present]
    if not missing:
        return
    shown = ", ".join(repr(c) for c in columns[:30]) + (" ..." if len(columns) > 30 else "")
    said = "; ".join(f"{f} '{c[:80]}'" for f, c in missing)
    raise Problem(
        422,
        f"Not columns of the data: {said}. The data has: {shown}.",
        errors=[
            {"loc": ["body", f], "msg": f"'{c[:80]}' is not a column of the data"}
            for f, c in missing
        ],
    )


# -- model ------------------------------------------------------------------------------------


def _unknown_format() -> Problem:
    return Problem(
        415,
        "The model file is not a format the service reads (judged by its bytes, not its "
        "name). Send skops, a LightGBM text model or an XGBoost JSON/UBJSON model. " + _RESAVE,
        slug="model-format-refused",
    )


def check_model(staged: StagedFile, settings: ServiceSettings) -> str:
    """The stored name of the model file, after its format (and, for zips, bombs) is checked."""
    if staged.size == 0:
        raise _invalid("The model file is empty.", "model")
    with staged.path.open("rb") as handle:
        head = handle.read(4)
    if head == b"PK\x03\x04":  # a zip: parsed once, by check_zip (no detect_format)
        names = check_zip(staged.path, staged.size, settings)
        if "schema.json" not in names:
            raise Problem(
                415,
                "The model file is a zip archive but not a skops file (it has no schema.json). "
                + _RESAVE,
                slug="model-format-refused",
            )
        return STORED_MODEL["skops"]
    try:
        kind = detect_format(staged.path)
    except (InputError, zipfile.BadZipFile, OSError):
        raise _unknown_format() from None
    if kind not in STORED_MODEL:  # pickle, joblib-compressed: never over HTTP
        label = "pickle" if kind == "pickle" else "compressed (joblib) pickle"
        raise Problem(
            415,
            f"The model file is a {label} file: loading one can run arbitrary code, so the "
            "service refuses it (there is no override over HTTP). " + _RESAVE,
            slug="model-format-refused",
        )
    return STORED_MODEL[kind]


# -- metadata ---------------------------------------------------------------------------------


def check_metadata(staged: StagedFile) -> str:
    """The stored name of the model card, once it is known to be UTF-8 text."""
    with staged.path.open("rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid(
            "The metadata file is not UTF-8 text (a YAML model card).", "metadata"
        ) from None
    if "\x00" in text or not text.strip():
        raise _invalid("The metadata file is empty or binary; send a YAML model card.", "metadata")
    return METADATA_NAME
