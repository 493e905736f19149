"""The cell table: known counts, the same table from pandas and DuckDB, and refused input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.engines.cells import ROWS, WEIGHT, WEIGHT_SQ, ColumnRoles
from auditor.engines.choose import choose_engine
from auditor.engines.duckdb_engine import DuckDBEngine
from auditor.engines.memory import MemoryEngine
from auditor.engines.source import DataSource
from auditor.errors import InputError, UsageError

ROLES = ColumnRoles(target="y", sensitive=("sex", "race"), prediction="decision", weight="w")


def designed_log(seed: int = 0) -> tuple[pd.DataFrame, dict[tuple[str, str, int, int], int]]:
    """Rows built from a table of counts, shuffled: the cells must give those counts back."""
    rng = np.random.default_rng(seed)
    counts: dict[tuple[str, str, int, int], int] = {}
    rows = []
    for sex in ("f", "m"):
        for race in ("a", "b", "c"):
            for y in (0, 1):
                for d in (0, 1):
                    k = int(rng.integers(0, 40))
                    if k:
                        counts[(sex, race, y, d)] = k
                        rows += [(sex, race, y, d)] * k
    frame = pd.DataFrame(rows, columns=["sex", "race", "y", "decision"])
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame["w"] = rng.gamma(2.0, 0.5, len(frame))
    return frame, counts


@pytest.fixture(scope="module")
def log_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict, Path, Path]:
    frame, counts = designed_log()
    folder = tmp_path_factory.mktemp("cells")
    parquet, csv = folder / "log.parquet", folder / "log.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    return frame, counts, parquet, csv


def test_memory_cells_give_back_the_designed_counts(log_files):
    frame, counts, _, _ = log_files
    cells = MemoryEngine(frame).cells(ROLES, 100)
    got = {
        (r.sex, r.race, int(r.__auditor_target), int(r.__auditor_prediction)): int(r[ROWS])
        for _, r in cells.frame.rename(columns=lambda c: c).iterrows()
        for r in [r]
    }
    assert got == counts
    assert cells.rows == len(frame) == sum(counts.values())
    # Sums of weights and squared weights per cell, against a groupby of the rows.
    expected = frame.groupby(["sex", "race", "y", "decision"])["w"].agg(
        [("s", "sum"), ("s2", lambda w: float((w * w).sum()))]
    )
    np.testing.assert_allclose(cells.frame[WEIGHT], expected["s"].to_numpy(), rtol=1e-13)
    np.testing.assert_allclose(cells.frame[WEIGHT_SQ], expected["s2"].to_numpy(), rtol=1e-13)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_duckdb_cells_equal_memory_cells(log_files, kind):
    frame, _, parquet, csv = log_files
    path = parquet if kind == "parquet" else csv
    memory = MemoryEngine(frame).cells(ROLES, 100).frame
    duck = DuckDBEngine(DataSource.open(path), memory_limit="256MB").cells(ROLES, 100).frame
    keys = ["sex", "race", "__auditor_target", "__auditor_prediction", ROWS]
    pd.testing.assert_frame_equal(
        memory[keys].astype(str), duck[keys].astype(str), check_dtype=False
    )
    # Sums of real weights in another order: equal to a few ulps, not bit for bit.
    np.testing.assert_allclose(duck[WEIGHT], memory[WEIGHT], rtol=1e-13)
    np.testing.assert_allclose(duck[WEIGHT_SQ], memory[WEIGHT_SQ], rtol=1e-13)


def test_cells_are_sorted_whatever_order_the_rows_come_in(log_files):
    frame, _, _, _ = log_files
    a = MemoryEngine(frame).cells(ROLES, 100).frame
    b = MemoryEngine(frame.iloc[::-1].reset_index(drop=True)).cells(ROLES, 100).frame
    pd.testing.assert_frame_equal(
        a.drop(columns=[WEIGHT, WEIGHT_SQ]), b.drop(columns=[WEIGHT, WEIGHT_SQ])
    )


def _frame(**columns: object) -> pd.DataFrame:
    base = {"sex": ["f", "m"] * 50, "race": ["a"] * 100, "y": [0, 1] * 50, "decision": [1, 0] * 50}
    base["w"] = [1.0] * 100
    base.update(columns)  # type: ignore[arg-type]
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("columns", "roles", "message"),
    [
        ({"w": [-1.0] + [1.0] * 99}, ROLES, "negative values"),
        ({"w": [np.nan] + [1.0] * 99}, ROLES, "missing or infinite"),
        ({"w": [0.0] * 100}, ROLES, "zero on every row"),
        ({"y": list(range(100))}, ROLES, "binary decisions"),
        ({"race": [f"r{i}" for i in range(100)]}, ROLES, "looks like an identifier"),
        (
            {"s": np.linspace(0, 1, 100)},
            ColumnRoles("y", ("sex",), "decision", score="s"),
            None,  # 100 distinct scores are fine
        ),
        (
            {"s": [np.inf] + [0.5] * 99},
            ColumnRoles("y", ("sex",), "decision", score="s"),
            "missing or infinite",
        ),
    ],
)
def test_bad_input_is_refused_before_any_cell(columns, roles, message):
    engine = MemoryEngine(_frame(**columns))
    if message is None:
        assert engine.cells(roles, 10).n_cells > 0
        return
    with pytest.raises(InputError, match=message):
        engine.cells(roles, 10)


def test_continuous_scores_are_refused_with_what_to_do(tmp_path):
    rng = np.random.default_rng(1)
    frame = _frame().sample(n=100_000, replace=True, random_state=1).reset_index(drop=True)
    frame["s"] = rng.random(len(frame))
    path = tmp_path / "scores.parquet"
    frame.to_parquet(path)
    roles = ColumnRoles("y", ("sex",), "decision", score="s")
    with pytest.raises(InputError, match=r"Round them .*--engine memory"):
        DuckDBEngine(DataSource.open(path)).cells(roles, 10)
    frame["s"] = frame["s"].round(4)  # what the message says to do
    frame.to_parquet(path)
    cells = DuckDBEngine(DataSource.open(path)).cells(roles, 10)
    assert cells.rows == len(frame)


def test_missing_column_and_missing_file_say_what_is_wrong(tmp_path, log_files):
    _, _, parquet, _ = log_files
    roles = ColumnRoles("y", ("sex", "nationality"), "decision")
    with pytest.raises(InputError, match="nationality"):
        DuckDBEngine(DataSource.open(parquet)).cells(roles, 10)
    with pytest.raises(InputError, match="does not exist"):
        DataSource.open(tmp_path / "nope.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \*\.parquet files"):
        DataSource.open(tmp_path / "empty")


def test_a_folder_of_parquet_files_is_one_source(tmp_path, log_files):
    frame, _, _, _ = log_files
    folder = tmp_path / "log"
    (folder / "part=1").mkdir(parents=True)
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "part=1" / "a.parquet")
    frame.iloc[half:].to_parquet(folder / "b.parquet")
    # Spark's and Hadoop's bookkeeping is never data: a failed task's leftovers, markers.
    (folder / "_temporary" / "0").mkdir(parents=True)
    frame.to_parquet(folder / "_temporary" / "0" / "part-00000.parquet")
    frame.iloc[:10].to_parquet(folder / ".part-00001.parquet")
    (folder / "_SUCCESS").write_text("")
    cells = DuckDBEngine(DataSource.open(folder)).cells(ROLES, 100)
    assert cells.rows == len(frame)
    assert choose_engine("auto", folder) == "duckdb"


def test_auto_engine_loads_small_files_and_refuses_impossible_requests(log_files):
    frame, _, parquet, _ = log_files
    assert choose_engine("auto", parquet) == "memory"
    assert choose_engine("auto", frame) == "memory"
    assert choose_engine("duckdb", parquet) == "duckdb"
    with pytest.raises(UsageError, match="reads a data path"):
        choose_engine("duckdb", frame)
    with pytest.raises(UsageError, match="--engine must be"):
        choose_engine("polars", parquet)


def test_csv_keys_read_as_pandas_reads_them(tmp_path):
    """'01' and '1' are one group to pandas, 'NA' is missing, 't'/'f' are text: DuckDB must
    find the same groups, or `--engine auto` would change the numbers with free memory."""
    rows = ["s,flag,y,d,w"]
    values = [("01", "t"), ("1", "f"), ("007", "t"), ("NA", "f"), ("2", "t")]
    for i in range(2000):
        s, flag = values[i % len(values)]
        rows.append(f"{s},{flag},{i % 2},{(i // 2) % 2},{1 + i % 3}")
    path = tmp_path / "keys.csv"
    path.write_text("\n".join(rows) + "\n")
    roles = ColumnRoles("y", ("s", "flag"), "d", weight="w")
    memory = MemoryEngine(pd.read_csv(path)).cells(roles, 10).frame
    duck_engine = DuckDBEngine(DataSource.open(path))
    duck = duck_engine.cells(roles, 10).frame
    pd.testing.assert_frame_equal(memory.astype(str), duck.astype(str))
    assert sorted(duck["s"].dropna().unique().tolist()) == [1, 2, 7]
    # The sample reads the raw texts and gives them back as pandas' values too.
    from auditor.engines.sample import SamplePlan

    cells = duck_engine.cells(roles, 10)
    sample = duck_engine.sample(SamplePlan.from_cells(cells, 0))
    assert len(sample) == 2000  # small: every row
    assert sample["s"].fillna(-1).value_counts().to_dict() == (
        pd.read_csv(path)["s"].fillna(-1).value_counts().to_dict()
    )


def test_weighted_sums_are_the_same_bits_every_run(log_files):
    """Threads add rows in any order; fixed-point sums make the order irrelevant."""
    _, _, parquet, _ = log_files
    runs = [DuckDBEngine(DataSource.open(parquet)).cells(ROLES, 100).frame for _ in range(3)]
    for frame in runs[1:]:
        assert frame[WEIGHT].tolist() == runs[0][WEIGHT].tolist()
        assert frame[WEIGHT_SQ].tolist() == runs[0][WEIGHT_SQ].tolist()
