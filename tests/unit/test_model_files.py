"""Model files: the format comes from the bytes; pickle only on request; skops allow-list."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import joblib
import lightgbm
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from auditor.errors import InputError, PickleRefusedError
from auditor.inputs.labels import BinaryLabels
from auditor.inputs.model_files import detect_format, load_model_file
from auditor.inputs.predict import predict
from tests.conftest import SAMPLE_MODEL

NUMERIC = ["month", "credit_amount", "age", "residence_since"]
LABELS = BinaryLabels(positive="1", other="0")


@pytest.fixture(scope="module")
def numeric(german: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    return german[NUMERIC], (german["credit"] == 1).to_numpy().astype(int)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, numeric) -> Path:
    """One file per format, each under a misleading name so only the bytes can tell."""
    X, y = numeric
    folder = tmp_path_factory.mktemp("models")
    lgb = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4, "seed": 1},
        lightgbm.Dataset(X, y),
        num_boost_round=5,
    )
    lgb.save_model(folder / "lightgbm.bin")
    xgb = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(X, y), num_boost_round=5
    )
    xgb.save_model(folder / "xgb.json")
    shutil.copy(folder / "xgb.json", folder / "xgb_json.model")
    xgb.save_model(folder / "xgb.ubj")
    shutil.copy(folder / "xgb.ubj", folder / "xgb_ubj.model")
    sk = LogisticRegression(max_iter=500).fit(X, y)
    with (folder / "plain.skops").open("wb") as handle:
        pickle.dump(sk, handle)
    joblib.dump(sk, folder / "compressed.model", compress=3)
    joblib.dump(sk, folder / "plain.joblib")
    (folder / "noise.skops").write_bytes(b"\x00\x01garbage" * 10)
    return folder


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("lightgbm.bin", "lightgbm"),
        ("xgb_json.model", "xgboost-json"),
        ("xgb_ubj.model", "xgboost-ubj"),
        ("plain.skops", "pickle"),
        ("plain.joblib", "pickle"),
        ("compressed.model", "joblib-compressed"),
    ],
)
def test_format_is_detected_from_bytes(model_dir: Path, name: str, kind: str) -> None:
    assert detect_format(model_dir / name) == kind


def test_sample_skops_model_is_detected_and_loads() -> None:
    assert detect_format(SAMPLE_MODEL) == "skops"
    loaded = load_model_file(SAMPLE_MODEL)
    assert type(loaded.estimator).__name__ == "Pipeline" and not loaded.pickle_loaded


@pytest.mark.parametrize("name", ["plain.skops", "plain.joblib", "compressed.model"])
def test_pickles_are_refused_naming_the_flag(model_dir: Path, name: str) -> None:
    with pytest.raises(PickleRefusedError, match="--allow-pickle") as caught:
        load_model_file(model_dir / name)
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("name", ["plain.skops", "compressed.model"])
def test_pickles_load_when_allowed_and_say_so(model_dir: Path, name: str) -> None:
    loaded = load_model_file(model_dir / name, allow_pickle=True)
    assert loaded.pickle_loaded and isinstance(loaded.estimator, LogisticRegression)


def test_unknown_bytes_are_refused(model_dir: Path) -> None:
    with pytest.raises(InputError, match="not a format auditor reads"):
        load_model_file(model_dir / "noise.skops")


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist. Check the --model path"):
        load_model_file(tmp_path / "absent.skops")


def _custom_log(x: np.ndarray) -> np.ndarray:
    return np.log1p(x)


def test_skops_file_with_untrusted_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "untrusted.skops"
    sio.dump(FunctionTransformer(func=_custom_log), path)
    with pytest.raises(InputError, match="types auditor does not trust.*_custom_log"):
        load_model_file(path)


@pytest.mark.parametrize("name", ["lightgbm.bin", "xgb_json.model", "xgb_ubj.model"])
def test_boosters_predict_like_their_library(model_dir: Path, numeric, name: str) -> None:
    X, _ = numeric
    booster = load_model_file(model_dir / name).estimator
    out = predict(booster, X, LABELS, reserved=set())
    if name.startswith("lightgbm"):
        expected = lightgbm.Booster(model_file=str(model_dir / name)).predict(X)
    else:
        reference = xgboost.Booster()
        reference.load_model(bytearray((model_dir / name).read_bytes()))
        expected = reference.predict(xgboost.DMatrix(X))
    np.testing.assert_allclose(out.scores, expected, rtol=0, atol=1e-7)
    assert (out.predicted_positive == (expected >= 0.5)).all()
    assert out.threshold == 0.5


def test_features_are_reordered_to_the_model_and_extra_columns_reported(
    german: pd.DataFrame,
) -> None:
    model = load_model_file(SAMPLE_MODEL).estimator
    shuffled = german[list(reversed(german.columns))]
    ordered = predict(model, german, BinaryLabels("1", "2"), reserved={"credit"})
    reordered = predict(model, shuffled, BinaryLabels("1", "2"), reserved={"credit"})
    assert (ordered.predicted_positive == reordered.predicted_positive).all()
    assert set(reordered.ignored_columns) == {"sex", "age_group"}


def test_missing_features_are_named(german: pd.DataFrame) -> None:
    model = load_model_file(SAMPLE_MODEL).estimator
    with pytest.raises(
        InputError, match=r"expects 2 feature\(s\) the data lacks: \['month', 'age'\]"
    ):
        predict(
            model, german.drop(columns=["month", "age"]), BinaryLabels("1", "2"), reserved=set()
        )


def test_a_predict_that_raises_becomes_an_input_error(german: pd.DataFrame) -> None:
    model = load_model_file(SAMPLE_MODEL).estimator
    broken = german.assign(credit_amount="not a number")
    with pytest.raises(InputError, match="the model's predict raised"):
        predict(model, broken, BinaryLabels("1", "2"), reserved={"credit"})


def test_wrong_pos_label_for_the_model(german: pd.DataFrame) -> None:
    model = load_model_file(SAMPLE_MODEL).estimator
    with pytest.raises(InputError, match="do not include the positive label 'yes'"):
        predict(model, german, BinaryLabels("yes", "no"), reserved=set())
