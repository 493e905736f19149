"""The two queries of an out-of-core audit, written once for DuckDB and Spark SQL.

Both dialects share this much SQL: ``approx_count_distinct``, ``count(*) FILTER (WHERE ...)``,
``isnan``, ``GROUP BY`` on column positions; only identifier quoting differs (DuckDB
double quotes, Spark backticks).
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.engines.cells import FIXED_POINT, ROWS, WEIGHT, WEIGHT_SQ, ColumnRoles

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


# Weights are summed in fixed point: each rounded to a multiple of 2^-48 and added as exact
# integers (DECIMAL(38, 0)), so a sum does not depend on the order DuckDB's or Spark's
# threads add the rows in: the same data gives the same bits, run after run, engine to engine.


def _fixed_sum(expression: str) -> str:
    scaled = f"CAST(round({expression} * {FIXED_POINT}.0) AS DECIMAL(38, 0))"
    return f"CAST(sum({scaled}) AS DOUBLE) / {FIXED_POINT}.0"


def cells_query(roles: ColumnRoles, source: str, quote: Quote) -> str:
    """The cell table: rows, and with weights the sums of w and w², per distinct key."""
    keys = roles.key_columns()
    select = [f"{quote(column)} AS {quote(cell)}" for column, cell in keys]
    select.append(f"count(*) AS {quote(ROWS)}")
    if roles.weight is not None:
        w = f"CAST({quote(roles.weight)} AS DOUBLE)"
        select += [
            f"{_fixed_sum(w)} AS {quote(WEIGHT)}",
            f"{_fixed_sum(f'{w} * {w}')} AS {quote(WEIGHT_SQ)}",
        ]
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    return f"SELECT {', '.join(select)} FROM {source} GROUP BY {positions}"
