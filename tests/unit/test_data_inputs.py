"""Reading data: CSV and Parquet told apart by their bytes, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import lightgbm
import pandas as pd
import pytest

from auditor import audit
from auditor.errors import InputError
from auditor.inputs.data import read_table


def test_parquet_and_csv_give_the_same_audit(tmp_path: Path, german: pd.DataFrame) -> None:
    frame = german.assign(decision=(german["age"] > 30).map({True: 1, False: 2}))
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.to_parquet(tmp_path / "data.csv.parquet")  # the name does not decide the format
    results = [
        audit(
            tmp_path / name,
            target="credit",
            pos_label=1,
            sensitive=["sex", "age_group"],
            prediction="decision",
            positive_outcome="favorable",
        )
        for name in ("data.csv", "data.csv.parquet")
    ]
    assert results[0].checks == results[1].checks
    assert results[0].findings == results[1].findings


def test_parquet_categories_without_rows_are_reported_as_empty_groups(
    tmp_path: Path, german: pd.DataFrame
) -> None:
    frame = german.assign(decision=german["credit"])
    frame["sex"] = pd.Categorical(frame["sex"], categories=["female", "male", "non-binary"])
    frame.to_parquet(tmp_path / "data.parquet")
    result = audit(
        tmp_path / "data.parquet",
        target="credit",
        pos_label=1,
        sensitive="sex",
        prediction="decision",
        positive_outcome="favorable",
    )
    empty = next(r for r in result.check("fairness").tables[0].rows if r.group == "sex=non-binary")
    assert empty.n == 0 and empty.metrics["selection_rate"].value.reason == "empty_group"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,b\n", "has no rows"),
        (b"a,a\n1,2\n", "duplicate column names"),
        (b"PAR1 this is not parquet", "could not read"),
    ],
)
def test_bad_data_files_are_rejected_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_a_directory_is_not_data(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_table(tmp_path)


def test_a_lightgbm_model_file_audits_end_to_end(tmp_path: Path, german: pd.DataFrame) -> None:
    features = ["month", "credit_amount", "age"]
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4, "seed": 3},
        lightgbm.Dataset(german[features], (german["credit"] == 1).astype(int)),
        num_boost_round=10,
    )
    booster.save_model(tmp_path / "model.txt")
    result = audit(
        german,
        target="credit",
        pos_label=1,
        sensitive="sex",
        model=tmp_path / "model.txt",
        positive_outcome="favorable",
    )
    assert result.setup.model is not None
    assert (result.setup.model.format, result.setup.model.threshold) == ("lightgbm", 0.5)
    expected = (booster.predict(german[features]) >= 0.5).mean()
    assert result.check("performance").overall["selection_rate"].value == pytest.approx(
        expected, abs=1e-12
    )
    assert any("probability for its class 1" in note for note in result.notes)
