"""CSV key columns read as pandas reads them, so every engine finds the same groups.

DuckDB's CSV sniffer and pandas disagree on text that looks like something else: "01" (a
number to pandas, text to DuckDB), "t"/"f" (text to pandas, booleans to DuckDB), "NA"
(missing to pandas, text to DuckDB). Groups and labels must not depend on the engine, so
DuckDB reads the key columns of a CSV as raw text with pandas' missing-value strings, and
each column's distinct raw values are parsed once by pandas itself: pandas infers a
column's type from the set of its values, which the distinct values (and one missing value,
when there are any) reproduce exactly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import pandas as pd

# pandas.read_csv's default missing-value strings (pandas._libs.parsers.STR_NA_VALUES).
PANDAS_NA = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


def parse_like_pandas(raw: list[str], has_missing: bool) -> dict[str, object]:
    """Each raw text value -> the value ``pandas.read_csv`` gives it in a column holding
    exactly these values (and a missing one when ``has_missing``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["value"])
    writer.writerows([value] for value in raw)
    if has_missing:
        writer.writerow([""])
    parsed = pd.read_csv(io.StringIO(buffer.getvalue()), low_memory=False)["value"]
    return dict(zip(raw, parsed.tolist()[: len(raw)], strict=True))


def normalize(frame: pd.DataFrame, mappings: Mapping[str, dict[str, object]]) -> pd.DataFrame:
    """``frame`` with each mapped column's raw text replaced by its pandas value."""
    out = frame.copy()
    for column, mapping in mappings.items():
        if column in out.columns:
            # A hash lookup per value; missing values (not in the mapping) stay missing.
            out[column] = out[column].map(mapping).infer_objects()
    return out


def aliases(mapping: dict[str, object]) -> dict[object, list[str]]:
    """Parsed value -> the raw texts that read as it ("1" and "01" both read as 1)."""
    out: dict[object, list[str]] = {}
    for raw, value in mapping.items():
        out.setdefault(value, []).append(raw)
    return out
