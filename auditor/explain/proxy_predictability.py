"""How well all features together predict a sensitive attribute: cross-validated AUC.

A deliberately simple model (one-hot categoricals and standardised numerics into a logistic
regression) predicts the attribute out of fold; its AUC says how much of the attribute the
features jointly reveal, beyond what any one of them does. 0.5 = nothing, 1 = everything.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from auditor.errors import InputError
from auditor.explain.proxy_auc import auc_interval, ovr_auc
from auditor.explain.proxy_measures import aligned, is_categorical, numeric_values

MAX_ONE_HOT = 50  # categories per column; rarer ones are pooled into one "infrequent" column

MODEL = (
    "logistic regression (lbfgs, C=1, max_iter=1000) on one-hot categoricals (missing as a "
    f"category, at most {MAX_ONE_HOT} columns per feature, rarer values pooled) and "
    "standardised numerics (median-imputed, with missing-value indicators); the encoding is "
    "fitted once on all rows (it sees no attribute labels), the regression within each fold"
)


@dataclass(frozen=True)
class Predictability:
    """Cross-validated AUC of predicting a sensitive attribute from all features together.

    ``auc`` is the ROC AUC of the pooled out-of-fold probabilities: for a binary attribute
    of the probability of ``classes[1]``; for more values the unweighted mean of the
    one-vs-rest AUCs (macro OvR, ``metric="macro_ovr_auc"``). ``ci_low``/``ci_high``: a
    seeded percentile bootstrap (``n_resamples``) over the out-of-fold predictions,
    resampling within each class so that class sizes stay fixed; it holds the fitted fold
    models fixed, so it reflects which rows were evaluated, not refitting. ``n`` rows were
    used of ``n_available`` with the attribute present (``subsampled`` when more than
    ``max_rows``). ``auc`` and the bounds are None when undefined, with ``reason``.

    With no association at all, cross-validated AUC tends to fall slightly *below* 0.5 (each
    fold's model learns chance differences that are reversed in the held-out rows); read
    values under 0.5 as "no better than chance".
    """

    attribute: str
    auc: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    metric: str
    n: int
    n_available: int
    classes: tuple[str, ...]
    folds: int
    seed: int
    subsampled: bool
    model: str
    notes: tuple[str, ...] = ()
    reason: str | None = None


def _design(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Categoricals as strings (missing as its own value), numerics as floats."""
    columns, categorical, numeric = {}, [], []
    for name in frame.columns:
        column, key = frame[name], str(name)
        if is_categorical(column):
            text = column.astype(object).where(column.notna(), "<missing>").astype(str)
            columns[key] = text.astype(object)
            categorical.append(key)
        else:
            columns[key] = pd.Series(numeric_values(column))
            numeric.append(key)
    return pd.DataFrame(columns), categorical, numeric


def _encoder(categorical: list[str], numeric: list[str]) -> ColumnTransformer:
    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT)
    imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    columns = ColumnTransformer(
        [
            ("categorical", encoder, categorical),
            ("numeric", make_pipeline(imputer, StandardScaler()), numeric),
        ]
    )
    return columns


def _subsample(codes: np.ndarray, max_rows: int, folds: int, seed: int) -> np.ndarray:
    """Row indices of a stratified subsample of ``max_rows`` rows, every class >= folds rows.

    Classes get shares proportional to their size (largest remainders round), raised to
    ``folds`` rows where that is more; the result can then exceed ``max_rows`` slightly.
    """
    rng = np.random.default_rng(seed)
    sizes = np.bincount(codes)
    quota = sizes * max_rows / codes.size
    take = np.floor(quota).astype(np.int64)
    extra = np.argsort(-(quota - take), kind="stable")[: max_rows - int(take.sum())]
    take[extra] += 1
    take = np.maximum(take, np.minimum(sizes, folds))
    keep = [
        rng.choice(np.flatnonzero(codes == k), size=t, replace=False) for k, t in enumerate(take)
    ]
    return np.sort(np.concatenate(keep))


def predictability(
    features: pd.DataFrame,
    sensitive: pd.Series,
    *,
    folds: int = 5,
    seed: int = 0,
    max_rows: int = 20000,
    confidence: float = 0.95,
    n_resamples: int = 500,
) -> Predictability:
    """Cross-validated AUC of a logistic regression predicting ``sensitive`` from ``features``.

    Rows with a missing attribute are left out; features are read as in
    :func:`auditor.explain.proxies.feature_associations` (categorical or numeric), see
    ``MODEL`` for the model. Folds are stratified and shuffled with ``seed``; with more than
    ``max_rows`` rows a stratified subsample (``seed``) is used, every class keeping at least
    ``folds`` rows. Classes with fewer than ``folds`` rows are dropped, with a note. Fewer
    than two classes left: ``auc`` is None with a ``reason``, no error. See
    :class:`Predictability` for the interval.

    Raises InputError for no features, misaligned input, ``folds < 2`` or ``max_rows < 2``.
    """
    if folds < 2 or max_rows < 2:
        raise InputError(f"need folds >= 2 and max_rows >= 2, got {folds} and {max_rows}")
    frame, attribute = aligned(features, sensitive)
    name = str(sensitive.name) if sensitive.name is not None else "sensitive"
    labels = attribute.astype(str)
    counts = labels.value_counts().sort_index()
    notes = [
        f"class {label!r} dropped: {count} rows, fewer than the {folds} folds"
        for label, count in counts.items()
        if count < folds
    ]
    classes = tuple(str(c) for c in counts.index[counts >= folds])

    undefined = Predictability(
        attribute=name,
        auc=None,
        ci_low=None,
        ci_high=None,
        confidence=confidence,
        metric="roc_auc" if len(classes) <= 2 else "macro_ovr_auc",
        n=0,
        n_available=len(labels),
        classes=classes,
        folds=folds,
        seed=seed,
        subsampled=False,
        model=MODEL,
        notes=tuple(notes),
    )
    if len(classes) < 2:
        reason = f"attribute {name!r} has {len(counts)} value(s), {len(classes)} with at least "
        return replace(undefined, reason=reason + f"{folds} rows: the AUC is undefined")
    kept = np.flatnonzero(labels.isin(classes).to_numpy())
    codes = pd.Categorical(labels.iloc[kept], categories=list(classes)).codes.astype(np.int64)
    subsampled = codes.size > max_rows
    if subsampled:
        chosen = _subsample(codes, max_rows, folds, seed)
        kept, codes = kept[chosen], codes[chosen]
        notes.append(f"stratified subsample of {kept.size} of {labels.size} rows (seed {seed})")
    design, categorical, numeric = _design(frame.iloc[kept].reset_index(drop=True))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # One BLAS thread: these fits are small, and threads only contend (3x slower on 2 cores).
    with (
        threadpool_limits(limits=1, user_api="blas"),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", ConvergenceWarning)
        # Encoded once, not per fold: the encoding uses no labels, so nothing leaks, and
        # re-encoding text columns five times was most of the time (0.7 s of 0.8 s).
        encoded = _encoder(categorical, numeric).fit_transform(design)
        model = LogisticRegression(C=1.0, max_iter=1000)
        proba = cross_val_predict(model, encoded, codes, cv=cv, method="predict_proba")
    for warning in caught:  # convergence becomes a note; anything else is passed on
        if issubclass(warning.category, ConvergenceWarning):
            notes.append("the logistic regression did not fully converge in some folds")
        else:
            warnings.warn(warning.message, warning.category, stacklevel=2)
    auc = ovr_auc(proba, codes)
    low, high = auc_interval(proba, codes, confidence, n_resamples, seed)
    return replace(
        undefined,
        auc=auc,
        ci_low=low,
        ci_high=high,
        n=int(codes.size),
        subsampled=subsampled,
        notes=tuple(dict.fromkeys(notes)),
    )
