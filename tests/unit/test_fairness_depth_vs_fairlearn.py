"""The metrics beyond the confusion rates against fairlearn's MetricFrame and scikit-learn.

Per group, on Adult (every 8th row; sex, race, sex x race; '>50K' positive) and German
Credit (the sample skops model; credit 1 = good is positive; sex, age_group and their
intersection), with and without sample weights (Adult's census weight ``fnlwgt``, random
weights on German Credit), to 1e-12:

- F1, balanced accuracy (groups with both classes), treatment equality (FN / FP);
- ROC AUC, average precision, Brier score of a deterministic score: a logistic function of
  Adult's numeric columns (with many ties: the inputs are whole numbers), the model's
  predict_proba on German Credit; the reliability table against
  ``sklearn.calibration.calibration_curve`` and the expected calibration error from it;
- regression by group (mean prediction and target, MAE, RMSE, R²), with Adult's
  hours-per-week as target and a fixed linear prediction;
- the score shares (scoring rate above the overall median, top-k share, selection rate at a
  score threshold) against a plain pandas groupby.

fairlearn and scikit-learn get the labels as 0/1 integers (1 = the positive label).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn.metrics import MetricFrame
from sklearn.calibration import calibration_curve

from auditor.checks.fairness import group_fairness, group_table
from auditor.checks.metric_values import ScoreInputs
from auditor.context import AuditContext, CheckSettings
from auditor.groups import Grouping, encode_groups
from auditor.inputs.labels import BinaryLabels
from auditor.inputs.model_files import load_model_file
from auditor.results import GroupTable, Reason

ROOT = Path(__file__).resolve().parents[2]
ADULT_CSV = ROOT / "tests" / "data" / "adult.csv"
GERMAN_CSV = ROOT / "sample_models" / "data" / "german_credit_audit.csv"
GERMAN_MODEL = ROOT / "sample_models" / "german_credit_model.skops"
ATOL = 1e-12
SCORE_THRESHOLD = 0.3
TOP_K = 150


@dataclass(frozen=True)
class Dataset:
    name: str
    frame: pd.DataFrame
    y_true: np.ndarray  # 0/1, 1 = the positive label
    y_pred: np.ndarray  # 0/1
    scores: np.ndarray  # probability of the positive label
    weights: np.ndarray


def adult_score(frame: pd.DataFrame) -> np.ndarray:
    """A fixed logistic score of whole-number columns (ties are common)."""
    z = pd.Series(
        -7.0
        + 0.35 * frame["education-num"]
        + 0.03 * frame["age"]
        + 0.02 * frame["hours-per-week"]
        + 0.0002 * frame["capital-gain"].clip(upper=10_000)
    )
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


@pytest.fixture(scope="module")
def adult() -> Dataset:
    frame = pd.read_csv(ADULT_CSV).iloc[::8].reset_index(drop=True)
    y_true = (frame["income-per-year"] == ">50K").to_numpy().astype(np.int64)
    y_pred = ((frame["education-num"] >= 13) | (frame["capital-gain"] >= 5000)).to_numpy()
    scores = adult_score(frame)
    assert len(np.unique(scores)) < len(scores) // 2  # plenty of ties
    weights = frame["fnlwgt"].to_numpy(dtype=np.float64)
    return Dataset("adult", frame, y_true, y_pred.astype(np.int64), scores, weights)


@pytest.fixture(scope="module")
def german() -> Dataset:
    frame = pd.read_csv(GERMAN_CSV)
    model = load_model_file(GERMAN_MODEL).estimator
    features = frame[list(model.feature_names_in_)]
    positive = list(model.classes_).index(1)
    y_pred = (np.asarray(model.predict(features)) == 1).astype(np.int64)
    scores = np.asarray(model.predict_proba(features)[:, positive], dtype=np.float64)
    assert np.array_equal(y_pred, (scores >= 0.5).astype(np.int64))
    weights = np.random.default_rng(20261128).uniform(0.25, 4.0, size=len(frame))
    y_true = (frame["credit"] == 1).to_numpy().astype(np.int64)
    return Dataset("german", frame, y_true, y_pred, scores, weights)


# --- the independent computations ---------------------------------------------------------


def _both_classes(fn: Callable[..., float]) -> Callable[..., float]:
    """scikit-learn raises (or warns and guesses) on a one-class group: call that NaN."""

    def wrapped(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
        if len(np.unique(np.asarray(y_t))) < 2:
            return float("nan")
        return float(fn(y_t, y_p, sample_weight=sample_weight))

    return wrapped


def _any_positive(fn: Callable[..., float]) -> Callable[..., float]:
    def wrapped(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
        if not np.asarray(y_t).any():
            return float("nan")
        return float(fn(y_t, y_p, sample_weight=sample_weight))

    return wrapped


def treatment_equality(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
    t, p = np.asarray(y_t) == 1, np.asarray(y_p) == 1
    w = np.ones(t.size) if sample_weight is None else np.asarray(sample_weight)
    fn, fp = w[t & ~p].sum(), w[~t & p].sum()
    return float(fn / fp) if fp > 0 else float("nan")


LABEL_METRICS: dict[str, Callable[..., float]] = {
    "f1_score": partial(skm.f1_score, zero_division=np.nan),
    "balanced_accuracy": _both_classes(skm.balanced_accuracy_score),
    "treatment_equality": treatment_equality,
}
SCORE_METRICS: dict[str, Callable[..., float]] = {
    "roc_auc": _both_classes(skm.roc_auc_score),
    "average_precision": _any_positive(skm.average_precision_score),
    "brier_score": skm.brier_score_loss,
}


def mean_of_prediction(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
    return float(np.average(y_p, weights=sample_weight))


def mean_of_target(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
    return float(np.average(y_t, weights=sample_weight))


REGRESSION_METRICS: dict[str, Callable[..., float]] = {
    "mean_prediction": mean_of_prediction,
    "mean_target": mean_of_target,
    "mean_absolute_error": skm.mean_absolute_error,
    "root_mean_squared_error": skm.root_mean_squared_error,
    "r2_score": skm.r2_score,
}


def metric_frame(
    metrics: dict[str, Callable[..., float]],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sensitive: pd.Series | pd.DataFrame,
    weights: np.ndarray | None,
) -> pd.DataFrame:
    """MetricFrame.by_group with a tuple-of-strings index (auditor's labels)."""
    params = None if weights is None else {m: {"sample_weight": weights} for m in metrics}
    mf = MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive,
        sample_params=params,
    )
    by_group = mf.by_group.copy()
    by_group.index = [
        tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))) for k in by_group.index
    ]
    return by_group


# --- the cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    data: Dataset
    columns: tuple[str, ...]
    weighted: bool
    grouping: Grouping
    table: GroupTable  # classification, with scores

    @property
    def weights(self) -> np.ndarray | None:
        return self.data.weights if self.weighted else None

    @property
    def sensitive(self) -> pd.Series | pd.DataFrame:
        if len(self.columns) == 1:
            return self.data.frame[self.columns[0]]
        return self.data.frame[list(self.columns)]

    def key(self, labels: dict[str, str]) -> tuple[str, ...]:
        return tuple(labels[c] for c in self.columns)

    def masks(self) -> dict[str, np.ndarray]:
        """Each group's rows, by auditor's group key (from pandas, not from the codes)."""
        frame = self.data.frame[list(self.columns)].astype(str)
        out = {}
        for row in self.table.rows:
            out[row.group] = frame.eq(pd.Series(row.labels)).all(axis=1).to_numpy()
        return out


def settings() -> CheckSettings:
    return CheckSettings(min_group_size=1, score_threshold=SCORE_THRESHOLD, top_k=TOP_K)


def classification_context(data: Dataset, columns: list[str], weighted: bool) -> AuditContext:
    return AuditContext(
        frame=data.frame,
        labels=BinaryLabels(positive="1", other="0"),
        y_true=data.y_true.astype(bool),
        y_pred=data.y_pred.astype(bool),
        scores=data.scores,
        weights=data.weights if weighted else None,
        groupings=encode_groups(data.frame, columns),
        settings=settings(),
    )


def score_inputs(ctx: AuditContext, grouping: Grouping) -> ScoreInputs:
    assert ctx.scores is not None
    return ScoreInputs.build(
        grouping.codes,
        grouping.n_groups,
        ctx.y_true,
        ctx.scores,
        ctx.weights,
        ctx.settings.score_threshold,
        ctx.settings.top_k,
    )


CASES = [
    ("adult", ("sex",), False),
    ("adult", ("race",), True),
    ("adult", ("sex", "race"), False),
    ("adult", ("sex", "race"), True),
    ("german", ("age_group",), False),
    ("german", ("sex", "age_group"), False),
    ("german", ("sex", "age_group"), True),
]


def case_id(param: tuple[str, tuple[str, ...], bool]) -> str:
    dataset, columns, weighted = param
    return f"{dataset}-{'x'.join(columns)}-{'weighted' if weighted else 'unweighted'}"


@pytest.fixture(scope="module", params=CASES, ids=case_id)
def case(request: pytest.FixtureRequest) -> Case:
    dataset, columns, weighted = request.param
    data: Dataset = request.getfixturevalue(dataset)
    ctx = classification_context(data, list(columns), weighted)
    grouping = ctx.groupings[-1]
    assert grouping.columns == columns
    table = group_table(ctx, grouping, scores=score_inputs(ctx, grouping))
    return Case(case_id(request.param), data, columns, weighted, grouping, table)


def compare(case: Case, table: GroupTable, by_group: pd.DataFrame, metric: str) -> int:
    """Every group's value against the reference frame; returns how many were defined."""
    defined = 0
    for row in table.rows:
        if row.n == 0:
            assert row.metrics[metric].value.reason == Reason.EMPTY_GROUP
            continue
        expected = float(by_group[metric].loc[[case.key(row.labels)]].iloc[0])
        got = row.metrics[metric].value.value
        where = (case.name, metric, row.group, got, expected)
        if np.isnan(expected):
            assert got is None, where
            continue
        assert got is not None, where
        assert abs(got - expected) <= ATOL * max(1.0, abs(expected)), where
        defined += 1
    return defined


# --- label and score metrics ----------------------------------------------------------------


@pytest.mark.parametrize("metric", sorted(LABEL_METRICS))
def test_label_metrics_match_metricframe(case: Case, metric: str) -> None:
    by_group = metric_frame(
        {metric: LABEL_METRICS[metric]},
        case.data.y_true,
        case.data.y_pred,
        case.sensitive,
        case.weights,
    )
    assert compare(case, case.table, by_group, metric) >= 2


@pytest.mark.parametrize("metric", sorted(SCORE_METRICS))
def test_score_metrics_match_metricframe(case: Case, metric: str) -> None:
    by_group = metric_frame(
        {metric: SCORE_METRICS[metric]},
        case.data.y_true,
        case.data.scores,
        case.sensitive,
        case.weights,
    )
    assert compare(case, case.table, by_group, metric) >= 2


def test_group_fairness_builds_the_same_tables(adult: Dataset) -> None:
    # The family's own path (scores prepared by group_fairness) gives the tables above.
    ctx = classification_context(adult, ["sex", "race"], weighted=True)
    ctx = AuditContext(**{**ctx.__dict__, "settings": replace(ctx.settings, bootstrap_resamples=0)})
    result = group_fairness(ctx)
    assert result.bootstrap is None
    for grouping, table in zip(ctx.groupings, result.tables, strict=True):
        assert table == group_table(ctx, grouping, scores=score_inputs(ctx, grouping))


def test_undefined_score_metrics_give_their_reasons(german: Dataset) -> None:
    # Keep only the actual negatives of one group: its AUC, AP and balanced accuracy have no
    # positives to rank or recall; its Brier score stays defined.
    frame = german.frame
    drop = ((frame["sex"] == "female") & (german.y_true == 1)).to_numpy()
    keep = ~drop
    data = Dataset(
        "german-no-female-positives",
        frame[keep].reset_index(drop=True),
        german.y_true[keep],
        german.y_pred[keep],
        german.scores[keep],
        german.weights[keep],
    )
    ctx = classification_context(data, ["sex"], weighted=False)
    grouping = ctx.groupings[0]
    table = group_table(ctx, grouping, scores=score_inputs(ctx, grouping))
    (female,) = [r for r in table.rows if r.group == "sex=female"]
    for metric in ("roc_auc", "average_precision", "balanced_accuracy", "f1_score"):
        cell = female.metrics[metric]
        if metric == "f1_score" and female.counts["fp"] > 0:
            assert cell.value.value == 0.0  # 2 TP / (2 TP + FP + FN) = 0 / FP
            continue
        assert cell.value.value is None and cell.value.reason == Reason.NO_POSITIVES, metric
    assert female.metrics["brier_score"].value.value is not None
    assert "sex=female" in table.summaries["roc_auc"].groups_excluded


# --- calibration ----------------------------------------------------------------------------


def reliability_bins(
    y: np.ndarray, s: np.ndarray, w: np.ndarray | None, n_bins: int = 10
) -> pd.DataFrame:
    """Rows, weight, weighted mean score and share of positives per score bin (pandas).

    Bins as calibration_curve's: (e_b, e_b+1] with 0 in the first (pandas.cut, right=True,
    include_lowest=True). Empty bins are dropped.
    """
    frame = pd.DataFrame(
        {
            "bin": pd.cut(
                pd.Series(s), list(np.linspace(0, 1, n_bins + 1)), right=True, include_lowest=True
            ),
            "w": np.ones(len(s)) if w is None else w,
        }
    )
    frame["wy"], frame["ws"] = frame["w"] * y, frame["w"] * s
    sums = frame.groupby("bin", observed=True).agg(
        n=("w", "size"), w=("w", "sum"), wy=("wy", "sum"), ws=("ws", "sum")
    )
    sums["fraction_positive"] = sums["wy"] / sums["w"]
    sums["mean_score"] = sums["ws"] / sums["w"]
    return sums


def test_reliability_table_matches_calibration_curve_and_pandas(case: Case) -> None:
    weights = case.weights
    for group, mask in case.masks().items():
        if not mask.any():
            assert group not in case.table.calibration
            continue
        bins = case.table.calibration[group]
        assert len(bins) == 10
        assert sum(b.n for b in bins) == mask.sum()
        filled = [b for b in bins if b.n > 0]
        y, s = case.data.y_true[mask], case.data.scores[mask]
        expected = reliability_bins(y, s, None if weights is None else weights[mask])
        assert [b.n for b in filled] == expected["n"].tolist(), group
        for b, (interval, e) in zip(filled, expected.iterrows(), strict=True):
            assert abs(b.high - interval.right) <= ATOL, (group, b, interval)  # type: ignore[attr-defined]
            assert b.fraction_positive is not None and b.mean_score is not None
            assert abs(b.fraction_positive - e["fraction_positive"]) <= ATOL, (group, b)
            assert abs(b.mean_score - e["mean_score"]) <= ATOL, (group, b)
        if weights is None:  # scikit-learn's curve takes no sample weights
            prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="uniform")
            assert len(filled) == len(prob_true), group
            for b, frac, mean in zip(filled, prob_true, prob_pred, strict=True):
                assert abs(b.fraction_positive - frac) <= ATOL, (group, b)
                assert abs(b.mean_score - mean) <= ATOL, (group, b)


def test_expected_calibration_error_matches_the_binned_definition(case: Case) -> None:
    # ECE = sum over bins of (bin weight / group weight) * |share positive - mean score|.
    weights = case.weights
    for group, mask in case.masks().items():
        cell = next(r for r in case.table.rows if r.group == group).metrics[
            "expected_calibration_error"
        ]
        if not mask.any():
            assert cell.value.value is None
            continue
        w = None if weights is None else weights[mask]
        bins = reliability_bins(case.data.y_true[mask], case.data.scores[mask], w)
        gaps = (bins["fraction_positive"] - bins["mean_score"]).abs()
        expected = float((bins["w"] * gaps).sum() / bins["w"].sum())
        assert cell.value.value is not None
        assert abs(cell.value.value - expected) <= ATOL, (case.name, group)


# --- score shares ---------------------------------------------------------------------------


def weighted_median(s: np.ndarray, w: np.ndarray | None) -> float:
    """Median; weighted: midpoint of the lower and upper weighted medians, over the distinct
    scores (the smallest with half the weight at or below it, the largest with half at or
    above it)."""
    if w is None:
        return float(pd.Series(s).median())
    per_score = pd.Series(w).groupby(s).sum().sort_index()
    half = per_score.sum() / 2
    lower = per_score.index[per_score.cumsum() >= half].min()
    upper = per_score.index[per_score[::-1].cumsum()[::-1] >= half].max()
    return float((lower + upper) / 2)


def shares_by_pandas(case: Case) -> pd.DataFrame:
    s = case.data.scores
    kth = np.sort(s)[::-1][TOP_K - 1]
    frame = case.data.frame[list(case.columns)].astype(str).copy()
    frame["w"] = 1.0 if case.weights is None else case.weights
    indicators = {
        "scoring_rate": s > weighted_median(s, case.weights),
        "top_k_share": s >= kth,  # every row tied with the k-th score is in
        "selection_rate_at_threshold": s >= SCORE_THRESHOLD,
    }
    for name, indicator in indicators.items():
        frame[name] = frame["w"] * indicator
    sums = frame.groupby(list(case.columns))[["w", *indicators]].sum()
    shares = sums[list(indicators)].div(sums["w"], axis=0)
    shares.index = [tuple(k) if isinstance(k, tuple) else (k,) for k in shares.index]
    return shares


@pytest.mark.parametrize("metric", ["scoring_rate", "top_k_share", "selection_rate_at_threshold"])
def test_score_shares_match_a_pandas_groupby(case: Case, metric: str) -> None:
    shares = shares_by_pandas(case)
    assert compare(case, case.table, shares, metric) >= 2
    # They are proportions: Wilson intervals around every defined value.
    for row in case.table.rows:
        value = row.metrics[metric].value
        if value.value is not None:
            assert value.ci_low is not None and value.ci_high is not None
            assert value.ci_low <= value.value <= value.ci_high


def test_top_k_includes_every_row_tied_with_the_kth_score(adult: Dataset) -> None:
    # A k whose k-th highest score is tied with the next one (found here, from the data).
    s = adult.scores
    ordered = np.sort(s)[::-1]
    k = next(k for k in range(100, len(s)) if ordered[k - 1] == ordered[k])
    selected = int((s >= ordered[k - 1]).sum())
    assert selected > k
    ctx = classification_context(adult, ["sex"], weighted=False)
    ctx = AuditContext(**{**ctx.__dict__, "settings": CheckSettings(min_group_size=1, top_k=k)})
    grouping = ctx.groupings[0]
    table = group_table(ctx, grouping, scores=score_inputs(ctx, grouping))
    for row in table.rows:
        mask = (adult.frame["sex"] == row.labels["sex"]).to_numpy()
        expected = (s[mask] >= ordered[k - 1]).mean()
        assert row.metrics["top_k_share"].value.value == pytest.approx(expected, abs=ATOL)
    in_top = sum(row.n * (row.metrics["top_k_share"].value.value or 0.0) for row in table.rows)
    assert in_top == pytest.approx(selected, abs=1e-9)


# --- regression -----------------------------------------------------------------------------


def regression_context(data: Dataset, columns: list[str], weighted: bool) -> AuditContext:
    frame = data.frame
    target = frame["hours-per-week"].to_numpy(dtype=np.float64)
    prediction = (25.0 + 0.15 * frame["age"] + 0.9 * frame["education-num"]).to_numpy(
        dtype=np.float64
    )
    no_labels = np.zeros(len(frame), dtype=bool)
    return AuditContext(
        frame=frame,
        labels=BinaryLabels(positive="1", other="0"),
        y_true=no_labels,
        y_pred=no_labels,
        scores=None,
        weights=data.weights if weighted else None,
        groupings=encode_groups(frame, columns),
        settings=CheckSettings(min_group_size=1),
        task="regression",
        target_values=target,
        predicted_values=prediction,
    )


REGRESSION_CASES = [(("sex",), False), (("race",), True), (("sex", "race"), False)]
REGRESSION_CASES += [(("sex", "race"), True)]


@pytest.mark.parametrize(
    ("columns", "weighted"),
    REGRESSION_CASES,
    ids=[f"{'x'.join(c)}-{'weighted' if w else 'unweighted'}" for c, w in REGRESSION_CASES],
)
def test_regression_metrics_match_metricframe(
    adult: Dataset, columns: tuple[str, ...], weighted: bool
) -> None:
    ctx = regression_context(adult, list(columns), weighted)
    grouping = ctx.groupings[-1]
    table = group_table(ctx, grouping)
    assert set(table.summaries) == set(REGRESSION_METRICS)
    assert table.criteria == {}  # the named criteria are classification criteria
    assert ctx.target_values is not None and ctx.predicted_values is not None
    sensitive = adult.frame[columns[0]] if len(columns) == 1 else adult.frame[list(columns)]
    by_group = metric_frame(
        REGRESSION_METRICS,
        ctx.target_values,
        ctx.predicted_values,
        sensitive,
        ctx.weights,
    )
    case = Case(f"regression-{columns}", adult, columns, weighted, grouping, table)
    for metric in REGRESSION_METRICS:
        assert compare(case, table, by_group, metric) >= 2, metric
        # Summaries: max - min and min / max over every group (min_group_size = 1).
        present = by_group[metric].dropna()
        summary = table.summaries[metric]
        assert summary.max_abs_difference.value == pytest.approx(
            present.max() - present.min(), abs=ATOL
        )
        if present.max() > 0 and present.min() >= 0:
            assert summary.min_max_ratio.value == pytest.approx(
                present.min() / present.max(), rel=1e-12
            )


def test_regression_bootstrap_gives_every_group_metric_an_interval(adult: Dataset) -> None:
    ctx = regression_context(adult, ["sex"], weighted=True)
    ctx = AuditContext(
        **{**ctx.__dict__, "settings": CheckSettings(min_group_size=1, bootstrap_resamples=40)}
    )
    result = group_fairness(ctx)
    assert result.bootstrap is not None and result.bootstrap.resamples == 40
    (table,) = result.tables
    for row in table.rows:
        for metric in REGRESSION_METRICS:
            value = row.metrics[metric].value
            assert value.value is not None and value.ci_low is not None, (row.group, metric)
            assert value.ci_high is not None and value.ci_low <= value.ci_high
    for metric in REGRESSION_METRICS:
        gap = table.summaries[metric].max_abs_difference
        assert gap.ci_low is not None and gap.ci_high is not None


def test_r2_of_a_constant_target_group_is_undefined(adult: Dataset) -> None:
    # Make one group's target constant: scikit-learn's r2_score gives 0 or 1 there (by its
    # force_finite convention); auditor reports it undefined, with the reason.
    ctx = regression_context(adult, ["sex"], weighted=False)
    assert ctx.target_values is not None
    women = (adult.frame["sex"] == "Female").to_numpy()
    target = np.where(women, 40.0, ctx.target_values)
    ctx = AuditContext(**{**ctx.__dict__, "target_values": target})
    table = group_table(ctx, ctx.groupings[0])
    (female,) = [r for r in table.rows if r.group == "sex=Female"]
    cell = female.metrics["r2_score"]
    assert cell.value.value is None and cell.value.reason == Reason.CONSTANT_TARGET
    assert ctx.predicted_values is not None
    mae = skm.mean_absolute_error(target[women], ctx.predicted_values[women])
    assert female.metrics["mean_absolute_error"].value.value == pytest.approx(mae, abs=ATOL)
