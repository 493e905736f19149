"""SHAP engine on regressors: each family agrees with shap and adds up to the model's output.

Real data: German credit, predicting the credit amount (in the hundreds to thousands, so the
tolerance, relative to the output's magnitude, is tested at scale) from the numeric columns
(and, for the Pipeline, categorical ones); trained on 700 rows, explained on the 300 others.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pytest
import shap
import xgboost
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, PoissonRegressor, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from auditor.errors import InputError
from auditor.explain.shap_values import Explanation, explain

GERMAN = Path(__file__).resolve().parents[2] / "sample_models" / "data" / "german_credit.csv"
NUMERIC = [
    "month",
    "age",
    "investment_as_income_percentage",
    "residence_since",
    "number_of_credits",
    "people_liable_for",
]
CATEGORICAL = ["status", "credit_history", "purpose", "savings", "housing"]
TARGET = "credit_amount"
EXACT = 1e-6  # agreement with shap, relative to the output's magnitude like the tolerance
FLOAT32 = 1e-4  # XGBoost's float32 contributions
ONE_THREAD = {"n_jobs": 1}


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """OpenMP and BLAS on one thread: the many tiny model calls of sampled SHAP thrash otherwise."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def german() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """700 training rows (numeric and categorical features) with the amount, and 300 others."""
    frame = pd.read_csv(GERMAN).sample(frac=1.0, random_state=3).reset_index(drop=True)
    features = frame[NUMERIC + CATEGORICAL].astype({c: np.float64 for c in NUMERIC})
    y = frame[TARGET].to_numpy(dtype=np.float64)
    return features.iloc[:700], y[:700], features.iloc[700:]


@pytest.fixture(scope="module")
def numeric(german) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    train, y, rows = german
    return train[NUMERIC], y, rows[NUMERIC]


def scale_of(e: Explanation) -> float:
    return max(1.0, float(np.max(np.abs(e.model_output))))


def check(e: Explanation, rows: pd.DataFrame, scale: str, relative: float = EXACT) -> None:
    """Exact, shaped like the rows, on ``scale``, and adding up within the stated tolerance."""
    assert e.exact and e.rows_explained == len(rows)
    assert e.values.shape == (len(rows), rows.shape[1]) and e.values.dtype == np.float64
    assert e.features == list(rows.columns)
    assert e.output_scale == scale
    assert e.tolerance == pytest.approx(relative * scale_of(e))
    gap = float(np.max(np.abs(e.base_value + e.values.sum(axis=1) - e.model_output)))
    assert e.max_additivity_error == pytest.approx(gap, abs=1e-12)
    assert e.max_additivity_error < e.tolerance


def close(actual: np.ndarray, expected: np.ndarray, e: Explanation, relative: float = EXACT):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=relative * scale_of(e))


# --- linear -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [LinearRegression(), Ridge(alpha=30.0)], ids=type)
def test_linear_regressors_match_shap_with_full_background(numeric, model) -> None:
    train, y, rows = numeric
    model.fit(train, y)
    e = explain(model, rows, background=train)
    check(e, rows, "predicted value")
    assert e.method == "exact linear SHAP (interventional, mean of the full background of 700 rows)"
    masker = shap.maskers.Independent(train, max_samples=len(train))
    explainer = shap.LinearExplainer(model, masker)
    close(e.values, explainer.shap_values(rows), e)
    assert e.base_value == pytest.approx(float(explainer.expected_value), abs=EXACT)
    np.testing.assert_array_equal(e.model_output, model.predict(rows))
    ignored = explain(model, rows, positive_index=0, background=train)  # no class to pick
    np.testing.assert_array_equal(ignored.values, e.values)


def test_poisson_glm_is_explained_on_the_log_scale(numeric) -> None:
    train, y, rows = numeric
    scaler = StandardScaler().fit(train)
    scaled, background = (pd.DataFrame(scaler.transform(f), columns=NUMERIC) for f in (rows, train))
    model = PoissonRegressor(alpha=1e-3).fit(background, y)
    e = explain(model, scaled, background=background)
    check(e, scaled, "log of the predicted value")
    np.testing.assert_allclose(np.exp(e.model_output), model.predict(scaled), rtol=1e-12)
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.LinearExplainer((model.coef_, model.intercept_), masker)
    close(e.values, explainer.shap_values(scaled.to_numpy()), e)
    assert any("exp(raw score)" in note for note in e.notes)


# --- scikit-learn trees -------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        RandomForestRegressor(n_estimators=30, max_depth=6, random_state=1),
        GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=1),
        GradientBoostingRegressor(loss="quantile", alpha=0.9, n_estimators=40, random_state=1),
    ],
    ids=["forest", "boosting", "quantile-boosting"],
)
def test_sklearn_tree_regressors_match_shap(numeric, model) -> None:
    train, y, rows = numeric
    model.fit(train, y)
    e = explain(model, rows, positive_index=0)  # ignored
    check(e, rows, "predicted value")
    assert e.method == f"shap TreeExplainer (tree_path_dependent) on {type(model).__name__}"
    explainer = shap.TreeExplainer(model)
    close(e.values, explainer.shap_values(rows), e)
    assert e.base_value == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=EXACT)
    np.testing.assert_array_equal(e.model_output, model.predict(rows))
    quantile = [n for n in e.notes if "conditional 0.9-quantile" in n]
    assert len(quantile) == (model.get_params().get("loss") == "quantile")


def test_poisson_hist_gradient_boosting_is_explained_on_the_log_scale(numeric) -> None:
    train, y, rows = numeric
    model = HistGradientBoostingRegressor(loss="poisson", max_iter=30, random_state=1)
    model.fit(train, y)
    e = explain(model, rows)
    check(e, rows, "log of the predicted value")
    close(e.values, shap.TreeExplainer(model).shap_values(rows), e)
    np.testing.assert_allclose(np.exp(e.model_output), model.predict(rows), rtol=1e-12)


# --- LightGBM and XGBoost -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("objective", "scale"),
    [("regression", "predicted value"), ("poisson", "log of the predicted value")],
)
def test_lgbm_regressor_matches_shap(numeric, objective, scale) -> None:
    train, y, rows = numeric
    model = lightgbm.LGBMRegressor(
        objective=objective, n_estimators=40, num_leaves=15, verbose=-1, **ONE_THREAD
    ).fit(train, y)
    e = explain(model, rows)
    check(e, rows, scale)
    assert e.method == "LightGBM native TreeSHAP (pred_contrib)"
    explainer = shap.TreeExplainer(model)
    close(e.values, explainer.shap_values(rows), e)
    assert e.base_value == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=EXACT)
    np.testing.assert_array_equal(e.model_output, model.predict(rows, raw_score=True))
    linked = np.exp(e.model_output) if objective == "poisson" else e.model_output
    np.testing.assert_allclose(linked, model.predict(rows), rtol=1e-12)
    assert any("log of the predicted value" in n for n in e.notes) == (objective == "poisson")
    booster = explain(model.booster_, rows, positive_index=0)  # a Booster: read the objective
    assert booster.output_scale == scale
    np.testing.assert_array_equal(booster.values, e.values)


@pytest.mark.parametrize(
    ("objective", "scale"),
    [("reg:squarederror", "predicted value"), ("count:poisson", "log of the predicted value")],
)
def test_xgb_regressor_matches_shap_within_float32(numeric, objective, scale) -> None:
    train, y, rows = numeric
    model = xgboost.XGBRegressor(
        objective=objective, n_estimators=40, max_depth=4, random_state=1, **ONE_THREAD
    ).fit(train, y)
    e = explain(model, rows)
    check(e, rows, scale, relative=FLOAT32)
    assert e.method == "XGBoost native TreeSHAP (pred_contribs)"
    assert any("float32" in note for note in e.notes)
    close(e.values, shap.TreeExplainer(model).shap_values(rows), e, relative=FLOAT32)
    margin = model.predict(rows, output_margin=True).astype(np.float64)
    np.testing.assert_array_equal(e.model_output, margin)
    linked = np.exp(margin) if objective == "count:poisson" else margin
    np.testing.assert_allclose(linked, model.predict(rows), rtol=1e-6)  # float32 prediction
    booster = explain(model.get_booster(), rows, positive_index=0)
    assert booster.output_scale == scale
    np.testing.assert_array_equal(booster.values, e.values)


# --- Pipelines ----------------------------------------------------------------------------


def test_pipeline_ending_in_ridge_is_folded_exactly(german) -> None:
    train, y, rows = german
    encode = ColumnTransformer(
        [
            ("scale", StandardScaler(), NUMERIC),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL),
        ]
    )
    model = Pipeline([("encode", encode), ("ridge", Ridge(alpha=3.0))]).fit(train, y)
    e = explain(model, rows, background=train)
    check(e, rows, "predicted value")
    assert e.method.startswith("exact linear SHAP") and e.method.endswith(
        "folded back to input columns"
    )
    assert not any("grouped attribution" in note for note in e.notes)  # linear: exact Shapley
    encoder, final = model[:-1], model[-1]
    encoded, reference = encoder.transform(rows), encoder.transform(train)
    masker = shap.maskers.Independent(reference, max_samples=len(reference))
    values = shap.LinearExplainer(final, masker).shap_values(encoded)
    names = [str(n).split("__", 1)[1] for n in encoder.get_feature_names_out()]
    folded = np.column_stack(
        [
            values[:, [i for i, n in enumerate(names) if n == c or n.startswith(c + "_")]].sum(1)
            for c in rows.columns
        ]
    )
    close(e.values, folded, e)
    np.testing.assert_allclose(e.model_output, model.predict(rows), rtol=1e-12)


# --- the sampled fallback -----------------------------------------------------------------


def test_knn_regressor_falls_back_to_seeded_sampling(numeric) -> None:
    train, y, rows = numeric
    model = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=25)).fit(train, y)
    rows = rows.iloc[:4]  # the first sampled call pays shap's numba compilation (about 15 s)
    first = explain(model, rows, seed=3, background=train)
    assert not first.exact and first.rows_explained == len(rows)
    assert first.output_scale == "predicted value"
    assert first.method.startswith("shap PermutationExplainer")
    assert any("has no exact SHAP method; sampled SHAP used instead" in n for n in first.notes)
    assert first.max_additivity_error < 1e-9 * scale_of(first)  # antithetic: adds up
    assert first.tolerance == pytest.approx(EXACT * scale_of(first))
    np.testing.assert_allclose(first.model_output, model.predict(rows))
    again = explain(model, rows, seed=3, background=train)
    np.testing.assert_array_equal(again.values, first.values)
    other = explain(model, rows.iloc[:1], seed=4, background=train)
    assert not np.array_equal(other.values, first.values[:1])


class ExpLinearRegression(LinearRegression):
    """coef_ and intercept_ like a linear model, but predicts exp of them: not linear."""

    def predict(self, X):
        return np.exp(super().predict(X))


def test_linear_shap_is_refused_when_predict_is_not_linear(numeric) -> None:
    train, y, rows = numeric
    model = ExpLinearRegression().fit(train, np.log(y))
    e = explain(model, rows.iloc[:2], background=train.iloc[:50])
    assert not e.exact and e.output_scale == "predicted value"
    assert any("differs from X @ coef_ + intercept_" in note for note in e.notes)
    np.testing.assert_allclose(e.model_output, model.predict(rows.iloc[:2]))


# --- refusals -----------------------------------------------------------------------------


def test_multi_output_and_non_regressors_are_input_errors(numeric) -> None:
    train, y, rows = numeric
    two = np.column_stack([y, np.log(y)])
    with pytest.raises(InputError, match="predicts several values per row"):
        explain(LinearRegression().fit(train, two), rows)
    with pytest.raises(InputError, match="predicts 2 values per row"):
        explain(RandomForestRegressor(n_estimators=3, max_depth=2).fit(train, two), rows)
    with pytest.raises(InputError, match="cannot explain a KMeans"):  # predict, but clusters
        explain(KMeans(n_clusters=3, n_init=1, random_state=0).fit(train), rows)
