"""Membership inference: AUC against sklearn, advantage against brute force, real models."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from auditor.errors import InputError
from auditor.governance.membership import (
    log_loss_per_row,
    membership_inference,
    membership_risk,
    true_label_confidence,
)

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "tests" / "data" / "adult.csv"
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture(scope="module")
def adult_split() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """2000 training rows and 2000 other audit rows of Adult's numeric columns."""
    sample = pd.read_csv(ADULT).sample(4000, random_state=0)
    features = sample[NUMERIC]
    label = (sample["income-per-year"].str.strip() == ">50K").astype(int)
    return features.iloc[:2000], label.iloc[:2000], features.iloc[2000:], label.iloc[2000:]


def _brute_advantage(
    member: np.ndarray, other: np.ndarray, wm: np.ndarray, wo: np.ndarray
) -> float:
    """max over every threshold (and +inf) of weighted P(member >= t) - P(other >= t)."""
    best = 0.0
    for t in np.unique(np.concatenate([member, other])):
        tpr = wm[member >= t].sum() / wm.sum()
        fpr = wo[other >= t].sum() / wo.sum()
        best = max(best, tpr - fpr)
    return best


def _tied_losses(seed: int, n_m: int, n_o: int) -> tuple[np.ndarray, np.ndarray]:
    """Losses rounded to two decimals, so many ties within and across the sides."""
    rng = np.random.default_rng(seed)
    return (
        np.round(rng.exponential(0.5, n_m), 2),
        np.round(rng.exponential(0.7, n_o), 2),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_and_advantage_match_sklearn_and_brute_force(seed: int, weighted: bool) -> None:
    member, other = _tied_losses(seed, 300, 500)
    rng = np.random.default_rng(seed + 10)
    wm = rng.uniform(0.2, 3.0, len(member)) if weighted else np.ones(len(member))
    wo = rng.uniform(0.2, 3.0, len(other)) if weighted else np.ones(len(other))
    result = membership_inference(
        member,
        other,
        member_weights=wm if weighted else None,
        non_member_weights=wo if weighted else None,
        resamples=50,
    )
    truth = np.concatenate([np.ones(len(member)), np.zeros(len(other))])
    expected = roc_auc_score(
        truth, -np.concatenate([member, other]), sample_weight=np.concatenate([wm, wo])
    )
    assert result.auc == pytest.approx(expected, abs=1e-12)
    assert result.auc > 0.5  # members drawn with the smaller losses
    assert result.advantage == pytest.approx(_brute_advantage(-member, -other, wm, wo), abs=1e-12)
    assert result.members == 300 and result.non_members == 500 and result.signal == "loss"


def test_confidence_signal_points_the_other_way() -> None:
    rng = np.random.default_rng(4)
    member, other = rng.beta(5, 1, 400), rng.beta(3, 1, 600)
    by_confidence = membership_inference(member, other, signal="confidence", resamples=200)
    by_loss = membership_inference(-np.log(member), -np.log(other), resamples=200)
    truth = np.r_[np.ones(400), np.zeros(600)]
    assert by_confidence.auc == pytest.approx(roc_auc_score(truth, np.r_[member, other]))
    # -ln is decreasing: the same ranking, so the same numbers and the same interval.
    assert by_confidence.auc == pytest.approx(by_loss.auc, abs=1e-12)
    assert by_confidence.advantage == pytest.approx(by_loss.advantage, abs=1e-12)
    assert (by_confidence.ci_low, by_confidence.ci_high) == (by_loss.ci_low, by_loss.ci_high)
    assert by_confidence.signal == "confidence"


def test_perfect_separation_and_reversal() -> None:
    perfect = membership_inference([0.0, 0.1, 0.2], [1.0, 2.0, np.inf], resamples=100)
    assert perfect.auc == 1.0 and perfect.advantage == 1.0
    assert perfect.ci_low == perfect.ci_high == 1.0
    reversed_ = membership_inference(np.full(200, 2.0), np.full(200, 1.0), resamples=100)
    assert reversed_.auc == 0.0 and reversed_.advantage == 0.0
    assert any("not leakage" in note for note in reversed_.notes)
    no_interval = membership_inference(np.full(200, 2.0), np.full(200, 1.0), resamples=0)
    assert any("not leakage" in note for note in no_interval.notes)


def test_identical_distributions_give_half_and_a_textbook_interval() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    result = membership_inference(rng.normal(size=n), rng.normal(size=n), resamples=1000)
    assert abs(result.auc - 0.5) < 0.02
    assert result.ci_low < 0.5 < result.ci_high
    # Under no difference, Var(AUC) = (n1 + n2 + 1) / (12 n1 n2) (Mann-Whitney).
    width = 2 * 1.959964 * math.sqrt((2 * n + 1) / (12 * n * n))
    assert result.ci_high - result.ci_low == pytest.approx(width, rel=0.15)
    # The best of ~4000 thresholds on the same rows is not 0, but small (one-sided KS).
    assert 0 < result.advantage < 1.36 * math.sqrt(2 / n)


def test_seeded_and_reproducible() -> None:
    member, other = _tied_losses(7, 400, 400)
    first = membership_inference(member, other, seed=3, resamples=300)
    assert membership_inference(member, other, seed=3, resamples=300) == first
    other_seed = membership_inference(member, other, seed=4, resamples=300)
    assert other_seed.auc == first.auc and other_seed.advantage == first.advantage
    assert (other_seed.ci_low, other_seed.ci_high) != (first.ci_low, first.ci_high)
    no_interval = membership_inference(member, other, resamples=0)
    assert math.isnan(no_interval.ci_low) and math.isnan(no_interval.ci_high)
    assert no_interval.auc == first.auc


def test_balance_subsamples_the_larger_side() -> None:
    rng = np.random.default_rng(8)
    member, other = rng.normal(-0.3, 1, 300), rng.normal(0, 1, 6000)
    unbalanced = membership_inference(member, other, resamples=200)
    assert any("per-side rates" in note for note in unbalanced.notes)
    balanced = membership_inference(member, other, balance=True, resamples=200)
    assert balanced.members == balanced.non_members == 300
    assert any("subsampled from 6000 to 300" in note for note in balanced.notes)
    # The imbalance does not bias the AUC: both estimate the same quantity.
    assert balanced.auc == pytest.approx(unbalanced.auc, abs=0.05)
    assert membership_inference(member, other, balance=True, resamples=200) == balanced


def test_true_label_confidence_and_log_loss() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    y = np.array(["b", "c", "b", "c"])
    np.testing.assert_allclose(true_label_confidence(proba, y, ["a", "b", "c"]), [0.2, 0.8, 1, 0])
    losses = log_loss_per_row(proba, y, ["a", "b", "c"])
    assert np.isfinite(losses).all() and losses[3] == pytest.approx(-np.log(np.finfo(float).eps))
    assert losses.mean() == pytest.approx(log_loss(y, proba, labels=["a", "b", "c"]))
    # One column (or 1-D): the probability of the positive label.
    p1 = np.array([0.9, 0.2, 0.6])
    labels = np.array([1, 0, 0])
    np.testing.assert_allclose(true_label_confidence(p1, labels, positive_label=1), [0.9, 0.8, 0.4])
    np.testing.assert_allclose(
        true_label_confidence(p1[:, None], labels, positive_label=1), [0.9, 0.8, 0.4]
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: true_label_confidence([[0.5, 0.5]], [1], ["1", "2"]), "not among the model's"),
        (lambda: true_label_confidence([[0.5, 0.5]], [1], None), "need the classes"),
        (lambda: true_label_confidence([[0.5, 0.5]], [1], [1, 1]), "distinct classes"),
        (lambda: true_label_confidence([[0.5, 0.5]], [1, 2], [1, 2]), "do not match"),
        (lambda: true_label_confidence([[1.5, -0.5]], [1], [1, 2]), "within \\[0, 1\\]"),
        (lambda: true_label_confidence([0.5], [1]), "positive_label"),
        (lambda: true_label_confidence([0.5] * 3, [1, 2, 3], positive_label=1), "binary"),
        (lambda: membership_inference([], [1.0]), "at least one member"),
        (lambda: membership_inference([1.0], [np.nan]), "NaN"),
        (lambda: membership_inference([1.0], [1.0], signal="rank"), "signal"),  # type: ignore[arg-type]
        (lambda: membership_inference([1.0], [1.0], confidence=1.0), "confidence"),
        (lambda: membership_inference([1.0], [1.0], resamples=-1), "resamples"),
        (lambda: membership_inference([1.0], [1.0], member_weights=[0.0]), "sum to zero"),
        (lambda: membership_inference([1.0], [1.0], member_weights=[1, 2]), "shape"),
        (lambda: membership_inference([1.0], [1.0], member_weights=[-1.0]), "non-negative"),
        (lambda: membership_risk(object(), [[1]], [1], [[1]], [1]), "predict_proba"),
    ],
)
def test_bad_input(call: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()  # type: ignore[operator]


def test_overfit_tree_leaks(adult_split: tuple[pd.DataFrame, ...]) -> None:
    train_x, train_y, audit_x, audit_y = adult_split
    tree = DecisionTreeClassifier(random_state=0).fit(train_x, train_y)
    result = membership_risk(tree, train_x, train_y, audit_x, audit_y)
    assert result.members == result.non_members == 2000
    assert result.auc > 0.58 and result.ci_low > 0.55  # interval well clear of 0.5
    assert result.advantage > 0.15
    # Against sklearn on the same losses, computed by hand.
    losses = [
        log_loss_per_row(tree.predict_proba(x), y, tree.classes_)
        for x, y in ((train_x, train_y), (audit_x, audit_y))
    ]
    truth = np.r_[np.ones(2000), np.zeros(2000)]
    assert result.auc == pytest.approx(roc_auc_score(truth, -np.concatenate(losses)), abs=1e-12)
    by_confidence = membership_risk(tree, train_x, train_y, audit_x, audit_y, signal="confidence")
    assert by_confidence.auc == pytest.approx(result.auc, abs=1e-12)


def test_regularised_logistic_regression_does_not_leak(
    adult_split: tuple[pd.DataFrame, ...],
) -> None:
    train_x, train_y, audit_x, audit_y = adult_split
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01))
    model.fit(train_x, train_y)
    result = membership_risk(model, train_x, train_y, audit_x, audit_y)
    assert abs(result.auc - 0.5) < 0.03
    assert result.ci_low < 0.5 < result.ci_high
    assert result.advantage < 0.05


def test_model_weights_and_explicit_classes(adult_split: tuple[pd.DataFrame, ...]) -> None:
    train_x, train_y, audit_x, audit_y = adult_split
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(train_x, train_y)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, 2000)
    result = membership_risk(
        tree, train_x, train_y, audit_x, audit_y, classes=[0, 1], audit_weights=weights
    )
    expected = membership_inference(
        log_loss_per_row(tree.predict_proba(train_x), train_y, [0, 1]),
        log_loss_per_row(tree.predict_proba(audit_x), audit_y, [0, 1]),
        non_member_weights=weights,
    )
    assert result == expected
