"""The benchmarks still run (smoke runs).

Group metrics, the fairness depth and the engines agree with fairlearn; the PDF timings print.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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


def test_fairness_depth_benchmark_prints_its_tables_and_agrees_with_fairlearn() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_fairness_depth",
            "--rows",
            "20000",
            "--resamples",
            "20",
            "--fairlearn-boot",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^Fairness depth: .* on 20,000 rows \(Adult tiled\)", out, re.M), out
    # 1. Both groupings: groups observed/possible, times, ratio, agreement, counts.
    number, rest = r"\d+\.\d{3}", r" +(\d+)x +(\S+) +(\d+) +(\d+) +(\d+)$"
    for name, possible in (("sex & race", 10), ("sex & race & age_band & hours_band", 200)):
        row = re.search(rf"^{name} +(\d+)/{possible} +{number} +{number}{rest}", out, re.M)
        assert row, (name, out)
        assert 0 < int(row[1]) <= possible and int(row[2]) > 0
        assert float(row[3]) <= 1e-12 and int(row[4]) > 0, row[0]
        skipped = re.search(rf"^  {name}: (.+)$", out.split("\nskipped (", 1)[1], re.M)
        assert skipped and (int(row[6]) == 0) == (skipped[1] == "none"), out
    assert re.search(r"^  sex & race: ScoreInputs.build .* group_table alone: \d+x$", out, re.M)
    assert re.search(r"^  sex & race: (\S+), \w+ of sex=\w+ & race=", out, re.M), out
    assert re.search(r"^goal fairlearn/auditor >= 300x: (met|NOT met) \(lowest \d+x\)$", out, re.M)
    # 2. and 3. One row per bootstrap path, in each table.
    assert "2. Bootstrap, 20 resamples" in out and "EXTRAPOLATED" in out
    assert "3. Peak memory auditor's bootstrap allocates (20 resamples" in out
    for variant in (
        "confusion, unweighted (multinomial path)",
        "confusion, fnlwgt weights (row path)",
        "confusion + scores (row path)",
    ):
        boot = re.search(rf"^{re.escape(variant)} +{number} +{number} +\d+\.\d +\d+x$", out, re.M)
        assert boot, (variant, out)
        memory = re.search(
            rf"^{re.escape(variant)} +(\d+\.\d) +(\d+\.\d) +(-?\d+\.\d) +(\d+\.\d) "
            r"+(\d+\.\d\d)x +(\d+)$",
            out,
            re.M,
        )
        assert memory and float(memory[1]) > 0 and float(memory[2]) > 0, (variant, out)
    last = out.strip().splitlines()[-1]
    agreement = re.fullmatch(
        r"agreement: largest difference (\S+), within the 1e-12 tolerance", last
    )
    assert agreement and float(agreement[1]) <= 1e-12, last


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


def test_explain_benchmark_prints_its_tables_and_the_explainers_agree() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_explain",
            "--rows",
            "20000",
            "--explain-rows",
            "500",
            "--repeat",
            "1",
            "--sample-rows",
            "1000",
            "--resamples",
            "50",
            "--proxy-rows",
            "2000",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # 1. Throughput: every explainer's time, rows/s, speed relative to auditor, agreement.
    assert re.search(r"^1\. Throughput: 500 rows x 20 features ", out, re.M), out
    timing = r" +(\d+\.\d{3}) +([\d,]+) +(\d+\.\d\d)x +(\S+)$"
    for explainer, count in (
        ("auditor explain()", 1),
        ("auditor explain() (shap TreeExplainer inside)", 1),
        ("auditor explain() (exact linear)", 1),
        ("shap.TreeExplainer(model).shap_values(X)", 2),
        ("booster.predict(X, pred_contrib=True)", 1),
        ("shap.LinearExplainer(Independent, all rows)", 1),
    ):
        rows = re.findall(rf"^.{{34}} {re.escape(explainer)}{timing}", out, re.M)
        assert len(rows) == count, (explainer, out)
        for seconds, _, speed, diff in rows:
            # 500 rows can take under half a millisecond: 0.000 s printed, the speed still > 0.
            assert float(seconds) >= 0 and float(speed) > 0
            assert diff == "-" if explainer.startswith("auditor") else float(diff) < 1e-9
    ratios = re.search(
        r"^LightGBM: auditor/shap (\d+\.\d\d)x, auditor/native (\d+\.\d\d)x ", out, re.M
    )
    assert ratios and float(ratios[1]) > 0 and float(ratios[2]) > 0, out
    assert re.search(r"overhead [+-]\d+\.\d{3} s \([+-]\d+\.\d%\)$", out, re.M), out
    # 2. The explain family, both sets of groupings, split by step; then the proxies family.
    assert re.search(r"^2\. The audit's explain family at 20,000 rows ", out, re.M), out
    for name, possible in (("sex, race", 10), ("sex, race, age_band, hours_band", 200)):
        row = re.search(
            rf"^{re.escape(name)} +(\d+)/{possible} +([\d,]+)((?: +\d+\.\d{{3}}){{8}}) +[\d,]+ "
            r"+(met|NOT met)$",
            out,
            re.M,
        )
        assert row and 0 < int(row[1]) <= possible, (name, out)
        family, _, *parts = (float(v) for v in row[3].split())
        assert family > 0 and parts[1] > 0 and sum(parts[:-1]) <= family + 1e-3, row[0]
        proxies = re.search(rf"^{re.escape(name)} +\d+ +10((?: +\d+\.\d{{3}}){{5}})$", out, re.M)
        assert proxies, (name, out)
    assert re.search(
        r"^goal: the explain family at 20,000 rows in under 60 s: (met|NOT met) ", out, re.M
    )
    last = out.strip().splitlines()[-1]
    agreement = re.fullmatch(
        r"agreement: largest difference (\S+), within the 1e-09 tolerance; "
        r"audit explanations add up to the model's output",
        last,
    )
    assert agreement and float(agreement[1]) < 1e-9, last


def test_service_benchmark_prints_its_latencies() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_service", "--audits", "300", "--runs", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^   1 runs: median \d+\.\d\d s .* running `auditor audit` ", out, re.M), out
    for label, path in (("API ", "/api/v1/audits"), ("page", "/ui/audits")):
        line = rf"^   {label} {re.escape(path)} +200 requests: p50 [\d.]+ ms, p95 [\d.]+ ms"
        assert re.search(line, out, re.M), out


def test_engines_benchmark_runs_duckdb_and_fairlearn_and_agrees(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_engines",
            "--rows",
            "20000",
            "--compare-rows",
            "20000",
            "--resamples",
            "200",
            "--repeat",
            "1",
            "--skip-spark",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # The log was written once (one file serves both parts) with its row count in its name.
    assert [p.name for p in tmp_path.glob("*.parquet")] == ["decisions-seed0-20000rows.parquet"]
    # 1. The child's audit: 2 x 5 x 4 groups x y x decision = 160 cells, the policy's resamples.
    assert re.search(r"^cells +160$", out, re.M), out
    assert re.search(r"^bootstrap resamples \(recorded\) +200$", out, re.M), out
    assert re.search(r"^peak RSS \(child\) +[\d,]+ MB$", out, re.M), out
    assert re.search(r"^goal within 30 s \(whole process\): (PASS|MISS) ", out, re.M), out
    assert re.search(r"^goal under 2 GB peak RSS: (PASS|MISS) ", out, re.M), out
    # 2. Side by side: the ratio, and the same values as fairlearn for 51 groups x 11 metrics.
    ratio = re.search(r"^ratio fairlearn/auditor: (\d+\.\d)x \(MetricFrames alone: ", out, re.M)
    assert ratio and float(ratio[1]) > 0, out
    agreement = re.search(r"^agreement: largest \|difference\| (\S+) over 561 values ", out, re.M)
    assert agreement and float(agreement[1]) < 1e-9, out
    assert "3. Spark local[2]: skipped (--skip-spark)" in out
