"""Engines: a DuckDB audit of a 100M-row decision log, fairlearn side by side, Spark local.

Usage: ``python -m benchmarks.bench_engines [--rows N] [--compare-rows M] [--resamples B]
[--data-dir DIR] [--repeat R] [--skip-spark]``; the full run is ``--rows 100000000
--compare-rows 10000000 --resamples 1000``.

The data is a synthetic, seeded decision log written once to Parquet under ``--data-dir``
(default ``reports/bench-data/``) and reused when a file of the right row count is there:
sex (2 values), race (5, unequal shares), age_band (4), y (0/1), decision (0/1, its rate
depends on the group, so there are disparities to find) and w (gamma weights, mean 1). It is
written 5M rows per row group and never held whole in memory. Each column of each row group
has its own random stream, so the M-row file is exactly the first M rows of the N-row one.

What it measures, and how to read the three parts it prints:

1. DuckDB at scale: ``audit(engine="duckdb", memory_limit="1GB")`` of the N-row file, with
   every fairness metric, interval and the Poisson cell bootstrap (the resamples the audit
   recorded are printed), in a child process so that its peak RSS is the child's alone
   (``getrusage(RUSAGE_CHILDREN)``, before any other child runs). The time of the
   ``audit()`` call and of the whole process (interpreter start and imports included) are
   printed, with the audit's own progress steps; the goals (within 30 s for the whole
   process, under 2 GB peak RSS) print PASS or MISS and never fail the run.
2. Side by side with fairlearn on the M-row file: auditor's DuckDB audit (best of
   ``--repeat``; the first call in a process also pays lazy imports) against
   ``pandas.read_parquet`` plus four fairlearn ``MetricFrame`` (sex, race, age_band and
   their intersection; 11 weighted metrics through ``sample_params``, run once). The ratio
   is fairlearn's total over auditor's, also without the read. Every value both tools give
   for every group is compared; the run exits 1 when they differ by more than 1e-9.
   fairlearn's own bootstrap (``n_boot``) is not run at this size: its cost is extrapolated.
3. Spark local: the same audit with ``engine="spark", spark_master="local[2]"`` on the N-row
   file, the session start timed apart, the values checked against part 1. Skipped with
   ``--skip-spark`` or when pyspark or ``java`` is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.api import audit
from auditor.audit_result import AuditResult
from benchmarks.bench_group_metrics import best_of

ROOT = Path(__file__).resolve().parent.parent
ROW_GROUP = 5_000_000
SENSITIVE = ["sex", "race", "age_band"]
# The three attributes alone, then their intersection: what auditor's fairness tables hold.
GROUPINGS = [["sex"], ["race"], ["age_band"], SENSITIVE]
SEX = ["female", "male"]
RACE = ["white", "black", "hispanic", "asian", "other"]
RACE_SHARES = [0.60, 0.13, 0.17, 0.06, 0.04]
AGE_BAND = ["18-29", "30-44", "45-59", "60+"]
# Log-odds effects of each group on the decision (and, smaller, on the outcome).
SEX_EFFECT = np.array([0.0, 0.30])
RACE_EFFECT = np.array([0.20, -0.40, -0.25, 0.30, 0.0])
AGE_EFFECT = np.array([-0.45, 0.0, 0.15, 0.10])
METRICS = [
    "selection_rate",
    "base_rate",
    "true_positive_rate",
    "false_negative_rate",
    "false_positive_rate",
    "true_negative_rate",
    "precision",
    "negative_predictive_value",
    "accuracy",
    "f1_score",
    "balanced_accuracy",
]
TOLERANCE = 1e-9
GOAL_SECONDS = 30.0
GOAL_RSS_MB = 2048.0
DEFAULT_RESAMPLES = 1000  # the default policy's bootstrap_resamples

Values = dict[str, dict[str, float]]  # group ('sex=male & race=asian') -> metric -> value


# --- the data -------------------------------------------------------------------------------


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-z))


def _dictionary(codes: npt.NDArray[np.int8], labels: list[str]) -> pa.DictionaryArray:
    # Dictionary-encoded strings: small on disk, categorical in pandas, strings to SQL.
    return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int8()), pa.array(labels))


def make_chunk(seed: int, index: int, size: int) -> pa.Table:
    """Row group ``index`` of the log (``size`` rows, at most :data:`ROW_GROUP`).

    Each column draws from its own stream, seeded by (seed, row group, column): a shorter
    chunk is then the prefix of the full one, and the small file the prefix of the large.
    """

    def stream(column: int) -> np.random.Generator:
        return np.random.default_rng([seed, index, column])

    sex = stream(0).integers(0, len(SEX), size, dtype=np.int8)
    race = stream(1).choice(len(RACE), size, p=RACE_SHARES).astype(np.int8)
    age = stream(2).integers(0, len(AGE_BAND), size, dtype=np.int8)
    group = SEX_EFFECT[sex] + RACE_EFFECT[race] + AGE_EFFECT[age]
    y = stream(3).random(size) < _sigmoid(-1.0 + 0.5 * group)
    decision = stream(4).random(size) < _sigmoid(-1.6 + 2.4 * y + group)
    weight = stream(5).gamma(2.0, 0.5, size)
    return pa.table(
        {
            "sex": _dictionary(sex, SEX),
            "race": _dictionary(race, RACE),
            "age_band": _dictionary(age, AGE_BAND),
            "y": pa.array(y.astype(np.int8)),
            "decision": pa.array(decision.astype(np.int8)),
            "w": pa.array(weight),
        }
    )


def decision_log(data_dir: Path, rows: int, seed: int) -> tuple[Path, float | None]:
    """The ``rows``-row log's path, written now unless cached; and the seconds it took."""
    path = data_dir / f"decisions-seed{seed}-{rows}rows.parquet"
    if path.is_file() and pq.ParquetFile(path).metadata.num_rows == rows:
        return path, None
    data_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    partial = path.with_suffix(".partial")  # renamed when complete: never a torn cache file
    writer: pq.ParquetWriter | None = None
    try:
        for index, first in enumerate(range(0, rows, ROW_GROUP)):
            table = make_chunk(seed, index, min(ROW_GROUP, rows - first))
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=ROW_GROUP)
    finally:
        if writer is not None:
            writer.close()
    os.replace(partial, path)
    return path, time.perf_counter() - start


def resamples_policy(data_dir: Path, resamples: int) -> Path | None:
    """A policy file: the default policy with ``resamples`` (None: the default's own)."""
    if resamples == DEFAULT_RESAMPLES:
        return None
    path = data_dir / f"policy-resamples-{resamples}.yaml"
    path.write_text(
        "apiVersion: auditor/v1\n"
        f"name: default-{resamples}-resamples\n"
        "extends: default\n"
        f"settings:\n  bootstrap_resamples: {resamples}\n",
        encoding="utf-8",
    )
    return path


# --- auditor's side -------------------------------------------------------------------------


def run_audit(
    path: Path,
    engine: str,
    policy: Path | None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> AuditResult:
    """The benchmark's audit: weighted decisions by sex, race, age band and all three."""
    return audit(
        path,
        target="y",
        sensitive=SENSITIVE,
        prediction="decision",
        weight="w",
        engine=engine,
        policy=policy,
        seed=0,
        progress=progress,
        **options,
    )


def auditor_values(result: AuditResult) -> tuple[Values, int]:
    """The :data:`METRICS` of every group of the fairness tables, and the resamples drawn."""
    fairness = next(c for c in result.checks if c.family == "fairness")
    values: Values = {}
    for table in fairness.tables:
        for row in table.rows:
            measured = {m: row.metrics[m].value.value for m in METRICS}
            values[row.group] = {m: v for m, v in measured.items() if v is not None}
    return values, fairness.bootstrap.resamples if fairness.bootstrap else 0


def child_audit(path: Path, policy: Path | None, memory_limit: str) -> None:
    """Part 1's child: one DuckDB audit; prints its times and values as one JSON line."""
    marks: list[tuple[float, str]] = []
    start = time.perf_counter()

    def progress(message: str) -> None:
        marks.append((time.perf_counter() - start, message))

    result = run_audit(path, "duckdb", policy, progress, memory_limit=memory_limit)
    seconds = time.perf_counter() - start
    values, resamples = auditor_values(result)
    engine = result.setup.engine
    report = {
        "seconds": seconds,
        "marks": marks,
        "rows": result.setup.rows,
        "cells": engine.cells if engine else None,
        "detail": engine.detail if engine else "",
        "resamples": resamples,
        "verdict": result.verdict,
        "values": values,
    }
    print(json.dumps(report))


# --- fairlearn's side -----------------------------------------------------------------------


def fairlearn_metrics() -> dict[str, Callable[..., float]]:
    """fairlearn / scikit-learn functions taking ``sample_weight``, named as auditor's."""
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        precision_score,
    )

    def base_rate(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return float(np.average(y_true, weights=sample_weight))

    def precision(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return float(
            precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan)
        )

    def npv(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return precision(1 - y_true, 1 - y_pred, sample_weight)

    return {
        "selection_rate": selection_rate,
        "base_rate": base_rate,
        "true_positive_rate": true_positive_rate,
        "false_negative_rate": false_negative_rate,
        "false_positive_rate": false_positive_rate,
        "true_negative_rate": true_negative_rate,
        "precision": precision,
        "negative_predictive_value": npv,
        "accuracy": accuracy_score,
        "f1_score": f1_score,
        "balanced_accuracy": balanced_accuracy_score,
    }


def metric_frame(frame: pd.DataFrame, columns: list[str]) -> tuple[Values, float]:
    """One fairlearn MetricFrame over ``columns`` (their intersection), and its seconds."""
    from fairlearn.metrics import MetricFrame

    metrics = fairlearn_metrics()
    weights = frame["w"]
    start = time.perf_counter()
    mf = MetricFrame(
        metrics=metrics,
        y_true=frame["y"],
        y_pred=frame["decision"],
        sensitive_features=frame[columns],
        sample_params={name: {"sample_weight": weights} for name in metrics},
    )
    seconds = time.perf_counter() - start
    values: Values = {}
    for key, row in mf.by_group.iterrows():
        labels = key if isinstance(key, tuple) else (key,)
        name = " & ".join(f"{c}={v}" for c, v in zip(columns, labels, strict=True))
        values[name] = {m: float(row[m]) for m in metrics}
    return values, seconds


def largest_difference(ours: Values, theirs: Values) -> tuple[float, int]:
    """The largest |difference| over every value both define, and how many were compared."""
    worst, compared = 0.0, 0
    for group, values in theirs.items():
        for metric, value in values.items():
            mine = ours.get(group, {}).get(metric)
            if mine is None or np.isnan(value):
                continue
            worst = max(worst, abs(value - mine))
            compared += 1
    return worst, compared


# --- the three parts ------------------------------------------------------------------------


def print_steps(marks: list[tuple[float, str]], end: float) -> None:
    """Each progress step of an audit, with its seconds (until the next step or the end)."""
    for (at, message), (following, _) in zip(marks, [*marks[1:], (end, "")], strict=True):
        print(f"{'  ' + message:<44}{following - at:>12.3f} s  (from {at:.3f} s)")


def duckdb_at_scale(path: Path, policy: Path | None, memory_limit: str) -> Values:
    """Part 1, in a child process: its times, peak RSS and the goals; returns its values."""
    # The peak over waited-for children: this must be the first child this process waits for.
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Absolute paths: the child runs in the project's root, whatever this process's cwd.
    command = [sys.executable, "-m", "benchmarks.bench_engines"]
    command += ["--child-audit", str(path.resolve()), "--memory-limit", memory_limit]
    if policy is not None:
        command += ["--policy", str(policy.resolve())]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    process_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    if done.returncode != 0:
        sys.exit(f"the DuckDB child failed:\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"1. DuckDB at scale: audit(engine='duckdb', memory_limit='{memory_limit}'), child process"
    )
    print(f"   {report['detail']}")
    print(f"{'rows':<44}{report['rows']:>14,}")
    print(f"{'cells':<44}{report['cells']:>14,}")
    print(f"{'bootstrap resamples (recorded)':<44}{report['resamples']:>14,}")
    print(f"{'audit() wall time':<44}{report['seconds']:>12.3f} s")
    print_steps(report["marks"], report["seconds"])
    print(f"{'whole process (start, imports)':<44}{process_s:>12.3f} s")
    print(f"{'peak RSS (child)':<44}{peak_mb:>11,.0f} MB")
    if before / 1024 >= peak_mb:
        print("   (an earlier child peaked higher: the peak RSS printed is that child's)")
    print(f"verdict: {report['verdict']}")
    time_ok = process_s <= GOAL_SECONDS
    rss_ok = peak_mb < GOAL_RSS_MB
    print(f"goal within 30 s (whole process): {'PASS' if time_ok else 'MISS'} ({process_s:.1f} s)")
    print(f"goal under 2 GB peak RSS: {'PASS' if rss_ok else 'MISS'} ({peak_mb:,.0f} MB)")
    values: Values = report["values"]
    return values


def side_by_side(path: Path, rows: int, policy: Path | None, repeat: int) -> None:
    """Part 2: auditor's DuckDB audit against read_parquet + 4 fairlearn MetricFrames."""
    import fairlearn
    from fairlearn.metrics import MetricFrame

    ours_s, result = best_of(repeat, lambda: run_audit(path, "duckdb", policy))
    assert isinstance(result, AuditResult)
    ours, resamples = auditor_values(result)
    fairness = next(c for c in result.checks if c.family == "fairness")
    measured = len(fairness.tables[0].rows[0].metrics)
    start = time.perf_counter()
    frame = pd.read_parquet(path)
    read_s = time.perf_counter() - start
    theirs: Values = {}
    frames: list[tuple[str, float]] = []
    for columns in GROUPINGS:
        values, seconds = metric_frame(frame, columns)
        theirs.update(values)
        frames.append((" & ".join(columns), seconds))
    frames_s = sum(s for _, s in frames)
    print()
    print(
        f"2. Side by side with fairlearn {fairlearn.__version__}: first {rows:,} rows, same file,"
        f" weights w, {len(theirs)} groups"
    )
    print(f"{'step':<52}{'seconds':>10}")
    print(
        f"{f'auditor audit(engine=duckdb), best of {repeat}':<52}{ours_s:>10.3f}  "
        f"read, {measured} metrics, intervals, tests, {resamples}-resample bootstrap, policy"
    )
    print(f"{'pandas.read_parquet (fairlearn input)':<52}{read_s:>10.3f}")
    for name, seconds in frames:
        print(
            f"{f'fairlearn MetricFrame {name}':<52}{seconds:>10.3f}  "
            f"{len(METRICS)} metrics, weighted, no intervals (one run)"
        )
    print(f"{'fairlearn total':<52}{read_s + frames_s:>10.3f}")
    print(
        f"ratio fairlearn/auditor: {(read_s + frames_s) / ours_s:.1f}x "
        f"(MetricFrames alone: {frames_s / ours_s:.1f}x)"
    )
    worst, compared = largest_difference(ours, theirs)
    print(
        f"agreement: largest |difference| {worst:.2e} over {compared} values "
        f"({len(theirs)} groups x {len(METRICS)} metrics)"
    )
    if "n_boot" in inspect.signature(MetricFrame).parameters:
        print(
            f"fairlearn {fairlearn.__version__} MetricFrame has n_boot/ci_quantiles: not used at "
            f"{rows:,} rows (each resample recomputes every metric on every row); "
            f"{resamples} resamples would take about {resamples * frames_s / 3600:,.1f} h "
            "(EXTRAPOLATED, not run)"
        )
    else:
        print(f"fairlearn {fairlearn.__version__} MetricFrame has no bootstrap intervals")
    if worst > TOLERANCE:
        sys.exit(f"auditor and fairlearn disagree by {worst:.2e} (> {TOLERANCE:.0e})")


def spark_local(path: Path, rows: int, policy: Path | None, duckdb_values: Values) -> None:
    """Part 3: the same audit on Spark local[2], the session start timed apart."""
    from auditor.engines.spark_engine import spark_session

    print()
    print(f"3. Spark local[2]: audit(engine='spark') of the {rows:,} rows")
    start = time.perf_counter()
    spark = spark_session("local[2]")
    session_s = time.perf_counter() - start
    spark.sparkContext.setLogLevel("ERROR")
    marks: list[tuple[float, str]] = []
    try:
        start = time.perf_counter()
        result = run_audit(
            path,
            "spark",
            policy,
            lambda message: marks.append((time.perf_counter() - start, message)),
            spark_master="local[2]",
        )
        audit_s = time.perf_counter() - start
    finally:
        spark.stop()
    values, resamples = auditor_values(result)
    worst, compared = largest_difference(duckdb_values, values)
    cells = result.setup.engine.cells if result.setup.engine else None
    print(f"{'session start (JVM, local[2])':<44}{session_s:>12.3f} s")
    print(f"{'audit() wall time':<44}{audit_s:>12.3f} s")
    print_steps(marks, audit_s)
    print(f"{'session + audit':<44}{session_s + audit_s:>12.3f} s")
    print(
        f"cells {cells}, resamples {resamples}; largest |difference| from DuckDB's values "
        f"{worst:.2e} over {compared} values"
    )


def spark_missing(skip: bool) -> str | None:
    """Why part 3 does not run, or None."""
    if skip:
        return "--skip-spark"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'auditor[spark]')"
    if shutil.which("java") is None:
        return "no java on PATH"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--compare-rows", type=int, default=10_000_000)
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "reports" / "bench-data")
    parser.add_argument("--repeat", type=int, default=3, help="auditor's runs in part 2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--skip-spark", action="store_true")
    # The child of part 1 runs this module again with these.
    parser.add_argument("--child-audit", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_audit is not None:
        child_audit(args.child_audit, args.policy, args.memory_limit)
        return
    data_dir: Path = args.data_dir
    logs = {}
    for rows in dict.fromkeys([args.rows, args.compare_rows]):
        logs[rows] = decision_log(data_dir, rows, args.seed)
    policy = resamples_policy(data_dir, args.resamples)
    print(
        f"Engines: {args.rows:,}-row decision log, groups of {' x '.join(SENSITIVE)} "
        f"(2 x 5 x 4), gamma weights; {os.cpu_count()} cores"
    )
    # Other work on the machine skews every time below: say how busy it was.
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min)")
    for rows, (path, made_s) in logs.items():
        size_mb = path.stat().st_size / 1024**2
        origin = "cached" if made_s is None else f"written in {made_s:.1f} s"
        print(f"data: {path} ({rows:,} rows, {size_mb:,.0f} MB, {origin})")
    print()
    big, _ = logs[args.rows]
    values = duckdb_at_scale(big, policy, args.memory_limit)
    side_by_side(logs[args.compare_rows][0], args.compare_rows, policy, args.repeat)
    reason = spark_missing(args.skip_spark)
    if reason is None:
        spark_local(big, args.rows, policy, values)
    else:
        print()
        print(f"3. Spark local[2]: skipped ({reason})")


if __name__ == "__main__":
    main()
