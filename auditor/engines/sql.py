"""The two queries of an out-of-core audit, written once for DuckDB and Spark SQL.

Both dialects share this much SQL: ``approx_count_distinct``, ``count(*) FILTER (WHERE ...)``,
``isnan``, ``GROUP BY`` on column positions; only identifier quoting differs (DuckDB
double quotes, Spark backticks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditor.engines.cells import ROWS, WEIGHT, WEIGHT_SQ, ColumnRoles, Profile
from auditor.engines.fixed_point import FixedPoint

Quote = Callable[[str], str]


def duckdb_quote(name: str) -> str:
    """A DuckDB identifier: double quotes, embedded ones doubled."""
    return '"' + name.replace('"', '""') + '"'


def spark_quote(name: str) -> str:
    """A Spark SQL identifier: backticks, embedded ones doubled."""
    return "`" + name.replace("`", "``") + "`"


def _not_finite(expression: str) -> str:
    value = f"TRY_CAST({expression} AS DOUBLE)"  # text that is no number counts as bad
    return f"({expression} IS NULL OR isnan({value}) OR abs({value}) = CAST('Infinity' AS DOUBLE))"


def profile_query(roles: ColumnRoles, source: str, quote: Quote) -> tuple[str, list[str]]:
    """One scan: row count, distinct values per key column, bad scores and weights.

    Returns the query and the names of its output columns, in order.
    """
    names = ["rows"]
    parts = ["count(*)"]
    for column, _ in roles.key_columns():
        names.append(f"distinct:{column}")
        parts.append(f"approx_count_distinct({quote(column)})")
    if roles.score is not None:
        names.append("bad_scores")
        parts.append(f"count(*) FILTER (WHERE {_not_finite(quote(roles.score))})")
    if roles.weight is not None:
        w = quote(roles.weight)
        names += ["bad_weights", "negative_weights", "weight_sum", "weight_max"]
        parts += [
            f"count(*) FILTER (WHERE {_not_finite(w)})",
            f"count(*) FILTER (WHERE {w} < 0)",
            f"sum(CAST({w} AS DOUBLE))",
            f"max(CAST({w} AS DOUBLE))",
        ]
    return f"SELECT {', '.join(parts)} FROM {source}", names


def profile_from_row(values: dict[str, Any]) -> Profile:
    """A :class:`Profile` from the profile query's one row (shared with Spark)."""
    weight_sum, weight_max = values.get("weight_sum"), values.get("weight_max")
    return Profile(
        rows=int(values["rows"]),
        distinct={
            k.removeprefix("distinct:"): int(v or 0)
            for k, v in values.items()
            if k.startswith("distinct:")
        },
        bad_scores=int(values.get("bad_scores") or 0),
        bad_weights=int(values.get("bad_weights") or 0),
        negative_weights=int(values.get("negative_weights") or 0),
        weight_sum=None if weight_sum is None else float(weight_sum),
        weight_max=None if weight_max is None else float(weight_max),
    )


def cells_query(
    roles: ColumnRoles, source: str, quote: Quote, sums: WeightSums | None = None
) -> str:
    """The cell table: rows, and with weights the sums of w and w², per distinct key
    (summed in fixed point, ``sums``: see :mod:`auditor.engines.fixed_point`)."""
    keys = roles.key_columns()
    select = [f"{quote(column)} AS {quote(cell)}" for column, cell in keys]
    select.append(f"count(*) AS {quote(ROWS)}")
    if roles.weight is not None:
        assert sums is not None, "weighted cells need their fixed-point exponents"
        w = f"CAST({quote(roles.weight)} AS DOUBLE)"
        select += sums.weight.select(w, WEIGHT, quote)
        select += sums.squares.select(f"{w} * {w}", WEIGHT_SQ, quote)
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    return f"SELECT {', '.join(select)} FROM {source} GROUP BY {positions}"


@dataclass(frozen=True)
class WeightSums:
    """How the sums of weights and of squared weights are kept exact, from the profile."""

    weight: FixedPoint
    squares: FixedPoint

    @classmethod
    def of(cls, profile: Profile) -> WeightSums:
        """Exponents from bounds that do not depend on row order: rows x largest weight."""
        largest = profile.weight_max or 0.0
        return cls(
            FixedPoint.for_bound(profile.rows * largest),
            FixedPoint.for_bound(profile.rows * largest * largest),
        )

    def combine(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The engine's integer sums as the cell table's weight columns."""
        if WEIGHT + ":hi" not in frame.columns:
            return frame
        return self.squares.combine(self.weight.combine(frame, WEIGHT), WEIGHT_SQ)
