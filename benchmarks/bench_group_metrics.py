"""Group metrics: auditor's one-bincount kernel against fairlearn's MetricFrame, same data.

Usage: ``python -m benchmarks.bench_group_metrics [--rows N] [--repeat R]`` (``make bench``).
Adult (tests/data/adult.csv) is tiled to N rows; predictions come from a fixed rule. Both sides
compute the same 11 rates for every group of sex, race and sex x race, and the script checks
that they agree before it prints the times and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.checks.fairness import group_table
from auditor.context import AuditContext
from auditor.groups import encode_groups
from auditor.inputs.labels import BinaryLabels

ADULT = Path(__file__).resolve().parent.parent / "tests" / "data" / "adult.csv"
SENSITIVE = ["sex", "race"]


def tile_adult(rows: int) -> pd.DataFrame:
    """Adult repeated to ``rows`` rows, with ``y_true`` (1 for '>50K', else 0)."""
    adult = pd.read_csv(ADULT, skipinitialspace=True)
    tiles = -(-rows // len(adult))
    frame = pd.concat([adult] * tiles, ignore_index=True).iloc[:rows].copy()
    frame["y_true"] = frame["income-per-year"].str.startswith(">50K").astype(int)
    return frame


def load(rows: int) -> pd.DataFrame:
    frame = tile_adult(rows)
    frame["y_pred"] = ((frame["education-num"] >= 13) | (frame["capital-gain"] > 5000)).astype(int)
    return frame


def run_auditor(frame: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    groupings = encode_groups(frame, SENSITIVE)
    ctx = AuditContext(
        frame=frame,
        labels=BinaryLabels("1", "0"),
        y_true=frame["y_true"].to_numpy() == 1,
        y_pred=frame["y_pred"].to_numpy() == 1,
        scores=None,
        weights=None,
        groupings=groupings,
    )
    out: dict[str, dict[str, float | None]] = {}
    for grouping in groupings:
        table = group_table(ctx, grouping)
        for row in table.rows:
            out[row.group] = {k: c.value.value for k, c in row.metrics.items()}
    return out


def fairlearn_metrics() -> dict[str, Callable[..., float]]:
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    def npv(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return precision_score(1 - y_true, 1 - y_pred, zero_division=np.nan)

    return {
        "selection_rate": selection_rate,
        "base_rate": lambda y_true, y_pred: float(np.mean(y_true)),
        "true_positive_rate": true_positive_rate,
        "false_negative_rate": false_negative_rate,
        "false_positive_rate": false_positive_rate,
        "true_negative_rate": true_negative_rate,
        "precision": lambda t, p: precision_score(t, p, zero_division=np.nan),
        "false_discovery_rate": lambda t, p: 1 - precision_score(t, p, zero_division=np.nan),
        "negative_predictive_value": npv,
        "false_omission_rate": lambda t, p: 1 - npv(t, p),
        "accuracy": accuracy_score,
    }


def run_fairlearn(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    from fairlearn.metrics import MetricFrame

    out: dict[str, dict[str, float]] = {}
    metrics = fairlearn_metrics()
    for columns in (["sex"], ["race"], SENSITIVE):
        mf = MetricFrame(
            metrics=metrics,
            y_true=frame["y_true"],
            y_pred=frame["y_pred"],
            sensitive_features=frame[columns],
        )
        for key, row in mf.by_group.iterrows():
            values = key if isinstance(key, tuple) else (key,)
            name = " & ".join(f"{c}={v}" for c, v in zip(columns, values, strict=True))
            out[name] = {m: float(row[m]) for m in metrics}
    return out


def best_of(repeat: int, function: Callable[[], object]) -> tuple[float, object]:
    """The shortest wall time of ``repeat`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = load(args.rows)
    ours_s, ours = best_of(args.repeat, lambda: run_auditor(frame))
    theirs_s, theirs = best_of(args.repeat, lambda: run_fairlearn(frame))
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    worst = max(
        abs(value - ours[group][metric])
        for group, values in theirs.items()
        for metric, value in values.items()
        if ours[group][metric] is not None
    )
    print(f"rows={len(frame):,} groups={len(theirs)} metrics=11 (best of {args.repeat})")
    print(f"auditor  group_table: {ours_s:8.3f} s (includes Wilson intervals and disparities)")
    print(f"fairlearn MetricFrame: {theirs_s:8.3f} s")
    print(f"speed-up: {theirs_s / ours_s:6.1f}x   largest difference in any value: {worst:.2e}")


if __name__ == "__main__":
    main()
