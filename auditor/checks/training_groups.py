"""The audit's groups found again in the training data (``--train-data``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.groups import MISSING_LABEL, Grouping, group_key
from auditor.inputs.labels import label_text

IntArray = npt.NDArray[np.int64]


def _row_keys(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """Each row's group key, made as the audit makes keys (``group_key``), once per distinct
    combination of values."""
    texts = pd.DataFrame(
        {
            c: frame[c]
            .map(label_text, na_action="ignore")
            .astype(object)
            .where(frame[c].notna(), MISSING_LABEL)
            for c in columns
        }
    )
    codes, combos = pd.MultiIndex.from_frame(texts).factorize()
    keys = np.array([group_key(dict(zip(columns, combo, strict=True))) for combo in combos])
    return pd.Series(keys[codes], dtype=object)


def aligned_training_codes(
    train: pd.DataFrame, grouping: Grouping
) -> tuple[IntArray, IntArray, tuple[str, ...]]:
    """Group codes of the training rows and of the audit rows over one list of keys.

    The keys are the audit's, followed by groups only the training data has (in sorted
    order), so that a group the audit lacks shows up as a shift rather than vanishing.
    """
    train_keys = _row_keys(train, grouping.columns)
    extra = sorted(set(train_keys.unique()) - set(grouping.keys))
    keys = (*grouping.keys, *extra)
    index = {key: i for i, key in enumerate(keys)}
    train_codes = train_keys.map(index).to_numpy(dtype=np.int64)
    return train_codes, np.asarray(grouping.codes, dtype=np.int64), keys
