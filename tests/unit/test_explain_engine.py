"""SHAP engine: each model family's method agrees with shap and adds up to the model's output.

Real data throughout: Adult (train on 4,000 rows, explain 400 others) and German credit (the
project's sample Pipeline and its hold-out rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
import xgboost
from scipy.special import logit
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler
from threadpoolctl import threadpool_limits

from auditor.errors import InputError
from auditor.explain.column_origins import column_origins
from auditor.explain.shap_values import Explanation, explain

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "tests" / "data" / "adult.csv"
GERMAN = ROOT / "sample_models" / "data" / "german_credit.csv"
GERMAN_AUDIT = ROOT / "sample_models" / "data" / "german_credit_audit.csv"
SAMPLE_MODEL = ROOT / "sample_models" / "german_credit_model.skops"
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race", "sex"]
EXACT = 1e-6  # agreement with shap, and additivity of every float64 method
XGBOOST_ADDITIVITY = 1e-4  # XGBoost sums float32 contributions; measured gap is about 3e-6
ONE_THREAD = {"num_threads": 1}  # the test machine is small and shared: no OpenMP spinning


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """OpenMP and BLAS on one thread: the many tiny model calls of sampled SHAP thrash otherwise."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """4,000 training rows with labels, and 400 other rows to explain (categoricals as such)."""
    frame = pd.read_csv(ADULT)
    frame = frame.sample(4400, random_state=7).reset_index(drop=True)
    features = frame[NUMERIC + CATEGORICAL].copy()
    for column in NUMERIC:
        features[column] = features[column].astype(np.float64)
    for column in CATEGORICAL:
        features[column] = features[column].astype("category")
    y = frame["income-per-year"].str.contains(">50K").to_numpy().astype(int)
    return features.iloc[:4000], y[:4000], features.iloc[4000:]


@pytest.fixture(scope="module")
def numeric(adult) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    train, y, rows = adult
    return train[NUMERIC], y, rows[NUMERIC]


def additive(e: Explanation) -> float:
    """The additivity gap recomputed here, from the explanation's own arrays."""
    return float(np.max(np.abs(e.base_value + e.values.sum(axis=1) - e.model_output)))


def check_exact(e: Explanation, rows: pd.DataFrame) -> None:
    assert e.exact and e.rows_explained == len(rows)
    assert e.values.shape == (len(rows), rows.shape[1]) and e.values.dtype == np.float64
    assert e.features == list(rows.columns)
    assert e.max_additivity_error == pytest.approx(additive(e), abs=1e-15)
    assert e.max_additivity_error < EXACT


# --- LightGBM -----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer:UserWarning")
def test_lightgbm_booster_with_categoricals_matches_shap(adult) -> None:
    train, y, rows = adult
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1, **ONE_THREAD}
    booster = lightgbm.train(params, lightgbm.Dataset(train, y), num_boost_round=40)
    e = explain(booster, rows)
    check_exact(e, rows)
    assert e.method == "LightGBM native TreeSHAP (pred_contrib)"
    assert e.output_scale == "log-odds of class 1"
    explainer = shap.TreeExplainer(booster)
    reference = np.asarray(explainer.shap_values(rows))
    np.testing.assert_allclose(e.values, reference, rtol=0, atol=EXACT)
    assert e.base_value == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=EXACT)
    np.testing.assert_allclose(e.model_output, booster.predict(rows, raw_score=True), atol=1e-12)


def test_lightgbm_categories_follow_training_not_audit_data(adult) -> None:
    """shap#2144 trap: codes of the audit data's own categories would be silently wrong."""
    train, y, rows = adult
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1, **ONE_THREAD}
    booster = lightgbm.train(params, lightgbm.Dataset(train, y), num_boost_round=20)
    expected = explain(booster, rows).values
    reordered = rows.copy()
    for column in CATEGORICAL:  # fewer and reversed categories: different codes, same values
        used = reordered[column].cat.remove_unused_categories().cat.categories[::-1]
        reordered[column] = reordered[column].cat.set_categories(used)
    as_text = rows.astype({c: str for c in CATEGORICAL})
    np.testing.assert_allclose(explain(booster, reordered).values, expected, atol=1e-12)
    np.testing.assert_allclose(explain(booster, as_text).values, expected, atol=1e-12)


def test_lgbm_classifier_class_zero_is_negated_class_one(adult) -> None:
    train, y, rows = adult
    labels = np.where(y == 1, ">50K", "<=50K")
    model = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=15, verbose=-1, n_jobs=1)
    model.fit(train, labels)
    high, low = explain(model, rows), explain(model, rows, positive_index=0)
    assert high.output_scale == "log-odds of class '>50K'"
    assert low.output_scale == "log-odds of class '<=50K'"
    np.testing.assert_array_equal(low.values, -high.values)
    assert low.base_value == -high.base_value
    check_exact(low, rows)
    np.testing.assert_allclose(low.model_output, logit(model.predict_proba(rows)[:, 0]), atol=1e-9)


def test_lightgbm_binary_trained_as_two_class_softmax(numeric) -> None:
    """shap#837 trap: two score blocks; class 1's log-odds is their difference."""
    train, y, rows = numeric
    params = {"objective": "multiclass", "num_class": 2, "num_leaves": 7, "verbose": -1}
    params |= ONE_THREAD
    booster = lightgbm.train(params, lightgbm.Dataset(train, y), num_boost_round=20)
    e = explain(booster, rows)
    check_exact(e, rows)
    assert e.output_scale.startswith("log-odds") and e.output_scale.endswith("of class 1")
    np.testing.assert_allclose(e.model_output, logit(booster.predict(rows)[:, 1]), atol=1e-9)
    assert any("2-class softmax" in note for note in e.notes)


# --- XGBoost ------------------------------------------------------------------------------


def test_xgboost_matches_shap_and_reports_float32_gap(numeric) -> None:
    train, y, rows = numeric
    model = xgboost.XGBClassifier(n_estimators=40, max_depth=4, random_state=1, n_jobs=1)
    model.fit(train, y)
    e = explain(model, rows)
    assert e.method == "XGBoost native TreeSHAP (pred_contribs)"
    assert e.output_scale == "log-odds of class 1"
    reference = shap.TreeExplainer(model).shap_values(rows)
    np.testing.assert_allclose(e.values, reference, rtol=0, atol=EXACT)
    assert e.max_additivity_error == pytest.approx(additive(e), abs=1e-15)
    assert 0 < e.max_additivity_error < XGBOOST_ADDITIVITY  # float32 rounding, shown not hidden
    assert any("float32" in note for note in e.notes)
    margin = model.predict(rows, output_margin=True).astype(np.float64)
    np.testing.assert_array_equal(e.model_output, margin)
    probability = model.predict_proba(rows)[:, 1]  # float32: its logit is good to about 1e-5
    np.testing.assert_allclose(e.model_output, logit(probability), atol=1e-4)
    booster = explain(model.get_booster(), rows)
    np.testing.assert_array_equal(booster.values, e.values)


# --- scikit-learn trees -------------------------------------------------------------------


def test_random_forest_matches_shap_on_probability_scale(numeric) -> None:
    train, y, rows = numeric
    model = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=1).fit(train, y)
    e = explain(model, rows)
    check_exact(e, rows)
    assert e.output_scale == "probability of class 1"
    reference = shap.TreeExplainer(model).shap_values(rows)[:, :, 1]
    np.testing.assert_allclose(e.values, reference, rtol=0, atol=EXACT)
    low = explain(model, rows, positive_index=0)
    check_exact(low, rows)
    np.testing.assert_allclose(low.values, -e.values, atol=1e-12)  # class shares sum to 1
    np.testing.assert_allclose(low.model_output, model.predict_proba(rows)[:, 0])


def test_gradient_boosting_matches_shap_on_log_odds(numeric) -> None:
    train, y, rows = numeric
    model = GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=1)
    model.fit(train, y)
    e, low = explain(model, rows), explain(model, rows, positive_index=0)
    check_exact(e, rows)
    assert e.output_scale == "log-odds of class 1"
    np.testing.assert_allclose(e.values, shap.TreeExplainer(model).shap_values(rows), atol=EXACT)
    np.testing.assert_array_equal(low.values, -e.values)
    np.testing.assert_allclose(low.model_output, logit(model.predict_proba(rows)[:, 0]), atol=1e-9)


# --- linear -------------------------------------------------------------------------------


def test_logistic_regression_matches_shap_with_full_background(numeric) -> None:
    train, y, rows = numeric
    scaler = StandardScaler().fit(train)
    scaled = pd.DataFrame(scaler.transform(rows), columns=NUMERIC)
    background = pd.DataFrame(scaler.transform(train), columns=NUMERIC)
    model = LogisticRegression().fit(background, y)
    e = explain(model, scaled, background=background)
    check_exact(e, scaled)
    assert e.output_scale == "log-odds of class 1"
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.LinearExplainer(model, masker)
    np.testing.assert_allclose(e.values, explainer.shap_values(scaled), rtol=0, atol=EXACT)
    assert e.base_value == pytest.approx(float(explainer.expected_value), abs=EXACT)
    low = explain(model, scaled, positive_index=0, background=background)
    np.testing.assert_array_equal(low.values, -e.values)
    np.testing.assert_allclose(
        low.model_output, logit(model.predict_proba(scaled)[:, 0]), rtol=1e-6
    )  # logit of a probability near 1 keeps only about 1e-7 relative precision
    default = explain(model, scaled)  # background defaults to the explained rows
    np.testing.assert_allclose(default.values.mean(axis=0), 0, atol=1e-12)


# --- Pipelines ----------------------------------------------------------------------------


def fold_by_names(values: np.ndarray, names: list[str], columns: list[str]) -> np.ndarray:
    """Fold encoded columns by their get_feature_names_out names, independently of the engine."""
    out = np.zeros((len(values), len(columns)))
    for j, column in enumerate(columns):
        mine = [
            i
            for i, name in enumerate(names)
            if name.split("__", 1)[1] == column or name.split("__", 1)[1].startswith(column + "_")
        ]
        out[:, j] = values[:, mine].sum(axis=1)
    return out


def test_sample_pipeline_matches_shap_on_transformed_matrix_folded() -> None:
    model = sio.load(SAMPLE_MODEL, trusted=sio.get_untrusted_types(file=SAMPLE_MODEL))
    columns = [str(c) for c in model.feature_names_in_]
    rows = pd.read_csv(GERMAN_AUDIT)[columns]
    good = list(model.classes_).index(1)  # credit 1 = good
    e = explain(model, rows, positive_index=good)
    check_exact(e, rows)
    assert e.output_scale == "log-odds of class 1"
    assert e.method.startswith("exact linear SHAP") and "folded" in e.method
    encoder, final = model[:-1], model[-1]
    encoded = encoder.transform(rows)
    masker = shap.maskers.Independent(encoded, max_samples=len(encoded))
    reference = -shap.LinearExplainer(final, masker).shap_values(encoded)  # class 2 -> class 1
    names = list(encoder.get_feature_names_out())
    folded = fold_by_names(reference, names, columns)
    np.testing.assert_allclose(e.values, folded, rtol=0, atol=EXACT)
    np.testing.assert_allclose(e.model_output, logit(model.predict_proba(rows)[:, good]))


@pytest.fixture(scope="module")
def german() -> tuple[pd.DataFrame, np.ndarray, list[str], list[str]]:
    frame = pd.read_csv(GERMAN)
    numeric = ["month", "credit_amount", "age", "residence_since"]
    categorical = ["status", "credit_history", "purpose", "savings", "housing"]
    y = (frame["credit"] == 1).to_numpy().astype(int)
    return frame[categorical + numeric], y, categorical, numeric


def test_pipeline_with_forest_and_passthrough_folds_additively(german) -> None:
    features, y, categorical, _ = german
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(drop="first", handle_unknown="ignore"), categorical)],
        remainder="passthrough",
    )
    forest = RandomForestClassifier(n_estimators=30, max_depth=5, random_state=1)
    model = Pipeline([("encode", encode), ("forest", forest)]).fit(features, y)
    rows = features.iloc[:300]
    e = explain(model, rows)
    check_exact(e, rows)
    assert e.output_scale == "probability of class 1"
    encoded = model[:-1].transform(rows).toarray()  # one-hot columns make it sparse
    reference = shap.TreeExplainer(forest).shap_values(encoded)[:, :, 1]
    names = list(model[:-1].get_feature_names_out())
    folded = fold_by_names(reference, names, list(rows.columns))
    np.testing.assert_allclose(e.values, folded, rtol=0, atol=EXACT)
    assert any("grouped attribution" in note for note in e.notes)


def test_column_origins_follow_each_transformer() -> None:
    frame = pd.read_csv(GERMAN).iloc[:200]
    frame.loc[::7, "age"] = np.nan
    columns = ["status", "age", "month", "purpose", "credit_amount"]
    numeric = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler())
    encode = ColumnTransformer(
        [("numeric", numeric, ["age", "month"]), ("onehot", OneHotEncoder(), [0, 3])],
        remainder="drop",
    ).fit(frame[columns])
    origins = column_origins(encode, len(columns))
    status, purpose = frame["status"].nunique(), frame["purpose"].nunique()
    expected = [1, 2, 1] + [0] * status + [3] * purpose  # age, month, age's missing indicator
    assert origins is not None and origins.tolist() == expected
    mixing = ColumnTransformer([("pca", PCA(2), ["age", "month"])]).fit(frame[columns].fillna(0))
    assert column_origins(mixing, len(columns)) is None


# --- the sampled fallback -----------------------------------------------------------------


@pytest.fixture(scope="module")
def knn(numeric) -> tuple[KNeighborsClassifier, pd.DataFrame]:
    train, y, rows = numeric
    scaled = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=25))
    return scaled.fit(train.iloc[:1500], y[:1500]), rows.iloc[:6]


def test_fallback_is_seeded_and_additive(knn) -> None:
    model, rows = knn
    first = explain(model, rows, seed=3)
    assert not first.exact and first.rows_explained == len(rows)
    assert first.output_scale == "probability of class 1"
    assert first.method.startswith("shap PermutationExplainer")
    assert first.max_additivity_error < 1e-9  # antithetic permutations add up by construction
    np.testing.assert_allclose(first.model_output, model.predict_proba(rows)[:, 1])
    again, other = explain(model, rows, seed=3), explain(model, rows, seed=4)
    np.testing.assert_array_equal(again.values, first.values)
    assert not np.array_equal(other.values, first.values)


def test_fallback_stops_at_the_time_budget(knn) -> None:
    model, rows = knn
    e = explain(model, rows, seed=3, time_budget_seconds=1e-3)
    assert e.rows_explained == 1 < len(rows)
    assert e.values.shape == (1, rows.shape[1]) and e.model_output.shape == (1,)
    assert f"1 of {len(rows)} rows explained within the 0.001 s budget" in e.notes
    full = explain(model, rows, seed=3)
    np.testing.assert_array_equal(e.values, full.values[:1])  # a row's seed is its own


def test_pipeline_that_mixes_columns_falls_back_to_sampling(german) -> None:
    features, y, categorical, numeric = german
    encode = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("poly", make_pipeline(StandardScaler(), PolynomialFeatures(2)), numeric),
        ]
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(features, y)
    rows = features.iloc[:3]
    e = explain(model, rows, background=features.iloc[:200])
    assert not e.exact and e.rows_explained == len(rows)
    assert any("could not be mapped" in note for note in e.notes)
    assert e.max_additivity_error < 1e-9


def test_categorical_hist_gradient_boosting_falls_back_to_sampling(adult) -> None:
    """shap reads its categorical splits as thresholds, so the exact method is not trusted."""
    train, y, rows = adult
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features="from_dtype")
    model.fit(train, y)  # few iterations: each is one call per sampled batch, and there are many
    e = explain(model, rows.iloc[:2], background=train.iloc[:100])
    assert not e.exact and e.rows_explained == 2
    assert any("categorical splits" in note for note in e.notes)
    np.testing.assert_allclose(e.model_output, model.predict_proba(rows.iloc[:2])[:, 1])
    assert e.max_additivity_error < 1e-9


# --- refusals -----------------------------------------------------------------------------


def test_unsupported_model_is_an_input_error(numeric) -> None:
    train, y, rows = numeric
    clusters = KMeans(n_clusters=3, n_init=1, random_state=0).fit(train)
    with pytest.raises(InputError, match=r"cannot explain a KMeans; supported: "):
        explain(clusters, rows)
    with pytest.raises(InputError, match="not fitted"):
        explain(LogisticRegression(), rows)
    with pytest.raises(InputError, match="positive_index 2 is out of range"):
        explain(LogisticRegression(max_iter=1000).fit(train, y), rows, positive_index=2)
    with pytest.raises(InputError, match="seed must be a non-negative integer"):
        explain(LogisticRegression(max_iter=1000).fit(train, y), rows, seed=-1)
