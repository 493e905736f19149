"""The CI gate end to end: a failing audit, its junit.xml and summary.md, a waiver, a pass; diff."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xmlschema

from auditor.cli import REPORT_FORMATS
from auditor.report import SUPPORTED_FORMATS
from auditor.report.junit import SCHEMA_PATH
from tests.conftest import audit_args, run_cli

POLICY = """\
apiVersion: auditor/v1
name: gate
extends: four-fifths
"""
WAIVER = """\
waivers:
  - rule: adverse-impact
    group: "sex=female & age_group=under 25"
    reason: "Too few young applicants in the hold-out; retraining ticket ML-123"
    owner: credit-risk-team
    expires: 2099-12-31
"""


def test_cli_formats_match_the_renderers() -> None:
    assert set(REPORT_FORMATS) == set(SUPPORTED_FORMATS)


def test_fail_read_the_ci_files_waive_and_pass(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    args = [*audit_args("sex", "age_group"), "--policy", policy, "--format", "junit,md,json"]
    failed = run_cli(*args, "--out", tmp_path / "before")
    assert failed.returncode == 1, failed.stderr

    junit = tmp_path / "before" / "junit.xml"
    xmlschema.validate(str(junit), str(SCHEMA_PATH))
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1"
    (failure,) = root.iter("failure")
    message = failure.get("message") or ""
    assert "sex=female & age_group=under 25" in message
    assert "0.727" in message and "≥ 0.8" in message and "n=34" in message

    summary = (tmp_path / "before" / "summary.md").read_text().splitlines()
    assert summary[0].startswith("## ✘ Fairness audit FAILED")
    assert any(
        "sex=female &amp; age\\_group=under 25" in line or "under 25" in line for line in summary
    )

    policy.write_text(POLICY + WAIVER)
    passed = run_cli(*args, "--out", tmp_path / "after")
    assert passed.returncode == 0, passed.stderr
    root = ET.parse(tmp_path / "after" / "junit.xml").getroot()
    assert root.get("failures") == "0"
    skipped = [s.get("message") or "" for s in root.iter("skipped")]
    assert any(m.startswith("waived: Too few young applicants") for m in skipped)
    after = (tmp_path / "after" / "summary.md").read_text()
    assert after.startswith("## ✔ Fairness audit PASSED") and "credit-risk-team" in after

    diff = run_cli("diff", tmp_path / "before" / "audit.json", tmp_path / "after" / "audit.json")
    assert diff.returncode == 0, diff.stdout + diff.stderr  # the waiver fixed it: no regression


def test_inconclusive_is_not_green_in_junit(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        POLICY + "settings: {inconclusive_blocks: true}\n"
        "rules:\n  - {id: adverse-impact, check: fairness.favorable_rate, "
        "measure: ratio_to_highest, threshold: {min: 0.5}}\n"
    )
    done = run_cli(
        *audit_args("sex", "age_group"), "--policy", policy, "--format", "junit", "--out", tmp_path
    )
    assert done.returncode == 4, done.stderr
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert [f.get("type") for f in root.iter("failure")] == ["inconclusive"]


def test_diff_catches_a_real_regression(tmp_path: Path, german: pd.DataFrame) -> None:
    fair = german.assign(decision=german["credit"])
    rng = np.random.default_rng(11)
    biased = german.assign(
        decision=np.where((german["sex"] == "male") | (rng.random(len(german)) < 0.3), 1, 2)
    )
    paths = {}
    for name, frame in (("base", fair), ("new", biased)):
        data = tmp_path / f"{name}.csv"
        frame.to_csv(data, index=False)
        out = tmp_path / name
        run_cli(
            *audit_args("sex", data=data, prediction="decision"),
            "--out",
            out,
            "--format",
            "json",
            "--policy",
            "four-fifths",
        )
        paths[name] = out / "audit.json"
    done = run_cli("diff", paths["base"], paths["new"], "--out", tmp_path / "diff.md")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "adverse-impact" in done.stdout and "sex=female" in done.stdout
    markdown = (tmp_path / "diff.md").read_text()
    assert markdown.startswith("## Audit diff: Regression") and "pass → fail" in markdown
    same = run_cli("diff", paths["base"], paths["base"])
    assert same.returncode == 0


@pytest.mark.parametrize("content", ["not json", '{"schema_version": "1.0"}'])
def test_diff_rejects_files_that_are_not_audits(tmp_path: Path, content: str) -> None:
    bogus = tmp_path / "audit.json"
    bogus.write_text(content)
    done = run_cli("diff", bogus, bogus)
    assert done.returncode == 3 and "is not an audit.json" in done.stderr


def test_json_flag_prints_the_result_and_quiet_prints_nothing(tmp_path: Path) -> None:
    as_json = run_cli(*audit_args("sex"), "--json", "--format", "json", "--out", tmp_path)
    assert json.loads(as_json.stdout)["verdict"] == "passed"  # sex alone passes default
    quiet = run_cli(*audit_args("sex"), "--quiet", "--format", "json", "--out", tmp_path)
    assert quiet.stdout == "" and quiet.returncode == as_json.returncode
