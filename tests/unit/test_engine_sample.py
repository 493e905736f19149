"""The sample an engine draws for the checks that need rows, and k-anonymity counted exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.engines.cells import ROWS, ColumnRoles
from auditor.engines.duckdb_engine import DuckDBEngine
from auditor.engines.sample import DESIGN_WEIGHT, GROUP_FLOOR, UNIFORM, SamplePlan
from auditor.engines.source import DataSource
from auditor.governance.anonymity import k_anonymity

ROLES = ColumnRoles(target="y", sensitive=("sex", "race"), prediction="d")


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    rng = np.random.default_rng(7)
    n = 300_000
    race = rng.choice(["a", "b", "c"], n, p=[0.8, 0.19, 0.01])
    race[:40] = "tiny"  # a group smaller than the floor: it must be taken whole
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n),
            "race": race,
            "y": rng.integers(0, 2, n),
            "d": rng.integers(0, 2, n),
            "age": rng.integers(18, 90, n),
            "zip": rng.choice([f"{z:05d}" for z in range(400)], n),
        }
    )
    frame.loc[5, "sex"] = None  # a missing sensitive value is a group of its own
    path = tmp_path_factory.mktemp("sample") / "log.parquet"
    frame.to_parquet(path, row_group_size=50_000)
    return frame, path


def draw(path: Path, seed: int = 0) -> tuple[SamplePlan, pd.DataFrame]:
    engine = DuckDBEngine(DataSource.open(path))
    cells = engine.cells(ROLES, 10)
    plan = SamplePlan.from_cells(cells, seed)
    return plan, engine.sample(plan)


def test_every_group_is_kept_and_weighted_back_to_its_size(log):
    frame, path = log
    plan, sample = draw(path)
    frame, sample = frame.fillna({"sex": "(none)"}), sample.fillna({"sex": "(none)"})
    sizes = frame.groupby(["sex", "race"], dropna=False).size()
    drawn = sample.groupby(["sex", "race"], dropna=False).size()
    weights = sample.groupby(["sex", "race"], dropna=False)[DESIGN_WEIGHT].sum()
    assert set(drawn.index) == set(sizes.index)  # every finest group, the missing one too
    for key, n in sizes.items():
        assert drawn[key] >= min(n, GROUP_FLOOR * 0.8), key  # Bernoulli around the floor
        if n <= GROUP_FLOOR:
            assert drawn[key] == n, key  # small groups whole
        assert weights[key] == pytest.approx(n, rel=1e-12), key  # N_s / n_s each
    assert len(sample) == pytest.approx(plan.expected_rows(), rel=0.05)


def test_the_uniform_part_has_the_datas_proportions(log):
    frame, path = log
    plan, sample = draw(path)
    uniform = sample.loc[sample[UNIFORM]]
    assert len(uniform) == pytest.approx(plan.uniform_rate * len(frame), rel=0.05)
    shares = uniform["race"].value_counts(normalize=True)
    truth = frame["race"].value_counts(normalize=True)
    for race in ("a", "b"):
        se = np.sqrt(truth[race] * (1 - truth[race]) / len(uniform))
        assert abs(shares[race] - truth[race]) < 4 * se, race


def test_the_draw_is_reproducible_from_the_seed(log):
    _, path = log
    _, first = draw(path, seed=3)
    _, again = draw(path, seed=3)
    _, other = draw(path, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not first[["age", "zip"]].equals(other[["age", "zip"]])


def test_k_anonymity_from_the_engines_class_counts_is_exact(log):
    frame, path = log
    counted = DuckDBEngine(DataSource.open(path)).class_counts(["age", "zip", "race"])
    exact = k_anonymity(frame, ["age", "zip"], k=5, sensitive="race", l=2)
    from_counts = k_anonymity(
        counted.drop(columns=[ROWS]),
        ["age", "zip"],
        k=5,
        sensitive="race",
        l=2,
        counts=counted[ROWS].to_numpy(),
    )
    assert from_counts == exact
    sampled = k_anonymity(frame.sample(n=20_000, random_state=0), ["age", "zip"], k=5)
    assert sampled.share_below_k > exact.share_below_k  # why a sample would not do
