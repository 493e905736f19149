"""The in-memory engine: the cell table of a pandas DataFrame (one group-by)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from auditor.engines.cells import (
    ROWS,
    WEIGHT,
    WEIGHT_SQ,
    CellTable,
    ColumnRoles,
    Profile,
    require_numeric,
)
from auditor.inputs.data import require_columns


class MemoryEngine:
    """Cells of a frame already in memory; the reference the other engines must equal."""

    name = "memory"

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def describe(self) -> str:
        return f"memory (pandas, {len(self.frame):,} rows loaded)"

    def profile(self, roles: ColumnRoles) -> Profile:
        """Exact distinct counts and the checks on scores and weights."""
        require_columns(self.frame, {"--" + c: c for c in roles.columns()})
        require_numeric(
            roles, {str(c): pd.api.types.is_numeric_dtype(t) for c, t in self.frame.dtypes.items()}
        )
        distinct = {c: int(self.frame[c].nunique(dropna=False)) for c, _ in roles.key_columns()}
        profile = Profile(rows=len(self.frame), distinct=distinct)
        if roles.score is not None:
            scores = pd.to_numeric(self.frame[roles.score], errors="coerce").to_numpy(float)
            profile = replace(profile, bad_scores=int((~np.isfinite(scores)).sum()))
        if roles.weight is not None:
            w = pd.to_numeric(self.frame[roles.weight], errors="coerce").to_numpy(float)
            finite = np.isfinite(w)
            profile = replace(
                profile,
                bad_weights=int((~finite).sum()),
                negative_weights=int((w[finite] < 0).sum()),
                weight_sum=float(w[finite].sum()),
                weight_max=float(w[finite].max()) if finite.any() else None,
            )
        return profile

    def cells(self, roles: ColumnRoles, max_groups: int) -> CellTable:
        """Group the frame by every key column (missing values kept as their own key)."""
        self.profile(roles).check(roles, max_groups)
        return CellTable.from_engine(group_cells(self.frame, roles), roles, self.name)


def group_cells(frame: pd.DataFrame, roles: ColumnRoles) -> pd.DataFrame:
    """One row per distinct key: rows, and with weights the sums of w and w²."""
    keys = roles.key_columns()
    cells = pd.DataFrame({cell: frame[column].to_numpy() for column, cell in keys})
    aggregations: dict[str, tuple[str, str]] = {ROWS: (keys[0][1], "size")}
    if roles.weight is not None:
        w = frame[roles.weight].to_numpy(dtype=np.float64)
        cells[WEIGHT], cells[WEIGHT_SQ] = w, w * w
        aggregations |= {WEIGHT: (WEIGHT, "sum"), WEIGHT_SQ: (WEIGHT_SQ, "sum")}
    grouped = cells.groupby([cell for _, cell in keys], dropna=False, sort=False)
    return grouped.agg(**aggregations).reset_index()


def merge_cells(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Cell tables of several batches summed into one (a cell may be in many batches)."""
    frame = pd.concat(parts, ignore_index=True)
    sums = [c for c in (ROWS, WEIGHT, WEIGHT_SQ) if c in frame.columns]
    keys = [c for c in frame.columns if c not in sums]
    return frame.groupby(keys, dropna=False, sort=False)[sums].sum().reset_index()
