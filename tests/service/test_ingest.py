"""audit.json -> audit_metrics, verdict and counts, on a real audit and both databases."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from auditor.results import AuditRecord, Finding
from auditor.service import ingest
from auditor.service.database import make_engine
from auditor.service.db import AuditMetric
from auditor.service.ingest import group_key, metric_name
from auditor.service.jobs import Outcome, claim, finish
from auditor.service.settings import ServiceSettings
from tests.service.factories import add_audit, decisions_csv, get_audit, metrics_of

WORST_FIRST = ("error", "fail", "insufficient_data", "waived", "pass", "not_applicable")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditRecord, Path]:
    """One real decisions audit (JSON only: fast), its record and its out/ folder."""
    folder = tmp_path_factory.mktemp("ingest")
    data = decisions_csv(folder / "decisions.csv")
    out = folder / "out"
    argv = [sys.executable, "-m", "auditor.cli", "audit", "--data", str(data)]
    argv += ["--target", "credit", "--pos-label", "1", "--prediction", "decision"]
    argv += ["--sensitive", "sex", "--sensitive", "age_group", "--out", str(out)]
    argv += ["--format", "json", "--quiet"]
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1, 4), done.stderr
    return ingest.load(out / "audit.json"), out


@pytest.fixture
def engine(migrated: ServiceSettings) -> Iterator[Engine]:
    engine = make_engine(migrated.url)
    yield engine
    engine.dispose()


@pytest.fixture
def stored(engine: Engine, audited: tuple[AuditRecord, Path]) -> dict[tuple[str, str], AuditMetric]:
    """The audit's metric rows, written by a worker's finish and read back from the database."""
    record, out = audited
    result = ingest.ingest(record)
    audit_id = add_audit(engine)
    claim(engine, "w", 60)
    outcome = Outcome(
        status="succeeded",
        verdict=result.verdict,
        checks=result.checks,
        failed=result.failed,
        inconclusive=result.inconclusive,
    )
    artifacts = ingest.artifact_rows(out)
    assert finish(engine, audit_id, "w", outcome, result.metrics, artifacts)
    rows = metrics_of(engine, audit_id)
    keyed = {(row.metric, row.group_key): row for row in rows}
    assert len(keyed) == len(rows), "one row per metric and group"
    return keyed


def test_every_fairness_cell_lands_exactly(
    audited: tuple[AuditRecord, Path], stored: dict[tuple[str, str], AuditMetric]
) -> None:
    record, _ = audited
    fairness = record.check("fairness")
    undefined = 0
    for table in fairness.tables:
        for group in table.rows:
            for name, cell in group.metrics.items():
                check = f"fairness.{name}"
                for measure in ("value", "ratio_to_reference", "difference_to_reference"):
                    value = getattr(cell, measure)
                    row = stored[(metric_name(check, measure), group.group)]
                    assert (row.value, row.ci_low, row.ci_high) == (
                        value.value,
                        value.ci_low,
                        value.ci_high,
                    ), (check, measure, group.group)
                    assert (row.n, row.reference_group) == (group.n, table.reference)
                    undefined += value.value is None
    assert undefined > 0, "the data was made to have undefined values"


def test_summaries_criteria_and_overall_values_land(
    audited: tuple[AuditRecord, Path], stored: dict[tuple[str, str], AuditMetric]
) -> None:
    record, _ = audited
    for table in record.check("fairness").tables:
        for name, summary in table.summaries.items():
            row = stored[(f"fairness.{name}:max_abs_difference", table.attribute)]
            assert row.value == summary.max_abs_difference.value
        for name, criterion in table.criteria.items():
            assert stored[(f"fairness.{name}", table.attribute)].value == criterion.value.value
    for name, value in record.check("performance").overall.items():
        row = stored[(f"performance.{name}", "")]
        assert (row.value, row.ci_low, row.ci_high) == (value.value, value.ci_low, value.ci_high)


def test_findings_attach_their_verdicts_and_thresholds(
    audited: tuple[AuditRecord, Path], stored: dict[tuple[str, str], AuditMetric]
) -> None:
    record, _ = audited
    by_row: dict[tuple[str, str], list[Finding]] = {}
    for finding in record.findings:
        key = (
            metric_name(finding.check, finding.measure),
            group_key(finding.check, finding.attribute, finding.group, finding.feature),
        )
        by_row.setdefault(key, []).append(finding)
    assert {f.verdict for f in record.findings} >= {"pass", "fail", "insufficient_data"}
    for key, findings in by_row.items():
        worst = min(findings, key=lambda f: WORST_FIRST.index(f.verdict))
        row = stored[key]
        assert row.verdict == worst.verdict, key
        low = worst.threshold.get("min", -worst.threshold.get("max_abs", float("inf")))
        high = worst.threshold.get("max", worst.threshold.get("max_abs", float("inf")))
        assert (row.threshold_min, row.threshold_max) == (
            None if low == -float("inf") else low,
            None if high == float("inf") else high,
        ), key
        if worst.value is not None:
            assert row.value == pytest.approx(worst.value), key
    judged = {key for key, row in stored.items() if row.verdict is not None}
    assert judged == set(by_row)  # no verdict without a finding


def test_summary_counts_and_verdict_follow_the_findings(
    engine: Engine,
    audited: tuple[AuditRecord, Path],
    stored: dict[tuple[str, str], AuditMetric],
) -> None:
    record, _ = audited
    [audit_id] = {row.audit_id for row in stored.values()}
    audit = get_audit(engine, audit_id)
    verdicts = [f.verdict for f in record.findings]
    assert audit.verdict == {"passed": "pass", "failed": "fail"}.get(record.verdict, record.verdict)
    assert audit.checks == len(verdicts) - verdicts.count("not_applicable")
    assert audit.failed == verdicts.count("fail") + verdicts.count("error")
    assert audit.inconclusive == verdicts.count("insufficient_data")
    assert audit.failed > 0 and audit.inconclusive > 0


def test_artifact_rows_describe_the_files(audited: tuple[AuditRecord, Path]) -> None:
    _, out = audited
    [row] = ingest.artifact_rows(out)  # JSON only in this audit
    raw = (out / "audit.json").read_bytes()
    assert (row.name, row.media_type, row.relpath) == (
        "audit.json",
        "application/json",
        "out/audit.json",
    )
    assert (row.size, row.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())


def test_group_keys() -> None:
    assert group_key("fairness.selection_rate", "sex", "sex=female") == "sex=female"
    assert group_key("fairness.selection_rate", "sex", None) == "sex"
    assert group_key("proxies.association", "sex", None, "zip") == "sex / zip"
    assert group_key("data_quality.missing_share", None, None, "income") == "income"
    assert group_key("explain.sensitive_feature_used", "sex", None, "sex") == "sex"
    assert group_key("explain.explanation_disparity", "sex", None, "income") == "sex"
    assert group_key("performance.accuracy", None, None) == ""
