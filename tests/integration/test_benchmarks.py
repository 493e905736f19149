"""The benchmarks still run and still agree with fairlearn (a smoke run on a few rows)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_group_metrics_benchmark_runs_and_agrees_with_fairlearn() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_group_metrics", "--rows", "3000", "--repeat", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("speed-up:")
    assert float(last.rsplit(" ", 1)[1]) < 1e-12
