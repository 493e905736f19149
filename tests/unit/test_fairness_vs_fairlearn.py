"""Per-group rates, disparities and summaries against fairlearn's MetricFrame on real data.

Adult (sex, race, sex x race; '>50K' positive; predictions of a fixed rule on education and
capital gain, with and without the census weight ``fnlwgt``) and German Credit (the sample
skops model's predictions; credit 1 = good is positive; sex, age_group and their
intersection, with and without random weights). fairlearn and scikit-learn compute every
expected value from the labels (German's 1/2 as they are, Adult's as 1 for '>50K' and 0
otherwise, which keeps scikit-learn fast); auditor gets its own boolean inputs, or the raw
labels in the end-to-end audit() tests.

Adult is every 8th row (4,071 rows): MetricFrame costs about 0.35 s per metric on the full
32,561 rows (it re-stacks y_true and y_pred element by element for every metric), and these
tests build dozens of frames. The rule is deterministic, so every rate of every sex x race
group of this sample is defined (checked in the fixture); the end-to-end audit() test runs
on the full file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)

from auditor.checks.fairness import group_table
from auditor.context import AuditContext, CheckSettings
from auditor.groups import encode_groups
from auditor.inputs.labels import BinaryLabels
from auditor.inputs.model_files import load_model_file
from auditor.results import GroupTable
from auditor.stats.confusion import RATES

ROOT = Path(__file__).resolve().parents[2]
ADULT_CSV = ROOT / "tests" / "data" / "adult.csv"
GERMAN_CSV = ROOT / "sample_models" / "data" / "german_credit_audit.csv"
GERMAN_MODEL = ROOT / "sample_models" / "german_credit_model.skops"
ATOL = 1e-12


@dataclass(frozen=True)
class Dataset:
    name: str
    frame: pd.DataFrame
    y_true: np.ndarray  # labels as fairlearn gets them (German 1/2, Adult 1/0)
    y_pred: np.ndarray
    pos: Any
    neg: Any
    weights: np.ndarray


def adult_rule(frame: pd.DataFrame) -> np.ndarray:
    """A fixed decision rule: '>50K' for a degree (13+ years of education) or capital gains."""
    positive = (frame["education-num"] >= 13) | (frame["capital-gain"] >= 5000)
    return np.where(positive.to_numpy(), ">50K", "<=50K")


def as_int(labels: np.ndarray) -> np.ndarray:
    """'>50K' -> 1, '<=50K' -> 0 for fairlearn (scikit-learn is slower on strings)."""
    assert set(np.unique(labels)) == {"<=50K", ">50K"}
    return (labels == ">50K").astype(np.int64)


@pytest.fixture(scope="module")
def adult_full() -> Dataset:
    frame = pd.read_csv(ADULT_CSV)
    assert len(frame) == 32561
    target = frame["income-per-year"].to_numpy()
    weights = frame["fnlwgt"].to_numpy(dtype=np.float64)
    return Dataset("adult_full", frame, as_int(target), as_int(adult_rule(frame)), 1, 0, weights)


@pytest.fixture(scope="module")
def adult(adult_full: Dataset) -> Dataset:
    frame = adult_full.frame.iloc[::8].reset_index(drop=True)
    target = frame["income-per-year"].to_numpy()
    y_pred = adult_rule(frame)
    # Every rate defined in every sex x race group (no 0/0 for fairlearn to turn into 0).
    cells = pd.DataFrame(
        {
            "pos": target == ">50K",
            "ppos": y_pred == ">50K",
            "sex": frame["sex"],
            "race": frame["race"],
        }
    )
    sums = cells.groupby(["sex", "race"])[["pos", "ppos"]].agg(["sum", "count"])
    for col in ("pos", "ppos"):
        assert (sums[(col, "sum")] > 0).all() and (sums[(col, "sum")] < sums[(col, "count")]).all()
    weights = frame["fnlwgt"].to_numpy(dtype=np.float64)
    return Dataset("adult", frame, as_int(target), as_int(y_pred), 1, 0, weights)


@pytest.fixture(scope="module")
def german() -> Dataset:
    frame = pd.read_csv(GERMAN_CSV)
    model = load_model_file(GERMAN_MODEL).estimator
    y_pred = np.asarray(model.predict(frame[list(model.feature_names_in_)]))
    assert set(np.unique(y_pred)) == {1, 2}
    weights = np.random.default_rng(20261128).uniform(0.25, 4.0, size=len(frame))
    return Dataset("german", frame, frame["credit"].to_numpy(), y_pred, 1, 2, weights)


# --- the independent computations ---------------------------------------------------------


def _cm(y_t: Any, y_p: Any, pos: Any, sample_weight: Any = None) -> tuple[float, ...]:
    """(TN, FP, FN, TP), weighted: plain numpy (scikit-learn's validation is slow per group)."""
    t, p = np.asarray(y_t) == pos, np.asarray(y_p) == pos
    w = np.ones(t.size) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return w[~t & ~p].sum(), w[~t & p].sum(), w[t & ~p].sum(), w[t & p].sum()


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def reference_metrics(pos: Any, neg: Any) -> dict[str, Any]:
    """fairlearn / scikit-learn functions for every rate auditor reports, plus the count."""

    def base_rate(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
        return float(np.average(np.asarray(y_t) == pos, weights=sample_weight))

    def false_discovery_rate(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
        _tn, fp, _fn, tp = _cm(y_t, y_p, pos, sample_weight)
        return _ratio(fp, tp + fp)

    def false_omission_rate(y_t: Any, y_p: Any, sample_weight: Any = None) -> float:
        tn, _fp, fn, _tp = _cm(y_t, y_p, pos, sample_weight)
        return _ratio(fn, tn + fn)

    return {
        "selection_rate": partial(selection_rate, pos_label=pos),
        "base_rate": base_rate,
        "true_positive_rate": partial(true_positive_rate, pos_label=pos),
        "false_negative_rate": partial(false_negative_rate, pos_label=pos),
        "false_positive_rate": partial(false_positive_rate, pos_label=pos),
        "true_negative_rate": partial(true_negative_rate, pos_label=pos),
        "precision": partial(skm.precision_score, pos_label=pos, zero_division=np.nan),
        # NPV is the precision of the negative class.
        "negative_predictive_value": partial(
            skm.precision_score, pos_label=neg, zero_division=np.nan
        ),
        "false_discovery_rate": false_discovery_rate,
        "false_omission_rate": false_omission_rate,
        "accuracy": skm.accuracy_score,
        "count": count,
    }


def test_reference_metrics_cover_every_rate() -> None:
    assert set(RATES) | {"count"} == set(reference_metrics(1, 0))


@dataclass(frozen=True)
class Case:
    name: str
    data: Dataset
    columns: tuple[str, ...]
    weighted: bool
    table: GroupTable
    frame: MetricFrame
    sensitive: pd.Series | pd.DataFrame

    def fairlearn_key(self, labels: dict[str, str]) -> tuple[str, ...]:
        return tuple(labels[c] for c in self.columns)

    def by_group(self) -> pd.DataFrame:
        """MetricFrame.by_group with a tuple-of-strings index, to match auditor's labels."""
        by_group = self.frame.by_group.copy()
        by_group.index = [
            tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))) for k in by_group.index
        ]
        return by_group


def build_context(
    data: Dataset,
    columns: list[str],
    *,
    weighted: bool = False,
    references: dict[str, str] | None = None,
    min_group_size: int = 1,
) -> AuditContext:
    groupings = encode_groups(data.frame, columns, references=references)
    return AuditContext(
        frame=data.frame,
        labels=BinaryLabels(positive=str(data.pos), other=str(data.neg)),
        y_true=np.asarray(data.y_true == data.pos, dtype=bool),
        y_pred=np.asarray(data.y_pred == data.pos, dtype=bool),
        scores=None,
        weights=data.weights if weighted else None,
        groupings=groupings,
        settings=CheckSettings(min_group_size=min_group_size),
    )


_FRAMES: dict[tuple[str, tuple[str, ...], bool], tuple[MetricFrame, Any]] = {}


def metric_frame(data: Dataset, columns: list[str], weighted: bool) -> tuple[MetricFrame, Any]:
    """fairlearn's MetricFrame of every reference metric (memoised: frames are slow to build)."""
    key = (data.name, tuple(columns), weighted)
    if key not in _FRAMES:
        _FRAMES[key] = _metric_frame(data, columns, weighted)
    return _FRAMES[key]


def _metric_frame(data: Dataset, columns: list[str], weighted: bool) -> tuple[MetricFrame, Any]:
    metrics = reference_metrics(data.pos, data.neg)
    sensitive = data.frame[columns[0]] if len(columns) == 1 else data.frame[columns]
    params = None
    if weighted:
        params = {m: {"sample_weight": data.weights} for m in metrics if m != "count"}
    mf = MetricFrame(
        metrics=metrics,
        y_true=data.y_true,
        y_pred=data.y_pred,
        sensitive_features=sensitive,
        sample_params=params,
    )
    return mf, sensitive


# Each MetricFrame of twelve metrics costs about a second here, so the cases are chosen:
# every attribute and intersection unweighted on Adult, the intersection also weighted;
# German Credit with and without weights.
CASES = [
    ("adult", ("sex",), False),
    ("adult", ("race",), False),
    ("adult", ("sex", "race"), False),
    ("adult", ("sex", "race"), True),
    ("german", ("sex",), False),
    ("german", ("age_group",), True),
    ("german", ("sex", "age_group"), False),
    ("german", ("sex", "age_group"), True),
]
# The named fairlearn metrics each build their own MetricFrames: two cases suffice.
NAMED_CASES = [
    ("adult", ("sex", "race"), True),
    ("german", ("sex", "age_group"), False),
]


def case_id(param: tuple[str, tuple[str, ...], bool]) -> str:
    dataset, columns, weighted = param
    return f"{dataset}-{'x'.join(columns)}-{'weighted' if weighted else 'unweighted'}"


@pytest.fixture(
    scope="module",
    params=CASES,
    ids=case_id,
)
def case(request: pytest.FixtureRequest) -> Case:
    dataset, columns, weighted = request.param
    data: Dataset = request.getfixturevalue(dataset)
    ctx = build_context(data, list(columns), weighted=weighted)
    grouping = ctx.groupings[-1]  # the single attribute, or the intersection
    assert grouping.columns == columns
    mf, sensitive = metric_frame(data, list(columns), weighted)
    return Case(
        name=request.node.name,
        data=data,
        columns=columns,
        weighted=weighted,
        table=group_table(ctx, grouping),
        frame=mf,
        sensitive=sensitive,
    )


# --- per-group values ---------------------------------------------------------------------


def test_groups_are_the_observed_groups_and_empty_ones_are_undefined(case: Case) -> None:
    by_group = case.by_group()
    observed = {case.fairlearn_key(row.labels) for row in case.table.rows if row.n > 0}
    assert observed == set(by_group.index)
    for row in case.table.rows:
        if row.n == 0:
            assert all(cell.value.value is None for cell in row.metrics.values())
    # Every row is in exactly one group.
    assert sum(row.n for row in case.table.rows) == len(case.data.frame)


def test_group_counts_match_fairlearn_count(case: Case) -> None:
    by_group = case.by_group()
    for row in case.table.rows:
        if row.n > 0:
            assert row.n == by_group.loc[[case.fairlearn_key(row.labels)], "count"].iloc[0]
            if case.weighted:
                mask = (
                    case.sensitive.astype(str).eq(pd.Series(row.labels)).all(axis=1)
                    if isinstance(case.sensitive, pd.DataFrame)
                    else case.sensitive.astype(str) == row.labels[case.columns[0]]
                ).to_numpy()
                assert row.weight_sum == pytest.approx(case.data.weights[mask].sum(), rel=1e-12)


@pytest.mark.parametrize("metric", sorted(RATES))
def test_group_values_match_metricframe(case: Case, metric: str) -> None:
    by_group = case.by_group()
    for row in case.table.rows:
        if row.n == 0:
            continue
        expected = by_group.loc[[case.fairlearn_key(row.labels)], metric].iloc[0]
        got = row.metrics[metric].value.value
        if got is None:
            assert np.isnan(expected), (case.name, metric, row.group, expected)
        else:
            assert abs(got - expected) <= ATOL, (case.name, metric, row.group, got, expected)


# --- disparities --------------------------------------------------------------------------


def _check_disparities(case: Case, table: GroupTable, reference: tuple[str, ...]) -> None:
    by_group = case.by_group()
    ref_key = tuple(reference)
    for metric in RATES:
        ref_value = by_group.loc[[ref_key], metric].iloc[0]
        highest = by_group[metric].max()  # every group is eligible (min_group_size = 1)
        for row in table.rows:
            if row.n == 0:
                continue
            value = by_group.loc[[case.fairlearn_key(row.labels)], metric].iloc[0]
            cell = row.metrics[metric]
            where = (case.name, metric, row.group)
            diff = cell.difference_to_reference.value
            assert diff is not None and abs(diff - (value - ref_value)) <= ATOL, where
            if ref_value == 0:
                assert cell.ratio_to_reference.value is None, where
            else:
                ratio = cell.ratio_to_reference.value
                assert ratio == pytest.approx(value / ref_value, rel=1e-12, abs=ATOL), where
            to_highest = cell.ratio_to_highest.value
            assert to_highest == pytest.approx(value / highest, rel=1e-12, abs=ATOL), where


def test_disparities_to_the_default_reference_match_by_group_arithmetic(case: Case) -> None:
    # The default reference is the largest group (by rows), computed here with pandas.
    sizes = case.data.frame.groupby(list(case.columns)).size()
    largest = sizes.idxmax()
    largest = tuple(str(v) for v in (largest if isinstance(largest, tuple) else (largest,)))
    expected_key = " & ".join(f"{c}={v}" for c, v in zip(case.columns, largest, strict=True))
    assert case.table.reference == expected_key
    assert case.table.reference_rule == "largest_group"
    _check_disparities(case, case.table, largest)


@pytest.mark.parametrize(
    ("dataset", "references", "weighted"),
    [
        ("adult", {"sex": "Female", "race": "Black"}, False),
        ("german", {"sex": "female", "age_group": "under 25"}, True),
    ],
)
def test_disparities_to_a_chosen_reference_match_by_group_arithmetic(
    request: pytest.FixtureRequest, dataset: str, references: dict[str, str], weighted: bool
) -> None:
    data: Dataset = request.getfixturevalue(dataset)
    columns = list(references)
    ctx = build_context(data, columns, weighted=weighted, references=references)
    for grouping in ctx.groupings:
        table = group_table(ctx, grouping)
        reference = tuple(references[c] for c in grouping.columns)
        assert table.reference == " & ".join(f"{c}={references[c]}" for c in grouping.columns)
        assert table.reference_rule == "user"
        mf, sensitive = metric_frame(data, list(grouping.columns), weighted)
        case = Case(
            name=f"{dataset}-{grouping.attribute}",
            data=data,
            columns=grouping.columns,
            weighted=weighted,
            table=table,
            frame=mf,
            sensitive=sensitive,
        )
        _check_disparities(case, table, reference)


# --- summaries ----------------------------------------------------------------------------


@pytest.mark.parametrize("metric", sorted(RATES))
def test_summaries_match_metricframe_between_groups(case: Case, metric: str) -> None:
    summary = case.table.summaries[metric]
    ratio = case.frame.ratio(method="between_groups")[metric]
    difference = case.frame.difference(method="between_groups")[metric]
    observed = [row.group for row in case.table.rows if row.n > 0]
    assert summary.groups_compared == observed
    assert summary.max_abs_difference.value == pytest.approx(difference, abs=ATOL)
    assert summary.min_max_ratio.value == pytest.approx(ratio, rel=1e-12, abs=ATOL)


@pytest.mark.parametrize("case", NAMED_CASES, ids=case_id, indirect=True)
def test_summaries_match_fairlearn_named_fairness_metrics(case: Case) -> None:
    y_true = (case.data.y_true == case.data.pos).astype(int)
    y_pred = (case.data.y_pred == case.data.pos).astype(int)
    kwargs = {
        "sensitive_features": case.sensitive,
        "sample_weight": case.data.weights if case.weighted else None,
    }
    s = case.table.summaries
    dp_diff = demographic_parity_difference(y_true, y_pred, **kwargs)
    dp_ratio = demographic_parity_ratio(y_true, y_pred, **kwargs)
    assert s["selection_rate"].max_abs_difference.value == pytest.approx(dp_diff, abs=ATOL)
    assert s["selection_rate"].min_max_ratio.value == pytest.approx(dp_ratio, abs=ATOL)
    # Equalized odds (worst case) is the worse of the TPR and the FPR disparity.
    tpr, fpr = s["true_positive_rate"], s["false_positive_rate"]
    assert tpr.max_abs_difference.value is not None and fpr.max_abs_difference.value is not None
    assert tpr.min_max_ratio.value is not None and fpr.min_max_ratio.value is not None
    eo_diff = equalized_odds_difference(y_true, y_pred, **kwargs)
    eo_ratio = equalized_odds_ratio(y_true, y_pred, **kwargs)
    assert max(tpr.max_abs_difference.value, fpr.max_abs_difference.value) == pytest.approx(
        eo_diff, abs=ATOL
    )
    assert min(tpr.min_max_ratio.value, fpr.min_max_ratio.value) == pytest.approx(
        eo_ratio, abs=ATOL
    )
    assert tpr.max_abs_difference.value == pytest.approx(
        equal_opportunity_difference(y_true, y_pred, **kwargs), abs=ATOL
    )
    assert tpr.min_max_ratio.value == pytest.approx(
        equal_opportunity_ratio(y_true, y_pred, **kwargs), abs=ATOL
    )


def test_small_groups_leave_the_summary(adult: Dataset) -> None:
    # min_group_size = the third-smallest sex x race group's size (counted here with pandas):
    # the two smallest groups are left out, and the summary is MetricFrame's over the rest.
    sizes = adult.frame.groupby(["sex", "race"]).size()
    min_group_size = int(sizes.sort_values().iloc[2])
    ctx = build_context(adult, ["sex", "race"], min_group_size=min_group_size)
    table = group_table(ctx, ctx.groupings[-1])
    kept = sizes[sizes >= min_group_size].index
    assert len(kept) == len(sizes) - 2
    mf, _ = metric_frame(adult, ["sex", "race"], weighted=False)
    eligible = mf.by_group.loc[kept]
    for metric in RATES:
        summary = table.summaries[metric]
        assert len(summary.groups_compared) == len(kept)
        assert set(summary.groups_excluded.values()) == {"below_min_group_size"}
        low, high = eligible[metric].min(), eligible[metric].max()
        assert summary.max_abs_difference.value == pytest.approx(high - low, abs=ATOL), metric
        assert summary.min_max_ratio.value == pytest.approx(low / high, rel=1e-12), metric
        # ratio_to_highest divides by the highest *eligible* group, for every group.
        for row in table.rows:
            value = mf.by_group.loc[[(row.labels["sex"], row.labels["race"])], metric].iloc[0]
            got = row.metrics[metric].ratio_to_highest.value
            assert got == pytest.approx(value / high, rel=1e-12), (metric, row.group)


# --- end to end through audit() ------------------------------------------------------------


def _fairness_tables(result: Any) -> dict[str, GroupTable]:
    (fairness,) = [c for c in result.checks if c.family == "fairness"]
    assert fairness.status == "ok", fairness.error
    return {t.attribute: t for t in fairness.tables}


def test_audit_model_mode_on_german_credit_matches_fairlearn(german: Dataset) -> None:
    from auditor.api import audit

    result = audit(
        GERMAN_CSV,
        target="credit",
        sensitive=["sex", "age_group"],
        model=GERMAN_MODEL,
        pos_label=1,
    )
    assert result.setup.pos_label == "1"
    tables = _fairness_tables(result)
    assert set(tables) == {"sex", "age_group", "sex & age_group"}
    for attribute, table in tables.items():
        columns = table.columns
        mf, _ = metric_frame(german, columns, weighted=False)
        by_group = mf.by_group.copy()
        by_group.index = [tuple(k) if isinstance(k, tuple) else (k,) for k in by_group.index]
        for row in table.rows:
            key = tuple(row.labels[c] for c in columns)
            for metric in RATES:
                expected = by_group.loc[[key], metric].iloc[0]
                got = row.metrics[metric].value.value
                assert got is not None and abs(got - expected) <= ATOL, (attribute, metric, key)
    # Overall performance against scikit-learn on the same predictions.
    (performance,) = [c for c in result.checks if c.family == "performance"]
    y_t, y_p = german.y_true, german.y_pred
    assert performance.overall["n"].value == len(german.frame)
    assert performance.overall["accuracy"].value == pytest.approx(
        skm.accuracy_score(y_t, y_p), abs=ATOL
    )
    assert performance.overall["precision"].value == pytest.approx(
        skm.precision_score(y_t, y_p, pos_label=1), abs=ATOL
    )
    assert performance.overall["true_positive_rate"].value == pytest.approx(
        skm.recall_score(y_t, y_p, pos_label=1), abs=ATOL
    )
    assert performance.overall["negative_predictive_value"].value == pytest.approx(
        skm.precision_score(y_t, y_p, pos_label=2), abs=ATOL
    )


def test_audit_decisions_mode_on_full_adult_matches_fairlearn(adult_full: Dataset) -> None:
    from auditor.api import audit

    data = adult_full
    result = audit(
        data.frame,
        target="income-per-year",
        sensitive=["sex", "race"],
        prediction=adult_rule(data.frame),  # auditor gets the raw labels
        weight="fnlwgt",
        pos_label=">50K",
    )
    assert result.setup.pos_label == ">50K"
    assert result.setup.rows == len(data.frame)
    table = _fairness_tables(result)["sex & race"]
    # A small MetricFrame (each metric costs a pass over all 32,561 rows).
    metrics = {
        name: reference_metrics(data.pos, data.neg)[name]
        for name in ("selection_rate", "true_positive_rate")
    }
    mf = MetricFrame(
        metrics=metrics,
        y_true=data.y_true,
        y_pred=data.y_pred,
        sensitive_features=data.frame[["sex", "race"]],
        sample_params={m: {"sample_weight": data.weights} for m in metrics},
    )
    sizes = data.frame.groupby(["sex", "race"]).size()
    assert {(r.labels["sex"], r.labels["race"]) for r in table.rows} == set(mf.by_group.index)
    for row in table.rows:
        key = (row.labels["sex"], row.labels["race"])
        assert row.n == sizes.loc[key]
        for metric in metrics:
            expected = mf.by_group.loc[[key], metric].iloc[0]
            got = row.metrics[metric].value.value
            assert got is not None and abs(got - expected) <= ATOL, (metric, key)
    # The default policy's min_group_size (30) leaves every sex x race group of Adult in.
    summary = table.summaries["selection_rate"]
    assert summary.min_max_ratio.value == pytest.approx(
        mf.ratio(method="between_groups")["selection_rate"], rel=1e-12
    )


# --- the zero_division trap: a group with no actual positives -------------------------------


def test_group_without_positives_is_undefined_where_fairlearn_reports_zero(adult: Dataset) -> None:
    # Drop the actual positives of one real group: its TPR and FNR become 0/0.
    frame = adult.frame
    in_group = (frame["sex"] == "Female") & (frame["race"] == "Amer-Indian-Eskimo")
    keep = ~(in_group & (frame["income-per-year"] == ">50K")).to_numpy()
    data = Dataset(
        "adult-no-positives",
        frame[keep].reset_index(drop=True),
        adult.y_true[keep],
        adult.y_pred[keep],
        adult.pos,
        adult.neg,
        adult.weights[keep],
    )
    key = ("Female", "Amer-Indian-Eskimo")
    assert (data.y_true[in_group.to_numpy()[keep]] == data.neg).all()
    ctx = build_context(data, ["sex", "race"])
    table = group_table(ctx, ctx.groupings[-1])
    row = next(r for r in table.rows if tuple(r.labels.values()) == key)
    metrics = {m: reference_metrics(data.pos, data.neg)[m] for m in ("true_positive_rate",)}
    mf = MetricFrame(
        metrics=metrics,
        y_true=data.y_true,
        y_pred=data.y_pred,
        sensitive_features=data.frame[["sex", "race"]],
    )
    # fairlearn (via sklearn's normalised confusion matrix) reports 0 for 0/0 ...
    assert mf.by_group.loc[[key], "true_positive_rate"].iloc[0] == 0.0
    # ... auditor reports it undefined, with the reason, and never as a number.
    for metric in ("true_positive_rate", "false_negative_rate"):
        cell = row.metrics[metric]
        assert cell.value.value is None and cell.value.reason == "no_positives"
        assert cell.difference_to_reference.value is None
        assert cell.ratio_to_highest.value is None
        summary = table.summaries[metric]
        assert summary.groups_excluded == {row.group: "no_positives"}
    # The TPR summary is fairlearn's over the other groups, not fairlearn's own ratio() of 0.
    others = mf.by_group["true_positive_rate"].drop(index=[key])
    summary = table.summaries["true_positive_rate"]
    assert mf.ratio(method="between_groups")["true_positive_rate"] == 0.0
    assert summary.min_max_ratio.value == pytest.approx(others.min() / others.max(), rel=1e-12)
    assert summary.max_abs_difference.value == pytest.approx(others.max() - others.min(), abs=ATOL)
