"""Association measures between one feature and one sensitive attribute, on integer codes.

Kernels behind :func:`auditor.explain.proxies.feature_associations`. A feature becomes integer
category codes first (:func:`feature_codes`), the pair becomes a contingency table
(:func:`contingency`), and every measure but the correlation ratio reads that table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Numeric columns with at most this many distinct values are treated as categorical.
MAX_NUMERIC_CATEGORIES = 20


def aligned(features: pd.DataFrame, sensitive: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Features and attribute matched by position, rows with a missing attribute dropped.

    Raises InputError for no feature columns, duplicate column names, lengths that differ,
    or an attribute missing in every row.
    """
    if not isinstance(features, pd.DataFrame) or features.shape[1] == 0:
        raise InputError("proxy detection needs at least one feature column")
    if features.columns.duplicated().any():
        duplicated = sorted({str(c) for c in features.columns[features.columns.duplicated()]})
        raise InputError(f"feature columns are not unique: {', '.join(duplicated)}")
    if len(features) != len(sensitive):
        raise InputError(
            f"features have {len(features)} rows but the sensitive attribute has {len(sensitive)}"
        )
    present = np.asarray(sensitive.notna())
    frame = features.reset_index(drop=True)[present].reset_index(drop=True)
    attribute = sensitive.reset_index(drop=True)[present].reset_index(drop=True)
    if len(attribute) == 0:
        raise InputError(f"sensitive attribute {sensitive.name!r} has no non-missing values")
    return frame, attribute


def is_categorical(column: pd.Series) -> bool:
    """Whether a column is read as categories: non-numeric, boolean, or few distinct numbers.

    Booleans and non-numeric dtypes (strings, objects, ``category``) always are; numbers,
    dates and durations are when they have at most ``MAX_NUMERIC_CATEGORIES`` distinct
    non-missing values (codes such as 0/1 or 1..12 stored as numbers).
    """
    if pd.api.types.is_bool_dtype(column):
        return True
    if not (pd.api.types.is_numeric_dtype(column) or _is_temporal(column)):
        return True
    return int(column.nunique(dropna=True)) <= MAX_NUMERIC_CATEGORIES


def _is_temporal(column: pd.Series) -> bool:
    dtype = column.dtype
    return pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)


def numeric_values(column: pd.Series) -> FloatArray:
    """A numeric column as floats, infinities read as missing (NaN).

    Dates become seconds since the earliest one, durations seconds; NaT becomes NaN.
    """
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        column = column - column.min()
    if _is_temporal(column):
        column = column.dt.total_seconds()
    values = np.asarray(pd.to_numeric(column), dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def quantile_codes(values: FloatArray, bins: int) -> IntArray:
    """Quantile-bin codes of numeric values; NaN gets a bin of its own (the last code).

    Edges are the ``0, 1/bins, ..., 1`` quantiles of the present values (numpy's linear
    interpolation), duplicate edges dropped, bins closed on the right and the first one on
    both sides: the bins of ``pandas.qcut(values, bins, duplicates="drop")``. Heavy ties
    therefore give fewer bins (a column that is 90% zeros has two or three).
    """
    present = ~np.isnan(values)
    if not present.any():
        return np.zeros(values.shape, dtype=np.int64)
    edges = np.unique(np.quantile(values[present], np.linspace(0.0, 1.0, bins + 1)))
    interior = edges[1:-1]
    codes = np.searchsorted(interior, np.where(present, values, edges[0]), side="left")
    return np.where(present, codes, len(interior) + 1).astype(np.int64)


def feature_codes(column: pd.Series, bins: int) -> tuple[IntArray, bool]:
    """Integer category codes of a feature, and whether it was read as categorical.

    Categorical columns: one code per distinct value, missing values (NaN/None) one code of
    their own. Numeric columns: :func:`quantile_codes`.
    """
    if is_categorical(column):
        codes, _ = pd.factorize(column, use_na_sentinel=False)
        return np.asarray(codes, dtype=np.int64), True
    return quantile_codes(numeric_values(column), bins), False


def contingency(rows: IntArray, cols: IntArray) -> FloatArray:
    """Counts of each (row code, column code) pair, empty rows and columns dropped."""
    n_cols = int(cols.max()) + 1 if cols.size else 1
    n_rows = int(rows.max()) + 1 if rows.size else 1
    table = np.bincount(rows * n_cols + cols, minlength=n_rows * n_cols).reshape(n_rows, n_cols)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    return np.asarray(table, dtype=np.float64)


def cramers_v(table: FloatArray) -> tuple[float, float]:
    """Cramér's V of a contingency table: plain, and bias-corrected (Bergsma 2013).

    Plain: ``sqrt(chi2 / (n * (min(r, c) - 1)))`` with Pearson's chi-squared (no continuity
    correction). Bias-corrected: ``phi2 = max(0, chi2/n - (r-1)(c-1)/(n-1))`` divided by
    ``min(r~ - 1, c~ - 1)`` with ``r~ = r - (r-1)^2/(n-1)`` (likewise c~). Independent
    variables show a chance ``chi2/n`` of about ``(r-1)(c-1)/n``, which the correction
    subtracts: a 30-category column of noise on 500 rows has plain V near 0.25 and corrected
    V near 0, and a column with one row per category (an identifier) has plain V = 1 but
    corrected V = 0. Both are 0 when either side has a single category.
    """
    r, c = table.shape
    n = float(table.sum())
    if min(r, c) < 2 or n < 2:
        return 0.0, 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    phi2 = float(np.sum((table - expected) ** 2 / expected)) / n
    plain = float(np.sqrt(min(phi2 / (min(r, c) - 1), 1.0)))
    phi2_corr = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    c_corr = c - (c - 1) ** 2 / (n - 1)
    denominator = min(r_corr - 1, c_corr - 1)
    corrected = float(np.sqrt(min(phi2_corr / denominator, 1.0))) if denominator > 0 else 0.0
    return plain, corrected


def _entropy(counts: FloatArray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


def normalized_mutual_information(table: FloatArray) -> float:
    """Mutual information over the arithmetic mean of the two entropies, in [0, 1].

    The default normalisation of ``sklearn.metrics.normalized_mutual_info_score``. 0 when
    either side has a single category (it carries no information).
    """
    n = float(table.sum())
    h_rows, h_cols = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    if h_rows <= 0.0 or h_cols <= 0.0:
        return 0.0
    nz = table > 0
    outer = np.outer(table.sum(axis=1), table.sum(axis=0))
    mi = float(np.sum(table[nz] / n * np.log(table[nz] * n / outer[nz])))
    return float(np.clip(max(mi, 0.0) / ((h_rows + h_cols) / 2.0), 0.0, 1.0))


def correlation_ratio(values: FloatArray, groups: IntArray) -> float:
    """Correlation ratio eta of a numeric feature across attribute groups, adjusted, in [0, 1].

    ``eta^2`` is the share of the feature's variance that the group means explain (between-
    group over total sum of squares), adjusted for chance like R^2 with ``g - 1``
    predictors: ``1 - (1 - eta^2) (n - 1) / (n - g)``, floored at 0. Returns the square
    root. Rows with a missing feature value are left out; 0 for a constant feature.
    """
    present = ~np.isnan(values)
    x, g = values[present], groups[present]
    _, g = np.unique(g, return_inverse=True)
    n, n_groups = x.size, int(g.max()) + 1 if g.size else 0
    if n_groups < 2 or n <= n_groups:
        return 0.0
    centred = x - x.mean()
    total = float(np.sum(centred**2))
    if total <= 0.0:
        return 0.0
    sizes = np.bincount(g, minlength=n_groups)
    means = np.bincount(g, weights=centred, minlength=n_groups) / sizes
    eta2 = float(np.sum(sizes * means**2)) / total
    adjusted = 1.0 - (1.0 - eta2) * (n - 1) / (n - n_groups)
    return float(np.sqrt(np.clip(adjusted, 0.0, 1.0)))


def determination(table: FloatArray) -> tuple[float, float]:
    """Leave-one-out share of rows whose attribute the feature's category gives away.

    Rows are feature categories, columns attribute values. A row counts as determined when
    its attribute value is strictly the most common one among the *other* rows of its
    category (ties and single-row categories do not count), so an identifier column, whose
    categories each hold one row, determines nothing. Returns ``(share, baseline)``, the
    baseline being the same rule with one category for all rows: the share a guess of the
    most common attribute value gets right.
    """
    n = float(table.sum())
    if n == 0:
        return 0.0, 0.0
    return _loo_correct(table) / n, _loo_correct(table.sum(axis=0, keepdims=True)) / n


def _loo_correct(table: FloatArray) -> float:
    ordered = np.sort(table, axis=1)
    top = ordered[:, -1:]
    second = ordered[:, -2:-1] if table.shape[1] > 1 else np.zeros_like(top)
    # The best rival of cell (i, j) is the row's maximum, or the runner-up if j is the maximum.
    rival = np.where(table == top, second, top)
    return float(np.sum(np.where(table - 1 > rival, table, 0.0)))


def ordered_determination(
    values: FloatArray, groups: IntArray, half_window: int = 5, seed: int = 0
) -> float:
    """Leave-one-out share of rows whose attribute their nearest neighbours by value give away.

    Quantile bins miss a feature that fixes the attribute by a threshold that falls inside a
    bin (age and "under 25"): here the rows are sorted by the feature's value and a row counts
    as determined when its attribute value is strictly the most common among the
    ``half_window`` rows on each side of it (itself left out). Tied values are put in a
    seeded random order first, so that a file sorted by the attribute cannot make ties look
    like a copy of it. Missing values sort last and form one run.
    """
    n = len(groups)
    if n < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(n), values))
    g = groups[order]
    n_classes = int(g.max()) + 1
    counts = np.zeros((n + 1, n_classes))
    counts[1:] = np.cumsum(np.eye(n_classes)[g], axis=0)
    index = np.arange(n)
    low = np.maximum(0, index - half_window)
    high = np.minimum(n, index + half_window + 1)
    window = counts[high] - counts[low]
    window[index, g] -= 1.0  # leave the row itself out
    own = window[index, g]
    window[index, g] = -1.0
    return float(np.mean(own > window.max(axis=1)))
