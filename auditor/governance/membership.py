"""Membership-inference risk: can a model's loss tell its training rows from unseen rows?

A threshold attack (Yeom et al. 2018, "Privacy Risk in Machine Learning", the loss attack;
Shokri et al. 2017 use the confidence in the true label the same way) guesses "member" when
the model's loss on a row is low, or its confidence in the row's true label high. Given that
signal on training rows (members) and on audit rows the model never saw (non-members):

- **AUC**: the probability that a random member scores as more "member-like" than a random
  non-member (lower loss, or higher confidence), ties counting one half, each pair weighted
  by the product of the two rows' weights. 0.5 means the signal carries no membership
  information; 1 means it separates the two sets perfectly. Below 0.5 the members fit *worse*
  than the unseen rows: not leakage, but usually a sign the audit rows come from another
  distribution, so the comparison itself is suspect.
- **advantage**: Yeom's membership advantage ``TPR - FPR`` of the threshold attack, at its
  best threshold: ``max_t [P(member scores >= t) - P(non-member scores >= t)]``, the one-sided
  Kolmogorov-Smirnov distance between the two score distributions (0 at ``t = +inf``, so
  never negative). A balanced-prior attacker's accuracy is ``(1 + advantage) / 2``. The
  threshold is chosen on the same rows it is scored on, so this is an optimistic (upper)
  estimate of what an attacker who must pick ``t`` in advance achieves, noticeably so on a
  few hundred rows.
- **interval**: a percentile bootstrap interval of the AUC. Members and non-members are
  resampled separately with replacement (stratified, so each side keeps its size), seeded;
  the AUC is recomputed from the weights times the resampling multiplicities.

Both are per-class rates (TPR over members, FPR over non-members), so they do not depend on
how many rows each side has: an imbalance changes their precision, not their expected value.
``balance=True`` subsamples the larger side to the smaller one's size anyway (seeded), e.g.
to mirror the usual balanced-prior evaluation or to shrink a very large training set.

The model is called in :func:`membership_risk` only; everything else takes arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from auditor.errors import InputError
from auditor.stats.bootstrap import percentile_interval, row_multiplicities
from auditor.stats.scores import ScoreRanking

FloatArray = npt.NDArray[np.float64]
Signal = Literal["loss", "confidence"]

# Side sizes differing by more than this factor get a note on what imbalance does and not.
_IMBALANCE_NOTE = 10.0
# Fewer rows than this on either side get a note that the interval is wide.
_FEW_ROWS = 100


@dataclass(frozen=True)
class MembershipRisk:
    """The threshold attack's AUC with its bootstrap interval, and its best advantage.

    Attributes
    ----------
    auc : float
        Attack AUC; 0.5 means no membership leakage through the signal.
    ci_low, ci_high : float
        Percentile bootstrap interval of the AUC (NaN with ``resamples=0``).
    advantage : float
        Yeom's membership advantage, max over thresholds of TPR - FPR, in [0, 1].
    members, non_members : int
        Rows on each side after any balancing.
    signal : str
        ``"loss"`` (lower means member) or ``"confidence"`` (higher means member).
    notes : tuple of str
        Caveats a reader should see next to the numbers.
    """

    auc: float
    ci_low: float
    ci_high: float
    advantage: float
    members: int
    non_members: int
    signal: str
    notes: tuple[str, ...]


def membership_inference(
    member_loss: npt.ArrayLike,
    non_member_loss: npt.ArrayLike,
    *,
    signal: Signal = "loss",
    member_weights: npt.ArrayLike | None = None,
    non_member_weights: npt.ArrayLike | None = None,
    balance: bool = False,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> MembershipRisk:
    """Membership-inference risk of a threshold attack on per-row losses or confidences.

    Parameters
    ----------
    member_loss, non_member_loss : array-like of float, shape (n_members,), (n_non_members,)
        The signal on training rows and on audit rows: per-row losses (e.g. from
        :func:`log_loss_per_row`) with ``signal="loss"``, or confidences in the true label
        (:func:`true_label_confidence`) with ``signal="confidence"``. Infinite values are
        allowed (only their order matters); NaN is not.
    signal : {"loss", "confidence"}
        Which way membership points: low loss, or high confidence.
    member_weights, non_member_weights : array-like of float, optional
        Non-negative row weights (e.g. sample weights).
    balance : bool
        Subsample the larger side, without replacement, to the smaller side's size.
    confidence : float
        Level of the AUC interval, strictly between 0 and 1.
    resamples : int
        Bootstrap resamples (0 for no interval).
    seed : int
        Seed of the balancing subsample and the bootstrap.

    Returns
    -------
    MembershipRisk
    """
    if signal not in ("loss", "confidence"):
        raise InputError(f"signal must be 'loss' or 'confidence', got {signal!r}")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int | np.integer) or resamples < 0:
        raise InputError(f"resamples must be a whole number >= 0, got {resamples!r}")
    members = _values(member_loss, "member")
    others = _values(non_member_loss, "non-member")
    w_members = _weights(member_weights, len(members), "member")
    w_others = _weights(non_member_weights, len(others), "non-member")
    rng = np.random.default_rng(seed)
    notes: list[str] = []

    if balance and len(members) != len(others):
        n = min(len(members), len(others))
        side = "members" if len(members) > len(others) else "non-members"
        notes.append(
            f"{side} subsampled from {max(len(members), len(others))} to {n} rows "
            f"(balance=True, seed {seed})"
        )
        if len(members) > n:
            keep = np.sort(rng.choice(len(members), n, replace=False))
            members, w_members = members[keep], w_members[keep]
        else:
            keep = np.sort(rng.choice(len(others), n, replace=False))
            others, w_others = others[keep], w_others[keep]
        for label, w in (("member", w_members), ("non-member", w_others)):
            if not w.sum() > 0:
                raise InputError(f"the balanced subsample left no {label} weight")
    elif max(len(members), len(others)) > _IMBALANCE_NOTE * min(len(members), len(others)):
        notes.append(
            f"{len(members)} members against {len(others)} non-members: AUC and advantage "
            "are per-side rates and not biased by the imbalance, but the smaller side "
            "dominates their uncertainty, and an attacker's precision would depend on the "
            "share of members"
        )

    is_member = np.concatenate([np.ones(len(members), bool), np.zeros(len(others), bool)])
    values = np.concatenate([members, others])
    score = -values if signal == "loss" else values
    # Dense ranks keep the order and ties of the score and make infinities finite.
    distinct, inverse = np.unique(score, return_inverse=True)
    rank = inverse.astype(np.int64)
    weights = np.concatenate([w_members, w_others])

    ranking = ScoreRanking(np.zeros(len(rank), np.int64), 1, is_member, rank.astype(np.float64))
    auc = float(ranking.roc_auc(weights)[0])
    advantage = _advantage(rank, len(distinct), is_member, weights)

    ci_low = ci_high = float("nan")
    if resamples:
        strata = (~is_member).astype(np.int64)  # members 0, non-members 1
        draws = np.empty(resamples)
        for b, m in enumerate(row_multiplicities(strata, 2, resamples, rng)):
            draws[b] = ranking.roc_auc(weights * m)[0]
        low, high, _ = percentile_interval(draws, confidence)
        ci_low, ci_high = float(low), float(high)

    if min(len(members), len(others)) < _FEW_ROWS:
        notes.append(
            f"only {min(len(members), len(others))} rows on the smaller side: the interval "
            "is wide and the advantage (best threshold chosen on these rows) optimistic"
        )
    if (auc if np.isnan(ci_high) else ci_high) < 0.5:
        notes.append(
            "members fit worse than non-members (AUC below 0.5): not leakage, but the audit "
            "rows likely differ in distribution from the training rows"
        )
    return MembershipRisk(
        auc=auc,
        ci_low=ci_low,
        ci_high=ci_high,
        advantage=advantage,
        members=len(members),
        non_members=len(others),
        signal=signal,
        notes=tuple(notes),
    )


def true_label_confidence(
    proba: npt.ArrayLike,
    y: npt.ArrayLike,
    classes: Sequence[Any] | npt.ArrayLike | None = None,
    *,
    positive_label: Any = None,
) -> FloatArray:
    """The predicted probability of each row's true label.

    Parameters
    ----------
    proba : array-like of float, shape (n, n_classes) or (n,)
        ``predict_proba`` output. Two-dimensional with several columns: column j is the
        probability of ``classes[j]``. One-dimensional (or one column): the probability of
        ``positive_label``, every other label being the one negative class.
    y : array-like, shape (n,)
        True labels.
    classes : sequence, optional
        The label of each column (``model.classes_``); needed for 2-D ``proba``.
    positive_label : optional
        The label whose probability a 1-D ``proba`` holds; needed for 1-D ``proba``.

    Returns
    -------
    float array, shape (n,)
        Values in [0, 1].
    """
    p = np.asarray(proba, dtype=np.float64)
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise InputError(f"labels must be one-dimensional, got shape {labels.shape}")
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim not in (1, 2) or len(p) != len(labels):
        raise InputError(f"probabilities of shape {p.shape} do not match {len(labels)} labels")
    if not np.isfinite(p).all() or p.min(initial=0.0) < -1e-9 or p.max(initial=0.0) > 1 + 1e-9:
        raise InputError("predicted probabilities must be finite and within [0, 1]")
    p = np.clip(p, 0.0, 1.0)
    if p.ndim == 1:
        if positive_label is None:
            raise InputError("one-dimensional probabilities need the positive_label they are of")
        present = pd.unique(labels)
        if len(present) > 2:
            raise InputError(
                f"one-dimensional probabilities are binary, but the labels take "
                f"{len(present)} values"
            )
        return np.asarray(np.where(labels == positive_label, p, 1.0 - p), dtype=np.float64)
    if classes is None:
        raise InputError("probabilities with several columns need the classes of the columns")
    index = pd.Index(np.asarray(classes))
    if len(index) != p.shape[1] or not index.is_unique:
        raise InputError(
            f"{p.shape[1]} probability columns need as many distinct classes, got {list(index)}"
        )
    column = index.get_indexer(labels)
    unknown = column < 0
    if unknown.any():
        bad = pd.unique(labels[unknown])[:5]
        raise InputError(
            f"labels not among the model's classes {list(index)}: {list(bad)} "
            "(check the label type, e.g. 1 against '1')"
        )
    return p[np.arange(len(p)), column]


def log_loss_per_row(
    proba: npt.ArrayLike,
    y: npt.ArrayLike,
    classes: Sequence[Any] | npt.ArrayLike | None = None,
    *,
    positive_label: Any = None,
) -> FloatArray:
    """Cross-entropy of each row: ``-ln p(true label)``, the probability clipped at eps.

    ``eps`` is the float64 machine epsilon, as ``sklearn.metrics.log_loss`` clips, so the
    mean of this equals ``log_loss`` and no loss is infinite. Arguments as
    :func:`true_label_confidence`.
    """
    p = true_label_confidence(proba, y, classes, positive_label=positive_label)
    return np.asarray(-np.log(np.clip(p, np.finfo(np.float64).eps, 1.0)), dtype=np.float64)


def membership_risk(
    model: Any,
    train_X: Any,
    train_y: npt.ArrayLike,
    audit_X: Any,
    audit_y: npt.ArrayLike,
    *,
    classes: Sequence[Any] | npt.ArrayLike | None = None,
    positive_label: Any = None,
    signal: Signal = "loss",
    train_weights: npt.ArrayLike | None = None,
    audit_weights: npt.ArrayLike | None = None,
    balance: bool = False,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> MembershipRisk:
    """Membership-inference risk of a fitted classifier: training rows against audit rows.

    The audit rows must be rows the model was not trained on; any overlap pulls the AUC
    towards 0.5 and hides leakage.

    Parameters
    ----------
    model : object with ``predict_proba``
        The fitted classifier.
    train_X, train_y : the training features and labels (members).
    audit_X, audit_y : the audit features and labels (non-members).
    classes : sequence, optional
        Label of each ``predict_proba`` column; defaults to ``model.classes_``.
    positive_label : optional
        For a ``predict_proba`` that returns one column: the label it is the probability of.
    signal : {"loss", "confidence"}
        Attack on the per-row log loss, or on the confidence in the true label. The loss is
        a decreasing function of the confidence, so both give the same AUC and advantage
        except where clipping at eps ties near-zero confidences.
    train_weights, audit_weights, balance, confidence, resamples, seed
        As :func:`membership_inference`.
    """
    per_row = log_loss_per_row if signal == "loss" else true_label_confidence
    if classes is None:
        classes = getattr(model, "classes_", None)
    member = per_row(
        _predict_proba(model, train_X), train_y, classes, positive_label=positive_label
    )
    other = per_row(_predict_proba(model, audit_X), audit_y, classes, positive_label=positive_label)
    return membership_inference(
        member,
        other,
        signal=signal,
        member_weights=train_weights,
        non_member_weights=audit_weights,
        balance=balance,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )


def _predict_proba(model: Any, features: Any) -> FloatArray:
    """The model's class probabilities: the only place the model is called."""
    predict_proba = getattr(model, "predict_proba", None)
    if not callable(predict_proba):
        raise InputError(
            f"membership inference needs class probabilities; {type(model).__name__} "
            "has no predict_proba"
        )
    return np.asarray(predict_proba(features), dtype=np.float64)


def _values(values: npt.ArrayLike, side: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InputError(f"{side} losses must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise InputError(f"membership inference needs at least one {side} row")
    if np.isnan(array).any():
        raise InputError(f"{side} losses contain NaN")
    return array


def _weights(weights: npt.ArrayLike | None, n: int, side: str) -> FloatArray:
    if weights is None:
        return np.ones(n)
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (n,):
        raise InputError(f"{side} weights have shape {array.shape}, expected ({n},)")
    if not np.isfinite(array).all() or np.any(array < 0):
        raise InputError(f"{side} weights must be finite and non-negative")
    if not array.sum() > 0:
        raise InputError(f"{side} weights sum to zero")
    return array


def _advantage(
    rank: npt.NDArray[np.int64], n_ranks: int, is_member: npt.NDArray[np.bool_], w: FloatArray
) -> float:
    """max over thresholds t of weighted TPR(score >= t) - FPR(score >= t), at least 0."""
    member = np.bincount(rank, weights=np.where(is_member, w, 0.0), minlength=n_ranks)
    other = np.bincount(rank, weights=np.where(is_member, 0.0, w), minlength=n_ranks)
    # Selecting every rank from the top down to each distinct score in turn.
    tpr = np.cumsum(member[::-1]) / member.sum()
    fpr = np.cumsum(other[::-1]) / other.sum()
    return float(np.clip(np.max(tpr - fpr), 0.0, 1.0))
