"""The benchmarks still run (smoke runs): group metrics agree with fairlearn; PDF timings print."""

from __future__ import annotations

import re
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


def test_pdf_benchmark_runs_and_reports_pages_times_and_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_pdf", "--repeat", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    pages = re.search(
        r"^demo report: (\d+) pages \(bare weasyprint: (\d+)\), best of 1$", out, re.M
    )
    assert pages and int(pages[1]) >= 1 and int(pages[2]) >= 1, out
    for side in ("auditor render_pdf", "auditor render_html", "auditor html_to_pdf"):
        assert re.search(rf"^{side}: +\d+\.\d{{3}} s ", out, re.M), out
    assert re.search(r"^bare weasyprint: +\d+\.\d{3} s ", out, re.M), out
    for ratio in ("PDF step ratio", "ratio"):
        line = re.search(rf"^{ratio}: (\d+\.\d\d)x  (within|over) the 1\.2x goal$", out, re.M)
        assert line and float(line[1]) > 0, out
