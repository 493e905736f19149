"""Regression audits (``task="regression"``): numbers by group, inputs checked, own policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_absolute_error, r2_score

from auditor import audit
from auditor.errors import InputError, UsageError

ADULT = Path(__file__).parents[1] / "data" / "adult.csv"


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    frame = pd.read_csv(ADULT)
    rng = np.random.default_rng(7)
    frame["predicted_hours"] = 30 + 0.25 * frame["age"] + rng.normal(0, 6, len(frame))
    return frame


@pytest.fixture(scope="module")
def result(adult: pd.DataFrame):  # type: ignore[no-untyped-def]
    return audit(
        adult,
        target="hours-per-week",
        prediction="predicted_hours",
        sensitive=["sex", "race"],
        task="regression",
    )


def test_regression_uses_the_regression_policy_and_records_the_task(result) -> None:  # type: ignore[no-untyped-def]
    assert result.policy.name == "regression"
    assert result.setup.task == "regression"
    assert result.setup.pos_label is None and result.setup.other_label is None
    assert {f.rule_id for f in result.findings} >= {"mean-prediction-impact-ratio", "error-parity"}
    assert all(f.verdict != "error" for f in result.findings)


def test_group_values_equal_pandas_and_sklearn(result, adult: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    (sex,) = [t for t in result.check("fairness").tables if t.attribute == "sex"]
    for row in sex.rows:
        part = adult[adult["sex"] == row.labels["sex"]]
        y, p = part["hours-per-week"], part["predicted_hours"]
        metrics = row.metrics
        assert metrics["mean_prediction"].value.value == pytest.approx(p.mean(), rel=1e-12)
        assert metrics["mean_target"].value.value == pytest.approx(y.mean(), rel=1e-12)
        mae = metrics["mean_absolute_error"].value.value
        assert mae == pytest.approx(mean_absolute_error(y, p), rel=1e-12)
        assert metrics["r2_score"].value.value == pytest.approx(r2_score(y, p), rel=1e-10)
        low, high = (
            metrics["mean_prediction"].value.ci_low,
            metrics["mean_prediction"].value.ci_high,
        )
        assert low is not None and high is not None and low < p.mean() < high
    impact = sex.summaries["mean_prediction"].min_max_ratio
    means = adult.groupby("sex")["predicted_hours"].mean()
    assert impact.value == pytest.approx(means.min() / means.max(), rel=1e-12)
    assert not sex.criteria  # the named criteria are about classifications


def test_overall_performance_is_regression_performance(result, adult: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    overall = result.check("performance").overall
    y, p = adult["hours-per-week"], adult["predicted_hours"]
    assert overall["mean_absolute_error"].value == pytest.approx(mean_absolute_error(y, p))
    assert overall["r2_score"].value == pytest.approx(r2_score(y, p), rel=1e-10)
    assert "accuracy" not in overall


def test_a_regressor_in_memory_is_audited(adult: pd.DataFrame) -> None:
    features = ["age", "education-num"]
    model = LinearRegression().fit(adult[features], adult["hours-per-week"])
    frame = adult[[*features, "hours-per-week", "sex"]]
    result = audit(frame, target="hours-per-week", model=model, sensitive="sex", task="regression")
    assert result.setup.mode == "model" and result.setup.model is not None
    (table,) = result.check("fairness").tables
    expected = model.predict(frame[features])[frame["sex"].to_numpy() == "Female"].mean()
    (female,) = [r for r in table.rows if r.group == "sex=Female"]
    assert female.metrics["mean_prediction"].value.value == pytest.approx(expected, rel=1e-12)


def test_a_classifier_is_refused_in_a_regression_audit(adult: pd.DataFrame) -> None:
    frame = adult[["age", "hours-per-week", "sex"]].assign(y=adult["age"] > 40)
    model = LogisticRegression().fit(frame[["age"]], frame["y"])
    with pytest.raises(InputError, match="is a classifier"):
        audit(
            frame[["age", "hours-per-week", "sex"]],
            target="hours-per-week",
            model=model,
            sensitive="sex",
            task="regression",
        )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"target": "workclass"}, InputError, "is not numeric"),
        ({"pos_label": 1}, UsageError, "--pos-label and --score are for classification"),
    ],
)
def test_regression_inputs_are_checked(
    adult: pd.DataFrame, change: dict[str, object], error: type[Exception], match: str
) -> None:
    kwargs: dict[str, object] = {
        "target": "hours-per-week",
        "prediction": "predicted_hours",
        "sensitive": "sex",
        "task": "regression",
        **change,
    }
    with pytest.raises(error, match=match):
        audit(adult, **kwargs)  # type: ignore[arg-type]


def test_missing_predictions_are_refused_with_their_rows(adult: pd.DataFrame) -> None:
    frame = adult.assign(predicted_hours=adult["predicted_hours"].where(adult.index != 3))
    with pytest.raises(InputError, match=r"1 missing or infinite value\(s\) \(rows 3\)"):
        audit(
            frame,
            target="hours-per-week",
            prediction="predicted_hours",
            sensitive="sex",
            task="regression",
        )
