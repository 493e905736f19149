"""Principal reasons (reason codes) for the individuals with the most adverse outcomes.

For each of the most adverse rows, the features that push its output furthest toward the
adverse side: the most negative SHAP values when a low output is adverse (e.g. a credit
score), the most positive when a high output is adverse (e.g. a risk score). A feature
pushing the other way is never a reason, so a row may have fewer than ``top_k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from auditor.stats.bootstrap import FloatArray, IntArray


@dataclass(frozen=True)
class PrincipalReasons:
    """Reasons for the most adverse rows, most adverse first.

    rows : int array, shape (m,)
        Row indices into the input.
    outputs : float array, shape (m,)
        Their model outputs.
    features : int array, shape (m, min(top_k, n_features))
        Reason features, strongest first; -1 pads rows with fewer reasons.
    values : float array, shape (m, min(top_k, n_features))
        Their SHAP values (all of the adverse sign); NaN pads.
    n_reasons : int array, shape (m,)
        Number of reasons of each row.
    feature_names : tuple of str, or None
        Names of all features, when given.
    """

    rows: IntArray
    outputs: FloatArray
    features: IntArray
    values: FloatArray
    n_reasons: IntArray
    feature_names: tuple[str, ...] | None = None

    def reasons(self) -> list[list[tuple[int, float]]]:
        """Each row's reasons as (feature index, phi) pairs, strongest first."""
        return [
            [(int(f), float(v)) for f, v in zip(fs[:k], vs[:k], strict=True)]
            for fs, vs, k in zip(self.features, self.values, self.n_reasons, strict=True)
        ]

    def named_reasons(self) -> list[list[tuple[str, float]]]:
        """Each row's reasons as (feature name, phi) pairs; needs ``feature_names``."""
        if self.feature_names is None:
            raise ValueError("no feature names were given")
        names = self.feature_names
        return [[(names[f], v) for f, v in row] for row in self.reasons()]


def principal_reasons(
    phi: FloatArray,
    output: FloatArray,
    adverse_direction: Literal["low", "high"],
    n_individuals: int = 10,
    top_k: int = 4,
    feature_names: Sequence[str] | None = None,
) -> PrincipalReasons:
    """The ``top_k`` features pushing each of the ``n_individuals`` most adverse rows toward
    the adverse outcome.

    Rows are ranked by output (lowest first when ``adverse_direction`` is "low", highest
    first when "high"; ties by row index; NaN outputs never chosen). Within a row, features
    are ranked by phi in the adverse direction; zero or favourable phi is not a reason.
    """
    values = np.asarray(phi, dtype=np.float64)
    y = np.asarray(output, dtype=np.float64)
    if values.ndim != 2 or y.shape != (values.shape[0],):
        raise ValueError("phi must be (rows, features) and output one per row")
    if adverse_direction not in ("low", "high"):
        raise ValueError(f"adverse_direction must be 'low' or 'high', got {adverse_direction!r}")
    if n_individuals < 0 or top_k < 0:
        raise ValueError("n_individuals and top_k must be non-negative")
    names = None if feature_names is None else tuple(str(f) for f in feature_names)
    if names is not None and len(names) != values.shape[1]:
        raise ValueError(f"{len(names)} feature names for {values.shape[1]} features")
    # Signed so that "more adverse" is always "smaller": negate when high is adverse.
    sign = 1.0 if adverse_direction == "low" else -1.0
    key = sign * y
    chosen = np.argsort(key, kind="stable")[: min(n_individuals, int(np.sum(~np.isnan(y))))]
    push = sign * values[chosen]  # negative pushes toward the adverse side
    k = min(top_k, values.shape[1])
    ranked = np.argsort(push, axis=1, kind="stable")[:, :k]
    strength = np.take_along_axis(push, ranked, axis=1)
    is_reason = strength < 0  # NaN compares False: never a reason
    features = np.where(is_reason, ranked, -1).astype(np.int64)
    picked = np.take_along_axis(values[chosen], ranked, axis=1)
    return PrincipalReasons(
        rows=chosen.astype(np.int64),
        outputs=y[chosen],
        features=features,
        values=np.where(is_reason, picked, np.nan),
        n_reasons=is_reason.sum(axis=1).astype(np.int64),
        feature_names=names,
    )
