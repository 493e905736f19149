"""Regression metrics per group in a few ``numpy.bincount`` passes.

Every metric is a weighted mean over the group's rows, so each is one bincount of the
per-row term divided by the group's weight. R^2 takes a second pass, around the group's own
mean target, rather than ``sum(y^2) - n * mean^2``, which cancels badly when the mean is
large next to the spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.stats.confusion import FloatArray, IntArray, ratio


@dataclass(frozen=True)
class RegressionByGroup:
    """Regression metrics per group; every array has shape (n_groups,).

    Groups with no (positive) weight get NaN everywhere except ``weight``.
    """

    weight: FloatArray  # total weight (count when unweighted)
    mean_prediction: FloatArray
    mean_target: FloatArray
    mean_absolute_error: FloatArray
    root_mean_squared_error: FloatArray
    r2: FloatArray  # NaN where empty, or where the target is constant within the group


def grouped_regression(
    codes: IntArray,
    n_groups: int,
    y_true: FloatArray,
    y_pred: FloatArray,
    weights: FloatArray | None = None,
) -> RegressionByGroup:
    """Mean prediction and target, MAE, RMSE and R^2 of each group.

    The metrics match ``numpy.average`` and ``sklearn.metrics`` (``mean_absolute_error``,
    the square root of ``mean_squared_error``, ``r2_score``) on the group's rows with
    ``sample_weight=weights``, except for R^2 of a group whose target is constant (over its
    positive-weight rows): sklearn returns 0.0 or 1.0 there, we return NaN, because the
    share of variance explained is undefined when there is no variance.

    Parameters
    ----------
    codes : int array, shape (n,)
        Group code of each row, in ``[0, n_groups)``.
    n_groups : int
        Number of groups, including groups with no rows.
    y_true, y_pred : float arrays, shape (n,)
        Actual and predicted targets.
    weights : float array, shape (n,), optional
        Non-negative sample weights.
    """
    codes = np.asarray(codes)
    y = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)

    def total(values: FloatArray) -> FloatArray:
        return np.bincount(codes, weights=w * values, minlength=n_groups).astype(np.float64)

    weight = np.bincount(codes, weights=w, minlength=n_groups).astype(np.float64)
    mean_target = ratio(total(y), weight)
    error = pred - y
    squared = total(error * error)
    centred = y - np.nan_to_num(mean_target)[codes]
    spread = total(centred * centred)
    # Constant target, tested exactly: the mean of equal values can round off the value, so
    # ``spread`` would be a tiny positive number rather than zero. Compare each
    # positive-weight row with one value of its group (whichever the assignment keeps).
    live = w > 0
    reference = np.zeros(n_groups)
    reference[codes[live]] = y[live]
    differs = (y[live] != reference[codes[live]]).astype(np.float64)
    varies = np.bincount(codes[live], weights=differs, minlength=n_groups)
    r2 = np.where(varies > 0, 1.0 - ratio(squared, np.where(varies > 0, spread, 0.0)), np.nan)
    return RegressionByGroup(
        weight=weight,
        mean_prediction=ratio(total(pred), weight),
        mean_target=mean_target,
        mean_absolute_error=ratio(total(np.abs(error)), weight),
        root_mean_squared_error=np.sqrt(ratio(squared, weight)),
        r2=r2,
    )


# Weighted sums a bootstrap replicate needs, per stratum; every metric is a function of them.
SUM_TERMS = ("w", "wy", "wyy", "wp", "wee", "wae")


def regression_terms(y_true: FloatArray, y_pred: FloatArray) -> tuple[FloatArray, float]:
    """(N, 6) per-row terms whose weighted sums give every regression metric, and the offset.

    Targets and predictions are centred on the mean target first (the offset), so that the
    one-pass spread of :func:`metrics_from_sums` keeps its digits when the target sits far
    from zero (1e6 + noise); the means get the offset back.
    """
    offset = float(np.mean(y_true)) if len(y_true) else 0.0
    y = np.asarray(y_true, dtype=np.float64) - offset
    pred = np.asarray(y_pred, dtype=np.float64) - offset
    error = pred - y
    terms = np.stack([np.ones_like(y), y, y * y, pred, error * error, np.abs(error)], axis=1)
    return terms, offset


def weighted_sums(
    codes: IntArray, n_groups: int, terms: FloatArray, weights: FloatArray
) -> FloatArray:
    """(G, 6) weighted sums of the terms per group (one bincount per term: faster than one
    bincount over interleaved slots, which scatters its writes)."""
    return np.stack(
        [
            np.bincount(codes, weights=terms[:, k] * weights, minlength=n_groups)
            for k in range(terms.shape[1])
        ],
        axis=1,
    ).astype(np.float64)


def metrics_from_sums(sums: FloatArray, offset: float = 0.0) -> dict[str, FloatArray]:
    """Every regression metric from weighted sums (..., G, 6): the bootstrap's fast form.

    One pass, so R^2 uses ``sum(w y^2) - (sum w y)^2 / sum w``; that loses digits when the
    mean is large next to the spread, which matters for the point estimate (computed by
    :func:`grouped_regression`) but not for the width of an interval. A spread below 1e-12
    of ``sum(w y^2)`` counts as a constant target.
    """
    w, wy, wyy, wp, wee, wae = (sums[..., i] for i in range(6))
    spread = wyy - np.square(wy) / np.where(w > 0, w, 1.0)
    constant = spread <= 1e-12 * np.maximum(wyy, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where((w > 0) & ~constant, 1.0 - wee / np.where(constant, 1.0, spread), np.nan)
    return {
        "mean_prediction": ratio(wp, w) + offset,
        "mean_target": ratio(wy, w) + offset,
        "mean_absolute_error": ratio(wae, w),
        "root_mean_squared_error": np.sqrt(ratio(wee, w)),
        "r2_score": r2,
    }
