"""k-anonymity and l-diversity of the audit data over a policy's quasi-identifiers.

An *equivalence class* is the set of rows sharing one combination of quasi-identifier (QI)
values, e.g. (age, zip, sex). A missing value is a value of its own: rows missing ``age``
but equal on ``zip`` and ``sex`` form one class, because an attacker sees the blank too.
Every kind of missing (None, NaN, NaT, pd.NA) counts as the same value.

- **k-anonymity**: the data is k-anonymous when every class has at least k rows; the
  data's k is its smallest class. Rows in classes smaller than the policy's k are the ones a
  linkage attack can narrow to fewer than k people.
- **distinct l-diversity**: the smallest number of distinct values of the sensitive column
  within any class. A class whose rows all share one sensitive value discloses it, however
  large the class (the homogeneity attack). A missing sensitive value is a value too.
- **entropy l-diversity** (Machanavajjhala et al. 2007): the data is entropy l-diverse when
  every class's entropy of its sensitive values, ``-sum_s p_s ln p_s`` with ``p_s`` the share
  of the class's rows with value s, is at least ``ln l``. The reported ``entropy_l`` is the
  largest such l: ``exp(min over classes of that entropy)``, the "effective number" of
  sensitive values in the least diverse class. It never exceeds the distinct l-diversity,
  and equals it when the least diverse class is uniform over its values.

Numeric QIs are used as they are, so an exact age or income usually makes most classes
singletons. A policy that generalises them passes ``bins``: cut points per QI, e.g.
``{"age": [30, 40, 50, 60]}`` groups ages into ``< 30``, ``[30, 40)``, ``[40, 50)``,
``[50, 60)`` and ``>= 60`` (left-closed bins, open-ended at both ends, so no value is lost).

Everything is a factorize of each column and a few bincounts: O(rows) after hashing, about a
second at a million rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError

IntArray = npt.NDArray[np.int64]

# Combined class keys are mixed-radix numbers; refactorize before they could overflow int64.
_KEY_LIMIT = 2**62


@dataclass(frozen=True)
class Anonymity:
    """k-anonymity and l-diversity of a frame over its quasi-identifiers.

    Attributes
    ----------
    quasi_identifiers : tuple of str
        The columns whose combination defines an equivalence class.
    rows : int
        Rows in the frame.
    classes : int
        Equivalence classes: distinct QI combinations, missing counting as a value.
    smallest_class : int
        Rows in the smallest class: the k for which the data is k-anonymous.
    k : int
        The policy's k.
    rows_below_k, share_below_k : int, float
        Rows in classes smaller than ``k``, and their share of all rows.
    classes_below_k : int
        Classes smaller than ``k``.
    sensitive : str or None
        The sensitive column for l-diversity, if any.
    l_diversity : int or None
        Distinct l-diversity: the fewest distinct sensitive values in any class.
    l : int or None
        The policy's l.
    rows_below_l, share_below_l : int or None, float or None
        Rows in classes with fewer than ``l`` distinct sensitive values, and their share
        (None unless both ``sensitive`` and ``l`` are given).
    entropy_l : float or None
        Entropy l-diversity: ``exp(min over classes of -sum_s p_s ln p_s)``.
    class_sizes : dict of int to int
        Histogram for a chart: for each size 1..k-1, how many classes have exactly that many
        rows; key ``k`` counts the classes of ``k`` rows or more. Keys 1..k are all present.
    """

    quasi_identifiers: tuple[str, ...]
    rows: int
    classes: int
    smallest_class: int
    k: int
    rows_below_k: int
    share_below_k: float
    classes_below_k: int
    sensitive: str | None
    l_diversity: int | None
    l: int | None  # noqa: E741 - the l of l-diversity
    rows_below_l: int | None
    share_below_l: float | None
    entropy_l: float | None
    class_sizes: dict[int, int]

    @property
    def meets_k(self) -> bool:
        """True when every class has at least the policy's k rows."""
        return self.smallest_class >= self.k

    @property
    def meets_l(self) -> bool | None:
        """True when every class has at least the policy's l distinct sensitive values."""
        if self.l is None or self.l_diversity is None:
            return None
        return self.l_diversity >= self.l


def k_anonymity(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    k: int,
    sensitive: str | None = None,
    l: int | None = None,  # noqa: E741 - the l of l-diversity
    bins: Mapping[str, Sequence[float]] | None = None,
    counts: npt.ArrayLike | None = None,
) -> Anonymity:
    """k-anonymity of ``frame`` over ``quasi_identifiers``, and l-diversity of ``sensitive``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The audit data, one row per person.
    quasi_identifiers : sequence of str
        Columns an attacker could link to outside data (e.g. age, zip, sex).
    k : int
        The policy's k (at least 1).
    sensitive : str, optional
        The column whose value must not be inferable from the class (for l-diversity).
    l : int, optional
        The policy's l (at least 1); needs ``sensitive``.
    bins : mapping of str to sequence of float, optional
        Cut points per numeric QI to generalise it before forming classes: strictly
        increasing finite numbers; bins are ``[a, b)`` and open-ended at both ends.
    counts : array of int, optional
        Rows each row of ``frame`` stands for (an engine's count of each distinct QI and
        sensitive combination, so that classes of a log of any size are exact).

    Returns
    -------
    Anonymity

    Raises
    ------
    InputError
        Unknown or repeated columns, k or l below 1, l without a sensitive column, bins on
        a non-numeric or non-QI column, bad cut points, or an empty frame.
    """
    qis, k, l_policy = _check(frame, quasi_identifiers, k, sensitive, l, bins)
    columns = [_generalised(frame[name], name, (bins or {}).get(name)) for name in qis]
    codes = _class_codes(columns)
    weights = None if counts is None else np.asarray(counts, dtype=np.int64)
    size = np.bincount(codes, weights=weights).astype(np.int64)
    rows, n_classes = int(size.sum()), len(size)
    small = size < k
    rows_below_k = int(size[small].sum())
    histogram = np.bincount(np.minimum(size, k), minlength=k + 1)[1:]

    l_diversity = rows_below_l = share_below_l = entropy_l = None
    if sensitive is not None:
        distinct, entropy = _diversity(codes, size, frame[sensitive], weights)
        l_diversity = int(distinct.min())
        entropy_l = float(np.exp(entropy.min()))
        if l_policy is not None:
            rows_below_l = int(size[distinct < l_policy].sum())
            share_below_l = rows_below_l / rows

    return Anonymity(
        quasi_identifiers=qis,
        rows=rows,
        classes=n_classes,
        smallest_class=int(size.min()),
        k=k,
        rows_below_k=rows_below_k,
        share_below_k=rows_below_k / rows,
        classes_below_k=int(small.sum()),
        sensitive=sensitive,
        l_diversity=l_diversity,
        l=l_policy,
        rows_below_l=rows_below_l,
        share_below_l=share_below_l,
        entropy_l=entropy_l,
        class_sizes={size_: int(n) for size_, n in enumerate(histogram, start=1)},
    )


def _check(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    k: object,
    sensitive: str | None,
    l_value: object,
    bins: Mapping[str, Sequence[float]] | None,
) -> tuple[tuple[str, ...], int, int | None]:
    """Validate the arguments; return the QIs as a tuple and k, l as ints."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"k-anonymity needs a pandas DataFrame, got {type(frame).__name__}")
    if isinstance(quasi_identifiers, str):
        quasi_identifiers = [quasi_identifiers]
    qis = tuple(quasi_identifiers)
    if not qis:
        raise InputError("k-anonymity needs at least one quasi-identifier column")
    repeated = sorted({q for q in qis if qis.count(q) > 1})
    if repeated:
        raise InputError(f"quasi-identifiers listed more than once: {repeated}")
    wanted = [*qis, *([sensitive] if sensitive is not None else [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError(
            f"columns not in the data: {missing}; available: {list(map(str, frame.columns))}"
        )
    if sensitive is not None and sensitive in qis:
        raise InputError(f"the sensitive column {sensitive!r} is also a quasi-identifier")
    k_int = _whole(k, "k")
    l_int = None
    if l_value is not None:
        if sensitive is None:
            raise InputError("l-diversity needs a sensitive column (l given without one)")
        l_int = _whole(l_value, "l")
    for name in bins or {}:
        if name not in qis:
            raise InputError(f"bins given for {name!r}, which is not a quasi-identifier")
    if len(frame) == 0:
        raise InputError("k-anonymity needs at least one row; the data is empty")
    return qis, k_int, l_int


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise InputError(f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _generalised(column: pd.Series, name: str, edges: Sequence[float] | None) -> pd.Series:
    """The column itself, or its bin when the policy gives cut points for it."""
    if edges is None:
        return column
    if isinstance(edges, str | bytes) or not all(
        isinstance(e, Real) and not isinstance(e, bool) for e in edges
    ):
        raise InputError(f"bins for {name!r} must be a list of numbers, got {edges!r}")
    cuts = np.asarray(edges, dtype=np.float64)
    if cuts.size == 0 or not np.isfinite(cuts).all() or np.any(np.diff(cuts) <= 0):
        raise InputError(
            f"bins for {name!r} must be finite, strictly increasing cut points, got {edges!r}"
        )
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        raise InputError(f"bins need a numeric column; {name!r} has dtype {column.dtype}")
    return pd.cut(column, [-np.inf, *cuts.tolist(), np.inf], right=False)


def _codes(column: pd.Series | IntArray) -> tuple[IntArray, int]:
    """Dense codes of a column's values, missing values sharing the last code."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    n = len(uniques)
    missing = codes < 0
    if missing.any():
        codes[missing] = n
        n += 1
    return codes, n


def _compact(key: IntArray, radix: int) -> tuple[IntArray, int]:
    """Renumber keys in [0, radix) densely, in key order.

    A bincount and a lookup table when the key space is not much larger than the data
    (several times faster than hashing), else a factorize.
    """
    if radix <= max(4 * len(key), 1 << 20):
        present = np.bincount(key, minlength=radix) > 0
        table = np.cumsum(present, dtype=np.int64) - 1
        return table[key], int(present.sum())
    return _codes(key)


def _class_codes(columns: list[pd.Series]) -> IntArray:
    """Equivalence-class code of each row, dense in [0, classes)."""
    key, radix = _codes(columns[0])
    for column in columns[1:]:
        codes, n = _codes(column)
        if radix * n >= _KEY_LIMIT:
            key, radix = _compact(key, radix)  # only the combinations actually present
        key = key * n + codes
        radix *= n
    return _compact(key, radix)[0]


def _diversity(
    classes: IntArray, size: IntArray, sensitive: pd.Series, counts: IntArray | None = None
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Per class: distinct sensitive values, and the entropy (nats) of their shares."""
    values, n_values = _codes(sensitive)
    n_classes = len(size)
    # Every (class, value) pair present, its class and its row count.
    pair_key = classes * n_values + values
    pair_codes, n_pairs = _compact(pair_key, n_classes * n_values)
    first_row = np.zeros(n_pairs, dtype=np.int64)
    first_row[pair_codes] = np.arange(len(pair_codes))  # any row of the pair will do
    pair_class = classes[first_row]
    count = np.bincount(pair_codes, weights=counts, minlength=n_pairs)
    distinct = np.bincount(pair_class, minlength=n_classes)
    share = count / size[pair_class]
    entropy = np.bincount(pair_class, weights=-share * np.log(share), minlength=n_classes)
    # A class with one value sums to -0.0 or a rounding error below 0; entropy is >= 0.
    return distinct.astype(np.int64), np.maximum(entropy, 0.0)
