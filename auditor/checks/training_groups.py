"""The audit's groups found again in the training data (``--train-data``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.groups import MISSING_LABEL, Grouping
from auditor.inputs.labels import label_text

IntArray = npt.NDArray[np.int64]


def _row_keys(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """Each row's group key, written as the audit writes keys ('sex=Female & race=White')."""
    parts = []
    for column in columns:
        values = frame[column]
        text = values.map(label_text, na_action="ignore").astype(object)
        parts.append(f"{column}=" + text.where(values.notna(), MISSING_LABEL).astype(str))
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + " & " + part
    return keys.reset_index(drop=True)


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
