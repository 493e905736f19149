"""Audits through every engine: the same numbers, out of core under a low memory limit, Spark.

Point estimates, analytic intervals (Wilson, Newcombe, Katz) and tests are functions of the
cells, so memory (rows), DuckDB and Spark agree on them to 1e-12; the bootstrap differs by
scheme between rows (stratified) and cells (Poisson), and is identical between engines that
build the same cells.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from auditor.api import audit
from auditor.checks.metric_catalog import GROUP_METRICS
from auditor.errors import InputError, UsageError

SENSITIVE = ["sex", "race", "age_band"]


def decision_log(n: int, seed: int = 3) -> pd.DataFrame:
    """A log with disparities, unequal groups, weights and a rounded score."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n, p=[0.45, 0.55])
    race = rng.choice(["a", "b", "c", "d"], n, p=[0.6, 0.25, 0.1, 0.05])
    age = rng.choice(["18-25", "26-45", "46+"], n)
    y = rng.random(n) < np.where(sex == "female", 0.35, 0.45)
    score = np.clip(0.3 * y + 0.5 * rng.random(n) + 0.1 * (race == "a"), 0, 1).round(2)
    return pd.DataFrame(
        {
            "sex": sex,
            "race": race,
            "age_band": age,
            "y": y.astype(int),
            "decision": (score > 0.45).astype(int),
            "score": score,
            "w": rng.gamma(3.0, 1.0, n).round(3),
        }
    )


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path, Path]:
    frame = decision_log(40_000)
    folder = tmp_path_factory.mktemp("engines")
    frame.to_parquet(folder / "log.parquet")
    frame.to_csv(folder / "log.csv", index=False)
    return frame, folder / "log.parquet", folder / "log.csv"


def run(data: Any, engine: str, weighted: bool = False, **extra: Any) -> Any:
    return audit(
        data,
        target="y",
        sensitive=SENSITIVE,
        prediction="decision",
        score="score",
        weight="w" if weighted else None,
        engine=engine,
        **extra,
    )


def exact_numbers(result: Any) -> Iterator[tuple[str, float | None]]:
    """Every number of the fairness and performance results that does not come from the
    bootstrap: values everywhere, and intervals and tests of the proportion metrics."""
    for check in result.checks:
        if check.family == "performance":
            for name, value in check.overall.items():
                yield f"performance.{name}", value.value
                yield f"performance.{name}.ci", value.ci_low
        if check.family != "fairness":
            continue
        for table in check.tables:
            yield f"{table.attribute} reference", float(hash(table.reference) % 1000)
            for row in table.rows:
                yield f"{row.group} n", float(row.n)
                for metric, cell in row.metrics.items():
                    analytic = GROUP_METRICS[metric].proportion
                    for measure in ("value", "difference_to_reference", "ratio_to_reference"):
                        v = getattr(cell, measure)
                        where = f"{row.group} {metric} {measure}"
                        yield where, v.value
                        if analytic:
                            yield where + " ci", v.ci_low
                            yield where + " ci", v.ci_high
                    if cell.test is not None:
                        yield f"{row.group} {metric} p", cell.test.p_value
            for name, criterion in table.criteria.items():
                yield f"{table.attribute} {name}", criterion.value.value
    governance = next(c for c in result.checks if c.family == "representation").governance
    for rep in governance.representation:
        for share in rep.groups:
            yield f"{share.group} share n", float(share.n)
            for bound in ("value", "ci_low", "ci_high"):
                yield f"{share.group} share {bound}", getattr(share.observed, bound)
    for balance in governance.balance:
        for rate in balance.base_rates:
            for bound in ("value", "ci_low", "ci_high"):
                yield f"{rate.group} base rate {bound}", getattr(rate.rate, bound)


def assert_same_exact_numbers(a: Any, b: Any) -> None:
    left, right = list(exact_numbers(a)), list(exact_numbers(b))
    assert [k for k, _ in left] == [k for k, _ in right]
    for (where, x), (_, y) in zip(left, right, strict=True):
        if x is None or y is None:
            assert x == y, where
        else:
            assert y == pytest.approx(x, rel=1e-12, abs=1e-12), where


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_duckdb_gives_the_memory_engines_numbers(log, weighted):
    frame, parquet, csv = log
    memory = run(frame, "memory", weighted)
    for path in (parquet, csv):
        duck = run(path, "duckdb", weighted)
        assert duck.setup.engine.name == "duckdb"
        assert duck.setup.rows == len(frame)
        assert_same_exact_numbers(memory, duck)
    assert memory.setup.engine.name == "memory"


def test_cells_bootstrap_is_recorded_and_reproducible(log):
    _, parquet, csv = log
    a, b = run(parquet, "duckdb"), run(csv, "duckdb")
    boot = next(c.bootstrap for c in a.checks if c.family == "fairness")
    assert boot is not None and boot.resamples == 1000
    assert "Poisson" in boot.scheme
    fa = next(c for c in a.checks if c.family == "fairness").model_dump()
    fb = next(c for c in b.checks if c.family == "fairness").model_dump()
    assert fa == fb  # same cells, same seed: the same replicates, from Parquet or CSV


def test_out_of_core_audit_of_a_file_larger_than_the_memory_limit(tmp_path):
    frame = decision_log(3_000_000, seed=5)
    path = tmp_path / "big.parquet"
    frame.to_parquet(path, row_group_size=100_000)  # DuckDB streams row groups
    limit_mb = 8
    assert path.stat().st_size > limit_mb * 1024**2
    assert frame.memory_usage(deep=True).sum() > 8 * limit_mb * 1024**2
    result = run(path, "duckdb", weighted=True, memory_limit=f"{limit_mb}MB")
    assert result.setup.rows == len(frame)
    assert f"memory limit {limit_mb}MB" in result.setup.engine.detail
    table = next(c for c in result.checks if c.family == "fairness").tables[0]
    counts = frame.groupby("sex")["decision"].agg(["size", "sum"])
    for row in table.rows:
        group = row.group.split("=")[1]
        assert row.n == counts.loc[group, "size"]
        expected = frame.loc[frame.sex == group]
        rate = (expected.w * expected.decision).sum() / expected.w.sum()
        assert row.metrics["selection_rate"].value.value == pytest.approx(rate, rel=1e-12)


def test_engine_refusals_are_usage_or_input_errors(log):
    _, parquet, _ = log
    with pytest.raises(UsageError, match="--train-data runs in memory"):
        audit(
            parquet,
            target="y",
            sensitive=SENSITIVE,
            prediction="decision",
            train_data=parquet,
            engine="duckdb",
        )
    with pytest.raises(UsageError, match="regression"):
        audit(
            parquet,
            target="y",
            sensitive=SENSITIVE,
            prediction="decision",
            task="regression",
            engine="duckdb",
        )
    with pytest.raises(InputError, match="--pos-label"):
        audit(
            parquet,
            target="y",
            sensitive=SENSITIVE,
            prediction="decision",
            pos_label="yes",
            engine="duckdb",
        )


def test_cli_duckdb_audit_writes_reports_naming_the_engine(log, tmp_path):
    _, parquet, _ = log
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "auditor.cli",
        "audit",
        "--data",
        str(parquet),
        "--target",
        "y",
        "--prediction",
        "decision",
        "--sensitive",
        "sex",
        "--sensitive",
        "race",
        "--engine",
        "duckdb",
        "--memory-limit",
        "256MB",
        "--out",
        str(out),
        "--format",
        "json,html,md",
        "--quiet",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    html = (out / "report.html").read_text()
    assert "Engine" in html and "duckdb (out of core; memory limit 256MB" in html
    assert "not measured (they need row-level data): data_quality" in html
    assert "personal-data scan on a uniform sample of" in html
    bad = subprocess.run(
        [*command[:-5], "--score", "sex", "--out", str(out), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 3, bad.stderr  # a text column as --score: rejected input
    assert "--score column 'sex' is not numeric" in bad.stderr


# ---- Spark (local mode): Java from Debian's packages, pyspark from the dev extra ----------


def _spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


spark_only = pytest.mark.skipif(
    not _spark_available() and not os.environ.get("CI"),
    reason="Spark needs pyspark and Java (make install / apt-get install default-jre-headless)",
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from auditor.engines.spark_engine import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@spark_only
def test_spark_gives_the_same_cells_and_numbers_as_duckdb(log, spark):
    frame, parquet, _ = log
    duck = run(parquet, "duckdb")
    on_spark = run(parquet, "spark", spark_master="local[2]")
    assert on_spark.setup.engine.name == "spark"
    assert on_spark.setup.engine.cells == duck.setup.engine.cells
    fd = next(c for c in duck.checks if c.family == "fairness").model_dump()
    fs = next(c for c in on_spark.checks if c.family == "fairness").model_dump()
    assert fd == fs  # identical cells -> identical everything, bootstrap included
    weighted_spark = run(spark.createDataFrame(frame), "auto", weighted=True)
    assert weighted_spark.setup.engine.name == "spark"
    assert_same_exact_numbers(run(frame, "memory", weighted=True), weighted_spark)


MODEL_AUDIT = {
    "target": "credit",
    "pos_label": 1,
    "positive_outcome": "favorable",
    "sensitive": ["sex", "age_group"],
    "model": "sample_models/german_credit_model.skops",
}
GERMAN = "sample_models/data/german_credit_audit.csv"


def _model_numbers(result: Any) -> dict[tuple[str, str], float | None]:
    fairness = next(c for c in result.checks if c.family == "fairness")
    return {
        (row.group, metric): cell.value.value
        for table in fairness.tables
        for row in table.rows
        for metric, cell in row.metrics.items()
    }


def test_model_mode_at_scale_predicts_in_batches_with_the_same_decisions():
    memory = audit(GERMAN, engine="memory", **MODEL_AUDIT)
    duck = audit(GERMAN, engine="duckdb", **MODEL_AUDIT)
    assert duck.setup.mode == "model" and duck.setup.engine.name == "duckdb"
    assert duck.setup.model is not None and duck.setup.model.features == memory.setup.model.features
    assert any("rounded to 4 decimals" in note for note in duck.notes)
    ours, theirs = _model_numbers(memory), _model_numbers(duck)
    assert ours.keys() == theirs.keys()
    for (group, metric), value in ours.items():
        got = theirs[(group, metric)]
        if value is None:
            assert got is None, (group, metric)
        elif GROUP_METRICS[metric].source == "score":  # the score histogram: 4 decimals
            assert got == pytest.approx(value, abs=2e-3), (group, metric)
        else:  # predictions are the model's own: every rate exact
            assert got == pytest.approx(value, rel=1e-12, abs=1e-12), (group, metric)


@spark_only
def test_model_mode_on_spark_scores_with_map_in_pandas(spark):
    duck = audit(GERMAN, engine="duckdb", **MODEL_AUDIT)
    on_spark = audit(GERMAN, engine="spark", spark_master="local[2]", **MODEL_AUDIT)
    assert on_spark.setup.engine.cells == duck.setup.engine.cells
    ours, theirs = _model_numbers(duck), _model_numbers(on_spark)
    for key, value in ours.items():
        if value is None:
            assert theirs[key] is None, key
        else:
            assert theirs[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


@spark_only
def test_spark_reads_uris_and_tables_only_it_can_reach(log, spark):
    frame, parquet, _ = log
    duck = run(parquet, "duckdb")
    by_uri = run(f"file://{parquet}", "spark", spark_master="local[2]")
    assert "data" not in by_uri.provenance.sha256  # a URI only Spark reaches: not hashed
    spark.createDataFrame(frame).createOrReplaceTempView("decisions")
    by_table = run("decisions", "spark", spark_master="local[2]")
    assert by_table.setup.engine.detail.startswith("spark (table decisions")
    for result in (by_uri, by_table):
        assert_same_exact_numbers(duck, result)


def test_population_comparison_on_cells_equals_the_rows(log, tmp_path):
    frame, parquet, _ = log
    policy = tmp_path / "population.yaml"
    policy.write_text(
        "name: population\nextends: default\n"
        "population:\n  - attribute: race\n    source: illustrative\n"
        "    shares: {a: 0.55, b: 0.3, c: 0.1, d: 0.05}\n"
    )
    memory = run(frame, "memory", weighted=True, policy=policy)
    duck = run(parquet, "duckdb", weighted=True, policy=policy)

    def comparison(result: Any) -> Any:
        rep = next(c for c in result.checks if c.family == "representation").governance
        return next(r for r in rep.representation if r.attribute == "race")

    ours, theirs = comparison(memory), comparison(duck)
    assert theirs.chi_square == pytest.approx(ours.chi_square, rel=1e-12)
    assert theirs.p_value == pytest.approx(ours.p_value, rel=1e-9)
    for a, b in zip(ours.groups, theirs.groups, strict=True):
        assert (a.group, a.n) == (b.group, b.n)
        assert b.ratio.value == pytest.approx(a.ratio.value, rel=1e-12)
        assert b.ratio.ci_low == pytest.approx(a.ratio.ci_low, rel=1e-12)
    assert theirs.total_variation.value == pytest.approx(ours.total_variation.value, rel=1e-12)


def test_rare_labels_and_float_groups_with_missing_values(tmp_path):
    """A positive label too rare for the sample, and NaN in a float sensitive column."""
    frame = decision_log(120_000, seed=9)
    frame["y"] = np.where(np.arange(len(frame)) % 40_000 == 7, "fraud", "ok")
    frame["decision"] = np.where(np.arange(len(frame)) % 997 == 0, "fraud", "ok")
    frame["band"] = np.where(np.arange(len(frame)) % 50 == 0, np.nan, (frame.index % 3) * 1.5)
    path = tmp_path / "rare.parquet"
    frame.to_parquet(path)
    kwargs: dict[str, Any] = {
        "target": "y",
        "pos_label": "fraud",
        "prediction": "decision",
        "sensitive": ["sex", "band"],
        "missing_as_group": True,
    }
    memory = audit(frame, engine="memory", **kwargs)
    duck = audit(path, engine="duckdb", **kwargs)
    assert duck.setup.pos_label == "fraud"
    ours, theirs = _model_numbers(memory), _model_numbers(duck)
    assert ours.keys() == theirs.keys()
    assert any("(missing)" in group for group, _ in theirs)
    for key, value in ours.items():
        if value is None:
            assert theirs[key] is None, key
        else:
            assert theirs[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_missing_target_values_are_counted_in_rows(tmp_path):
    frame = decision_log(10_000, seed=2)
    frame["y"] = frame["y"].astype(float)
    frame.loc[[5, 100, 2000], "y"] = np.nan
    path = tmp_path / "nan_target.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError, match="has 3 missing value"):
        run(path, "duckdb")


@spark_only
def test_spark_sample_keeps_groups_whose_names_need_escaping(spark, tmp_path):
    from auditor.engines.cells import ColumnRoles
    from auditor.engines.sample import DESIGN_WEIGHT, SamplePlan
    from auditor.engines.spark_engine import SparkEngine

    frame = decision_log(20_000, seed=4)
    frame["race"] = np.where(
        frame["race"] == "a", "a\\\\b", np.where(frame["race"] == "b", "o'neil", frame["race"])
    )
    engine = SparkEngine(spark.createDataFrame(frame), "test")
    roles = ColumnRoles("y", ("sex", "race"), "decision")
    cells = engine.cells(roles, 10)
    sample = engine.sample(SamplePlan.from_cells(cells, 0))
    weights = sample.groupby(["sex", "race"])[DESIGN_WEIGHT].sum()
    sizes = frame.groupby(["sex", "race"]).size()
    assert set(weights.index) == set(sizes.index)
    for key, n in sizes.items():
        assert weights[key] == pytest.approx(n, rel=1e-12), key


def test_explanations_on_the_engines_sample_estimate_the_whole_data(tmp_path):
    """Model mode at 120k rows: explained on the engine's stratified sample (weighted back)
    the importances agree with the in-memory audit's within their sampling error."""
    from sklearn.linear_model import LogisticRegression
    from skops.io import dump

    rng = np.random.default_rng(12)
    n = 120_000
    frame = decision_log(n, seed=12)[["sex", "race", "y"]]
    frame["income"] = rng.normal(50, 15, n) + 10 * (frame["sex"] == "male")
    frame["debt"] = rng.gamma(2.0, 3.0, n)
    frame["tenure"] = rng.integers(0, 30, n).astype(float)
    features = ["income", "debt", "tenure"]
    score = 0.05 * frame["income"] - 0.2 * frame["debt"] + 0.03 * frame["tenure"]
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-(score - 1.5)))).astype(int)
    model = LogisticRegression(max_iter=500).fit(frame[features], frame["y"])
    model_path, data_path = tmp_path / "model.skops", tmp_path / "data.parquet"
    dump(model, model_path)
    frame.to_parquet(data_path, row_group_size=50_000)
    kwargs: dict[str, Any] = {"target": "y", "sensitive": ["sex", "race"], "model": model_path}
    memory = audit(frame, engine="memory", **kwargs)
    duck = audit(data_path, engine="duckdb", **kwargs)
    assert duck.setup.engine.sample_rows is not None and duck.setup.engine.sample_rows < n
    ours = next(c for c in memory.checks if c.family == "explain").explanation
    theirs = next(c for c in duck.checks if c.family == "explain").explanation
    assert theirs.rows_total == n
    for a, b in zip(
        sorted(ours.features, key=lambda f: f.feature),
        sorted(theirs.features, key=lambda f: f.feature),
        strict=True,
    ):
        se = np.hypot(
            (a.mean_abs.ci_high - a.mean_abs.ci_low) / 3.92,
            (b.mean_abs.ci_high - b.mean_abs.ci_low) / 3.92,
        )
        assert abs(a.mean_abs.value - b.mean_abs.value) < 4 * se, a.feature
