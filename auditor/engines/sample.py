"""A stratified sample drawn inside the engine, for the checks that need rows.

Explanations, proxies and the PII scan read feature values, which cells do not keep. The
engine draws each row with probability ``p_s`` for its finest group s: ``p`` for every group
(a uniform sample of about :data:`SAMPLE_ROWS`), raised to keep at least :data:`GROUP_FLOOR`
rows of each small group (every group kept; a group that small is taken whole). One uniform
number u per row decides both samples: u < p_s (stratified, weighted back to the data by
N_s / n_s) and u < p (uniform: thinning a Bernoulli(p_s) draw by p / p_s is a Bernoulli(p)
draw), so proxies and the PII scan see the data's proportions and explanations see every
group. The engine computes each row's group code in SQL (a CASE per sensitive column, in
its own vectorised code) and the draw is a seeded numpy comparison per batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from auditor.engines.cells import ROWS, CellTable
from auditor.errors import InputError

SAMPLE_ROWS = 50_000
GROUP_FLOOR = 500
STRATUM = "__auditor_stratum"  # the row's finest group, as computed by the engine
UNIFORM = "__auditor_uniform"  # True where the row is also in the uniform sample
DESIGN_WEIGHT = "__auditor_design_weight"  # rows of the data each sampled row stands for


def sql_literal(value: object) -> str:
    """A value of a cell-table key as an SQL literal of the same type."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            raise ValueError("a non-finite group value cannot be written as SQL")
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class SamplePlan:
    """Each finest group's code and sampling probability, from the cells' exact sizes."""

    sensitive: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]  # each column's distinct values (None: missing)
    floats: frozenset[str]  # float columns, whose NaN is a missing value too
    rates: npt.NDArray[np.float64]  # by group code
    sizes: npt.NDArray[np.float64]  # rows of the data by group code
    uniform_rate: float
    seed: int

    @classmethod
    def from_cells(cls, cells: CellTable, seed: int) -> SamplePlan:
        sensitive = list(cells.roles.sensitive)
        values, codes, radix = [], np.zeros(cells.n_cells, dtype=np.int64), 1
        for column in sensitive:
            index, uniques = pd.factorize(cells.frame[column], use_na_sentinel=True)
            missing = index < 0
            levels = [*uniques.tolist(), *([None] if missing.any() else [])]
            index = np.where(missing, len(uniques), index)
            codes += index * radix
            radix *= len(levels)
            values.append(tuple(levels))
        floats = frozenset(c for c in sensitive if cells.frame[c].dtype.kind == "f")
        sizes = np.asarray(
            np.bincount(codes, weights=cells.frame[ROWS], minlength=radix), dtype=np.float64
        )
        p = min(1.0, SAMPLE_ROWS / max(1, cells.rows))
        with np.errstate(divide="ignore"):
            floor = np.minimum(1.0, GROUP_FLOOR / sizes)
        rates = np.maximum(p, floor)
        return cls(tuple(sensitive), tuple(values), floats, rates, sizes, p, seed)

    def stratum_sql(
        self,
        quote: Callable[[str], str],
        texts: Mapping[str, dict[object, list[str]]] | None = None,
    ) -> str:
        """The SQL expression of a row's group code (mixed radix over the columns).

        ``texts``: columns the engine reads as raw text (a CSV's keys), with the texts that
        read as each value."""
        texts = texts or {}
        terms, radix = [], 1
        for column, levels in zip(self.sensitive, self.values, strict=True):
            q = quote(column)
            # NaN is missing in a float column; text keys read pandas' NA strings as NULL.
            nan = column in self.floats and column not in texts
            missing = f"{q} IS NULL" + (f" OR isnan({q})" if nan else "")
            whens = " ".join(
                f"WHEN {missing} THEN {i}"
                if v is None
                else f"WHEN {q} IN ({', '.join(map(sql_literal, texts[column][v]))}) THEN {i}"
                if column in texts
                else f"WHEN {q} = {sql_literal(v)} THEN {i}"
                for i, v in enumerate(levels)
            )
            # A value the cells did not have cannot happen; if it does, the draw says so.
            terms.append(f"(CASE {whens} ELSE -{len(self.rates)} END) * {radix}")
            radix *= len(levels)
        return " + ".join(terms)

    def expected_rows(self) -> float:
        return float((self.rates * self.sizes).sum())

    def draw(self, batches: Iterable[pa.RecordBatch]) -> pd.DataFrame:
        """The sampled rows of the batches, read in a fixed order (the draw is seeded)."""
        rng = np.random.default_rng(self.seed)
        parts = []
        for batch in batches:
            code = self.checked(batch.column(STRATUM).to_numpy(zero_copy_only=False))
            u = rng.random(len(code))
            taken = u < self.rates[code]
            if taken.any():
                sampled = batch.filter(pa.array(taken)).to_pandas()
                sampled[UNIFORM] = u[taken] < self.uniform_rate
                parts.append(sampled)
        if not parts:
            return pd.DataFrame()
        return self.weighted(pd.concat(parts, ignore_index=True))

    def checked(self, codes: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Group codes as ints; a row that matched no group is an error, never dropped."""
        array = np.asarray(pd.to_numeric(pd.Series(codes), errors="coerce"), dtype=np.float64)
        if np.isnan(array).any() or (array < 0).any():
            raise InputError(
                "a row of the data has a group the aggregation did not see (a value of "
                f"{', '.join(self.sensitive)} that compares unequal to itself); report this "
                "with the data's column types, or audit with --engine memory."
            )
        return array.astype(np.int64)

    def weighted(self, sample: pd.DataFrame) -> pd.DataFrame:
        """The sample with each row's design weight N_s / n_s and without the group code."""
        code = self.checked(sample[STRATUM].to_numpy())
        drawn = np.bincount(code, minlength=len(self.sizes))
        sample[DESIGN_WEIGHT] = self.sizes[code] / drawn[code]
        return sample.drop(columns=[STRATUM])
