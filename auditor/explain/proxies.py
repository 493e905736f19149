"""Proxy detection: how strongly each feature, and all features together, reveal an attribute.

- :func:`feature_associations`: one :class:`Association` per feature, strongest first.
- :func:`predictability`: cross-validated AUC of a logistic regression predicting the
  attribute from all features (:mod:`auditor.explain.proxy_predictability`).

Both take the features as a frame and the attribute as a series aligned with it by position;
rows with a missing attribute value are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditor.errors import InputError
from auditor.explain.proxy_measures import (
    aligned,
    contingency,
    correlation_ratio,
    cramers_v,
    determination,
    feature_codes,
    normalized_mutual_information,
    numeric_values,
    ordered_determination,
)
from auditor.explain.proxy_predictability import Predictability, predictability

__all__ = [
    "NEAR_COPY_DETERMINATION",
    "NEAR_COPY_ERROR_REDUCTION",
    "NEAR_COPY_STRENGTH",
    "Association",
    "Predictability",
    "feature_associations",
    "predictability",
]

#: A feature with at least this strength is a near copy of the attribute.
NEAR_COPY_STRENGTH = 0.9
#: ... or one that determines the attribute in at least this share of rows ...
NEAR_COPY_DETERMINATION = 0.98
#: ... while removing at least this share of the errors of guessing the commonest value.
NEAR_COPY_ERROR_REDUCTION = 0.5


@dataclass(frozen=True)
class Association:
    """How strongly one feature reveals one sensitive attribute.

    ``strength`` (in [0, 1], 0 = unrelated, 1 = the feature gives the attribute away) is
    what findings are ranked and judged by:

    - categorical feature (``measure="cramers_v"``): Cramér's V of the feature's categories
      against the attribute's values, bias-corrected (Bergsma 2013) so that sparse or
      many-valued columns do not look associated by chance;
    - numeric feature: the larger of the correlation ratio eta (how much of the feature's
      variance the attribute's groups explain, adjusted for chance; ``measure=
      "correlation_ratio"``) and the bias-corrected Cramér's V of its quantile bins (which
      also sees relations that are not a shift of the mean; ``measure="binned_cramers_v"``).

    ``near_copy`` is true when ``strength >= 0.9``, or when the feature determines the
    attribute in at least 98% of rows (``determination``: the attribute value is the one
    most common among the other rows of the same feature category or bin, or for a numeric
    feature among its ten nearest rows by value, which catches a threshold such as age and
    "under 25" that falls inside a bin) *and* this
    removes at least half of the errors of always guessing the commonest attribute value
    (``baseline``), so that neither a lopsided attribute nor a constant feature qualifies.

    Other fields: ``kind`` is "categorical" or "numeric"; ``cramers_v`` plain (uncorrected)
    Cramér's V, categorical features only; ``eta`` the correlation ratio over the rows where
    the feature is present, numeric features only; ``nmi`` the normalised
    mutual information (arithmetic mean of the entropies) of categories or bins; ``n`` the
    rows used (attribute present); ``categories`` the feature's categories or bins, missing
    values counting as a category of their own; ``note`` says why a value is degenerate.
    """

    feature: str
    attribute: str
    kind: str
    measure: str
    strength: float
    cramers_v: float | None
    cramers_v_corrected: float
    eta: float | None
    nmi: float
    determination: float
    baseline: float
    n: int
    categories: int
    near_copy: bool
    note: str | None = None


def _near_copy(strength: float, share: float, baseline: float) -> bool:
    if strength >= NEAR_COPY_STRENGTH:
        return True
    error_reduction = (share - baseline) / (1.0 - baseline) if baseline < 1.0 else 0.0
    return share >= NEAR_COPY_DETERMINATION and error_reduction >= NEAR_COPY_ERROR_REDUCTION


def _associate(
    column: pd.Series, groups: np.ndarray, name: str, attribute: str, bins: int
) -> Association:
    codes, categorical = feature_codes(column, bins)
    table = contingency(codes, groups)
    plain, corrected = cramers_v(table)
    share, baseline = determination(table)
    eta = None
    if not categorical:
        values = numeric_values(column)
        eta = correlation_ratio(values, groups)
        share = max(share, ordered_determination(values, groups))
    if categorical:
        measure, strength = "cramers_v", corrected
    elif eta is not None and eta >= corrected:
        measure, strength = "correlation_ratio", eta
    else:
        measure, strength = "binned_cramers_v", corrected
    note = None
    if table.shape[1] < 2:
        note = "the attribute has a single value: no feature can reveal it"
    elif table.shape[0] < 2 and categorical:
        note = "the feature has a single value"
    elif table.shape[0] < 2:
        note = "heavy ties leave one quantile bin: the strength is eta alone"
    return Association(
        feature=name,
        attribute=attribute,
        kind="categorical" if categorical else "numeric",
        measure=measure,
        strength=strength,
        cramers_v=plain if categorical else None,
        cramers_v_corrected=corrected,
        eta=eta,
        nmi=normalized_mutual_information(table),
        determination=share,
        baseline=baseline,
        n=len(column),
        categories=table.shape[0],
        near_copy=_near_copy(strength, share, baseline),
        note=note,
    )


def feature_associations(
    features: pd.DataFrame, sensitive: pd.Series, *, bins: int = 10
) -> list[Association]:
    """Association of each feature with a sensitive attribute, strongest first.

    Parameters
    ----------
    features : DataFrame
        One column per feature. Non-numeric, boolean and numeric columns with at most 20
        distinct values are categorical; other numeric columns (dates and durations too)
        are cut into ``bins`` quantile bins (duplicate edges dropped) for Cramér's V, NMI
        and determination, while eta uses their values. Missing feature values are a
        category (or bin) of their own: missingness can itself be a proxy.
    sensitive : Series
        The attribute, aligned with ``features`` by position. Rows where it is missing are
        left out of every measure.
    bins : int
        Quantile bins for numeric features.

    Returns
    -------
    list of Association
        Sorted by ``strength`` descending (ties keep column order); see :class:`Association`
        for the exact definitions. A single-valued attribute gives strength 0 throughout,
        with a note.

    Raises
    ------
    InputError
        No feature columns, duplicate column names, lengths that differ, or an attribute
        that is missing in every row.
    """
    if bins < 2:
        raise InputError(f"bins must be at least 2, got {bins}")
    frame, attribute = aligned(features, sensitive)
    groups = np.asarray(pd.factorize(attribute)[0], dtype=np.int64)
    name = str(sensitive.name) if sensitive.name is not None else "sensitive"
    found = [_associate(frame[c], groups, str(c), name, bins) for c in frame.columns]
    return sorted(found, key=lambda a: -a.strength)
